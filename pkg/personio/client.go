// Package personio is a client for Personio's Recruiting API: creating
// applications, uploading their documents, checking credentials and reading
// the public job positions feed (v1), and reading applications and jobs
// with an API credential (the read-only v2 API: AccessToken,
// CheckReadAccess, Applications, Jobs).
//
// Every method takes the company's Credentials (or ReadCredentials), so
// one Client serves every company. Errors are typed (ValidationError,
// AlreadyExistsError, AuthError, FeatureDisabledError, ReadAccessError,
// RateLimitError, ServerError, TransportError, UnexpectedResponseError);
// IsRetryable tells which may succeed later. No error, log value or
// String() ever contains the access token or a client secret.
//
// It is for the worker (applications and their documents), the editor
// (checking credentials, listing positions), the watch (positions and
// credentials ahead of time) and the settling of unconfirmed deliveries
// (v2 reads); the sandbox and the load runs hold themselves to it.
package personio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"path"
	"strings"
	"time"
)

// Defaults for a new Client.
const (
	DefaultBaseURL   = "https://api.personio.de"
	DefaultFeedURL   = "https://{subdomain}.jobs.personio.de/xml"
	DefaultPartnerID = "FUNNEL-PERSONIO"
	DefaultAppID     = "FUNNEL-PERSONIO-CONNECTOR"
	DefaultUserAgent = "funnel-personio/1"

	// maxResponseBody bounds what is read of any answer.
	maxResponseBody = 1 << 20
)

// Client talks to Personio. It is safe for concurrent use; build one per
// process and share it.
type Client struct {
	httpClient *http.Client
	baseURL    *url.URL
	feedURL    string
	partnerID  string
	appID      string
	userAgent  string
	timeout    time.Duration
	// tokens caches v2 access tokens by credential.
	tokens tokenCache
}

// Option configures a Client.
type Option func(*Client) error

// WithBaseURL sets the API's base URL (default https://api.personio.de), for
// the sandbox or a proxy; "" keeps the default.
func WithBaseURL(raw string) Option {
	return func(c *Client) error {
		if raw == "" {
			return nil
		}
		u, err := url.Parse(strings.TrimRight(raw, "/"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("personio: base URL %q: want http(s)://host[:port]", raw)
		}
		c.baseURL = u
		return nil
	}
}

// WithFeedURL sets the job positions feed URL; "{subdomain}" in it is
// replaced by the career site's subdomain. The default is
// https://{subdomain}.jobs.personio.de/xml; "" keeps it.
func WithFeedURL(template string) Option {
	return func(c *Client) error {
		if template == "" {
			return nil
		}
		if !strings.Contains(template, "{subdomain}") {
			return fmt.Errorf("personio: feed URL %q has no {subdomain}", template)
		}
		c.feedURL = template
		return nil
	}
}

// idleConnsPerHost is how many idle connections to Personio the client
// keeps for the next requests. A worker invocation handles a batch of up
// to 10 messages at once (the event source's BatchSize), each sending its
// uploads and then its create: about 10 requests in flight, 16 with room.
// Over HTTP/1.1 that keeps every connection a batch opened for the next
// one, where Go's default of 2 would close the rest and open them again,
// each a new TLS handshake with Personio (over HTTP/2 one connection
// carries them all).
const idleConnsPerHost = 16

// newTransport is Go's default transport (proxy from the environment,
// dial and TLS timeouts, HTTP/2) keeping idleConnsPerHost idle
// connections a host; a default transport replaced by another kind is
// used as it is.
func newTransport() http.RoundTripper {
	tr, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return http.DefaultTransport
	}
	tr = tr.Clone()
	tr.MaxIdleConnsPerHost = idleConnsPerHost
	return tr
}

// WithHTTPClient sets the HTTP client (default: a client of its own with no
// overall timeout, keeping idleConnsPerHost idle connections; WithTimeout
// bounds each request).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("personio: nil HTTP client")
		}
		c.httpClient = hc
		return nil
	}
}

// WithTimeout bounds each request, answer included. Without it a request
// is bounded only by its context; the functions set it from
// settings.Settings.PersonioTimeout.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) error {
		if d <= 0 {
			return fmt.Errorf("personio: timeout %s must be positive", d)
		}
		c.timeout = d
		return nil
	}
}

// WithPartnerID sets the X-Personio-Partner-ID header value.
func WithPartnerID(id string) Option {
	return func(c *Client) error { c.partnerID = id; return nil }
}

// WithAppID sets the X-Personio-App-ID header value.
func WithAppID(id string) Option {
	return func(c *Client) error { c.appID = id; return nil }
}

// NewClient returns a Client with the options applied over the defaults.
func NewClient(opts ...Option) (*Client, error) {
	base, _ := url.Parse(DefaultBaseURL)
	c := &Client{
		httpClient: &http.Client{Transport: newTransport()},
		baseURL:    base,
		feedURL:    DefaultFeedURL,
		partnerID:  DefaultPartnerID,
		appID:      DefaultAppID,
		userAgent:  DefaultUserAgent,
	}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// CreateApplication creates one application in Personio. Personio answers
// 201 with no body: no application id comes back.
//
// Personio API docs: https://developer.personio.de/reference/post_v1-recruiting-applications
func (c *Client) CreateApplication(ctx context.Context, creds Credentials, app Application) error {
	const op = "personio: create application"
	body, err := jsonBody(app)
	if err != nil {
		return &ValidationError{Op: op, Body: ErrorBody{Problems: []Problem{{Title: "encode", Detail: err.Error()}}}}
	}
	status, _, respBody, err := c.do(ctx, op, creds, http.MethodPost, "/v1/recruiting/applications", "application/json", body)
	if err != nil {
		return err
	}
	if status != http.StatusCreated {
		return errorFor(op, status, nil, respBody)
	}
	return nil
}

// Verify checks a company id and access token without creating anything:
// it sends an application that can never be created (blank names, no
// e-mail, job position 0). Personio checks credentials before content, so a
// 400 means the pair is good, 401 that it is not (AuthError) and 403 that
// the company lacks recruiting or API access (FeatureDisabledError). The
// check costs one unit of the company's rate limit (20 requests per 60 s).
//
// Personio API docs: https://developer.personio.de/reference/post_v1-recruiting-applications
func (c *Client) Verify(ctx context.Context, creds Credentials) error {
	const op = "personio: verify credentials"
	if err := creds.Validate(); err != nil {
		return err
	}
	probe := []byte(`{"first_name":"","last_name":"","email":"","job_position_id":0}`)
	status, header, respBody, err := c.do(ctx, op, creds, http.MethodPost, "/v1/recruiting/applications", "application/json", probe)
	if err != nil {
		return err
	}
	switch status {
	case http.StatusBadRequest:
		return nil
	case http.StatusCreated:
		return &UnexpectedResponseError{Op: op, StatusCode: status, Err: errors.New("a blank application was accepted")}
	}
	return errorFor(op, status, header, respBody)
}

// UploadDocument uploads one document for a later CreateApplication (pass
// the returned UUID in a FileRef). The file must be at most 20 MB and have
// one of DocumentExtensions; the client refuses others with a
// ValidationError of StatusCode 0 — before sending when it knows the size
// (content has a Size() int64 method, as *bytes.Reader has), otherwise as
// soon as more than 20 MB were read. The content is streamed, never held
// in memory: a request carries the multipart body as it is read (with a
// Content-Length when the size is known). An error reading content is
// returned wrapped, so the caller can tell it (errors.As) from Personio's.
//
// Personio API docs: https://developer.personio.de/reference/post_v1-recruiting-applications-documents
func (c *Client) UploadDocument(ctx context.Context, creds Credentials, filename string, content io.Reader) (*Document, error) {
	const op = "personio: upload document"
	tooBig := &ValidationError{Op: op, Body: ErrorBody{Fields: FieldErrors{{Field: "file", Reasons: []Reason{{Reason: ReasonFileTooBig}}}}}}
	ext := strings.TrimPrefix(path.Ext(filename), ".")
	if !AllowedExtension(ext) {
		return nil, &ValidationError{Op: op, Body: ErrorBody{Fields: FieldErrors{{Field: "file", Reasons: []Reason{{Reason: ReasonInvalidFileType}}}}}}
	}
	size := int64(-1)
	if s, ok := content.(interface{ Size() int64 }); ok {
		if size = s.Size(); size > MaxDocumentSize {
			return nil, tooBig
		}
	}
	// The multipart envelope around the one part, written ahead; the
	// content streams between its head and its tail.
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", mimeHeader("form-data", "name", "file", "filename", filename))
	h.Set("Content-Type", "application/octet-stream")
	_, _ = mw.CreatePart(h)
	prefix := append([]byte(nil), head.Bytes()...)
	head.Reset()
	_ = mw.Close()
	tail := head.Bytes()
	body := &capped{r: content, left: MaxDocumentSize}
	length := int64(-1)
	if size >= 0 {
		length = int64(len(prefix)) + size + int64(len(tail))
	}
	status, header, respBody, err := c.send(ctx, op, creds, http.MethodPost, "/v1/recruiting/applications/documents", mw.FormDataContentType(),
		io.MultiReader(bytes.NewReader(prefix), body, bytes.NewReader(tail)), length)
	switch {
	case body.over:
		return nil, tooBig
	case body.err != nil:
		return nil, fmt.Errorf("%s: read content: %w", op, body.err)
	case err != nil:
		return nil, err
	}
	if status != http.StatusOK {
		return nil, errorFor(op, status, header, respBody)
	}
	var doc Document
	if err := decodeJSON(respBody, &doc); err != nil || doc.UUID == "" {
		if err == nil {
			err = errors.New("no uuid in answer")
		}
		return nil, &UnexpectedResponseError{Op: op, StatusCode: status, Err: err}
	}
	return &doc, nil
}

// capped reads at most left bytes of r; reading more sets over and fails.
// It remembers r's own error, so that it is told from Personio's.
type capped struct {
	r    io.Reader
	left int64
	over bool
	err  error
}

var errTooBig = errors.New("the document is larger than 20 MB")

func (c *capped) Read(p []byte) (int, error) {
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	if int64(n) > c.left {
		c.over = true
		return 0, errTooBig
	}
	c.left -= int64(n)
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

// bound bounds a request by the client's timeout, if it has one.
func (c *Client) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, c.timeout)
}

// do sends one request with Personio's headers and returns the status,
// headers and body of the answer. A request that got no answer returns a
// TransportError.
func (c *Client) do(ctx context.Context, op string, creds Credentials, method, p, contentType string, body []byte) (int, http.Header, []byte, error) {
	return c.send(ctx, op, creds, method, p, contentType, bytes.NewReader(body), int64(len(body)))
}

// send is do with a body read as it is sent, of length bytes (-1:
// unknown, sent in chunks).
func (c *Client) send(ctx context.Context, op string, creds Credentials, method, p, contentType string, body io.Reader, length int64) (int, http.Header, []byte, error) {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	u := *c.baseURL
	u.Path = strings.TrimRight(u.Path, "/") + p
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s: build request: %w", op, err)
	}
	req.ContentLength = length
	req.Header.Set("Authorization", "Bearer "+string(creds.Token))
	req.Header.Set("X-Company-ID", creds.CompanyID)
	req.Header.Set("X-Personio-Partner-ID", c.partnerID)
	req.Header.Set("X-Personio-App-ID", c.appID)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	return c.roundTrip(op, req)
}

// roundTrip sends a built request and reads its answer, bounded.
func (c *Client) roundTrip(op string, req *http.Request) (int, http.Header, []byte, error) {
	resp, err := c.httpClient.Do(req)
	if err != nil {
		return 0, nil, nil, transportError(op, err)
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		return 0, nil, nil, transportError(op, err)
	}
	return resp.StatusCode, resp.Header, respBody, nil
}

// transportError wraps a failure to get an answer. A *url.Error carries the
// request URL, never headers, so the token cannot leak through it.
func transportError(op string, err error) error {
	var ne net.Error
	timeout := errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded)
	return &TransportError{Op: op, Timeout: timeout, Err: err}
}

// Package filefetch downloads the files an applicant uploaded, from the
// URLs in the event, without letting an event steer requests inside the
// network: only HTTPS, only hosts under configured suffixes, never to a
// loopback, private, link-local, unspecified or metadata address (checked
// on the address actually dialled, so DNS answers and redirects cannot get
// round it), at most 20 MB. Plain HTTP or a loopback address is allowed only
// for exact host:port pairs listed for local runs and tests.
package filefetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/personio"
)

// Error is a file that cannot be fetched. Permanent errors (a refused URL,
// 4xx, too large) will not change; others (5xx, timeouts) may.
type Error struct {
	URL       string
	Reason    string
	Permanent bool
	Err       error
}

func (e *Error) Error() string { return "filefetch: " + e.Reason }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether a later try may succeed.
func (e *Error) Retryable() bool { return !e.Permanent }

// Config says where files may come from.
type Config struct {
	// HostSuffixes are the hosts files may be fetched from: "files.example.com"
	// allows that host and every host under it.
	HostSuffixes []string
	// Insecure lists exact host:port pairs that may be fetched over plain
	// HTTP and may resolve to loopback or private addresses (local runs
	// and tests only).
	Insecure []string
	// MaxSize bounds a file (default Personio's 20 MB).
	MaxSize int64
	// Timeout bounds one download (settings.Settings.FileTimeout); zero
	// leaves it to the context.
	Timeout time.Duration
}

// Fetcher downloads files. It is safe for concurrent use.
type Fetcher struct {
	cfg    Config
	client *http.Client
}

// New returns a Fetcher.
func New(cfg Config) *Fetcher {
	if cfg.MaxSize <= 0 {
		cfg.MaxSize = personio.MaxDocumentSize
	}
	f := &Fetcher{cfg: cfg}
	dialer := &net.Dialer{Timeout: 5 * time.Second, Control: f.control}
	tr := &http.Transport{
		Proxy:                 nil, // never through a proxy the environment names
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second,
		MaxIdleConnsPerHost:   4,
	}
	f.client = &http.Client{Transport: tr, Timeout: cfg.Timeout, CheckRedirect: f.checkRedirect}
	return f
}

// File is a downloaded file.
type File struct {
	Data        []byte
	ContentType string
}

// Fetch downloads one file.
func (f *Fetcher) Fetch(ctx context.Context, rawURL string) (*File, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, &Error{URL: rawURL, Reason: "not a URL", Permanent: true, Err: err}
	}
	if reason := f.allowedURL(u); reason != "" {
		return nil, &Error{URL: rawURL, Reason: reason, Permanent: true}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, &Error{URL: rawURL, Reason: "not a URL", Permanent: true, Err: err}
	}
	resp, err := f.client.Do(req)
	if err != nil {
		var fe *Error
		if errors.As(err, &fe) {
			return nil, fe
		}
		return nil, &Error{URL: rawURL, Reason: "download failed: " + err.Error(), Err: err}
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return nil, &Error{URL: rawURL, Reason: fmt.Sprintf("the file host answered %d", resp.StatusCode)}
	case resp.StatusCode != http.StatusOK:
		return nil, &Error{URL: rawURL, Reason: fmt.Sprintf("the file host answered %d", resp.StatusCode), Permanent: true}
	case resp.ContentLength > f.cfg.MaxSize:
		return nil, &Error{URL: rawURL, Reason: "the file is larger than 20 MB", Permanent: true}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, f.cfg.MaxSize+1))
	if err != nil {
		return nil, &Error{URL: rawURL, Reason: "download failed: " + err.Error(), Err: err}
	}
	if int64(len(data)) > f.cfg.MaxSize {
		return nil, &Error{URL: rawURL, Reason: "the file is larger than 20 MB", Permanent: true}
	}
	return &File{Data: data, ContentType: resp.Header.Get("Content-Type")}, nil
}

// allowedURL says why a URL may not be fetched, or "".
func (f *Fetcher) allowedURL(u *url.URL) string {
	host := strings.ToLower(u.Hostname())
	insecure := slices.Contains(f.cfg.Insecure, strings.ToLower(u.Host))
	switch {
	case u.User != nil:
		return "URLs with credentials are not fetched"
	case u.Scheme != "https" && !(u.Scheme == "http" && insecure):
		return "only https URLs are fetched"
	case insecure:
		return ""
	case host == "":
		return "the URL has no host"
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if reason := refusedAddr(ip); reason != "" {
			return reason
		}
		return "files are fetched by host name, not by address"
	}
	for _, s := range f.cfg.HostSuffixes {
		s = strings.ToLower(strings.TrimPrefix(s, "."))
		if host == s || strings.HasSuffix(host, "."+s) {
			return ""
		}
	}
	return "the host " + host + " is not one files may be fetched from"
}

func (f *Fetcher) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return &Error{URL: req.URL.String(), Reason: "too many redirects", Permanent: true}
	}
	if reason := f.allowedURL(req.URL); reason != "" {
		return &Error{URL: req.URL.String(), Reason: "redirected: " + reason, Permanent: true}
	}
	return nil
}

// control runs on every dial with the address actually dialled.
func (f *Fetcher) control(_, address string, _ syscall.RawConn) error {
	if slices.Contains(f.cfg.Insecure, address) {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &Error{URL: address, Reason: "unexpected address " + address, Permanent: true}
	}
	if reason := refusedAddr(ap.Addr()); reason != "" {
		return &Error{URL: address, Reason: reason, Permanent: true}
	}
	return nil
}

var metadata = []netip.Prefix{
	netip.MustParsePrefix("169.254.169.254/32"), netip.MustParsePrefix("fd00:ec2::254/128"),
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT, used by some clouds internally
}

// refusedAddr says why an address may not be dialled, or "".
func refusedAddr(ip netip.Addr) string {
	ip = ip.Unmap()
	for _, p := range metadata {
		if p.Contains(ip) {
			return "the address is a cloud metadata or internal address"
		}
	}
	switch {
	case ip.IsLoopback():
		return "the address is loopback"
	case ip.IsPrivate():
		return "the address is private"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "the address is link-local"
	case ip.IsUnspecified(), ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return "the address is not a host"
	}
	return ""
}

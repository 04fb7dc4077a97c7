package coldstart

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The Runtime API's paths (version 2018-06-01) that a Go function asks.
const (
	pathPrefix = "/2018-06-01/runtime/"
	pathNext   = pathPrefix + "invocation/next"
)

// answer is what a function posted for the event it was handed.
type answer struct {
	at     time.Time
	kind   string // response or error
	status int    // the statusCode of an API Gateway v2 response, 0 otherwise
	body   string
}

// runtimeAPI plays the Lambda Runtime API for one process: it notes when
// the process first asks for an event, hands it the one event it was
// given (if any), notes the answer, and holds every later request until
// it is closed.
type runtimeAPI struct {
	ln    net.Listener
	srv   *http.Server
	event []byte

	mu        sync.Mutex
	asked     int
	firstNext time.Time
	handedAt  time.Time
	initError string

	next     chan struct{} // closed at the first GET next
	answered chan answer   // the answer to the event, once
}

// newRuntimeAPI listens on a free loopback port; event, when not nil, is
// handed out at the first GET next.
func newRuntimeAPI(event []byte) (*runtimeAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("coldstart: runtime API: listen: %w", err)
	}
	r := &runtimeAPI{ln: ln, event: event, next: make(chan struct{}), answered: make(chan answer, 1)}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// addr is the host:port for AWS_LAMBDA_RUNTIME_API.
func (r *runtimeAPI) addr() string { return r.ln.Addr().String() }

// close stops the server and ends the requests it holds.
func (r *runtimeAPI) close() { _ = r.srv.Close() }

func (r *runtimeAPI) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	switch {
	case req.Method == http.MethodGet && req.URL.Path == pathNext:
		r.serveNext(w, req)
	case req.Method == http.MethodPost && strings.HasPrefix(req.URL.Path, pathPrefix+"invocation/"):
		r.serveAnswer(w, req)
	case req.Method == http.MethodPost && req.URL.Path == pathPrefix+"init/error":
		b, _ := io.ReadAll(io.LimitReader(req.Body, 64<<10))
		r.mu.Lock()
		r.initError = string(b)
		r.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	default:
		http.NotFound(w, req)
	}
}

// serveNext answers GET next: the first hands out the event (or is held),
// every later one is held until the process is killed.
func (r *runtimeAPI) serveNext(w http.ResponseWriter, req *http.Request) {
	now := time.Now()
	r.mu.Lock()
	r.asked++
	first := r.asked == 1
	if first {
		r.firstNext = now
		close(r.next)
	}
	r.mu.Unlock()
	if !first || r.event == nil {
		<-req.Context().Done()
		return
	}
	h := w.Header()
	h.Set("Lambda-Runtime-Aws-Request-Id", "coldstart-1")
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(30*time.Second).UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-central-1:000000000000:function:coldstart")
	h.Set("Content-Type", "application/json")
	r.mu.Lock()
	r.handedAt = time.Now()
	r.mu.Unlock()
	_, _ = w.Write(r.event)
}

// serveAnswer takes POST invocation/<id>/response or /error.
func (r *runtimeAPI) serveAnswer(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	a := answer{at: time.Now(), kind: req.URL.Path[strings.LastIndexByte(req.URL.Path, '/')+1:], body: string(b)}
	var resp struct {
		StatusCode int `json:"statusCode"`
	}
	if json.Unmarshal(b, &resp) == nil {
		a.status = resp.StatusCode
	}
	select {
	case r.answered <- a:
	default:
	}
	w.WriteHeader(http.StatusAccepted)
}

// firstAsked is when the process first asked for an event.
func (r *runtimeAPI) firstAsked() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.firstNext
}

// handed is when the event was handed out.
func (r *runtimeAPI) handed() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.handedAt
}

// reportedInitError is what the process posted to init/error, if anything.
func (r *runtimeAPI) reportedInitError() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.initError
}

// connCounter is a stand-in for every AWS endpoint: it accepts and at once
// closes connections, counting them, so that a function that calls AWS
// during its init is seen (and fails fast instead of waiting).
type connCounter struct {
	ln net.Listener
	mu sync.Mutex
	n  int
}

func newConnCounter() (*connCounter, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("coldstart: AWS stand-in: listen: %w", err)
	}
	c := &connCounter{ln: ln}
	go func() {
		for {
			conn, err := ln.Accept()
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if err != nil {
				continue
			}
			c.mu.Lock()
			c.n++
			c.mu.Unlock()
			_ = conn.Close()
		}
	}()
	return c, nil
}

func (c *connCounter) url() string { return "http://" + c.ln.Addr().String() }

func (c *connCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func (c *connCounter) close() { _ = c.ln.Close() }

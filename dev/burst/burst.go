// Package burst serves tests of connection reuse: a server that holds
// each burst of requests until all of it arrived, so that the burst's
// requests are in flight at once, each on a connection of its own, and
// counts the connections its clients opened.
package burst

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
)

// Server is an httptest.Server answering bursts of Size requests.
type Server struct {
	*httptest.Server
	opened atomic.Int64
}

// NewServer starts a server that answers with answer once size requests
// are in hand, and then the next size.
func NewServer(size int, answer http.HandlerFunc) *Server {
	var mu sync.Mutex
	arrived, release := 0, make(chan struct{})
	s := &Server{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrived++
		wait := release
		if arrived == size {
			close(release)
			arrived, release = 0, make(chan struct{})
		}
		mu.Unlock()
		<-wait
		answer(w, r)
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.opened.Add(1)
		}
	}
	s.Start()
	return s
}

// Opened is how many connections clients opened to the server.
func (s *Server) Opened() int64 { return s.opened.Load() }

// Send runs bursts of size calls of do, a burst at a time.
func Send(bursts, size int, do func(burst, i int)) {
	for b := range bursts {
		var wg sync.WaitGroup
		for i := range size {
			wg.Add(1)
			go func() {
				defer wg.Done()
				do(b, i)
			}()
		}
		wg.Wait()
	}
}

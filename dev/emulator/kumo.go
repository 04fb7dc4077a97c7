package emulator

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"reflect"
	"unsafe"

	"github.com/sivchari/kumo"
)

// NewKumo starts kumo in this process and returns it with the handler to
// serve it by: kumo's own handler, called directly.
//
// kumo (v0.33.1) serves its handler only through the httptest.Server that
// kumo.NewServer starts on a loopback port of its own, and exports no way
// to reach it. Going through that port puts a second HTTP exchange under
// every request (a proxy's client and kumo's server, besides the caller's
// and ours), a large share of the emulator's CPU time in a load run. So
// the handler is read out of the unexported httptest.Server by
// reflection. Should a later kumo keep it elsewhere, the handler returned
// is a reverse proxy to kumo's port, a line on stderr says so, and
// TestKumoHandlerIsDirect fails.
func NewKumo() (*kumo.Server, http.Handler) {
	k := kumo.NewServer()
	if h := kumoHandler(k); h != nil {
		return k, h
	}
	fmt.Fprintln(os.Stderr, "emulator: kumo's handler is not where kumo v0.33.1 keeps it; requests go through a proxy to its port (see emulator.NewKumo)")
	target, err := url.Parse(k.URL)
	if err != nil {
		panic("emulator: kumo's URL: " + err.Error()) // kumo builds it from a listener's address
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	// Its only errors are clients that went away (a long poll cut short
	// by a stop): not worth a line each.
	proxy.ErrorLog = log.New(io.Discard, "", 0)
	return k, proxy
}

// kumoHandler is the handler of kumo's httptest.Server (the unexported
// field httpServer of kumo.Server in v0.33.1), or nil when k does not
// hold one there.
func kumoHandler(k *kumo.Server) http.Handler {
	f := reflect.ValueOf(k).Elem().FieldByName("httpServer")
	if !f.IsValid() || f.Type() != reflect.TypeFor[*httptest.Server]() {
		return nil
	}
	srv := reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Interface().(*httptest.Server)
	if srv == nil || srv.Config == nil {
		return nil
	}
	return srv.Config.Handler
}

package localstack

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"

	"github.com/sivchari/kumo"
)

// ServeEmulator runs kumo (DynamoDB, SQS, Secrets Manager and the rest) on
// ln until ctx ends. kumo keeps its state under KUMO_DATA_DIR, which it
// reads when the process starts; messages in flight and about the last
// second of writes are not on disk if the process is killed.
func ServeEmulator(ctx context.Context, ln net.Listener) error {
	k := kumo.NewServer() // on a loopback port of its own
	defer k.Close()
	target, err := url.Parse(k.URL)
	if err != nil {
		return err
	}
	return Serve(ctx, ln, httputil.NewSingleHostReverseProxy(target))
}

// Serve runs h on ln until ctx ends, then shuts down gracefully.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

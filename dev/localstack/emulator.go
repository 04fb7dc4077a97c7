package localstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/emulator"
	"github.com/funnel-personio/funnel-personio/pkg/awsclient"
)

// ServeEmulator runs kumo (DynamoDB, SQS, Secrets Manager and the rest) on
// ln until ctx ends. kumo keeps its state under KUMO_DATA_DIR, which it
// reads when the process starts and writes about once a second (every
// KUMO_PERSIST_FLUSH_INTERVAL_MS if set: each write serialises the whole
// state); about the last interval of writes, and the messages in flight,
// are not on disk if the process is killed. A clean stop (ctx ends) finishes the requests in
// progress, puts the messages in flight back on their queues (kumo does
// not save them), then waits for kumo's next write (its public API has no
// call to save now), so that nothing is lost across a stop and start.
// DynamoDB requests go through emulator.Placeholders.
func ServeEmulator(ctx context.Context, ln net.Listener) error {
	k, h := emulator.NewKumo()
	defer k.Close()
	held := newInflight(emulator.Placeholders(h))
	if err := Serve(ctx, ln, held); err != nil {
		return err
	}
	if _, err := held.putBack(context.Background(), awsclient.SQS(emulator.Config(k.URL))); err != nil {
		return fmt.Errorf("emulator: put messages in flight back: %w", err)
	}
	if os.Getenv("KUMO_DATA_DIR") != "" {
		time.Sleep(kumoFlushWait())
	}
	return nil
}

// kumoFlushWait is kumo's write interval (1 s, or
// KUMO_PERSIST_FLUSH_INTERVAL_MS) with a margin.
func kumoFlushWait() time.Duration {
	interval := time.Second
	if ms, err := strconv.Atoi(os.Getenv("KUMO_PERSIST_FLUSH_INTERVAL_MS")); err == nil && ms > 0 {
		interval = time.Duration(ms) * time.Millisecond
	}
	return interval + interval/2
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

// Command ops is the platform team's operator command: the dead-letter
// queue (list, redrive), replaying a funnel's failed deliveries after a
// fix, the connections whose deliveries wait parked, and a company's rate
// budget. It reads the same settings as the functions and uses the
// standard AWS credential chain; against the local stack, set
// AWS_ENDPOINT_URL. It only wires: pkg/operator does the work. See
// docs/operations.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/funnel-personio/funnel-personio/pkg/operator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(operator.Main(ctx, os.Args[1:], os.Stdout, os.Stderr, operator.FromEnvironment))
}

// Command watch is the Lambda a schedule runs every tick: it checks the
// switched-on integrations' positions against their career sites' feeds
// and the connections' credentials. It only wires: watchlambda builds it
// from the environment once, at cold start.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/funnel-personio/funnel-personio/pkg/watchlambda"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	w, err := watchlambda.FromEnvironment(context.Background(), log)
	if err != nil {
		log.Error("watch: start", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(watchlambda.Handler(w))
}

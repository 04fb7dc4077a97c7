// Command ingest is the Lambda behind POST /v1/events: signed application
// events from the funnel platform onto the queue. It only wires:
// ingestlambda builds the handler from the environment once, at cold start.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/funnel-personio/funnel-personio/pkg/ingestlambda"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	h, err := ingestlambda.FromEnvironment(context.Background(), log)
	if err != nil {
		log.Error("ingest: start", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}

// Command notifier is the Lambda fed by the outbound queue: it posts each
// outbound event to the funnel platform's endpoint, signed (Standard
// Webhooks). It only wires: notifierlambda builds it from the environment
// once, at cold start.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/funnel-personio/funnel-personio/pkg/notifierlambda"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	s, err := notifierlambda.FromEnvironment(context.Background(), log)
	if err != nil {
		log.Error("notifier: start", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(s.Handle)
}

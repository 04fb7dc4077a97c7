// Command api is the editor API Lambda behind API Gateway (HTTP API, JWT
// authorizer). It only wires: apilambda builds the router from the
// environment once, at cold start.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/funnel-personio/funnel-personio/pkg/apilambda"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	router, err := apilambda.FromEnvironment(context.Background(), log)
	if err != nil {
		log.Error("api: start", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(router.Serve)
}

// Command worker is the Lambda fed by the SQS event source (with
// ReportBatchItemFailures): it maps each application event, uploads its
// files and creates it in Personio. It only wires: workerlambda builds the
// worker from the environment once, at cold start.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/funnel-personio/funnel-personio/pkg/workerlambda"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	w, err := workerlambda.FromEnvironment(context.Background(), workerlambda.Options{Logger: log})
	if err != nil {
		log.Error("worker: start", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(w.Handle)
}

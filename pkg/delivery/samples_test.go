package delivery_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/funnel-personio/funnel-personio/pkg/application"
)

// TestSampleEvents decodes events/ingest (API Gateway requests, and the raw
// event for `local send`) and events/worker (an SQS batch): every
// application in them parses, except the sample named invalid.
func TestSampleEvents(t *testing.T) {
	reqs, _ := filepath.Glob("../../events/ingest/*.json")
	if len(reqs) < 3 {
		t.Fatalf("%d ingest samples", len(reqs))
	}
	for _, f := range reqs {
		raw, _ := os.ReadFile(f)
		body := raw
		if filepath.Base(f) != "event.json" {
			var req events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(raw, &req); err != nil || req.RequestContext.HTTP.Method != "POST" || req.Headers["webhook-id"] == "" {
				t.Fatalf("%s: %v", f, err)
			}
			body = []byte(req.Body)
		}
		_, err := application.Parse(body)
		if invalid := strings.Contains(f, "invalid"); (err != nil) != invalid {
			t.Errorf("%s: Parse = %v", f, err)
		}
	}
	raw, _ := os.ReadFile("../../events/worker/batch.json")
	var batch events.SQSEvent
	if err := json.Unmarshal(raw, &batch); err != nil || len(batch.Records) == 0 {
		t.Fatalf("worker batch: %v", err)
	}
	for _, r := range batch.Records {
		if _, err := application.Parse([]byte(r.Body)); err != nil || r.Attributes["ApproximateReceiveCount"] == "" {
			t.Errorf("record %s: %v", r.MessageId, err)
		}
	}
}

package coldstart

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/funnel-personio/funnel-personio/pkg/webhook"
)

// apiEvent is the sample GET /v1/targets: the editor answers it from the
// catalogue, without AWS.
func apiEvent(root string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(root, "events/api/list-targets.json"))
	if err != nil {
		return nil, fmt.Errorf("read the api sample: %w", err)
	}
	return b, nil
}

// ingestEvent is the sample application event with an id the schema
// refuses, signed now: ingest checks the signature, validates the whole
// event against the schema and answers 400 without calling AWS.
func ingestEvent(root string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(root, "events/ingest/application-submitted.json"))
	if err != nil {
		return nil, fmt.Errorf("read the ingest sample: %w", err)
	}
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &req); err != nil {
		return nil, fmt.Errorf("decode the ingest sample: %w", err)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(req.Body), &body); err != nil {
		return nil, fmt.Errorf("decode the ingest sample's body: %w", err)
	}
	body["id"] = "not-an-event-id"
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode the body: %w", err)
	}
	h, err := webhook.Sign(SigningSecret, "msg_coldstart", time.Now(), raw)
	if err != nil {
		return nil, fmt.Errorf("sign the body: %w", err)
	}
	for k := range h {
		req.Headers[strings.ToLower(k)] = h.Get(k)
	}
	req.Body = string(raw)
	out, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode the ingest event: %w", err)
	}
	return out, nil
}

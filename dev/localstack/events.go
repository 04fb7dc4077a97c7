package localstack

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/webhook"
)

// PostEvent signs an application event with secret under the message id,
// as the funnel platform does, posts it to the ingest route of the stack
// at api and returns ingest's status and answer.
func PostEvent(ctx context.Context, api, secret, msgID string, body []byte) (int, []byte, error) {
	h, err := webhook.Sign(secret, msgID, time.Now(), body)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, api+"/v1/events", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header = h
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	return resp.StatusCode, answer, err
}

// SendEvent posts an application event to the stack's ingest, signed
// with its secret; anything but 202 Accepted is an error with ingest's
// answer.
func (s *Stack) SendEvent(ctx context.Context, msgID string, body []byte) error {
	status, answer, err := PostEvent(ctx, s.URL, s.WebhookSecret(), msgID, body)
	if err == nil && status != http.StatusAccepted {
		err = fmt.Errorf("ingest answered %d: %s", status, bytes.TrimSpace(answer))
	}
	return err
}

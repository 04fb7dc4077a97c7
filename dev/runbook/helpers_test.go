package runbook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/funnel-personio/funnel-personio/dev/localstack"
	"github.com/funnel-personio/funnel-personio/dev/testenv"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/settings"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// stack is the local stack of a test and its AWS configuration.
type stack struct {
	*localstack.Stack
	aws aws.Config
}

// startStack starts the local stack on kumo with a short retry path (two
// receives before the dead-letter queue, a 6 s visibility timeout), so
// that dead letters come within seconds.
func startStack(t *testing.T, logs *testenv.Buffer, adjust func(*settings.Settings)) *stack {
	t.Helper()
	cfg := testenv.LocalStack(t, logs)
	cfg.Adjust = func(s *settings.Settings) {
		s.MaxReceiveCount, s.RetryBase, s.RetryMax = 2, 100*time.Millisecond, 200*time.Millisecond
		s.WorkerTimeout, s.PersonioTimeout, s.FileTimeout = time.Second, 400*time.Millisecond, 400*time.Millisecond
		if adjust != nil {
			adjust(s)
		}
	}
	st, err := localstack.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return &stack{Stack: st, aws: cfg.AWS}
}

// call makes an editor API request as the workspace and returns the
// status, the ETag and the body; a status of 300 or more fails the test
// unless ok says otherwise.
func (s *stack) call(t *testing.T, ws, method, path, body string, header map[string]string) (int, string, []byte) {
	t.Helper()
	token, err := s.Auth.Mint(ws, "advanced", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), method, s.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("ETag"), b
}

// mapping is the walk-through's mapping; email may name another source
// (one the events lack, to make deliveries fail).
func mapping(email string) string {
	return `{"version":1,"required":{"first_name":{"source":"contact.first_name"},"last_name":{"source":"contact.last_name"},"email":{"source":"` + email + `"}}}`
}

// connect makes a connection to the sandbox's company 42 and switches on
// the funnel's integration with it; it returns the connection's id.
func (s *stack) connect(t *testing.T, ws, funnel string) string {
	t.Helper()
	code, _, b := s.call(t, ws, "POST", "/v1/connections", `{"name":"Personio [runbook]","company_id":"42","access_token":"sandbox-token-42"}`, nil)
	var con struct{ ID string }
	if err := json.Unmarshal(b, &con); code != http.StatusCreated || err != nil {
		t.Fatalf("connect: %d %s", code, b)
	}
	s.integrate(t, ws, funnel, con.ID, "contact.email")
	return con.ID
}

// integrate saves the funnel's integration (switched on), with the e-mail
// taken from email.
func (s *stack) integrate(t *testing.T, ws, funnel, conn, email string) {
	t.Helper()
	var hdr map[string]string
	if code, etag, _ := s.call(t, ws, "GET", "/v1/funnels/"+funnel+"/integration", "", nil); code == http.StatusOK {
		hdr = map[string]string{"If-Match": etag}
	}
	body := `{"connection_id":"` + conn + `","job_position_id":1001,"enabled":true,"mapping":` + mapping(email) + `}`
	if code, _, b := s.call(t, ws, "PUT", "/v1/funnels/"+funnel+"/integration", body, hdr); code >= 300 {
		t.Fatalf("integration: %d %s", code, b)
	}
}

// applicant is an event's contact: what no output may show.
func applicant(tag string, i int) (first, last, email string) {
	return fmt.Sprintf("Runbookfirst%s%d", tag, i), "Runbooklast", fmt.Sprintf("runbook.%s%d@example.com", tag, i)
}

// event is a signed application event's body.
func event(ws, funnel, id, tag string, i int) []byte {
	first, last, email := applicant(tag, i)
	return []byte(fmt.Sprintf(`{"type":"application.submitted","id":%q,"occurred_at":%q,"workspace_id":%q,"funnel_id":%q,"contact":{"first_name":%q,"last_name":%q,"email":%q}}`,
		id, time.Now().UTC().Format(time.RFC3339), ws, funnel, first, last, email))
}

// send signs an event with the stack's secret and posts it to ingest.
func (s *stack) send(t *testing.T, ws, funnel, tag string, i int) string {
	t.Helper()
	id := fmt.Sprintf("evt_rb_%s_%d_%d", tag, i, time.Now().UnixNano()%1e6)
	body := event(ws, funnel, id, tag, i)
	if err := s.SendEvent(t.Context(), "msg_"+id, body); err != nil {
		t.Fatal(err)
	}
	return id
}

// waitStatus waits until every delivery is in the status.
func (s *stack) waitStatus(t *testing.T, ws string, ids []string, want lifecycle.Status, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		done := true
		var last store.Delivery
		for _, id := range ids {
			d, err := s.Store.GetDelivery(t.Context(), ws, id)
			if err != nil || d.Status != want {
				done, last = false, d
				break
			}
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %d deliveries to be %s; one is %s (%s)", within, len(ids), want, last.Status, last.ReasonCode)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// arrivals counts the sandbox's applications by e-mail.
func (s *stack) arrivals() map[string]int {
	got := map[string]int{}
	for _, a := range s.Sandbox.Applications("42") {
		got[a.Application.Email]++
	}
	return got
}

// buildOps builds the operator command for the test.
func buildOps(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ops")
	if out, err := exec.Command("go", "build", "-o", bin, "../../functions/ops").CombinedOutput(); err != nil {
		t.Fatalf("build ops: %v\n%s", err, out)
	}
	return bin
}

// runbookBlocks returns the runnable blocks of docs/operations.md by name
// (a line "<!-- runbook: NAME -->" before a sh block).
func runbookBlocks(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := map[string]string{}
	rest := string(b)
	for {
		_, after, ok := strings.Cut(rest, "<!-- runbook: ")
		if !ok {
			return blocks
		}
		name, after, _ := strings.Cut(after, " -->")
		_, after, ok = strings.Cut(after, "```sh\n")
		block, tail, ok2 := strings.Cut(after, "\n```")
		if !ok || !ok2 {
			t.Fatalf("runbook block %q has no sh block after it", name)
		}
		if _, dup := blocks[name]; dup {
			t.Fatalf("two runbook blocks named %q", name)
		}
		blocks[name] = block
		rest = tail
	}
}

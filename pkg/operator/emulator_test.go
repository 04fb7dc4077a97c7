package operator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/funnel-personio/funnel-personio/dev/localstack"
	"github.com/funnel-personio/funnel-personio/dev/sandbox"
	"github.com/funnel-personio/funnel-personio/dev/testenv"
	"github.com/funnel-personio/funnel-personio/pkg/awsclient"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/operator"
	"github.com/funnel-personio/funnel-personio/pkg/settings"
)

// ops runs the command line against the emulator behind cfg's stack, with
// the stack's names as flags, and returns its exit code, stdout and
// stderr.
func ops(t *testing.T, st *localstack.Stack, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	args = append(args, "-table", st.Settings.Table, "-queue", st.Queue.URL())
	code := operator.Main(t.Context(), args, &out, &errb, operator.FromConfig(stackAWS[st]))
	return code, out.String(), errb.String()
}

// stackAWS remembers each test stack's AWS configuration.
var stackAWS = map[*localstack.Stack]aws.Config{}

// startStack starts the local stack on kumo with a short retry path: two
// receives before the dead-letter queue, retries a moment apart.
func startStack(t *testing.T, logs *testenv.Buffer) *localstack.Stack {
	t.Helper()
	cfg := testenv.LocalStack(t, logs)
	cfg.Adjust = func(s *settings.Settings) {
		s.MaxReceiveCount, s.RetryBase, s.RetryMax = 2, 100*time.Millisecond, 200*time.Millisecond
		// A 6 s visibility timeout: the attempt recorded dead is back for
		// SQS to move to the dead-letter queue soon.
		s.WorkerTimeout, s.PersonioTimeout, s.FileTimeout = time.Second, 400*time.Millisecond, 400*time.Millisecond
	}
	st, err := localstack.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	stackAWS[st] = cfg.AWS
	return st
}

// connect makes a connection to the sandbox's company 42 and an enabled
// integration of funnel fn_ops in the workspace, through the editor API.
func connect(t *testing.T, st *localstack.Stack, ws string) {
	t.Helper()
	token, err := st.Auth.Mint(ws, "advanced", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var con struct{ ID string }
	call(t, st.URL, token, "POST", "/v1/connections", `{"name":"ops","company_id":"42","access_token":"sandbox-token-42"}`, &con)
	call(t, st.URL, token, "PUT", "/v1/funnels/fn_ops/integration", `{"connection_id":"`+con.ID+`","job_position_id":1001,"enabled":true,
		"mapping":{"version":1,"required":{"first_name":{"source":"contact.first_name"},"last_name":{"source":"contact.last_name"},"email":{"source":"contact.email"}}}}`, nil)
}

func call(t *testing.T, api, token, method, path, body string, out any) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, api+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatal(err)
		}
	}
}

// applicant is the i-th event's contact: what no output may show.
func applicant(i int) (first, last, email string) {
	return fmt.Sprintf("Opsfirst%d", i), "Opslastname", fmt.Sprintf("ops.applicant%d@example.com", i)
}

// send signs an event and posts it to ingest; it returns the event id.
func send(t *testing.T, st *localstack.Stack, ws string, i int) string {
	t.Helper()
	first, last, email := applicant(i)
	id := fmt.Sprintf("evt_ops_%s_%d", ws, i)
	body := fmt.Sprintf(`{"type":"application.submitted","id":%q,"occurred_at":%q,"workspace_id":%q,"funnel_id":"fn_ops","contact":{"first_name":%q,"last_name":%q,"email":%q}}`,
		id, time.Now().UTC().Format(time.RFC3339), ws, first, last, email)
	if err := st.SendEvent(t.Context(), "msg_"+id, []byte(body)); err != nil {
		t.Fatal(err)
	}
	return id
}

// waitFor polls cond every 100 ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestDeadLettersListedRedrivenDeliveredOnce: while Personio answers 500,
// five applications exhaust their tries and land in the dead-letter
// queue. `ops dlq list` shows each with its ids, the record's status and
// reason and the receive count, and nothing of the applicants; `ops dlq
// redrive` (kumo has no message move tasks, so it copies, and says so)
// moves them back once Personio is well again, and each is delivered
// exactly once.
func TestDeadLettersListedRedrivenDeliveredOnce(t *testing.T) {
	logs := &testenv.Buffer{}
	st := startStack(t, logs)
	connect(t, st, "ws_dlq")
	st.Sandbox.SetFaults(sandbox.Faults{Error500: 1})
	var ids []string
	for i := range 5 {
		ids = append(ids, send(t, st, "ws_dlq", i))
	}
	ctx := t.Context()
	waitFor(t, 60*time.Second, "five dead deliveries in the dead-letter queue", func() bool {
		for _, id := range ids {
			if d, err := st.Store.GetDelivery(ctx, "ws_dlq", id); err != nil || d.Status != lifecycle.StatusDead {
				return false
			}
		}
		return inDLQ(t, st) == 5
	})

	code, out, errOut := ops(t, st, "dlq", "list")
	if code != 0 {
		t.Fatalf("dlq list: %d\n%s%s", code, out, errOut)
	}
	t.Logf("ops dlq list:\n%s", out)
	for _, id := range ids {
		if !regexpLine(out, id, "ws_dlq", "fn_ops", "dead", string(lifecycle.ReasonExhausted)) {
			t.Errorf("dlq list lacks %s with its workspace, funnel, status and reason:\n%s", id, out)
		}
	}
	if !strings.Contains(out, "5 listed of about 5") {
		t.Errorf("dlq list does not count 5:\n%s", out)
	}
	code, jsonOut, _ := ops(t, st, "dlq", "list", "-json")
	var listed operator.DeadLetters
	if err := json.Unmarshal([]byte(jsonOut), &listed); code != 0 || err != nil || len(listed.Messages) != 5 {
		t.Fatalf("dlq list -json: %d, %v\n%s", code, err, jsonOut)
	}
	for _, m := range listed.Messages {
		if m.Attempts < 2 || m.Status != lifecycle.StatusDead || m.Workspace != "ws_dlq" || m.Funnel != "fn_ops" {
			t.Errorf("listed %+v: want dead after at least 2 attempts", m)
		}
	}
	for i := range 5 {
		first, last, email := applicant(i)
		for _, s := range []string{out, jsonOut, errOut} {
			if strings.Contains(s, email) || strings.Contains(s, first) || strings.Contains(s, last) {
				t.Errorf("the listing shows applicant %d's data:\n%s", i, s)
			}
		}
	}

	st.Sandbox.SetFaults(sandbox.Faults{})
	code, out, errOut = ops(t, st, "dlq", "redrive", "-rate", "20")
	t.Logf("ops dlq redrive:\n%s%s", out, errOut)
	if code != 0 || !strings.Contains(out, "redrive by copy: COMPLETED, 5 of 5 messages moved back") || !strings.Contains(out, "no SQS message move tasks") {
		t.Fatalf("dlq redrive: %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{`"msg":"operator: dlq redrive finished"`, `"caller":"arn:aws:iam::`, `"moved":5`, ids[0]} {
		if !strings.Contains(errOut, want) {
			t.Errorf("the audit lines lack %s:\n%s", want, errOut)
		}
	}
	waitFor(t, 30*time.Second, "five deliveries delivered", func() bool {
		for _, id := range ids {
			if d, err := st.Store.GetDelivery(ctx, "ws_dlq", id); err != nil || d.Status != lifecycle.StatusDelivered {
				return false
			}
		}
		return true
	})
	time.Sleep(2 * time.Second) // a second copy would arrive by now
	got := map[string]int{}
	for _, a := range st.Sandbox.Applications("42") {
		got[a.Application.Email]++
	}
	for i := range 5 {
		if _, _, email := applicant(i); got[email] != 1 {
			t.Errorf("applicant %d arrived %d times, want once", i, got[email])
		}
	}
	if n := inDLQ(t, st); n != 0 {
		t.Errorf("%d messages left in the dead-letter queue", n)
	}
	for i := range 5 {
		first, _, email := applicant(i)
		if strings.Contains(logs.String(), email) || strings.Contains(logs.String(), first) {
			t.Errorf("a log line holds applicant %d's data", i)
		}
	}
}

// inDLQ is SQS's count of the messages in the stack's dead-letter queue.
func inDLQ(t *testing.T, st *localstack.Stack) int {
	out, err := awsclient.SQS(stackAWS[st]).GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(st.DLQ.URL()),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)])
	b, _ := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
	return a + b
}

// regexpLine reports whether one line of out holds every field, in order.
func regexpLine(out string, fields ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		rest, ok := line, true
		for _, f := range fields {
			_, after, found := strings.Cut(rest, f)
			if !found {
				ok = false
				break
			}
			rest = after
		}
		if ok {
			return true
		}
	}
	return false
}

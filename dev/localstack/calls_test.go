package localstack_test

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/awscalls"
	"github.com/funnel-personio/funnel-personio/dev/awsmeter"
	"github.com/funnel-personio/funnel-personio/dev/localstack"
	"github.com/funnel-personio/funnel-personio/dev/testenv"
	"github.com/funnel-personio/funnel-personio/pkg/settings"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// functionCalls is what each function (and the event source feeding it)
// was seen to call: "caller: resource action" lines, the resources
// labelled as the stack's template names them. The infra tests hold it
// against each function's role (TestFunctionRolesCoverTheirCalls).
var functionCalls = filepath.Join("testdata", "function-calls.golden")

// TestFunctionCalls runs the functions of the local stack through a
// customer's day — connect, integrate, applications delivered, a retry,
// new credentials, an erasure, the watch finding a position unpublished
// and telling the platform, the integration and the connection deleted —
// with a recorder in their AWS configuration, and fails on a call the
// golden file does not list (go test ./dev/localstack -run
// TestFunctionCalls -update adds what this run called).
func TestFunctionCalls(t *testing.T) {
	cfg := testenv.LocalStack(t, &testenv.Buffer{})
	cfg.Sandbox.RateLimit = 100
	cfg.Adjust = func(s *settings.Settings) {
		s.Budget.Limit, s.GlobalLimit = 100, 11*100
		s.WatchTick, s.WatchInterval, s.HealthInterval = time.Hour, time.Hour, time.Hour
	}
	labels := map[string]string{cfg.Table: "Table", cfg.QueueName: "Events", cfg.QueueName + "-dlq": "DeadLetters",
		cfg.QueueName + "-notify": "Notify", cfg.QueueName + "-notify-dlq": "NotifyDeadLetters",
		cfg.SecretPrefix: "secret:" + settings.Default().SecretPrefix + "/*"}
	meter := awsmeter.New()
	rec := awscalls.New(labels).WithCaller(awsmeter.CallerOf)
	cfg.AWS, cfg.Meter = rec.Config(meter.Config(cfg.AWS)), meter
	st, err := localstack.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	owner, _ := st.Auth.Mint("ws_a", "advanced", time.Hour)
	a := attacker{t: t, api: st.URL}

	conn := integrate(t, a, owner, "acme")
	ids := send(t, a, "day", 3)
	waitFor(t, 30*time.Second, "3 delivered", func() bool { return statuses(a, owner, ids)["delivered"] == 3 })
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/v1/funnels/fn_1/deliveries", ""},
		{"POST", "/v1/funnels/fn_1/deliveries/" + ids[0] + "/retry", ""},
		{"POST", "/v1/connections/" + conn + "/verify", ""},
		{"PUT", "/v1/connections/" + conn + "/credentials", `{"company_id":"42","access_token":"sandbox-token-42"}`},
		{"POST", "/v1/erasures", `{"email":"day001@example.com"}`},
		{"POST", "/v1/funnels/fn_1/integration/test", ""},
	} {
		code, body := a.do(owner, c.method, c.path, c.body)
		if code >= 500 {
			t.Errorf("%s %s: %d %s", c.method, c.path, code, body)
		}
		var test struct {
			DeliveryID string `json:"delivery_id"`
		}
		if strings.HasSuffix(c.path, "/test") && json.Unmarshal([]byte(body), &test) == nil && test.DeliveryID != "" {
			// The test application settles first: a worker that meets the
			// position unpublished marks it itself, and the watch's mark
			// below would find it made.
			waitFor(t, 30*time.Second, "the test application delivered", func() bool {
				return statuses(a, owner, []string{test.DeliveryID})["delivered"] == 1
			})
		}
	}
	st.Sandbox.SetPublished("42", 1001, false)
	if r, err := st.Watch.Run(meter.Caller(context.Background(), "watch")); err != nil || r.Unpublished != 1 {
		t.Fatalf("watch: %+v, %v", r, err)
	}
	waitFor(t, 20*time.Second, "the platform told", func() bool { return len(st.Notifications()) > 0 })
	for _, path := range []string{"/v1/funnels/fn_1/integration", "/v1/connections/" + conn} {
		if code, body := a.do(owner, "DELETE", path, ""); code >= 300 {
			t.Errorf("DELETE %s: %d %s", path, code, body)
		}
	}
	got := rec.Take()
	if *update {
		old, _ := os.ReadFile(functionCalls)
		all := slices.DeleteFunc(strings.Split(string(old), "\n"), func(l string) bool { return l == "" })
		all = append(all, got...)
		slices.Sort(all)
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(functionCalls, []byte(strings.Join(slices.Compact(all), "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(functionCalls)
	if err != nil {
		t.Fatal(err)
	}
	known := strings.Split(strings.TrimSpace(string(b)), "\n")
	for _, c := range got {
		if !slices.Contains(known, c) {
			t.Errorf("a call %s does not list (run with -update, then check the function's role): %s", functionCalls, c)
		}
	}
	if len(got) < 20 {
		t.Errorf("only %d calls recorded: %q", len(got), got)
	}
}

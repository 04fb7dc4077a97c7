package operator_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/awscalls"
	"github.com/funnel-personio/funnel-personio/dev/testenv"
	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/operator"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// callsGolden is what each subcommand calls: "command: resource action"
// lines, the resources labelled as the stack's template names them. The
// infra tests hold it against the operator policy the stack gives
// (TestOperatorPolicyCoversItsCalls).
var callsGolden = filepath.Join("testdata", "calls.golden")

// TestOperatorCalls runs every subcommand on kumo, with something to do,
// and records the AWS actions each calls and on what (go test
// ./pkg/operator -run TestOperatorCalls -update rewrites the golden file).
// A redrive by message move task is refused by kumo after its first calls
// (the listing of tasks, the start): those are recorded, as on AWS.
func TestOperatorCalls(t *testing.T) {
	env := testenv.New(t)
	ctx := t.Context()
	s := env.Store
	labels := map[string]string{env.Settings.Table: "Table"}
	for q, label := range map[*queue.Queue]string{env.Queue: "Events", env.DLQ: "DeadLetters"} {
		labels[q.URL()], labels[path.Base(q.URL())] = label, label
	}
	rec := awscalls.New(labels)
	aws := rec.Config(env.AWS)

	if _, err := s.PutIntegration(ctx, store.Integration{WorkspaceID: "ws_o", FunnelID: "fn_1", ConnectionID: "con_1", JobPositionID: 1001, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateConnection(ctx, store.Connection{WorkspaceID: "ws_o", ID: "con_1", CompanyID: "42", Status: store.ConnectionNeedsAttention}); err != nil {
		t.Fatal(err)
	}
	for i, st := range []lifecycle.Status{lifecycle.StatusFailed, lifecycle.StatusDead, lifecycle.StatusParked, lifecycle.StatusParked} {
		seed(t, s, "ws_o", "fn_1", fmt.Sprintf("evt_%d", i), st)
	}
	if err := env.DLQ.Send(ctx, queue.Message{ID: "evt_1", Group: "ws_o", Body: []byte(`{"id":"evt_1","workspace_id":"ws_o","funnel_id":"fn_1"}`)}); err != nil {
		t.Fatal(err)
	}
	oldKey := []byte("retired-hash-key")
	if _, err := s.CreateDelivery(ctx, store.Delivery{WorkspaceID: "ws_o", FunnelID: "fn_1", EventID: "evt_old",
		EmailHashes: []string{application.EmailHash(oldKey, "old@example.com")}}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OLD_HASH_KEY", string(oldKey))

	var lines []string
	for _, c := range []struct {
		args  []string
		stdin string
		fails bool // kumo refuses it
	}{
		{args: []string{"dlq", "list"}},
		{args: []string{"replay", "-workspace", "ws_o", "-dry-run"}},
		{args: []string{"replay", "-workspace", "ws_o"}},
		{args: []string{"replay", "-workspace", "ws_o", "-funnel", "fn_1", "-status", "parked"}},
		{args: []string{"connections", "-needs-attention"}},
		{args: []string{"budget", "-company", "42"}},
		{args: []string{"erase", "-workspace", "ws_o", "-key-env", "OLD_HASH_KEY"}, stdin: "old@example.com\n"},
		{args: []string{"dlq", "redrive", "-mode", "copy"}},
		{args: []string{"dlq", "redrive", "-mode", "move-task"}, fails: true},
	} {
		name := strings.Join(c.args[:min(2, len(c.args))], " ")
		if c.args[0] != "dlq" {
			name = c.args[0]
		}
		var out, errb bytes.Buffer
		args := append(c.args, "-table", env.Settings.Table, "-queue", env.Queue.URL(), "-dlq", env.DLQ.URL())
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		code := operator.MainWithInput(cctx, args, strings.NewReader(c.stdin), &out, &errb, operator.FromConfig(aws))
		cancel()
		if (code != 0) != c.fails {
			t.Errorf("ops %s: exit %d\n%s%s", strings.Join(c.args, " "), code, out.String(), errb.String())
		}
		for _, call := range rec.Take() {
			lines = append(lines, name+": "+call)
		}
	}
	got := strings.Join(dedupe(lines), "\n") + "\n"
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(callsGolden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(callsGolden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("the operator's calls differ from %s (run with -update if meant, then check the operator policy):\n%s", callsGolden, got)
	}
}

// dedupe drops repeated lines, keeping the first.
func dedupe(lines []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range lines {
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}

package sim

import (
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/funnel-personio/funnel-personio/dev/sandbox"
	"github.com/funnel-personio/funnel-personio/pkg/outbound"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
)

var seeds = flag.Int("sim.seeds", 200, "seeds TestSeeds runs (make sim runs more)")

// TestSeeds runs the first seeds: every invariant holds after every step
// and at the end of each.
func TestSeeds(t *testing.T) {
	sum := Many(1, *seeds, runtime.GOMAXPROCS(0), Options{}, func(r Result) {
		if len(r.Violations) > 0 {
			t.Error(r)
		}
	})
	t.Logf("sim: %d seeds, %d steps, %d violations", sum.Seeds, sum.Steps, sum.Violations)
}

// TestFoundSeeds are the seeds that found a race or a gap before its fix
// (docs/simulator.md says which): each runs clean now.
func TestFoundSeeds(t *testing.T) {
	for _, seed := range []uint64{1, 5, 7, 9, 10, 11, 13, 17, 26, 31, 56, 68, 167, 205, 296, 310, 425, 5156, 6261} {
		if r := Run(Options{Seed: seed, Trace: 50}); len(r.Violations) > 0 {
			t.Error(r)
		}
	}
}

// TestOperatorReplayRuns: in these seeds the operator's replay (the
// operator command's code) queues deliveries again, and every invariant
// holds.
func TestOperatorReplayRuns(t *testing.T) {
	for _, seed := range []uint64{1, 48} {
		r := Run(Options{Seed: seed, Trace: 50})
		if len(r.Violations) > 0 {
			t.Error(r)
		}
		if r.Outcomes["replayed"] == 0 {
			t.Errorf("seed %d: the operator's replay queued nothing again: %v", seed, r.Outcomes)
		}
	}
}

// TestPendingEventsResent: in seed 21 a producer dies between its change
// and its event's publish, in seed 44 after the publish, before it marks
// the event sent (the event goes out twice, with one id); in both the
// watch publishes the event recorded with the change, and every
// invariant holds.
func TestPendingEventsResent(t *testing.T) {
	for _, seed := range []uint64{21, 44} {
		r := Run(Options{Seed: seed, Trace: 50})
		if len(r.Violations) > 0 {
			t.Error(r)
		}
		if r.Outcomes["resent"] == 0 {
			t.Errorf("seed %d: the watch published no pending event again: %v", seed, r.Outcomes)
		}
	}
}

// TestSameSeedSameRun: one seed is one run, step for step.
func TestSameSeedSameRun(t *testing.T) {
	for _, seed := range []uint64{3, 4} {
		a, b := Run(Options{Seed: seed, Trace: 1 << 20}), Run(Options{Seed: seed, Trace: 1 << 20})
		if a.Steps != b.Steps || fmt.Sprint(a.Outcomes) != fmt.Sprint(b.Outcomes) || !slices.Equal(a.Trace, b.Trace) {
			t.Errorf("seed %d: %d steps %v, then %d steps %v", seed, a.Steps, a.Outcomes, b.Steps, b.Outcomes)
		}
		if a.Steps < 100 {
			t.Errorf("seed %d ran %d steps: the run did not get going", seed, a.Steps)
		}
	}
}

// TestInvariantsCatch: the checks see what they are for: an application
// sent twice, one of an erased applicant after the erasure, a record that
// says delivered with nothing at Personio, an accepted event without a
// record, a record and a kept event that hold an erased address, a view
// of the table that missed a write, a call its caller's policy does not
// grant (DynamoDB's, SQS's, Secrets Manager's), an application without
// its event's file, a connection whose credentials the watch left unchecked, one
// whose rotated token it did not mark, an application at another
// tenant's company, an item in another workspace's partition, a delivery
// that failed with no outbound event, an outbound event of no problem.
func TestInvariantsCatch(t *testing.T) {
	s := newSched(1, start, 0)
	w, err := newWorld(s, Options{Workers: 1, Faults: faults{}})
	if err != nil {
		t.Fatal(err)
	}
	pc, err := personio.NewClient(personio.WithBaseURL("http://personio.sim"), personio.WithHTTPClient(&http.Client{Transport: direct{w.sandbox}}))
	if err != nil {
		t.Fatal(err)
	}
	create := func(id string, n int) {
		app := personio.Application{FirstName: "Ada", LastName: "L", Email: email(n), JobPositionID: position, Tags: []string{id}}
		if err := pc.CreateApplication(t.Context(), personio.Credentials{CompanyID: company, Token: "token-0"}, app); err != nil {
			t.Fatal(err)
		}
	}
	create("evt_sim001", 1)
	create("evt_sim001", 101)
	w.ledger.erasures = append(w.ledger.erasures, erasure{applicant: 2, address: email(2), hash: "h2", at: start.Add(-time.Minute), inFlight: map[string]bool{}})
	create("evt_sim002", 2)
	w.ledger.accepted["evt_sim002"] = 2
	w.ledger.accepted["evt_sim003"] = 3
	put := func(sk string, attrs map[string]types.AttributeValue) {
		attrs["pk"], attrs["sk"] = &types.AttributeValueMemberS{Value: "WS#" + ws}, &types.AttributeValueMemberS{Value: sk}
		if _, err := w.db.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: attrs}); err != nil {
			t.Fatal(err)
		}
	}
	put("DELIVERY#evt_sim002", map[string]types.AttributeValue{"status": &types.AttributeValueMemberS{Value: "delivered"},
		"email_hashes": &types.AttributeValueMemberSS{Value: []string{"h2"}}})
	put("EVENT#evt_sim002", map[string]types.AttributeValue{"body": &types.AttributeValueMemberS{Value: "a note from " + email(2)}})
	w.called("Watch", "DeleteItem", &dynamodb.DeleteItemInput{TableName: aws.String(table)})
	roleVault{w.vault, w, "Ingest"}.secret(ws, "con_1", "GetSecretValue")
	w.need("Api", eventsQueue+" sqs:ChangeMessageVisibility")
	w.ledger.files["evt_quiet200"] = 1
	w.ledger.tenantOf["evt_quiet200"], w.ledger.tenantOf["evt_noisy100"] = w.tenants[2], w.tenants[1]
	create("evt_quiet200", 200)
	put("EVENT#evt_noisy100", map[string]types.AttributeValue{})
	put("DELIVERY#evt_sim004", map[string]types.AttributeValue{"status": &types.AttributeValueMemberS{Value: "failed"},
		"attempts": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}}}})
	w.notify.sent = append(w.notify.sent, outbound.New(outbound.ConnectionNeedsAttention, "no problem", start))
	w.db.Watch(nil)
	put("EVENT#evt_sim009", map[string]types.AttributeValue{})
	quiet := w.tenants[2]
	quiet.conn, quiet.createdAt, quiet.rotatedAt = "conn_quiet", start.Add(-time.Hour), start.Add(-time.Hour)
	got := strings.Join(w.checkEnd(), "\n")
	for _, want := range []string{"nothing twice: evt_sim001", "an erasure is final: evt_sim002", "nothing accepted is lost: evt_sim003 has no record",
		"the record of evt_sim002 holds applicant 2's address", "the item EVENT#evt_sim002 holds the erased address",
		"the simulator's view of the table", "no call outside the caller's policy: Watch calls Table dynamodb:DeleteItem",
		"no call outside the caller's policy: Ingest calls secret:funnel-personio/connections/" + ws + "/con_1-AbCdEf secretsmanager:GetSecretValue",
		"no call outside the caller's policy: Api calls Events sqs:ChangeMessageVisibility",
		"files: the application of evt_quiet200 at Personio carries 0 files, its event 1",
		"the watch's liveness: ws_quiet's credentials were not checked", "the watch's liveness: ws_quiet's token was rotated at Personio",
		"one workspace never sees another's data: evt_quiet200 of ws_quiet reached Personio at company 42",
		"one workspace never sees another's data: an item of evt_noisy100 of ws_noisy is in the partition WS#ws_sim",
		"one problem, one outbound event: evt_sim004 failed at its attempt 1 at 09:00:00.000 has no delivery.failed event",
		"one problem, one outbound event: an event msg_"} {
		if !strings.Contains(got, want) {
			t.Errorf("the checks missed %q; they said:\n%s", want, got)
		}
	}
}

// direct carries requests to the sandbox outside any run (no gates).
type direct struct{ sb *sandbox.Sandbox }

func (d direct) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	d.sb.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// TestWildcard: a policy's resource pattern matches as IAM's does: a *
// across slashes too.
func TestWildcard(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"secret:funnel-personio/connections/*", "secret:funnel-personio/connections/ws_a/con_1-AbCdEf", true},
		{"secret:funnel-personio/connections/*", "secret:funnel-personio/other/ws_a", false},
		{"Table/index/*", "Table/index/parked", true},
		{"Table", "Table/index/parked", false},
		{"Table", "Table", true},
		{"Events", "DeadLetters", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
	}
	for _, tc := range tests {
		if got := wildcard(tc.pattern, tc.s); got != tc.want {
			t.Errorf("wildcard(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

package localstack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/localstack"
	"github.com/funnel-personio/funnel-personio/dev/testenv"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
)

// TestWrongTokensDoNotStallAnotherWorkspace (issue 14, point 7): one
// workspace posts 50 wrong tokens for company 42 while another's
// deliveries to company 42 go on. Personio counts only authenticated
// requests, so the refused checks must cost the company nothing: the
// victim's events are delivered at the pace they have alone, never
// waiting for the company's budget, and the budget holds the victim's
// requests and nothing of the attacker's. The attacker gets 429 with
// Retry-After once past its workspace's limit of checks.
func TestWrongTokensDoNotStallAnotherWorkspace(t *testing.T) {
	ctx := context.Background()
	st, err := localstack.Start(ctx, testenv.LocalStack(t, &testenv.Buffer{}))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	api := attacker{t: t, api: st.URL}
	victim, _ := st.Auth.Mint("ws_victim", "advanced", time.Hour)
	thief, _ := st.Auth.Mint("ws_attacker", "advanced", time.Hour)

	code, body := api.do(victim, "POST", "/v1/connections", `{"name":"Acme","company_id":"42","access_token":"sandbox-token-42"}`)
	var conn struct{ ID string }
	if code != 201 || json.Unmarshal([]byte(body), &conn) != nil {
		t.Fatalf("connect: %d %s", code, body)
	}
	mapping := `{"version":1,"required":{"first_name":{"source":"contact.first_name"},"last_name":{"source":"contact.last_name"},"email":{"source":"contact.email"}}}`
	if code, body := api.do(victim, "PUT", "/v1/funnels/fn_v/integration", `{"connection_id":"`+conn.ID+`","job_position_id":1001,"enabled":true,"mapping":`+mapping+`}`); code != 201 {
		t.Fatalf("integrate: %d %s", code, body)
	}
	send := func(id string) time.Time {
		ev := []byte(fmt.Sprintf(`{"type":"application.submitted","id":%q,"occurred_at":%q,"workspace_id":"ws_victim","funnel_id":"fn_v","contact":{"first_name":"Vic","last_name":"Tim","email":"%s@example.com"}}`,
			id, time.Now().UTC().Format(time.RFC3339), id))
		at := time.Now()
		if code := api.event(sign(t, localstack.DevWebhookSecret, "msg_"+id, at, ev), ev); code != 202 {
			t.Fatalf("send %s: %d", id, code)
		}
		return at
	}
	// delivered waits for the events and returns how long each took.
	waited := map[string]bool{}
	delivered := func(sent map[string]time.Time) map[string]time.Duration {
		took := map[string]time.Duration{}
		deadline := time.Now().Add(20 * time.Second)
		for len(took) < len(sent) && time.Now().Before(deadline) {
			for id, at := range sent {
				if _, ok := took[id]; ok {
					continue
				}
				_, body := api.do(victim, "GET", "/v1/funnels/fn_v/deliveries/"+id, "")
				var d struct {
					Status      string
					DeliveredAt time.Time `json:"delivered_at"`
				}
				_ = json.Unmarshal([]byte(body), &d)
				if strings.Contains(body, string(lifecycle.ReasonBudget)) && !waited[id] {
					waited[id] = true
					t.Errorf("%s waited for the company's budget: %s", id, body)
				}
				if d.Status == "delivered" {
					took[id] = d.DeliveredAt.Sub(at)
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		return took
	}

	// The victim's pace alone.
	alone := map[string]time.Time{}
	for i := range 3 {
		id := fmt.Sprintf("evt_alone%d", i)
		alone[id] = send(id)
	}
	var slowest time.Duration
	tookAlone := delivered(alone)
	for _, d := range tookAlone {
		slowest = max(slowest, d)
	}
	if len(tookAlone) != len(alone) {
		t.Fatal("the victim's events alone were not delivered")
	}

	// 50 wrong tokens from the attacker, 5 at a time, while the victim
	// sends 12 events.
	wait := wrongTokens(t, st.URL, thief)
	during := map[string]time.Time{}
	for i := range 12 {
		id := fmt.Sprintf("evt_during%d", i)
		during[id] = send(id)
		time.Sleep(50 * time.Millisecond)
	}
	statuses, noRetryAfter := wait()
	took := delivered(during)
	if len(took) != len(during) {
		t.Fatalf("%d of %d of the victim's events delivered within 20 s while the attacker tried wrong tokens (alone: %s at most)", len(took), len(during), slowest)
	}
	limit := st.Settings.CheckLimit.Limit
	if statuses[422] != limit || statuses[429] != 50-limit || noRetryAfter > 0 {
		t.Errorf("the attacker's answers: %v, %d × 429 without Retry-After; want %d × 422 and then 429 with Retry-After", statuses, noRetryAfter, limit)
	}
	for id, d := range took {
		if d > slowest+5*time.Second {
			t.Errorf("%s took %s, alone at most %s", id, d, slowest)
		}
	}
	// The company's budget holds the victim's 16 requests (the check, 3
	// and 12 applications) and nothing of the attacker's: 4 units free.
	b := st.Settings.RateBudget()
	if ok, _, _ := st.Store.TakeBudget(ctx, "42", 5, b); ok {
		t.Error("5 units free: fewer requests counted than the victim made")
	}
	if ok, _, _ := st.Store.TakeBudget(ctx, "42", 4, b); !ok {
		t.Error("fewer than 4 units free: the attacker's refused checks used the company's budget")
	}
	t.Logf("the victim's events alone: %s at most; beside 50 wrong tokens: %v; the attacker: %v", slowest, took, statuses)
}

// wrongTokens starts 50 connection checks with wrong tokens for company
// 42 against the API at api with the bearer token, 5 at a time; the
// function it returns waits for them and gives the answers' statuses with
// their counts and how many 429s came without Retry-After.
func wrongTokens(t *testing.T, api, bearer string) func() (map[int]int, int) {
	t.Helper()
	var mu sync.Mutex
	statuses := map[int]int{}
	noRetryAfter := 0
	var wg sync.WaitGroup
	for w := range 5 {
		wg.Go(func() {
			for i := range 10 {
				req, _ := http.NewRequest("POST", api+"/v1/connections",
					strings.NewReader(fmt.Sprintf(`{"name":"x","company_id":"42","access_token":"wrong-token-%d-%d"}`, w, i)))
				req.Header.Set("Authorization", "Bearer "+bearer)
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				mu.Lock()
				statuses[resp.StatusCode]++
				if resp.StatusCode == 429 && resp.Header.Get("Retry-After") == "" {
					noRetryAfter++
				}
				mu.Unlock()
			}
		})
	}
	return func() (map[int]int, int) {
		wg.Wait()
		return statuses, noRetryAfter
	}
}

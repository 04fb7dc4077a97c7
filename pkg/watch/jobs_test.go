package watch_test

import (
	"log/slog"
	"testing"

	"github.com/funnel-personio/funnel-personio/dev/sandbox"
	"github.com/funnel-personio/funnel-personio/dev/sandbox/sandboxtest"
	"github.com/funnel-personio/funnel-personio/dev/testenv"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/store"
	"github.com/funnel-personio/funnel-personio/pkg/watch"
	"github.com/funnel-personio/funnel-personio/pkg/watchlambda"
)

// TestPositionsFromV2: a connection with read access and no career site:
// the watch reads the company's jobs from Personio's v2 API (the
// sandbox's, on kumo's store and vault) and marks the integration on the
// draft job 1002 unpublished, the one on the published job 1001 not,
// with one read for both.
func TestPositionsFromV2(t *testing.T) {
	env := testenv.New(t)
	ctx := t.Context()
	sb := sandboxtest.Start(t, sandbox.Config{RateLimit: -1})
	st := env.Store
	if _, err := env.Vault.Create(ctx, "ws_a", "con_1", "sandbox-token-42"); err != nil {
		t.Fatal(err)
	}
	if err := env.Vault.PutReadSecret(ctx, "ws_a", "con_1", personio.Token("sandbox-secret-42")); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateConnection(ctx, store.Connection{WorkspaceID: "ws_a", ID: "con_1", Name: "Acme", CompanyID: "42",
		Status: store.ConnectionConnected, ReadClientID: "sandbox-client-42"}); err != nil {
		t.Fatal(err)
	}
	for funnel, position := range map[string]int64{"fn_published": 1001, "fn_draft": 1002} {
		if _, err := st.PutIntegration(ctx, store.Integration{WorkspaceID: "ws_a", FunnelID: funnel, ConnectionID: "con_1", JobPositionID: position,
			Enabled: true, Mapping: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	cfg := watchlambda.Config(env.Settings, slog.New(slog.DiscardHandler))
	cfg.Interval, cfg.HealthInterval = cfg.Tick, 1000*cfg.Tick // every position due, no health check
	w, err := watch.New(cfg, st, env.Vault, sb.PersonioClient(t), env.Queue, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := w.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.Feeds != 1 || r.PositionsChecked != 2 || r.Unpublished != 1 {
		t.Errorf("report %+v, want one read for two positions, one unpublished", r)
	}
	for funnel, unpublished := range map[string]bool{"fn_published": false, "fn_draft": true} {
		in, err := st.GetIntegration(ctx, "ws_a", funnel)
		if err != nil || in.UnpublishedNow() != unpublished {
			t.Errorf("%s: unpublished %v (%v), want %v", funnel, in.UnpublishedNow(), err, unpublished)
		}
	}
	if n := sb.Sandbox.Stats().Requests["v2 jobs 200"]; n != 1 {
		t.Errorf("%d v2 job reads, want 1 (%v)", n, sb.Sandbox.Stats().Requests)
	}
}

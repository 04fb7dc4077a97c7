package delivery_test

import (
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// TestSavedChangesApplyAtOnce: a warm worker (tokens and integrations
// seen) takes every saved change into account with the next event —
// switching off and on again, a new connection, new credentials — and no
// delivery ends on what the worker saw before.
func TestSavedChangesApplyAtOnce(t *testing.T) {
	p := newPipe(t, pipeOpts{})
	ctx := t.Context()
	w := p.worker()
	send := func(id string) {
		t.Helper()
		if r := p.post(t, p.event(id, id+"@example.com", "")); r.StatusCode != 202 {
			t.Fatalf("ingest %s: %d %s", id, r.StatusCode, r.Body)
		}
		p.drain(t, w, 10*time.Second, func() bool { return p.status(t, id).Terminal() || p.status(t, id).Status == lifecycle.StatusParked })
	}
	send("evt_warm")
	if d := p.status(t, "evt_warm"); d.Status != lifecycle.StatusDelivered {
		t.Fatalf("warm-up: %s %s", d.Status, d.Reason)
	}
	// Off, then on again: the next event is delivered, not skipped.
	p.integrate(t, funnel, 1001, false)
	send("evt_off")
	p.integrate(t, funnel, 1001, true)
	send("evt_on_again")
	// A new connection (to company 42 with a new name) replaces the old
	// one, which is deleted.
	if _, err := p.vault.Create(ctx, ws, "con_2", "sandbox-token-42"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.store.CreateConnection(ctx, store.Connection{WorkspaceID: ws, ID: "con_2", Name: "Acme 2", CompanyID: "42", Status: store.ConnectionConnected}); err != nil {
		t.Fatal(err)
	}
	in, _ := p.store.GetIntegration(ctx, ws, funnel)
	in.ConnectionID = "con_2"
	if _, err := p.store.PutIntegration(ctx, in); err != nil {
		t.Fatal(err)
	}
	if err := p.store.DeleteConnection(ctx, ws, conn); err != nil {
		t.Fatal(err)
	}
	send("evt_new_connection")
	// The customer regenerates the token in Personio and enters it.
	token := personio.Token(p.sandbox.Sandbox.RotateToken("42"))
	if err := p.vault.Put(ctx, ws, "con_2", token); err != nil {
		t.Fatal(err)
	}
	c, _ := p.store.GetConnection(ctx, ws, "con_2")
	c.CredentialsVersion++ // as the editor saves new credentials
	if _, err := p.store.UpdateConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	send("evt_new_token")
	for id, want := range map[string]lifecycle.Status{"evt_off": lifecycle.StatusSkipped, "evt_on_again": lifecycle.StatusDelivered,
		"evt_new_connection": lifecycle.StatusDelivered, "evt_new_token": lifecycle.StatusDelivered} {
		if d := p.status(t, id); d.Status != want {
			t.Errorf("%s: %s %s (%s), want %s", id, d.Status, d.ReasonCode, d.Reason, want)
		}
	}
	if c, _ := p.store.GetConnection(ctx, ws, "con_2"); c.Status != store.ConnectionConnected {
		t.Errorf("the connection was marked %s", c.Status)
	}
}

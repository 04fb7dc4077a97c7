package delivery_test

import (
	"testing"

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
	send := func(id string) { t.Helper(); p.send(t, w, id) }
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

// TestRecreatedIntegrationMapsWithItsOwnMapping: an integration deleted
// and created again starts its versions again, and the warm worker maps
// the next event with the new mapping, not the deleted one it compiled
// under the same version.
func TestRecreatedIntegrationMapsWithItsOwnMapping(t *testing.T) {
	p := newPipe(t, pipeOpts{})
	ctx := t.Context()
	w := p.worker()
	p.send(t, w, "evt_before")
	if err := p.store.DeleteIntegration(ctx, ws, funnel); err != nil {
		t.Fatal(err)
	}
	swapped := []byte(`{"version":1,"required":{"first_name":{"source":"contact.last_name"},"last_name":{"source":"contact.first_name"},
 "email":{"source":"contact.email","transforms":["trim","lower"]}}}`)
	in, err := p.store.PutIntegration(ctx, store.Integration{WorkspaceID: ws, FunnelID: funnel, ConnectionID: conn, JobPositionID: 1001, Mapping: swapped, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if in.Version != 1 {
		t.Fatalf("the re-created integration has version %d; the test needs the versions to start again", in.Version)
	}
	p.send(t, w, "evt_after")
	got := map[string]string{}
	for _, a := range p.sandbox.Sandbox.Applications("42") {
		for _, tag := range a.Application.Tags {
			got[tag] = a.Application.FirstName
		}
	}
	if got["evt_before"] != "Ada" || got["evt_after"] != "Lovelace" {
		t.Errorf("first names by event: before %q (want Ada), after %q (want Lovelace: the new mapping)", got["evt_before"], got["evt_after"])
	}
}

// TestRecreatedConnectionUsesItsOwnToken: a connection deleted and created
// again under the same id (credentials version 1 again) with a new token
// is used with the new token, not the deleted connection's cached one.
func TestRecreatedConnectionUsesItsOwnToken(t *testing.T) {
	p := newPipe(t, pipeOpts{})
	ctx := t.Context()
	w := p.worker()
	p.send(t, w, "evt_before")
	token := personio.Token(p.sandbox.Sandbox.RotateToken("42"))
	if err := p.store.DeleteConnection(ctx, ws, conn); err != nil {
		t.Fatal(err)
	}
	if err := p.vault.Delete(ctx, ws, conn); err != nil {
		t.Fatal(err)
	}
	if _, err := p.vault.Create(ctx, ws, conn, token); err != nil {
		t.Fatal(err)
	}
	c, err := p.store.CreateConnection(ctx, store.Connection{WorkspaceID: ws, ID: conn, Name: "Acme again", CompanyID: "42", Status: store.ConnectionConnected})
	if err != nil {
		t.Fatal(err)
	}
	if c.CredentialsVersion != 1 {
		t.Fatalf("the re-created connection has credentials version %d; the test needs them to start again", c.CredentialsVersion)
	}
	p.send(t, w, "evt_after")
	for _, id := range []string{"evt_before", "evt_after"} {
		if d := p.status(t, id); d.Status != lifecycle.StatusDelivered {
			t.Errorf("%s: %s %s (%s), want delivered", id, d.Status, d.ReasonCode, d.Reason)
		}
	}
}

package delivery_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/delivery"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// TestErasureIsFinal: an applicant is erased while copies of their events
// are still on their way — one queued by ingest, one sent delayed to its
// turn in the company's line, one in the dead-letter queue — and then
// the queue is worked, the dead-letter queue redriven and the webhook sent
// again: nothing reaches Personio, and nothing of the applicant is left in
// the table but the erasure's marker.
func TestErasureIsFinal(t *testing.T) {
	budget := store.Budget{Limit: 1, Window: 3 * time.Second}
	p := newPipe(t, pipeOpts{worker: func(c *delivery.Config) { c.Budget = budget }})
	ctx := t.Context()
	const email = "Erase.Me@example.com"
	hash := application.EmailHash(p.cfg.HashKey, email)
	w := p.worker()

	// A delayed message: the budget is taken, so ingest gives the event
	// a turn in line and sends it delayed to it.
	if ok, _, err := p.store.TakeBudget(ctx, "42", 1, budget); !ok || err != nil {
		t.Fatal(ok, err)
	}
	waiting := p.event("evt_erase_waiting", email, "")
	if r := p.post(t, waiting); r.StatusCode != 202 {
		t.Fatalf("ingest: %d %s", r.StatusCode, r.Body)
	}
	p.drain(t, w, 10*time.Second, func() bool {
		d := p.status(t, "evt_erase_waiting")
		return d.ReasonCode == lifecycle.ReasonBudget && d.NextAttemptAt != nil
	})
	// One still queued by ingest (the e-mail only in an answer) and one
	// in the dead-letter queue with its record.
	queued := answerEvent("evt_erase_queued", "email", "erase.me@EXAMPLE.com")
	if r := p.post(t, queued); r.StatusCode != 202 {
		t.Fatalf("ingest: %d %s", r.StatusCode, r.Body)
	}
	dead := p.event("evt_erase_dead", email, "")
	if _, err := p.store.CreateDelivery(ctx, store.Delivery{WorkspaceID: ws, FunnelID: funnel, EventID: "evt_erase_dead", Status: lifecycle.StatusDead,
		Event: dead, EmailHashes: []string{hash}}); err != nil {
		t.Fatal(err)
	}
	if err := p.dlq.Send(ctx, queue.Message{ID: "evt_erase_dead", Group: ws, Body: dead}); err != nil {
		t.Fatal(err)
	}

	er, err := p.store.EraseApplicant(ctx, ws, hash, time.Now().Add(time.Hour))
	if err != nil || er.Records != 3 || er.QueuedCopies != 3 {
		t.Fatalf("erase: %+v, %v; want 3 records, 3 of them queued", er, err)
	}

	// The queue, the dead-letter queue redriven, the webhook sent again
	// and a new event of the same applicant.
	if r := p.post(t, waiting); r.StatusCode != 202 || !strings.Contains(r.Body, `"erased"`) {
		t.Errorf("the webhook sent again: %d %s", r.StatusCode, r.Body)
	}
	if r := p.post(t, p.event("evt_erase_new", " erase.me@example.com", "")); r.StatusCode != 202 || !strings.Contains(r.Body, `"erased"`) {
		t.Errorf("a new event of the erased applicant: %d %s", r.StatusCode, r.Body)
	}
	msgs, err := p.dlq.Receive(ctx, 10, 0)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("dead-letter queue: %d, %v", len(msgs), err)
	}
	if err := p.queue.Send(ctx, queue.Message{ID: msgs[0].ID, Group: ws, Body: msgs[0].Body}); err != nil {
		t.Fatal(err)
	}
	_ = p.dlq.Delete(ctx, msgs[0].ReceiptHandle)
	deadline := time.Now().Add(15 * time.Second) // past the delayed copy's turn
	for time.Now().Before(deadline) {
		if p.pump(ctx, w) == 0 {
			time.Sleep(200 * time.Millisecond)
		}
	}
	for _, a := range p.sandbox.Sandbox.Applications("42") {
		if strings.EqualFold(a.Application.Email, email) {
			t.Errorf("the erased applicant reached Personio: %s", a.Application.Email)
		}
	}
	for _, id := range []string{"evt_erase_waiting", "evt_erase_queued", "evt_erase_dead", "evt_erase_new"} {
		if d := p.status(t, id); d.EventID != "" {
			t.Errorf("%s is back in the table: %s %v", id, d.Status, d.Attempts)
		}
	}
	if er, _ := p.store.EraseApplicant(ctx, ws, hash, time.Now().Add(time.Hour)); er.Records != 0 {
		t.Errorf("%d records of the applicant are left", er.Records)
	}
	if m, _ := p.queue.Receive(ctx, 10, 0); len(m) != 0 {
		t.Errorf("%d messages left on the queue", len(m))
	}
}

// TestEmailFromAnAnswer: when the mapping takes the e-mail from an answer,
// the record is kept under that address's hash (not the hash of an empty
// contact address), so an erasure of it finds the record.
func TestEmailFromAnAnswer(t *testing.T) {
	p := newPipe(t, pipeOpts{})
	ctx := t.Context()
	mapping := []byte(`{"version":1,"required":{"first_name":{"source":"contact.first_name"},"last_name":{"source":"contact.last_name"},
	 "email":{"source":"answers.q_mail","transforms":["trim","lower"]}}}`)
	in, err := p.store.GetIntegration(ctx, ws, funnel)
	if err != nil {
		t.Fatal(err)
	}
	in.Mapping = mapping
	if _, err := p.store.PutIntegration(ctx, in); err != nil {
		t.Fatal(err)
	}
	if r := p.post(t, answerEvent("evt_answer_mail", "text", "Ans.Wer@example.com")); r.StatusCode != 202 {
		t.Fatalf("ingest: %d %s", r.StatusCode, r.Body)
	}
	p.drain(t, p.worker(), 10*time.Second, p.is(t, "evt_answer_mail", lifecycle.StatusDelivered))
	d := p.status(t, "evt_answer_mail")
	if !slicesContains(d.EmailHashes, application.EmailHash(p.cfg.HashKey, "ans.wer@example.com")) || slicesContains(d.EmailHashes, "") {
		t.Errorf("hashes %v", d.EmailHashes)
	}
	if er, err := p.store.EraseApplicant(ctx, ws, application.EmailHash(p.cfg.HashKey, "ANS.WER@example.com"), time.Now().Add(time.Hour)); err != nil || er.Records != 1 {
		t.Errorf("erase by the answer's address: %+v, %v", er, err)
	}
}

// answerEvent is an event whose contact has no e-mail; the address is the
// answer q_mail, of the given type.
func answerEvent(id, typ, address string) []byte {
	b, _ := json.Marshal(map[string]any{"type": "application.submitted", "id": id, "occurred_at": time.Now().UTC().Format(time.RFC3339),
		"workspace_id": ws, "funnel_id": funnel, "contact": map[string]any{"first_name": "Ada", "last_name": "Lovelace"},
		"answers": []any{map[string]any{"field_id": "q_mail", "label": "E-Mail", "type": typ, "value": address}}})
	return b
}

func slicesContains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestErasureFindsEveryFormOfAnAddress: an address inside a text answer,
// a named address, and an address written in another Unicode form or
// with its domain in the other IDNA form are all found by an erasure of
// the address as the applicant writes it. (Each case has an address of
// its own: the records share the table.)
func TestErasureFindsEveryFormOfAnAddress(t *testing.T) {
	p := newPipe(t, pipeOpts{})
	ctx := t.Context()
	for i, c := range []struct {
		name, typ, value, erase string
	}{
		{"inside a text", "text", "... write to ada.private@example.com, not the other one.", "Ada.Private@example.com"},
		{"named address", "text", "Ada <ada.work@example.com>", "ada.work@example.com"},
		{"named address answer", "email", "Ada <ada.named@example.com>", "ada.named@example.com"},
		{"inside a multi-line text", "text", "Refs:\nbob@example.org\nand ada.ref@example.org.", "ada.ref@example.org"},
		{"NFD answer, NFC erasure", "email", "andre\u0301@example.com", "andr\u00e9@example.com"},
		{"NFC answer, NFD erasure", "text", "Mail: zo\u00eb@example.com", "ZOE\u0308@example.com"},
		{"IDN answer, ASCII erasure", "email", "ada@m\u00fcller.de", "ada@xn--mller-kva.de"},
		{"ASCII answer, IDN erasure", "text", "lin@XN--MLLER-KVA.DE", "Lin@M\u00fcller.de"},
	} {
		t.Run(c.name, func(t *testing.T) {
			id := "evt_form_" + strconv.Itoa(i)
			if r := p.post(t, answerEvent(id, c.typ, c.value)); r.StatusCode != 202 {
				t.Fatalf("ingest: %d %s", r.StatusCode, r.Body)
			}
			er, err := p.store.EraseApplicant(ctx, ws, application.EmailHash(p.cfg.HashKey, c.erase), time.Now().Add(time.Hour))
			if err != nil || er.Records != 1 {
				t.Errorf("erase %q: %+v, %v; want the record found", c.erase, er, err)
			}
		})
	}
}

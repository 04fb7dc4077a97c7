package runbook_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/funnel-personio/funnel-personio/dev/emulator"
	"github.com/funnel-personio/funnel-personio/dev/testenv"
	"github.com/funnel-personio/funnel-personio/pkg/awsclient"
	"github.com/funnel-personio/funnel-personio/pkg/ingest"
	"github.com/funnel-personio/funnel-personio/pkg/ingestlambda"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/settings"
	"github.com/funnel-personio/funnel-personio/pkg/webhook"
)

// TestSigningSecretRotation walks the runbook's rotation of the ingest
// signing secret on kumo, with events in flight: ingest instances start
// as the Lambda does (settings from the environment, the secrets from the
// Secrets Manager secret WEBHOOK_SECRET_ID names) before, during and after
// the overlap, and events signed with the old secret, the new one, or
// both are posted to them. During the overlap an instance started after
// the secret held both accepts either; one started before it accepts the
// old and a request signed with both, and refuses the new alone (so the
// runbook recycles the instances and the platform signs with both). After
// the overlap the old secret is refused and the platform's retry, signed
// with the new one, is taken. Every event accepted is delivered exactly
// once, the one accepted before the rotation included: none is lost.
func TestSigningSecretRotation(t *testing.T) {
	logs := &testenv.Buffer{}
	st := startStack(t, logs, nil)
	const ws, funnel = "ws_rotate", "fn_rotate"
	st.connect(t, ws, funnel)
	ctx := t.Context()
	oldSecret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("the-old-ingest-signing-secret-32"))
	newSecret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("the-new-ingest-signing-secret-32"))
	sm := awsclient.SecretsManager(st.aws)
	secretID := emulator.Name("signing")
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(secretID), SecretString: aws.String(oldSecret)}); err != nil {
		t.Fatal(err)
	}
	putSecret := func(v string) {
		t.Helper()
		if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(secretID), SecretString: aws.String(v)}); err != nil {
			t.Fatal(err)
		}
	}
	// coldStart is an ingest instance starting as the Lambda does.
	for _, name := range append(settings.Names(), settings.VarHashKey, settings.VarHashKeySecret, settings.VarSigning, settings.VarSigningSecret) {
		t.Setenv(name, "")
	}
	t.Setenv(settings.VarTable, st.Settings.Table)
	t.Setenv(settings.VarQueueURL, st.Settings.QueueURL)
	t.Setenv(settings.VarHashKey, string(st.Settings.HashKey))
	t.Setenv(settings.VarSigningSecret, secretID)
	coldStart := func() *ingest.Handler {
		t.Helper()
		s, err := settings.FromEnv(ctx, sm, ingestlambda.Required...)
		if err != nil {
			t.Fatal(err)
		}
		h, err := ingestlambda.New(st.aws, s, logs.Logger())
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	// post signs event i with the secrets (several: one signature each)
	// and posts it to the instance; it returns the status.
	var accepted []string
	post := func(h *ingest.Handler, i int, secrets ...string) int {
		t.Helper()
		id := "evt_rotate_" + string(rune('a'+i))
		body := event(ws, funnel, id, "rotate", i)
		var sigs []string
		var hdr http.Header
		for _, secret := range secrets {
			var err error
			if hdr, err = webhook.Sign(secret, "msg_"+id, time.Now(), body); err != nil {
				t.Fatal(err)
			}
			sigs = append(sigs, hdr.Get(webhook.HeaderSignature))
		}
		req := events.APIGatewayV2HTTPRequest{RawPath: "/v1/events", Body: string(body), Headers: map[string]string{
			"content-type": "application/json", "webhook-id": hdr.Get(webhook.HeaderID), "webhook-timestamp": hdr.Get(webhook.HeaderTimestamp),
			"webhook-signature": strings.Join(sigs, " ")}}
		req.RequestContext.HTTP.Method = http.MethodPost
		resp, err := h.Handle(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == http.StatusAccepted && !strings.Contains(resp.Body, "duplicate") {
			accepted = append(accepted, id)
		}
		return resp.StatusCode
	}
	expect := func(what string, got, want int) {
		t.Helper()
		if got != want {
			t.Errorf("%s: %d, want %d", what, got, want)
		}
	}

	// Before: one secret.
	a := coldStart()
	expect("before, the old secret", post(a, 0, oldSecret), 202)
	expect("before, the new secret", post(a, 1, newSecret), 401)

	// 1. Both secrets; a new instance reads both, an old one still runs.
	putSecret(oldSecret + "," + newSecret)
	b := coldStart()
	expect("the platform's retry of the new secret's first event", post(b, 1, newSecret), 202)
	expect("overlap, old secret, instance from before", post(a, 2, oldSecret), 202)
	expect("overlap, old secret, new instance", post(b, 3, oldSecret), 202)
	expect("overlap, new secret, new instance", post(b, 4, newSecret), 202)
	expect("overlap, both signatures, instance from before", post(a, 5, oldSecret, newSecret), 202)
	expect("overlap, both signatures, new instance", post(b, 6, oldSecret, newSecret), 202)
	expect("overlap, new secret alone, instance from before", post(a, 7, newSecret), 401)
	expect("the platform's retry of it, on a new instance", post(b, 7, newSecret), 202)

	// 3. The new secret alone.
	putSecret(newSecret)
	c := coldStart()
	expect("after, the new secret", post(c, 8, newSecret), 202)
	expect("after, the old secret", post(c, 9, oldSecret), 401)
	expect("the platform's retry, signed when sent", post(c, 9, newSecret), 202)

	if len(accepted) != 10 {
		t.Fatalf("accepted %v, want the ten events", accepted)
	}
	st.waitStatus(t, ws, accepted, lifecycle.StatusDelivered, time.Minute)
	time.Sleep(time.Second)
	got := st.arrivals()
	for i := range 10 {
		if _, _, email := applicant("rotate", i); got[email] != 1 {
			t.Errorf("event %d arrived %d times, want once", i, got[email])
		}
	}
	logs.NeverHolds(t, oldSecret, newSecret, "the-old-ingest", "the-new-ingest")
}

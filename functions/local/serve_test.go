package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/emulator"
	"github.com/funnel-personio/funnel-personio/dev/localstack"
	"github.com/funnel-personio/funnel-personio/pkg/webhook"
)

// TestKeysFor: where serve's AWS calls go decides whether the dev keys
// may stand in for keys not given. Only an emulator on this machine, for
// every service the functions call, is local.
func TestKeysFor(t *testing.T) {
	const (
		jwt    = "a-jwt-key-of-my-own"
		secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		hash   = "a-hash-key-of-my-own"
	)
	dev := serveKeys{localstack.DevJWTKey, localstack.DevWebhookSecret, localstack.DevHashKey}
	mine := serveKeys{jwt, secret, hash}
	keys := map[string]string{"LOCAL_JWT_KEY": jwt, "WEBHOOK_SECRET": secret, "HASH_KEY": hash}
	with := func(env map[string]string, more map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range env {
			out[k] = v
		}
		for k, v := range more {
			out[k] = v
		}
		return out
	}
	realAWS := map[string]string{"AWS_ACCESS_KEY_ID": "AKIA…"}
	for _, c := range []struct {
		name    string
		env     map[string]string
		want    serveKeys
		refused []string // what the refusal must say; nil: no refusal
	}{
		{"serve's own emulator", nil, dev, nil},
		{"emulator on 127.0.0.1", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_ACCESS_KEY_ID": "x"}, dev, nil},
		{"emulator on localhost", map[string]string{"AWS_ENDPOINT_URL": "http://localhost:4566"}, dev, nil},
		{"emulator on ::1", map[string]string{"AWS_ENDPOINT_URL": "http://[::1]:4566"}, dev, nil},
		{"emulator with keys given", with(keys, map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:4566"}), mine, nil},
		{"emulator with one key given", map[string]string{"HASH_KEY": hash}, serveKeys{localstack.DevJWTKey, localstack.DevWebhookSecret, hash}, nil},
		{"real AWS, no keys", realAWS, serveKeys{}, []string{"not a local emulator", "LOCAL_JWT_KEY is not set", "WEBHOOK_SECRET is not set", "HASH_KEY is not set", "export LOCAL_JWT_KEY="}},
		{"real AWS with keys", with(realAWS, keys), mine, nil},
		{"real AWS, one key missing", with(realAWS, map[string]string{"LOCAL_JWT_KEY": jwt, "WEBHOOK_SECRET": secret}), serveKeys{}, []string{"HASH_KEY is not set", "export HASH_KEY="}},
		{"real AWS with a dev key", with(realAWS, with(keys, map[string]string{"LOCAL_JWT_KEY": localstack.DevJWTKey})), serveKeys{}, []string{"LOCAL_JWT_KEY is the README's dev value"}},
		{"endpoint of AWS", map[string]string{"AWS_ENDPOINT_URL": "https://dynamodb.eu-central-1.amazonaws.com"}, serveKeys{}, []string{"https://dynamodb.eu-central-1.amazonaws.com", "HASH_KEY is not set"}},
		{"emulator on another machine", map[string]string{"AWS_ENDPOINT_URL": "http://192.168.1.20:4566"}, serveKeys{}, []string{"http://192.168.1.20:4566"}},
		{"a name that only looks local", map[string]string{"AWS_ENDPOINT_URL": "http://localhost.example.com:4566"}, serveKeys{}, []string{"localhost.example.com"}},
		{"one service elsewhere", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_ENDPOINT_URL_SECRETS_MANAGER": "https://secretsmanager.eu-central-1.amazonaws.com"},
			serveKeys{}, []string{"https://secretsmanager.eu-central-1.amazonaws.com"}},
		{"endpoints ignored", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, serveKeys{}, []string{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"}},
		{"not an endpoint", map[string]string{"AWS_ENDPOINT_URL": "127.0.0.1:4566"}, serveKeys{}, []string{"127.0.0.1:4566"}},
		{"a secret that is none", with(keys, map[string]string{"WEBHOOK_SECRET": "not-a-secret"}), serveKeys{}, []string{"WEBHOOK_SECRET is not a signing secret"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := keysFor(func(name string) string { return c.env[name] })
			if c.refused == nil {
				if err != nil || got != c.want {
					t.Fatalf("keysFor = %+v, %v; want %+v", got, err, c.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("keysFor = %+v; want a refusal", got)
			}
			for _, want := range c.refused {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the refusal does not say %q: %v", want, err)
				}
			}
		})
	}
}

// TestServeRefusesDevKeysOffEmulator: serve pointed at an endpoint that
// is not a local emulator, with no keys of its own, refuses at once, in
// one line naming every missing key and how to set it, before any AWS
// call. The endpoint is a documentation address (TEST-NET-1), which
// nothing answers: a serve that tried it would fail some other way or
// hang until the deadline.
func TestServeRefusesDevKeysOffEmulator(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", "http://192.0.2.1:4566")
	t.Setenv("AWS_REGION", "eu-central-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "x")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "x")
	for _, name := range []string{"LOCAL_JWT_KEY", "WEBHOOK_SECRET", "HASH_KEY"} {
		t.Setenv(name, "")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var stdout, stderr strings.Builder
	start := time.Now()
	code := run(ctx, []string{"serve", "-addr", "127.0.0.1:0", "-sandbox-addr", "127.0.0.1:0"}, &stdout, &stderr)
	out := stderr.String()
	if code != 1 || time.Since(start) > 2*time.Second {
		t.Fatalf("serve = %d after %s; want a refusal at once (stderr %q)", code, time.Since(start), out)
	}
	if strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Errorf("the refusal is not one line: %q", out)
	}
	for _, want := range []string{"refusing", "http://192.0.2.1:4566", "LOCAL_JWT_KEY is not set", "WEBHOOK_SECRET is not set", "HASH_KEY is not set",
		"export LOCAL_JWT_KEY=", "WEBHOOK_SECRET=whsec_", "HASH_KEY="} {
		if !strings.Contains(out, want) {
			t.Errorf("the refusal does not say %q: %q", want, out)
		}
	}
	if stdout.Len() > 0 {
		t.Errorf("serve printed %q before refusing", stdout.String())
	}
}

// TestServeTakesKeys: serve runs with the keys given (here on the
// in-process emulator, where it could do without): editor tokens signed
// with the given JWT key pass and the dev key's do not, events signed
// with the given secret pass the signature check and the dev secret's do
// not, and the secret is not printed.
func TestServeTakesKeys(t *testing.T) {
	kumo := emulator.Kumo(t)
	var raw [24]byte
	_, _ = rand.Read(raw[:])
	jwtKey, secret := "jwt-"+base64.RawURLEncoding.EncodeToString(raw[:]), "whsec_"+base64.StdEncoding.EncodeToString(raw[:])
	for name, v := range map[string]string{"AWS_ENDPOINT_URL": *kumo.BaseEndpoint, "AWS_REGION": emulator.Region,
		"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "TABLE_NAME": emulator.Name("serve"), "QUEUE_NAME": emulator.Name("events"),
		"SECRET_PREFIX": emulator.Name("fp"), "LOCAL_JWT_KEY": jwtKey, "WEBHOOK_SECRET": secret, "HASH_KEY": "hash-" + jwtKey} {
		t.Setenv(name, v)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-addr", "127.0.0.1:0", "-sandbox-addr", "127.0.0.1:0"}, pw, io.Discard)
	}()
	var printed strings.Builder
	lines := bufio.NewScanner(pr)
	base := ""
	for base == "" && lines.Scan() {
		printed.WriteString(lines.Text() + "\n")
		if strings.Contains(lines.Text(), "API and ingest") {
			base = regexp.MustCompile(`http://127\.0\.0\.1:\d+`).FindString(lines.Text())
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if base == "" {
		t.Fatalf("serve did not start: %q", printed.String())
	}
	if strings.Contains(printed.String(), secret) {
		t.Error("serve printed the signing secret it was given")
	}
	editor := func(key string) int {
		token, _ := localstack.NewDevAuth([]byte(key)).Mint("ws_keys", "advanced", time.Hour)
		req, _ := http.NewRequest(http.MethodGet, base+"/v1/connections", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		return status(t, req)
	}
	if got := editor(jwtKey); got != http.StatusOK {
		t.Errorf("a token signed with the given key: %d, want 200", got)
	}
	if got := editor(localstack.DevJWTKey); got != http.StatusUnauthorized {
		t.Errorf("a token signed with the dev key: %d, want 401", got)
	}
	ingest := func(secret string) int {
		body := []byte(`{}`)
		h, _ := webhook.Sign(secret, "msg_keys", time.Now(), body)
		req, _ := http.NewRequest(http.MethodPost, base+"/v1/events", strings.NewReader(string(body)))
		req.Header = h
		return status(t, req)
	}
	if got := ingest(secret); got != http.StatusBadRequest { // signed, but no event
		t.Errorf("an event signed with the given secret: %d, want 400 (past the signature)", got)
	}
	if got := ingest(localstack.DevWebhookSecret); got != http.StatusUnauthorized {
		t.Errorf("an event signed with the dev secret: %d, want 401", got)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit code %d after Ctrl-C", code)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func status(t *testing.T, req *http.Request) int {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestServeUsesAnEmulatorAlreadyRunning: an emulator already answering on
// the emulator's address is used, and the banner says so: not started by
// this serve, and left running. The banner names no sandbox token that
// could go stale, and after Ctrl-C the last line says everything stopped.
func TestServeUsesAnEmulatorAlreadyRunning(t *testing.T) {
	kumo := emulator.Kumo(t)
	for _, name := range []string{"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "LOCAL_JWT_KEY", "WEBHOOK_SECRET", "HASH_KEY"} {
		t.Setenv(name, "")
		os.Unsetenv(name)
	}
	t.Setenv("LOCAL_EMULATOR_ADDR", strings.TrimPrefix(*kumo.BaseEndpoint, "http://"))
	t.Setenv("TABLE_NAME", emulator.Name("serve"))
	t.Setenv("QUEUE_NAME", emulator.Name("events"))
	t.Setenv("SECRET_PREFIX", emulator.Name("fp"))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-addr", "127.0.0.1:0", "-sandbox-addr", "127.0.0.1:0", "-data", t.TempDir()}, pw, io.Discard)
	}()
	var printed strings.Builder
	lines := bufio.NewScanner(pr)
	for lines.Scan() {
		printed.WriteString(lines.Text() + "\n")
		if strings.HasPrefix(lines.Text(), "Ctrl-C stops") {
			break
		}
	}
	rest := make(chan string)
	go func() { b, _ := io.ReadAll(pr); rest <- string(b) }()
	want := "AWS emulator (kumo) on " + *kumo.BaseEndpoint + ": one was already answering there, so this serve uses it and leaves it running"
	if !strings.Contains(printed.String(), want) || strings.Contains(printed.String(), ", started, pid") {
		t.Errorf("the banner does not say %q:\n%s", want, printed.String())
	}
	// The sandbox's token changes when regenerated: the banner says where
	// the current one is shown, not the token of the moment.
	if strings.Contains(printed.String(), "sandbox-token-42") || !strings.Contains(printed.String(), "/_sandbox/companies/42") {
		t.Errorf("the banner prints a token that may go stale, or not where the current one is:\n%s", printed.String())
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit code %d", code)
	}
	pw.Close()
	// After Ctrl-C the last line says that everything stopped.
	tail := strings.Split(strings.TrimSpace(<-rest), "\n")
	if last := tail[len(tail)-1]; !strings.HasPrefix(last, "stopped: ") {
		t.Errorf("the last line after Ctrl-C is %q, want one saying everything stopped; after the banner:\n%s", last, strings.Join(tail, "\n"))
	}
}

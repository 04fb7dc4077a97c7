package vault_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/funnel-personio/funnel-personio/dev/emulator"
	"github.com/funnel-personio/funnel-personio/pkg/awsclient"
	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/vault"
)

func TestVaultOnKumo(t *testing.T) {
	sm := awsclient.SecretsManager(emulator.Kumo(t))
	prefix := emulator.Name("fp-test")
	v := vault.New(sm, prefix)
	ctx := t.Context()

	name, err := v.Create(ctx, "ws_a", "con_1", "sandbox-token-42")
	if err != nil || name != prefix+"/ws_a/con_1" {
		t.Fatalf("create: %q, %v", name, err)
	}
	if _, err := v.Create(ctx, "ws_a", "con_1", "other"); !errors.Is(err, failure.ErrConflict) {
		t.Errorf("second create: %v, want conflict", err)
	}
	tok, err := v.Get(ctx, "ws_a", "con_1")
	if err != nil || tok != "sandbox-token-42" {
		t.Fatalf("get: %v", err)
	}
	desc, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
	if err != nil || len(desc.Tags) != 1 || aws.ToString(desc.Tags[0].Key) != vault.WorkspaceTag || aws.ToString(desc.Tags[0].Value) != "ws_a" {
		t.Errorf("tags: %+v, %v", desc, err)
	}
	if err := v.Put(ctx, "ws_a", "con_1", "sandbox-token-new"); err != nil {
		t.Fatal(err)
	}
	if tok, _ := v.Get(ctx, "ws_a", "con_1"); tok != "sandbox-token-new" {
		t.Error("put did not replace the token")
	}
	if _, err := v.Get(ctx, "ws_b", "con_1"); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("another workspace's secret: %v, want not found", err)
	}
	if err := v.Delete(ctx, "ws_a", "con_1"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Get(ctx, "ws_a", "con_1"); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("get after delete: %v, want not found", err)
	}
	// Deleted with no recovery window: the name is free again at once.
	if _, err := v.Create(ctx, "ws_a", "con_1", "again"); err != nil {
		t.Errorf("create after delete: %v", err)
	}
}

func TestNames(t *testing.T) {
	v := vault.New(nil, "funnel-personio/connections/")
	if n, err := v.Name("ws_a", "con_1"); err != nil || n != "funnel-personio/connections/ws_a/con_1" {
		t.Errorf("Name = %q, %v", n, err)
	}
	if _, err := vault.New(nil, "").Name("ws_a", "con_1"); !errors.Is(err, failure.ErrInvalid) {
		t.Errorf("a vault without a prefix names a secret: %v", err)
	}
	for _, bad := range [][2]string{{"ws/a", "c"}, {"ws", "../c"}, {"", "c"}, {"ws", strings.Repeat("c", 129)}} {
		if _, err := v.Name(bad[0], bad[1]); !errors.Is(err, failure.ErrInvalid) {
			t.Errorf("Name(%q, %q) = %v, want invalid", bad[0], bad[1], err)
		}
	}
}

func TestTokenNotInErrors(t *testing.T) {
	sm := awsclient.SecretsManager(emulator.Kumo(t))
	v := vault.New(sm, emulator.Name("fp-test"))
	secret := personio.Token("tok-never-shown-123")
	if _, err := v.Create(t.Context(), "ws_a", "con_x", secret); err != nil {
		t.Fatal(err)
	}
	_, err := v.Create(t.Context(), "ws_a", "con_x", secret)
	if err == nil || strings.Contains(err.Error(), string(secret)) {
		t.Errorf("error %v shows the token", err)
	}
}

// TestReadSecretBesideToken: the read secret lives in the connection's
// secret, survives a new token, and can be removed; a secret without one
// stays the bare token.
func TestReadSecretBesideToken(t *testing.T) {
	sm := awsclient.SecretsManager(emulator.Kumo(t))
	v := vault.New(sm, emulator.Name("fp-test"))
	ctx := t.Context()
	name, err := v.Create(ctx, "ws_a", "con_r", "tok-1")
	if err != nil {
		t.Fatal(err)
	}
	if s, err := v.ReadSecret(ctx, "ws_a", "con_r"); err != nil || s != "" {
		t.Fatalf("read secret of a new connection: %q, %v", s, err)
	}
	if err := v.PutReadSecret(ctx, "ws_a", "con_r", "client-secret-1"); err != nil {
		t.Fatal(err)
	}
	if err := v.Put(ctx, "ws_a", "con_r", "tok-2"); err != nil {
		t.Fatal(err)
	}
	tok, _ := v.Get(ctx, "ws_a", "con_r")
	rs, _ := v.ReadSecret(ctx, "ws_a", "con_r")
	if tok != "tok-2" || rs != "client-secret-1" {
		t.Fatalf("token %q, read secret %q; want tok-2 and client-secret-1", string(tok), string(rs))
	}
	if err := v.PutReadSecret(ctx, "ws_a", "con_r", ""); err != nil {
		t.Fatal(err)
	}
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
	if err != nil || aws.ToString(out.SecretString) != "tok-2" {
		t.Fatalf("after removal the secret holds %q (%v), want the bare token", aws.ToString(out.SecretString), err)
	}
}

// Package vault keeps Personio access tokens in AWS Secrets Manager, one
// secret per connection, named <prefix>/<workspace>/<connection> and tagged
// with the workspace; a connection's read-access client secret, when it has
// one, is kept in the same secret. Nothing else in the system stores a token
// or a client secret.
//
// It is for the editor, which writes and replaces a connection's secret,
// and the worker and the watch, which read it.
package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
)

// SecretsManager is the part of the Secrets Manager client the vault uses.
type SecretsManager interface {
	CreateSecret(context.Context, *secretsmanager.CreateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	PutSecretValue(context.Context, *secretsmanager.PutSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	DeleteSecret(context.Context, *secretsmanager.DeleteSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DeleteSecretOutput, error)
}

var _ SecretsManager = (*secretsmanager.Client)(nil)

// WorkspaceTag is the tag that names a secret's workspace.
const WorkspaceTag = "workspace"

var idRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// Vault reads and writes connection tokens.
type Vault struct {
	sm     SecretsManager
	prefix string
}

// New returns a Vault on the client with the name prefix
// (settings.Settings.SecretPrefix; it must not be empty).
func New(sm SecretsManager, prefix string) *Vault {
	return &Vault{sm: sm, prefix: strings.TrimRight(prefix, "/")}
}

// Name is the secret name of a connection.
func (v *Vault) Name(ws, connection string) (string, error) {
	if v.prefix == "" {
		return "", failure.New("vault: name", failure.Invalid, errors.New("the vault has no secret name prefix"))
	}
	if !idRE.MatchString(ws) || !idRE.MatchString(connection) {
		return "", failure.New("vault: name", failure.Invalid, errors.New("workspace and connection ids are 1 to 128 letters, digits, _ or -"))
	}
	return v.prefix + "/" + ws + "/" + connection, nil
}

// Create stores a new connection's token and returns the secret's name.
func (v *Vault) Create(ctx context.Context, ws, connection string, token personio.Token) (string, error) {
	const op = "vault: create secret"
	name, err := v.Name(ws, connection)
	if err != nil {
		return "", err
	}
	_, err = v.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String(name),
		SecretString: aws.String(string(token)),
		Description:  aws.String("Personio Recruiting API access token of one funnel-personio connection"),
		Tags:         []types.Tag{{Key: aws.String(WorkspaceTag), Value: aws.String(ws)}},
	})
	return name, failure.Classify(op, err)
}

// value is what one connection's secret holds. Without a read secret it
// is stored as the bare token; with one, as JSON.
type value struct {
	Token      personio.Token
	ReadSecret personio.Token
}

type valueJSON struct {
	AccessToken      string `json:"access_token"`
	ReadClientSecret string `json:"read_client_secret,omitempty"`
}

func (val value) encode() string {
	if val.ReadSecret == "" {
		return string(val.Token)
	}
	b, _ := json.Marshal(valueJSON{AccessToken: string(val.Token), ReadClientSecret: string(val.ReadSecret)})
	return string(b)
}

func decode(s string) value {
	var j valueJSON
	if strings.HasPrefix(s, "{") && json.Unmarshal([]byte(s), &j) == nil && j.AccessToken != "" {
		return value{Token: personio.Token(j.AccessToken), ReadSecret: personio.Token(j.ReadClientSecret)}
	}
	return value{Token: personio.Token(s)}
}

// get reads a connection's secret.
func (v *Vault) get(ctx context.Context, op, ws, connection string) (string, value, error) {
	name, err := v.Name(ws, connection)
	if err != nil {
		return "", value{}, err
	}
	out, err := v.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
	if err != nil {
		return "", value{}, failure.Classify(op, err)
	}
	if out.SecretString == nil {
		return "", value{}, failure.New(op, failure.Invalid, fmt.Errorf("secret %s has no string value", name))
	}
	return name, decode(*out.SecretString), nil
}

// Get reads a connection's token.
func (v *Vault) Get(ctx context.Context, ws, connection string) (personio.Token, error) {
	_, val, err := v.get(ctx, "vault: get secret", ws, connection)
	return val.Token, err
}

// Put replaces a connection's token, keeping its read secret.
func (v *Vault) Put(ctx context.Context, ws, connection string, token personio.Token) error {
	const op = "vault: put secret"
	name, val, err := v.get(ctx, op, ws, connection)
	if err != nil {
		return err
	}
	val.Token = token
	_, err = v.sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(val.encode())})
	return failure.Classify(op, err)
}

// ReadSecret reads a connection's read-access client secret; "" when it
// has none.
func (v *Vault) ReadSecret(ctx context.Context, ws, connection string) (personio.Token, error) {
	_, val, err := v.get(ctx, "vault: get read secret", ws, connection)
	return val.ReadSecret, err
}

// PutReadSecret sets a connection's read-access client secret beside its
// token; "" removes it.
func (v *Vault) PutReadSecret(ctx context.Context, ws, connection string, secret personio.Token) error {
	const op = "vault: put read secret"
	name, val, err := v.get(ctx, op, ws, connection)
	if err != nil {
		return err
	}
	val.ReadSecret = secret
	_, err = v.sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(val.encode())})
	return failure.Classify(op, err)
}

// Delete removes a connection's token at once, with no recovery window:
// the user asked for it to be gone.
func (v *Vault) Delete(ctx context.Context, ws, connection string) error {
	const op = "vault: delete secret"
	name, err := v.Name(ws, connection)
	if err != nil {
		return err
	}
	_, err = v.sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(name), ForceDeleteWithoutRecovery: aws.Bool(true)})
	return failure.Classify(op, err)
}

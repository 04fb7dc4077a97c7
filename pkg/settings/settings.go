// Package settings reads the functions' configuration from the
// environment, where the CDK stack (or the local runner) puts it.
package settings

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/funnel-personio/funnel-personio/pkg/personio"
)

// Settings are every function's configuration; each function reads what it
// needs.
type Settings struct {
	Table           string        // TABLE_NAME
	QueueURL        string        // QUEUE_URL
	SecretPrefix    string        // SECRET_PREFIX
	PersonioBaseURL string        // PERSONIO_BASE_URL (default https://api.personio.de)
	PersonioFeedURL string        // PERSONIO_FEED_URL (default https://{subdomain}.jobs.personio.de/xml)
	Plans           []string      // ALLOWED_PLANS, comma-separated
	HashKey         []byte        // HASH_KEY, or the secret named by HASH_KEY_SECRET_ID
	SigningSecrets  []string      // WEBHOOK_SECRETS (comma-separated), or the secret named by WEBHOOK_SECRET_ID
	Retention       time.Duration // RETENTION (default 720h)
	FileHosts       []string      // FILE_HOSTS: host suffixes files may be fetched from
	AllowInsecure   []string      // FILE_ALLOW_INSECURE: exact host:port allowed over plain HTTP or loopback (local runs)
}

// SecretReader reads a secret's value.
type SecretReader interface {
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// FromEnv reads the settings; required names every variable the caller
// cannot do without. Secrets named by *_SECRET_ID are read from sm.
func FromEnv(ctx context.Context, sm SecretReader, required ...string) (Settings, error) {
	s := Settings{
		Table: os.Getenv("TABLE_NAME"), QueueURL: os.Getenv("QUEUE_URL"), SecretPrefix: os.Getenv("SECRET_PREFIX"),
		PersonioBaseURL: os.Getenv("PERSONIO_BASE_URL"), PersonioFeedURL: os.Getenv("PERSONIO_FEED_URL"),
		Plans: list(os.Getenv("ALLOWED_PLANS")), FileHosts: list(os.Getenv("FILE_HOSTS")),
		AllowInsecure: list(os.Getenv("FILE_ALLOW_INSECURE")), Retention: 30 * 24 * time.Hour,
	}
	var missing []string
	for _, name := range required {
		if os.Getenv(name) == "" && (secretVars[name] == "" || os.Getenv(secretVars[name]) == "") {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return s, fmt.Errorf("settings: missing %s", strings.Join(missing, ", "))
	}
	if v := os.Getenv("RETENTION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return s, fmt.Errorf("settings: RETENTION %q: want a duration such as 720h", v)
		}
		s.Retention = d
	}
	hash, err := valueOrSecret(ctx, sm, "HASH_KEY")
	if err != nil {
		return s, err
	}
	s.HashKey = []byte(hash)
	signing, err := valueOrSecret(ctx, sm, "WEBHOOK_SECRETS")
	if err != nil {
		return s, err
	}
	s.SigningSecrets = list(signing)
	return s, nil
}

// secretVars names, for a setting that may live in Secrets Manager, the
// variable that holds the secret's id.
var secretVars = map[string]string{"HASH_KEY": "HASH_KEY_SECRET_ID", "WEBHOOK_SECRETS": "WEBHOOK_SECRET_ID"}

// valueOrSecret reads the variable, or the secret its secret-id variable
// names.
func valueOrSecret(ctx context.Context, sm SecretReader, name string) (string, error) {
	if v := os.Getenv(name); v != "" {
		return v, nil
	}
	idVar := secretVars[name]
	id := os.Getenv(idVar)
	if id == "" {
		return "", nil
	}
	if sm == nil {
		return "", errors.New("settings: " + idVar + " is set but there is no Secrets Manager client")
	}
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		return "", fmt.Errorf("settings: read %s: %w", idVar, err)
	}
	return aws.ToString(out.SecretString), nil
}

func list(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// PersonioClient builds the Personio client these settings describe.
func (s Settings) PersonioClient() (*personio.Client, error) {
	var opts []personio.Option
	if s.PersonioBaseURL != "" {
		opts = append(opts, personio.WithBaseURL(s.PersonioBaseURL))
	}
	if s.PersonioFeedURL != "" {
		opts = append(opts, personio.WithFeedURL(s.PersonioFeedURL))
	}
	return personio.NewClient(opts...)
}

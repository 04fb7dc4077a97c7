package settings_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/funnel-personio/funnel-personio/pkg/settings"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

func TestDefaultsHoldTogether(t *testing.T) {
	for name, s := range map[string]settings.Settings{"default": settings.Default(), "local": settings.Local()} {
		if err := s.Check(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	d := settings.Default()
	// The figures docs/settings.md and the stack promise.
	if d.VisibilityTimeout() != 180*time.Second || d.Lease() != 2*time.Minute || d.RateBudget().Window != 61*time.Second ||
		d.RateBudget().Limit != 20 || d.MaxReceiveCount != 8 || d.Retention != 720*time.Hour ||
		d.CheckBudget() != (store.Budget{Limit: 5, Window: time.Minute}) || d.TestBudget() != (store.Budget{Limit: 5, Window: time.Minute}) {
		t.Errorf("defaults: visibility %s, lease %s, budget %+v, receives %d, retention %s, checks %+v, tests %+v",
			d.VisibilityTimeout(), d.Lease(), d.RateBudget(), d.MaxReceiveCount, d.Retention, d.CheckBudget(), d.TestBudget())
	}
	l := settings.Local()
	if l.VisibilityTimeout() != 30*time.Second || l.Lease() != 20*time.Second {
		t.Errorf("local: visibility %s, lease %s", l.VisibilityTimeout(), l.Lease())
	}
	q := d.QueueDefinition("events")
	if q.VisibilityTimeout != d.VisibilityTimeout() || q.MaxReceiveCount != d.MaxReceiveCount || q.Name != "events" {
		t.Errorf("queue definition %+v", q)
	}
}

func TestCheck(t *testing.T) {
	cases := []struct {
		name   string
		change func(*settings.Settings)
		want   []string // every one in the error
	}{
		{"personio and files past the worker's timeout", func(s *settings.Settings) { s.PersonioTimeout, s.FileTimeout = 20*time.Second, 20*time.Second },
			[]string{"PERSONIO_TIMEOUT (20s) + FILE_TIMEOUT (20s) must fit in WORKER_TIMEOUT (30s)"}},
		{"personio past the API's timeout", func(s *settings.Settings) { s.PersonioTimeout, s.APITimeout = 15*time.Second, 15*time.Second },
			[]string{"PERSONIO_TIMEOUT (15s) must be shorter than API_TIMEOUT (15s)"}},
		{"everything at once", func(s *settings.Settings) {
			s.Budget.Limit, s.MaxReceiveCount, s.CacheTTL, s.Budget.Margin = 0, 0, 0, -time.Second
			s.CheckLimit.Limit, s.TestLimit.Window = 0, 0
		},
			[]string{"BUDGET_LIMIT must be at least 1", "MAX_RECEIVE_COUNT must be at least 1", "CACHE_TTL must be positive", "BUDGET_MARGIN must not be negative",
				"CHECK_LIMIT must be at least 1", "TEST_WINDOW must be positive"}},
		{"retry base over max", func(s *settings.Settings) { s.RetryBase = time.Hour }, []string{"RETRY_BASE must not exceed RETRY_MAX"}},
		{"a global limit whose slots cannot hold an application with its files", func(s *settings.Settings) { s.GlobalLimit = 200 },
			[]string{"GLOBAL_LIMIT must be 0 or at least 220 (11 × BUDGET_LIMIT)"}},
	}
	if err := settings.Default().Check(); err != nil {
		t.Fatalf("the defaults: %v", err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := settings.Default()
			c.change(&s)
			err := s.Check()
			for _, w := range c.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("Check() = %v, want it to say %q", err, w)
				}
			}
		})
	}
}

type secrets map[string]string

func (s secrets) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	v, ok := s[aws.ToString(in.SecretId)]
	if !ok {
		return nil, errors.New("no such secret")
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(v)}, nil
}

// clearEnv unsets every variable settings reads, for the test.
func clearEnv(t *testing.T) {
	for _, n := range append(settings.Names(), settings.VarHashKey, settings.VarHashKeySecret, settings.VarSigning, settings.VarSigningSecret) {
		t.Setenv(n, "")
	}
}

// TestEnvRoundTrip: what Env writes, FromEnv reads back as it was.
func TestEnvRoundTrip(t *testing.T) {
	clearEnv(t)
	s := settings.Default()
	s.Table, s.QueueURL, s.DLQURL = "t", "https://sqs/q", "https://sqs/q-dlq"
	s.FileHosts, s.AllowInsecure = []string{"files.example.com", "cdn.example.com"}, []string{"127.0.0.1:9"}
	s.PersonioBaseURL, s.Plans = "http://127.0.0.1:8090", []string{"enterprise"}
	s.Budget = settings.Budget{Limit: 10, Window: 6 * time.Second, Margin: 100 * time.Millisecond}
	s.MaxReceiveCount, s.WorkerTimeout, s.Retention = 5, 40*time.Second, 48*time.Hour
	s.CheckLimit, s.TestLimit = settings.WorkspaceLimit{Limit: 3, Window: 10 * time.Minute}, settings.WorkspaceLimit{Limit: 9, Window: time.Hour}
	for k, v := range s.Env() {
		t.Setenv(k, v)
	}
	t.Setenv(settings.VarHashKeySecret, "arn:hash")
	t.Setenv(settings.VarSigning, "whsec_a,whsec_b")
	got, err := settings.FromEnv(t.Context(), secrets{"arn:hash": "the-key"}, settings.VarTable, settings.VarHashKey, settings.VarSigning)
	if err != nil {
		t.Fatal(err)
	}
	s.HashKey, s.SigningSecrets = []byte("the-key"), []string{"whsec_a", "whsec_b"}
	if !reflect.DeepEqual(got, s) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, s)
	}
}

// TestFromEnvReportsEveryProblem: a bad deployment says everything wrong
// with it at once, not one thing per cold start.
func TestFromEnvReportsEveryProblem(t *testing.T) {
	clearEnv(t)
	t.Setenv(settings.VarBudgetLimit, "twenty")
	t.Setenv(settings.VarWorkerTimeout, "30")
	t.Setenv(settings.VarHashKeySecret, "arn:missing")
	_, err := settings.FromEnv(t.Context(), secrets{}, settings.VarTable, settings.VarQueueURL)
	for _, want := range []string{`BUDGET_LIMIT: "twenty" is not a whole number`, `WORKER_TIMEOUT: "30" is not a duration`,
		"missing TABLE_NAME", "missing QUEUE_URL", "read HASH_KEY_SECRET_ID"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("FromEnv = %v, want it to say %q", err, want)
		}
	}
}

// TestFromEnvDefaults: with nothing set but the names, the functions run
// on the deployment's defaults.
func TestFromEnvDefaults(t *testing.T) {
	clearEnv(t)
	t.Setenv(settings.VarTable, "t")
	got, err := settings.FromEnv(t.Context(), nil, settings.VarTable)
	if err != nil {
		t.Fatal(err)
	}
	want := settings.Default()
	want.Table = "t"
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

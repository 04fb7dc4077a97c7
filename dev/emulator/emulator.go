// Package emulator gives tests AWS-compatible services on this machine:
// kumo in-process (DynamoDB, SQS, Secrets Manager on one endpoint) and AWS's
// own DynamoDB Local, which `make test` starts and names in
// DYNAMODB_LOCAL_ENDPOINT.
package emulator

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Region of every emulated client.
const Region = "eu-central-1"

var (
	kumoOnce sync.Once
	kumoURL  string
)

// Kumo returns an AWS config whose endpoint is an in-process kumo server,
// shared by every test of the process (kumo's services keep one global
// state per process, so tests use unique names: see Name).
//
// Requests reach kumo (NewKumo) through a handler that lets one Secrets Manager
// GetSecretValue through at a time: kumo (v0.33.1) notes a secret's
// last access while holding only its read lock, a data race the race
// detector reports when workers read a token at once. DynamoDB requests
// go through Placeholders.
func Kumo(t testing.TB) aws.Config {
	t.Helper()
	kumoOnce.Do(func() {
		_, h := NewKumo()
		fixed := Placeholders(h)
		var secrets sync.Mutex
		kumoURL = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("X-Amz-Target") == "secretsmanager.GetSecretValue" {
				secrets.Lock()
				defer secrets.Unlock()
			}
			fixed.ServeHTTP(w, r)
		})).URL
	})
	return Config(kumoURL)
}

// DynamoDBLocal returns an AWS config for the DynamoDB Local that `make
// test` started. Without DYNAMODB_LOCAL_ENDPOINT the test is skipped, or,
// under CI, fails: CI must run the stricter emulator too.
func DynamoDBLocal(t testing.TB) aws.Config {
	t.Helper()
	ep := os.Getenv("DYNAMODB_LOCAL_ENDPOINT")
	if ep == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("DYNAMODB_LOCAL_ENDPOINT is not set: run the tests with `make test`, which starts DynamoDB Local")
		}
		t.Skip("DynamoDB Local not running: `make test` starts it and sets DYNAMODB_LOCAL_ENDPOINT")
	}
	return Config(ep)
}

// Config is an AWS config for an emulator at endpoint, with fixed
// credentials.
func Config(endpoint string) aws.Config {
	return aws.Config{
		Region:       Region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:   localHTTP,
	}
}

// localHTTP is every emulator client's HTTP client, keeping 256 idle
// connections a host where the SDK's default keeps 10. A process here
// (the local stack, a load run) runs what on AWS are many function
// instances, each with a few requests at once: a load run's worker has
// 20 pollers' batches of 10 in hand. With the default, the connections a
// burst opened beyond 10 are closed after it and opened again for the
// next, a dial and an accept for each request.
var localHTTP = awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 512, 256
})

// Name returns prefix-<random>, a name no other test uses.
func Name(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

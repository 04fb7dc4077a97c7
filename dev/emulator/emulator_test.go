package emulator_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/funnel-personio/funnel-personio/dev/emulator"
)

// TestDynamoDBLocalLeavesNoMetadata: DynamoDB Local, as `make test` starts
// it (scripts/dynamodb-local.sh), runs with its telemetry off and writes
// nothing into the repository. With telemetry on it writes
// dynamodb-local-metadata.json (an installation id) into its working
// directory, which once was the repository's root and was committed.
func TestDynamoDBLocalLeavesNoMetadata(t *testing.T) {
	const metadata = "dynamodb-local-metadata.json"
	root := filepath.Join("..", "..")
	script, err := os.ReadFile(filepath.Join(root, "scripts", "dynamodb-local.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(script), "-disableTelemetry") {
		t.Error("scripts/dynamodb-local.sh starts DynamoDB Local without -disableTelemetry")
	}
	ignore, err := os.ReadFile(filepath.Join(root, ".gitignore"))
	if err != nil || !strings.Contains(string(ignore), metadata) {
		t.Errorf(".gitignore does not ignore %s (%v)", metadata, err)
	}
	cfg := emulator.DynamoDBLocal(t) // skipped without make test's DynamoDB Local
	if _, err := dynamodb.NewFromConfig(cfg).ListTables(t.Context(), &dynamodb.ListTablesInput{}); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{root, filepath.Join(root, ".tools", "ddb")} {
		if b, err := os.ReadFile(filepath.Join(dir, metadata)); err == nil {
			t.Errorf("DynamoDB Local wrote %s: %s", filepath.Join(dir, metadata), b)
		}
	}
}

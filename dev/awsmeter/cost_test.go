package awsmeter_test

import (
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/funnel-personio/funnel-personio/dev/awsmeter"
	"github.com/funnel-personio/funnel-personio/pkg/settings"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// usage is a run of 100 applications as the meter counts one.
var usage = awsmeter.Usage{
	Requests: []awsmeter.Request{
		{Service: "DynamoDB", Operation: "GetItem", Calls: 200, Attempts: 200, ReadUnits: 200}, // the run's own reads
		{Caller: "ingest", Service: "DynamoDB", Operation: "GetItem", Calls: 200, Attempts: 200, ReadUnits: 200},
		{Caller: "ingest", Service: "DynamoDB", Operation: "PutItem", Calls: 100, Attempts: 100, WriteUnits: 300, IndexWriteUnits: 200, Reported: 100},
		{Caller: "ingest", Service: "SQS", Operation: "SendMessage", Calls: 100, Attempts: 100, Chunks: 100},
		{Caller: "worker", Service: "DynamoDB", Operation: "UpdateItem", Calls: 200, Attempts: 202, WriteUnits: 800, IndexWriteUnits: 600},
		{Caller: "worker", Service: "Secrets Manager", Operation: "GetSecretValue", Calls: 10, Attempts: 10},
		{Caller: "worker-source", Service: "SQS", Operation: "ReceiveMessage", Calls: 40, Attempts: 40, Chunks: 40, Empty: 26},
		{Caller: "worker-source", Service: "SQS", Operation: "DeleteMessage", Calls: 100, Attempts: 100, Chunks: 100},
		{Caller: "watch", Service: "DynamoDB", Operation: "Query", Calls: 6, Attempts: 6, ReadUnits: 3},
	},
	Functions: []awsmeter.Function{
		{Name: "ingest", Trigger: awsmeter.TriggerAPIGateway, Invocations: 100, BilledMs: 5000},
		{Name: "watch", Trigger: awsmeter.TriggerSchedule, Invocations: 6, BilledMs: 60},
		{Name: "worker", Trigger: awsmeter.TriggerSQS, Invocations: 14, BilledMs: 5000},
	},
	LogBytes: 73000, LogLines: 400,
}

// compute prices usage for 100 applications at the kept prices and the
// deployment's memory.
func compute(t *testing.T) (awsmeter.Cost, awsmeter.Prices) {
	t.Helper()
	p, err := awsmeter.DefaultPrices()
	if err != nil {
		t.Fatal(err)
	}
	c, err := awsmeter.Compute(usage, 100, settings.Default().Memory, p)
	if err != nil {
		t.Fatal(err)
	}
	return c, p
}

// TestCostGolden pins the breakdown of a known usage at the kept prices
// (go test ./dev/awsmeter -run TestCostGolden -update rewrites it).
func TestCostGolden(t *testing.T) {
	c, _ := compute(t)
	got, _ := json.MarshalIndent(c, "", "  ")
	got = append(got, '\n')
	golden := filepath.Join("testdata", "cost.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("cost breakdown differs from %s (run with -update if meant):\n%s", golden, got)
	}
}

// TestCost checks the arithmetic of each part by hand.
func TestCost(t *testing.T) {
	c, p := compute(t)
	line := func(ls []awsmeter.Line, name string) awsmeter.Line {
		for _, l := range ls {
			if l.Name == name {
				return l
			}
		}
		t.Fatalf("no line %q in %+v", name, ls)
		return awsmeter.Line{}
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	pp := p.Per
	for _, tc := range []struct {
		name               string
		got                awsmeter.Line
		requests, usdPerMn float64
	}{
		// 1e6/100 applications: each figure below × 10,000.
		{"API Gateway: one request per ingest post", line(c.Operations, "API Gateway ingest"), 1, 1e4 * 100 * pp.APIGateway.USD / pp.APIGateway.Per},
		{"Lambda: requests and GB-seconds at the worker's 512 MB", line(c.Operations, "Lambda worker"), 0.14,
			1e4 * (14*pp.LambdaRequests.USD/pp.LambdaRequests.Per + 0.5*5*pp.LambdaGBSecond.USD)},
		{"DynamoDB: write units, retries billed as requests", line(c.Operations, "DynamoDB UpdateItem"), 2.02, 1e4 * 800 * pp.DynamoDBWrite.USD / pp.DynamoDBWrite.Per},
		{"DynamoDB: read units of the stack only", line(c.Operations, "DynamoDB GetItem"), 2, 1e4 * 200 * pp.DynamoDBRead.USD / pp.DynamoDBRead.Per},
		{"SQS: the receives that found messages", line(c.Operations, "SQS ReceiveMessage"), 0.14, 1e4 * 14 * pp.SQS.USD / pp.SQS.Per},
		{"Secrets Manager: calls", line(c.Operations, "Secrets Manager GetSecretValue"), 0.1, 1e4 * 10 * pp.SecretsManager.USD / pp.SecretsManager.Per},
		{"CloudWatch Logs: bytes ingested", line(c.Operations, "CloudWatch Logs ingestion"), 0, 1e4 * 73000 / (1 << 30) * pp.LogsIngestion.USD},
		{"empty receives: by the clock", line(c.TimeDriven, "SQS ReceiveMessage (empty)"), 0.26, 1e4 * 26 * pp.SQS.USD / pp.SQS.Per},
		{"the scheduled watch: by the clock", line(c.TimeDriven, "DynamoDB Query"), 0.06, 1e4 * 3 * pp.DynamoDBRead.USD / pp.DynamoDBRead.Per},
	} {
		if !near(tc.got.Requests, tc.requests) || !near(tc.got.USDPerMillion, tc.usdPerMn) {
			t.Errorf("%s: %+v, want %v requests per application, $%v per million", tc.name, tc.got, tc.requests, tc.usdPerMn)
		}
	}
	sum := 0.0
	for _, s := range c.Services {
		sum += s.USDPerMillion
	}
	if !near(sum, c.USDPerMillion) || c.Outside != 200 || c.Services[0].Name != awsmeter.ServiceDynamoDB {
		t.Errorf("services add to %v of %v; outside %d; first %s", sum, c.USDPerMillion, c.Outside, c.Services[0].Name)
	}
	if want := 300.0 / 1303; !near(c.ReportedUnits, want) {
		t.Errorf("reported share %v, want %v (the ingest's puts of 1,303 units)", c.ReportedUnits, want)
	}
	if s := c.Summary(3); !strings.HasPrefix(s, "$") || !strings.Contains(s, "DynamoDB UpdateItem 2.02") {
		t.Errorf("summary %q", s)
	}
}

func TestCostRefuses(t *testing.T) {
	p, err := awsmeter.DefaultPrices()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		delivered int
		memory    map[string]int
		want      string
	}{
		{"nothing delivered", 0, settings.Default().Memory, "nothing delivered"},
		{"a function without memory", 100, map[string]int{"ingest": 256, "worker": 512}, `no memory for function "watch"`},
	} {
		if _, err := awsmeter.Compute(usage, tc.delivered, tc.memory, p); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestParsePrices(t *testing.T) {
	kept, err := os.ReadFile("prices.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, edit, want string
	}{
		{"the kept table", "", ""},
		{"a price without its source", `"source": "https://aws.amazon.com/kms/pricing/"},`, "kms_requests"},
		{"a misspelt price", `"kms_requests"`, "unknown field"},
	} {
		b := string(kept)
		switch tc.name {
		case "a price without its source":
			b = strings.Replace(b, tc.edit, `"source": ""},`, 1)
		case "a misspelt price":
			b = strings.Replace(b, tc.edit, `"kms_request"`, 1)
		}
		_, err := awsmeter.ParsePrices([]byte(b))
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

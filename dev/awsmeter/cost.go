package awsmeter

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

//go:embed prices.json
var pricesJSON []byte

// Price is USD per Per of Unit, and the page it is from.
type Price struct {
	USD    float64 `json:"usd"`
	Per    float64 `json:"per"`
	Unit   string  `json:"unit"`
	Source string  `json:"source"`
}

func (p Price) of(quantity float64) float64 { return p.USD * quantity / p.Per }

// Prices is a region's price table (prices.json): the prices a delivered
// application's requests are billed at, and the monthly ones no
// application changes.
type Prices struct {
	Region     string           `json:"region"`
	RegionName string           `json:"region_name"`
	Date       string           `json:"date"`
	How        string           `json:"how"`
	Per        PerUse           `json:"prices"`
	Monthly    map[string]Price `json:"monthly"`
}

// PerUse are the prices of what the stack does per request.
type PerUse struct {
	APIGateway     Price `json:"api_gateway_http_requests"`
	LambdaRequests Price `json:"lambda_arm64_requests"`
	LambdaGBSecond Price `json:"lambda_arm64_gb_seconds"`
	SQS            Price `json:"sqs_requests"`
	DynamoDBWrite  Price `json:"dynamodb_write_units"`
	DynamoDBRead   Price `json:"dynamodb_read_units"`
	SecretsManager Price `json:"secretsmanager_calls"`
	KMS            Price `json:"kms_requests"`
	LogsIngestion  Price `json:"logs_ingestion_gb"`
}

// DefaultPrices is the price table kept in the repository (prices.json).
func DefaultPrices() (Prices, error) { return ParsePrices(pricesJSON) }

// ParsePrices reads a price table; every price must be there, with its
// source.
func ParsePrices(b []byte) (Prices, error) {
	var p Prices
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&p); err != nil {
		return Prices{}, fmt.Errorf("awsmeter: read prices: %w", err)
	}
	var missing []string
	if p.Region == "" || p.Date == "" {
		missing = append(missing, "region and date")
	}
	for name, pr := range p.all() {
		if pr.USD <= 0 || pr.Per <= 0 || pr.Unit == "" || !strings.HasPrefix(pr.Source, "https://") {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return Prices{}, fmt.Errorf("awsmeter: read prices: incomplete: %s", strings.Join(missing, ", "))
	}
	return p, nil
}

func (p Prices) all() map[string]Price {
	out := map[string]Price{"api_gateway_http_requests": p.Per.APIGateway, "lambda_arm64_requests": p.Per.LambdaRequests,
		"lambda_arm64_gb_seconds": p.Per.LambdaGBSecond, "sqs_requests": p.Per.SQS, "dynamodb_write_units": p.Per.DynamoDBWrite,
		"dynamodb_read_units": p.Per.DynamoDBRead, "secretsmanager_calls": p.Per.SecretsManager, "kms_requests": p.Per.KMS,
		"logs_ingestion_gb": p.Per.LogsIngestion}
	for k, v := range p.Monthly {
		out["monthly "+k] = v
	}
	return out
}

// The services of a cost breakdown.
const (
	ServiceAPIGateway = "API Gateway"
	ServiceLambda     = "Lambda"
	ServiceSQS        = "SQS"
	ServiceDynamoDB   = "DynamoDB"
	ServiceSecrets    = "Secrets Manager"
	ServiceKMS        = "KMS"
	ServiceLogs       = "CloudWatch Logs"
)

// Cost is what a run's usage costs per million delivered applications.
type Cost struct {
	Region     string `json:"region"`
	PricesDate string `json:"prices_date"`
	Delivered  int    `json:"delivered"`
	// USDPerMillion is the cost of a million delivered applications: what
	// the applications made the stack do (the Services add up to it).
	USDPerMillion float64 `json:"usd_per_million"`
	// Requests is the billed requests per application, of every service
	// (API Gateway's, Lambda's invocations, the SDK's).
	Requests float64 `json:"requests_per_application"`
	// Services are by service, Operations by service and operation (and
	// by function for Lambda), most expensive first.
	Services   []Line `json:"services"`
	Operations []Line `json:"operations"`
	// TimeDriven is what the run did by the clock rather than per
	// application, left out of the figures above: receives that found
	// no message (an event source polls whether or not anything comes)
	// and the scheduled watch.
	TimeDriven []Line `json:"time_driven,omitempty"`
	// Outside counts requests made outside the stack (the run's own
	// reads), left out.
	Outside int64 `json:"outside_requests"`
	// ReportedUnits is the share of DynamoDB's units that DynamoDB
	// reported (the rest computed from item sizes).
	ReportedUnits float64 `json:"dynamodb_units_reported_share"`
}

// Line is one part of a cost: requests (or invocations) per application,
// DynamoDB's units per application, and USD per million applications.
type Line struct {
	Name          string  `json:"name"`
	Requests      float64 `json:"requests_per_application"`
	ReadUnits     float64 `json:"read_units_per_application,omitempty"`
	WriteUnits    float64 `json:"write_units_per_application,omitempty"`
	GBSeconds     float64 `json:"gb_seconds_per_application,omitempty"`
	Bytes         float64 `json:"bytes_per_application,omitempty"`
	USDPerMillion float64 `json:"usd_per_million"`
}

// Triggers of the functions.
const (
	TriggerAPIGateway = "api-gateway"
	TriggerSQS        = "sqs"
	TriggerSchedule   = "schedule"
)

// Compute prices u for delivered applications. memoryMB is each function's
// memory (settings.Settings.Memory); a function without one is an error.
func Compute(u Usage, delivered int, memoryMB map[string]int, p Prices) (Cost, error) {
	if delivered <= 0 {
		return Cost{}, fmt.Errorf("awsmeter: cost: nothing delivered")
	}
	c := Cost{Region: p.Region, PricesDate: p.Date, Delivered: delivered}
	perApp := 1 / float64(delivered)
	ops, timed := map[string]*Line{}, map[string]*Line{}
	add := func(into map[string]*Line, name string, requests, read, write, gbs, bytes, usd float64) {
		l := into[name]
		if l == nil {
			l = &Line{Name: name}
			into[name] = l
		}
		l.Requests += requests * perApp
		l.ReadUnits += read * perApp
		l.WriteUnits += write * perApp
		l.GBSeconds += gbs * perApp
		l.Bytes += bytes * perApp
		l.USDPerMillion += usd * perApp * 1e6
	}
	scheduled := map[string]bool{}
	for _, f := range u.Functions {
		mem, ok := memoryMB[f.Name]
		if !ok || mem <= 0 {
			return Cost{}, fmt.Errorf("awsmeter: cost: no memory for function %q", f.Name)
		}
		into := ops
		if f.Trigger == TriggerSchedule {
			into, scheduled[f.Name] = timed, true
		}
		gbs := float64(mem) / 1024 * float64(f.BilledMs) / 1000
		add(into, ServiceLambda+" "+f.Name, float64(f.Invocations), 0, 0, gbs, 0,
			p.Per.LambdaRequests.of(float64(f.Invocations))+p.Per.LambdaGBSecond.of(gbs))
		if f.Trigger == TriggerAPIGateway {
			add(into, ServiceAPIGateway+" "+f.Name, float64(f.Invocations), 0, 0, 0, 0, p.Per.APIGateway.of(float64(f.Invocations)))
		}
	}
	var reported, units float64
	for _, r := range u.Requests {
		if r.Caller == "" {
			c.Outside += r.Attempts
			continue
		}
		into, name := ops, r.Service+" "+r.Operation
		if scheduled[r.Caller] {
			into = timed
		}
		billed := float64(r.Billed())
		if r.Empty > 0 {
			// Each empty receive is one request of one chunk.
			add(timed, name+" (empty)", float64(r.Empty), 0, 0, 0, 0, p.Per.SQS.of(float64(r.Empty)))
			billed -= float64(r.Empty)
		}
		var usd float64
		switch r.Service {
		case ServiceDynamoDB:
			usd = p.Per.DynamoDBRead.of(r.ReadUnits) + p.Per.DynamoDBWrite.of(r.WriteUnits)
			units += r.ReadUnits + r.WriteUnits
			if r.Calls > 0 {
				reported += (r.ReadUnits + r.WriteUnits) * float64(r.Reported) / float64(r.Calls)
			}
		case ServiceSQS:
			usd = p.Per.SQS.of(billed)
		case ServiceSecrets:
			usd = p.Per.SecretsManager.of(billed)
		case ServiceKMS:
			usd = p.Per.KMS.of(billed)
		}
		if billed > 0 {
			add(into, name, billed, r.ReadUnits, r.WriteUnits, 0, 0, usd)
		}
	}
	if units > 0 {
		c.ReportedUnits = reported / units
	}
	gb := float64(u.LogBytes) / (1 << 30)
	add(ops, ServiceLogs+" ingestion", 0, 0, 0, 0, float64(u.LogBytes), p.Per.LogsIngestion.of(gb))

	services := map[string]*Line{}
	for _, s := range []string{ServiceAPIGateway, ServiceLambda, ServiceSQS, ServiceDynamoDB, ServiceSecrets, ServiceKMS, ServiceLogs} {
		services[s] = &Line{Name: s}
	}
	// Added in the order of their names: the sums come out the same
	// every time.
	for _, name := range slices.Sorted(maps.Keys(ops)) {
		l := ops[name]
		s := services[serviceOf(l.Name)]
		if s == nil {
			s = &Line{Name: serviceOf(l.Name)}
			services[s.Name] = s
		}
		s.Requests += l.Requests
		s.ReadUnits += l.ReadUnits
		s.WriteUnits += l.WriteUnits
		s.GBSeconds += l.GBSeconds
		s.Bytes += l.Bytes
		s.USDPerMillion += l.USDPerMillion
		c.USDPerMillion += l.USDPerMillion
		c.Requests += l.Requests
		c.Operations = append(c.Operations, *l)
	}
	for _, l := range services {
		c.Services = append(c.Services, *l)
	}
	for _, name := range slices.Sorted(maps.Keys(timed)) {
		c.TimeDriven = append(c.TimeDriven, *timed[name])
	}
	for _, ls := range [][]Line{c.Services, c.Operations, c.TimeDriven} {
		slices.SortFunc(ls, func(a, b Line) int {
			if a.USDPerMillion != b.USDPerMillion {
				if a.USDPerMillion > b.USDPerMillion {
					return -1
				}
				return 1
			}
			return strings.Compare(a.Name, b.Name)
		})
	}
	return c, nil
}

// serviceOf is the service of a line's name.
func serviceOf(line string) string {
	for _, s := range []string{ServiceAPIGateway, ServiceSecrets, ServiceLogs} {
		if strings.HasPrefix(line, s) {
			return s
		}
	}
	return strings.SplitN(line, " ", 2)[0]
}

// Summary is the cost in one line: the dollars per million and per
// service, and the requests per application of the top operations.
func (c Cost) Summary(top int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "$%.2f per million applications (%s, prices of %s):", c.USDPerMillion, c.Region, c.PricesDate)
	for _, s := range c.Services {
		if s.USDPerMillion > 0 {
			fmt.Fprintf(&b, " %s $%.2f", s.Name, s.USDPerMillion)
		}
	}
	fmt.Fprintf(&b, "; %.1f requests per application:", c.Requests)
	ops := slices.Clone(c.Operations)
	slices.SortStableFunc(ops, func(a, b Line) int {
		switch {
		case a.Requests > b.Requests:
			return -1
		case a.Requests < b.Requests:
			return 1
		}
		return 0
	})
	for i, o := range ops {
		if i == top || o.Requests == 0 {
			break
		}
		fmt.Fprintf(&b, " %s %.2f", o.Name, o.Requests)
	}
	return b.String()
}

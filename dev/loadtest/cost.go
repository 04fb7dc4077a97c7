package loadtest

import (
	"github.com/funnel-personio/funnel-personio/dev/awsmeter"
	"github.com/funnel-personio/funnel-personio/pkg/settings"
)

// AWSUse is what the stack asked of AWS in a run (every request by
// function, service and operation, each function's invocations and
// duration, its log bytes) and what that costs per million delivered
// applications at the deployment's memory sizes and the price table.
type AWSUse struct {
	Usage awsmeter.Usage `json:"usage"`
	Cost  awsmeter.Cost  `json:"cost"`
	// Error says why there is no cost (nothing delivered, say).
	Error string `json:"error,omitempty"`
}

// awsUse prices what the meter counted since the setup.
func (r *run) awsUse(delivered int) *AWSUse {
	u := &AWSUse{Usage: r.meter.Usage()}
	prices, err := awsmeter.DefaultPrices()
	if err == nil {
		u.Cost, err = awsmeter.Compute(u.Usage, delivered, settings.Default().Memory, prices)
	}
	if err != nil {
		u.Error = err.Error()
	}
	return u
}

package sim

import (
	_ "embed"
	"path"
	"strings"

	"github.com/funnel-personio/funnel-personio/dev/awscalls"
)

// policiesFile is every role's grants and the operator policy's, as the
// stack's template gives them ("Role: resource action"), kept equal to
// the template by infra's TestPoliciesForTheSimulator.
//
//go:embed testdata/policies.golden
var policiesFile string

// policies are the grants by role ("Worker", "Operator", ...): resource
// patterns and actions.
type policies map[string][][2]string

func parsePolicies(text string) policies {
	out := policies{}
	for line := range strings.Lines(text) {
		role, grant, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if !ok {
			continue
		}
		resource, action, _ := strings.Cut(grant, " ")
		out[role] = append(out[role], [2]string{resource, action})
	}
	return out
}

// grants reports whether role may call action on resource (a resource
// pattern such as Table/index/* matches the index called).
func (p policies) grants(role, need string) bool {
	resource, action, _ := strings.Cut(need, " ")
	for _, g := range p[role] {
		if m, _ := path.Match(g[0], resource); m && g[1] == action {
			return true
		}
	}
	return false
}

// callLabels name the simulated resources as the template does.
var callLabels = awscalls.New(map[string]string{table: "Table"})

// called holds one DynamoDB call of a role's to the role's policy: a
// call outside it is a violation ("no call outside the caller's
// policy"), each named once.
func (w *world) called(role, op string, params any) {
	for _, need := range callLabels.Needs("DynamoDB", op, params) {
		if w.policies.grants(role, need) || w.denied[role+" "+need] {
			continue
		}
		w.denied[role+" "+need] = true
		w.deniedList = append(w.deniedList, "no call outside the caller's policy: "+role+" calls "+need+", which its policy does not grant")
	}
}

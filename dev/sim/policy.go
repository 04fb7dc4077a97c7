package sim

import (
	"context"
	_ "embed"
	"strings"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/outbound"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/settings"

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
// pattern such as Table/index/* matches the index called; as in IAM, a *
// matches any characters, slashes too).
func (p policies) grants(role, need string) bool {
	resource, action, _ := strings.Cut(need, " ")
	for _, g := range p[role] {
		if g[1] == action && wildcard(g[0], resource) {
			return true
		}
	}
	return false
}

// wildcard matches s to an IAM resource pattern: * any characters, ?
// one.
func wildcard(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	switch pattern[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if wildcard(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && wildcard(pattern[1:], s[1:])
	}
	return s != "" && s[0] == pattern[0] && wildcard(pattern[1:], s[1:])
}

// callLabels name the simulated resources as the template does.
var callLabels = awscalls.New(map[string]string{table: "Table"})

// called holds one DynamoDB call of a role's to the role's policy: a
// call outside it is a violation ("no call outside the caller's
// policy"), each named once.
func (w *world) called(role, op string, params any) {
	w.need(role, callLabels.Needs("DynamoDB", op, params)...)
}

// need holds what a role's call needs ("resource action") to the role's
// policy: one it does not grant is a violation, each named once.
func (w *world) need(role string, needs ...string) {
	for _, need := range needs {
		if w.policies.grants(role, need) || w.denied[role+" "+need] {
			continue
		}
		w.denied[role+" "+need] = true
		w.deniedList = append(w.deniedList, "no call outside the caller's policy: "+role+" calls "+need+", which its policy does not grant")
	}
}

// The simulated queues and secrets, named as the template's resources
// are: a connection's secret by its ARN's resource part (Secrets Manager
// appends six characters to the name).
const (
	eventsQueue = "Events"
	deadLetters = "DeadLetters"
	notifyLabel = "Notify"
)

func secretOf(ws, conn string) string {
	return "secret:" + settings.Default().SecretPrefix + "/" + ws + "/" + conn + "-AbCdEf"
}

// roleQueue is the events queue as one role calls it: each call held to
// the role's policy.
type roleQueue struct {
	*sqs
	w    *world
	role string
}

func (r roleQueue) Send(ctx context.Context, m queue.Message) error {
	r.w.need(r.role, eventsQueue+" sqs:SendMessage")
	return r.sqs.Send(ctx, m)
}

func (r roleQueue) Defer(ctx context.Context, receipt string, d time.Duration) error {
	r.w.need(r.role, eventsQueue+" sqs:ChangeMessageVisibility")
	return r.sqs.Defer(ctx, receipt, d)
}

// roleVault is Secrets Manager as one role calls it, with the actions
// pkg/vault's calls need: a put reads the secret first, a create tags it.
type roleVault struct {
	*vault
	w    *world
	role string
}

func (r roleVault) secret(ws, conn string, actions ...string) {
	for _, a := range actions {
		r.w.need(r.role, secretOf(ws, conn)+" secretsmanager:"+a)
	}
}

func (r roleVault) Create(ctx context.Context, ws, conn string, t personio.Token) (string, error) {
	r.secret(ws, conn, "CreateSecret", "TagResource")
	return r.vault.Create(ctx, ws, conn, t)
}

func (r roleVault) Get(ctx context.Context, ws, conn string) (personio.Token, error) {
	r.secret(ws, conn, "GetSecretValue")
	return r.vault.Get(ctx, ws, conn)
}

func (r roleVault) Put(ctx context.Context, ws, conn string, t personio.Token) error {
	r.secret(ws, conn, "GetSecretValue", "PutSecretValue")
	return r.vault.Put(ctx, ws, conn, t)
}

func (r roleVault) Delete(ctx context.Context, ws, conn string) error {
	r.secret(ws, conn, "DeleteSecret")
	return r.vault.Delete(ctx, ws, conn)
}

func (r roleVault) ReadSecret(ctx context.Context, ws, conn string) (personio.Token, error) {
	r.secret(ws, conn, "GetSecretValue")
	return r.vault.ReadSecret(ctx, ws, conn)
}

func (r roleVault) PutReadSecret(ctx context.Context, ws, conn string, secret personio.Token) error {
	r.secret(ws, conn, "GetSecretValue", "PutSecretValue")
	return r.vault.PutReadSecret(ctx, ws, conn, secret)
}

// publisher is the outbound events' publisher as one role has it: its
// sends to the outbound queue held to the role's policy.
func (w *world) publisher(role string) *outbound.Publisher {
	return outbound.NewPublisher(roleNotify{q: w.notify, w: w, role: role})
}

type roleNotify struct {
	q    outbound.Queue
	w    *world
	role string
}

func (r roleNotify) Send(ctx context.Context, m queue.Message) error {
	r.w.need(r.role, notifyLabel+" sqs:SendMessage")
	return r.q.Send(ctx, m)
}

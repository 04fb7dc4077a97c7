package localstack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/funnel-personio/funnel-personio/pkg/apigw"
)

// sandboxHints wraps the editor API where Personio is the local sandbox:
// when the sandbox refuses a Company ID and token the user typed
// (invalid-credentials), the answer says so and where the sandbox shows
// the company's current token, instead of sending the user to Personio's
// settings. The sandbox itself keeps to the spec (a 401 with no body); the
// editor's sentence is Personio's, for production.
func (s *Stack) sandboxHints(next APIHandler) APIHandler {
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		resp, err := next(ctx, ev)
		if err != nil || resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(resp.Body, `"`+apigw.ProblemBase+`invalid-credentials"`) {
			return resp, err
		}
		var body struct {
			CompanyID string `json:"company_id"`
		}
		_ = json.Unmarshal([]byte(ev.Body), &body)
		var p apigw.Problem
		if json.Unmarshal([]byte(resp.Body), &p) != nil {
			return resp, nil
		}
		hint, rotated := s.tokenHint(body.CompanyID)
		if hint == "" {
			return resp, nil
		}
		p.Detail = hint + " Nothing was saved."
		if rotated {
			// Personio's settings, where the page would send the person,
			// do not have the sandbox's new token: the page shows this.
			p.Hint = p.Detail
		}
		for k, v := range resp.Headers {
			if !strings.EqualFold(k, "Content-Type") {
				if p.Header == nil {
					p.Header = map[string]string{}
				}
				p.Header[k] = v
			}
		}
		r := p.Response()
		return events.APIGatewayV2HTTPResponse{StatusCode: r.StatusCode, Headers: r.Headers, Body: r.Body}, nil
	}
}

// tokenHint says, for a company of the sandbox, why its token may have
// been refused and where its current one is shown, and whether the token
// was regenerated; "" for any other company.
func (s *Stack) tokenHint(company string) (string, bool) {
	st, ok := s.Sandbox.Token(company)
	if !ok {
		return "", false
	}
	where := s.SandboxURL + "/_sandbox/companies/" + st.CompanyID
	if st.Rotations > 0 {
		return fmt.Sprintf("The Personio sandbox did not accept this token for company %s: its token was regenerated (rotate-token, %s since the stack started), so the earlier one no longer works. The current one is shown at %s; or start over with a clean state: stop make run, run make reset, then make run again.",
			st.CompanyID, times(st.Rotations), where), true
	}
	return fmt.Sprintf("The Personio sandbox did not accept this token for company %s. Its current token is shown at %s (make run's banner names the address too).", st.CompanyID, where), false
}

func times(n int) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}

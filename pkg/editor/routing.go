package editor

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/funnel-personio/funnel-personio/pkg/apigw"
	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/explain"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/mapping"
	"github.com/funnel-personio/funnel-personio/pkg/routing"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// routingPointer is where a position routing table is in the body.
const routingPointer = "/position_routing"

// routingBody is position_routing as sent: its positions read as
// job_position_id is (1003.0 is 1003).
type routingBody struct {
	Source    string                `json:"source"`
	Positions map[string]personioID `json:"positions"`
}

// table is the routing table sent (nil: none).
func (b *routingBody) table() *routing.Table {
	if b == nil {
		return nil
	}
	t := &routing.Table{Source: b.Source, Positions: make(map[string]int64, len(b.Positions))}
	for a, p := range b.Positions {
		t.Positions[a] = int64(p)
	}
	return t
}

// checkRouting lists every problem of the body's position routing table:
// its own (mapping.ValidateRouting, against the funnel's questions when the
// editor sent them), and positions the connection's Personio does not
// know, where it can tell (conn nil: the connection is missing, nothing to
// ask).
func (e *Editor) checkRouting(ctx context.Context, conn *store.Connection, b integrationBody, careerSite string) []apigw.FieldError {
	t := b.PositionRouting.table()
	if t == nil {
		return nil
	}
	var errs []apigw.FieldError
	for _, p := range mapping.ValidateRouting(*t, b.Funnel) {
		path := apigw.Pointer(routingPointer, p.Member)
		if p.Answer != "" {
			path = apigw.Pointer(path, p.Answer)
		}
		errs = append(errs, apigw.FieldError{Path: path, Message: p.Message})
	}
	if conn == nil {
		return errs
	}
	known, where := e.knownPositions(ctx, *conn, careerSite)
	if known == nil {
		return errs
	}
	answers := make([]string, 0, len(t.Positions))
	for a := range t.Positions {
		answers = append(answers, a)
	}
	slices.Sort(answers)
	for _, a := range answers {
		if p := t.Positions[a]; p >= 1 && !known[p] {
			errs = append(errs, apigw.FieldError{Path: apigw.Pointer(routingPointer, "positions", a),
				Message: fmt.Sprintf("job position %d is not %s; pick one of its positions", p, where)})
		}
	}
	return errs
}

// knownPositions is the set of the connection's job positions where
// Personio can tell, and where they were read ("in Personio" with read
// access, "in the career site's feed" otherwise): every job by read
// access, else the published positions of the career site's feed. nil
// when neither can tell (no read access and no career site, or Personio
// could not be read): then no position is refused.
func (e *Editor) knownPositions(ctx context.Context, conn store.Connection, careerSite string) (map[int64]bool, string) {
	known := map[int64]bool{}
	if rc, ok, err := e.readCredentials(ctx, conn); err == nil && ok {
		jobs, err := e.personio.Jobs(ctx, rc)
		if err != nil {
			return nil, ""
		}
		for _, j := range jobs {
			if id, err := strconv.ParseInt(j.ID, 10, 64); err == nil {
				known[id] = true
			}
		}
		return known, "one of this connection's jobs in Personio"
	}
	if careerSite == "" {
		return nil, ""
	}
	positions, err := e.personio.Positions(ctx, conn.CompanyID, careerSite, "")
	if err != nil {
		return nil, ""
	}
	for _, p := range positions {
		known[p.ID] = true
	}
	return known, "published in the career site's feed (" + careerSite + ")"
}

// positionIssues lists the integration's unpublished positions as open
// issues, the default first, each naming its position.
func positionIssues(in store.Integration, lang string) []issueView {
	var out []issueView
	for _, p := range in.Positions() {
		if m := in.UnpublishedMark(p); m != nil {
			out = append(out, issueView{Kind: issuePositionUnpublished, Since: m.Since, PositionID: p,
				ReasonCode: lifecycle.ReasonPositionUnpublished, Message: explain.Sentence(lifecycle.ReasonPositionUnpublished, lang)})
		}
	}
	return out
}

// routeAnswer sets the test event's answer to the routing table's
// question, replacing one it has (as the only choice of a multiple choice
// question).
func routeAnswer(t *routing.Table, answers []application.Answer, answer string) []application.Answer {
	for i := range answers {
		if answers[i].FieldID != t.Field() {
			continue
		}
		answers[i].Value = application.StringValue(answer)
		if answers[i].Type == application.TypeMultiChoice {
			answers[i].Value = application.ListValue([]string{answer})
		}
		return answers
	}
	return append(answers, application.Answer{FieldID: t.Field(), Type: application.TypeChoice, Value: application.StringValue(answer)})
}

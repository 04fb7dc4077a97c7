package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
)

// What the platform team's operator command reads across workspaces
// (pkg/operator). No function's role may Scan; the operator's may, on the
// parked index only.

// Scanner is the part of the DynamoDB client a read across workspaces
// needs; the *dynamodb.Client the store is given has it.
type Scanner interface {
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

var _ Scanner = (*dynamodb.Client)(nil)

// ParkedConnection is a connection whose deliveries wait, parked, for new
// credentials: Waiting of them, the oldest created at Oldest.
type ParkedConnection struct {
	Workspace  string
	Connection string
	Waiting    int
	Oldest     time.Time
}

// ParkedConnections lists, across every workspace, the connections whose
// deliveries are parked and how many wait, most waiting first. It scans
// the parked index, which holds parked deliveries only (a delivery leaves
// it when it is sent again), never the table, and reads only the ids; a
// filter on the status keeps out anything but parked deliveries, whatever
// the scan returns. The index is eventually consistent: a delivery parked or
// resumed a moment ago may be missing or still counted.
func (s *Store) ParkedConnections(ctx context.Context) ([]ParkedConnection, error) {
	const op = "store: parked connections"
	sc, ok := s.db.(Scanner)
	if !ok {
		return nil, failure.New(op, failure.Invalid, errors.New("the DynamoDB client cannot scan"))
	}
	expr, err := expression.NewBuilder().
		WithFilter(expression.AttributeExists(expression.Name(AttrParkedPK))).
		WithProjection(expression.NamesList(expression.Name("workspace_id"), expression.Name("connection_id"), expression.Name("created_at"))).
		Build()
	if err != nil {
		return nil, failure.New(op, failure.Invalid, err)
	}
	x := render(expr)
	in := &dynamodb.ScanInput{TableName: aws.String(s.table), IndexName: aws.String(IndexParked), FilterExpression: x.Filter,
		ProjectionExpression: x.Projection, ExpressionAttributeNames: x.Names, ExpressionAttributeValues: x.Values}
	byConn := map[[2]string]*ParkedConnection{}
	for {
		page, err := sc.Scan(ctx, in)
		if err != nil {
			return nil, failure.Classify(op, err)
		}
		var items []struct {
			Workspace  string    `dynamodbav:"workspace_id"`
			Connection string    `dynamodbav:"connection_id"`
			CreatedAt  time.Time `dynamodbav:"created_at"`
		}
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			return nil, failure.New(op, failure.Invalid, err)
		}
		for _, it := range items {
			k := [2]string{it.Workspace, it.Connection}
			p := byConn[k]
			if p == nil {
				p = &ParkedConnection{Workspace: it.Workspace, Connection: it.Connection, Oldest: it.CreatedAt}
				byConn[k] = p
			}
			p.Waiting++
			if it.CreatedAt.Before(p.Oldest) {
				p.Oldest = it.CreatedAt
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	out := make([]ParkedConnection, 0, len(byConn))
	for _, p := range byConn {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b ParkedConnection) int {
		if a.Waiting != b.Waiting {
			return b.Waiting - a.Waiting
		}
		return strings.Compare(a.Workspace+"/"+a.Connection, b.Workspace+"/"+b.Connection)
	})
	return out, nil
}

// BudgetState is a company's rate budget as it stands, as the worker's
// next take would find it.
type BudgetState struct {
	Company string
	Budget  Budget
	// Used is how many units were taken in the last window.
	Used int
	// BlockedUntil is when a block after Personio's 429 ends (zero if
	// none is in force).
	BlockedUntil time.Time
	// LineEnds is the end of the line of reserved turns (zero if no one
	// waits), and Reserved the units reserved in it: its length, from when
	// the window lets its first turn go, at a unit every Window/Limit.
	LineEnds time.Time
	Reserved int
	// NextFree is when a newcomer's single unit would be taken: now, when
	// the window has room and no one waits; else when the oldest unit
	// leaves the window, the block ends, or the line's last turn is
	// reached, whichever is latest.
	NextFree time.Time
	// Version counts the writes to the budget (takes, reservations,
	// blocks) since its item was made; it expires a day after the last.
	Version int64
}

// ReadBudget reads the company's rate budget under b without changing it
// (a consistent read of its one item).
func (s *Store) ReadBudget(ctx context.Context, company string, b Budget) (BudgetState, error) {
	const op = "store: read budget"
	st := BudgetState{Company: company, Budget: b}
	if b.Limit < 1 || b.Window <= 0 {
		return st, failure.New(op, failure.Invalid, errors.New("a budget needs a limit and a window"))
	}
	where := companyBudget(company)
	var it budgetItem
	now := s.now()
	err := s.get(ctx, op, where.pk, where.sk, &it)
	switch {
	case errors.Is(err, failure.ErrNotFound):
		st.NextFree = now
		return st, nil
	case err != nil:
		return st, err
	}
	o := lifecycle.Look(it.state(), now, b)
	st.Used, st.Version = o.Used, it.Version
	st.BlockedUntil, st.LineEnds, st.Reserved, st.NextFree = o.BlockedUntil, o.LineEnds, o.Reserved, o.NextFree
	return st, nil
}

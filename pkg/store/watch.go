package store

import (
	"context"
	"errors"
	"maps"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/funnel-personio/funnel-personio/pkg/failure"
)

// MarkPositionUnpublished marks the integration's job position as
// unpublished since at, if the integration still points at that position
// and it is not marked yet. It reports whether it made the mark, so that
// whoever finds the change says so once.
func (s *Store) MarkPositionUnpublished(ctx context.Context, ws, funnel string, position int64, at time.Time, tell ...Pending) (bool, error) {
	const op = "store: mark position unpublished"
	mark := PositionMark{PositionID: position, Since: at.UTC()}
	update := expression.Set(expression.Name("unpublished"), expression.Value(mark)).Add(expression.Name("marks_rev"), expression.Value(1))
	cond := expression.Name("job_position_id").Equal(expression.Value(position)).
		And(expression.AttributeNotExists(expression.Name("unpublished")).Or(
			expression.Name("unpublished.position_id").NotEqual(expression.Value(position))))
	return s.updateIntegration(ctx, op, ws, funnel, update, cond, tell...)
}

// MarkPositionPublished removes the mark of an unpublished position (the
// watch found it in the feed again), if it is still mark, the one the
// caller read and names in its events; a mark made again since is a new
// problem, left for the next look. It reports whether it removed the
// mark.
func (s *Store) MarkPositionPublished(ctx context.Context, ws, funnel string, mark PositionMark, tell ...Pending) (bool, error) {
	const op = "store: mark position published"
	update := expression.Remove(expression.Name("unpublished")).Add(expression.Name("marks_rev"), expression.Value(1))
	cond := expression.Name("unpublished.position_id").Equal(expression.Value(mark.PositionID)).
		And(expression.Name("unpublished.since").Equal(expression.Value(mark.Since.UTC())))
	return s.updateIntegration(ctx, op, ws, funnel, update, cond, tell...)
}

// MarkRoutedPositionUnpublished marks a routed position (one the routing
// table sends answers to, other than the default, whose mark is
// MarkPositionUnpublished's) as unpublished since at, if the integration
// still routes to it and it is not marked yet. It reports whether it made
// the mark.
func (s *Store) MarkRoutedPositionUnpublished(ctx context.Context, ws, funnel string, position int64, at time.Time, tell ...Pending) (bool, error) {
	return s.changeRoutedMarks(ctx, "store: mark routed position unpublished", ws, funnel, tell, func(in Integration) (map[string]PositionMark, bool) {
		if !in.Routed(position) || in.UnpublishedMark(position) != nil {
			return nil, false
		}
		marks := maps.Clone(in.RoutedUnpublished)
		if marks == nil {
			marks = map[string]PositionMark{}
		}
		marks[positionKey(position)] = PositionMark{PositionID: position, Since: at.UTC()}
		return marks, true
	})
}

// MarkRoutedPositionPublished removes the mark of a routed position, if
// it is still mark (MarkPositionPublished). It reports whether it removed
// the mark.
func (s *Store) MarkRoutedPositionPublished(ctx context.Context, ws, funnel string, mark PositionMark, tell ...Pending) (bool, error) {
	return s.changeRoutedMarks(ctx, "store: mark routed position published", ws, funnel, tell, func(in Integration) (map[string]PositionMark, bool) {
		m, ok := in.RoutedUnpublished[positionKey(mark.PositionID)]
		if !ok || !m.Since.Equal(mark.Since) {
			return nil, false
		}
		marks := maps.Clone(in.RoutedUnpublished)
		delete(marks, positionKey(mark.PositionID))
		return marks, true
	})
}

// markTries bounds the reads and writes of one change of the routed marks
// while others change them too.
const markTries = 8

// changeRoutedMarks reads the integration, asks change for its new routed
// marks (false: nothing to change) and writes them if neither the
// integration (its version) nor its marks (their revision) changed
// meanwhile, with the pending events tell; otherwise it reads again. It
// reports whether it wrote.
func (s *Store) changeRoutedMarks(ctx context.Context, op, ws, funnel string, tell []Pending, change func(Integration) (map[string]PositionMark, bool)) (bool, error) {
	for range markTries {
		in, err := s.GetIntegration(ctx, ws, funnel)
		if errors.Is(err, failure.ErrNotFound) {
			return false, nil
		} else if err != nil {
			return false, err
		}
		marks, ok := change(in)
		if !ok {
			return false, nil
		}
		update := expression.Set(expression.Name("marks_rev"), expression.Value(in.MarksRevision+1))
		if len(marks) == 0 {
			update = update.Remove(expression.Name("routed_unpublished"))
		} else {
			update = update.Set(expression.Name("routed_unpublished"), expression.Value(marks))
		}
		cond := expression.Name("version").Equal(expression.Value(in.Version)).And(marksRead(in.MarksRevision))
		if done, err := s.updateIntegration(ctx, op, ws, funnel, update, cond, tell...); err != nil || done {
			return done, err
		}
	}
	return false, failure.New(op, failure.Conflict, errors.New("the integration's marks kept changing"))
}

// MarkPositionChecked records when the watch read the integration's
// position in its feed. An integration deleted meanwhile stays deleted.
func (s *Store) MarkPositionChecked(ctx context.Context, ws, funnel string, at time.Time) error {
	const op = "store: mark position checked"
	update := expression.Set(expression.Name("position_checked_at"), expression.Value(at.UTC()))
	_, err := s.updateIntegration(ctx, op, ws, funnel, update, expression.AttributeExists(expression.Name("pk")))
	return err
}

// updateIntegration applies a conditional update, with the pending events
// tell (Pending) in the same request; a condition that does not hold is
// (false, nil).
func (s *Store) updateIntegration(ctx context.Context, op, ws, funnel string, update expression.UpdateBuilder, cond expression.ConditionBuilder, tell ...Pending) (bool, error) {
	expr, err := expression.NewBuilder().WithUpdate(update).WithCondition(cond).Build()
	if err != nil {
		return false, failure.New(op, failure.Invalid, err)
	}
	err = s.updateTelling(ctx, op, wsKey(ws), funnelKey(funnel), render(expr), tell)
	if errors.Is(err, failure.ErrConflict) {
		return false, nil
	}
	return err == nil, err
}

// WatchedIntegrations calls f with every switched-on integration of every
// workspace, page by page; an error from f stops the walk.
func (s *Store) WatchedIntegrations(ctx context.Context, f func(Integration) error) error {
	return watched(ctx, s, "store: watched integrations", watchIntegrations, func(it integrationItem) error { return f(it.Integration) })
}

// WatchedConnections calls f with every connection of every workspace.
func (s *Store) WatchedConnections(ctx context.Context, f func(Connection) error) error {
	return watched(ctx, s, "store: watched connections", watchConnections, func(it connectionItem) error { return f(it.Connection) })
}

func watched[I any](ctx context.Context, s *Store, op, partition string, f func(I) error) error {
	kc := expression.Key(AttrWatchPK).Equal(expression.Value(partition))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return failure.New(op, failure.Invalid, err)
	}
	x := render(expr)
	in := &dynamodb.QueryInput{TableName: aws.String(s.table), IndexName: aws.String(IndexWatch),
		KeyConditionExpression: x.KeyCondition, ExpressionAttributeNames: x.Names, ExpressionAttributeValues: x.Values}
	for {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return failure.Classify(op, err)
		}
		var items []I
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			return failure.New(op, failure.Invalid, err)
		}
		for _, it := range items {
			if err := f(it); err != nil {
				return err
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// ListParkedOnPosition lists the funnel's deliveries parked until its job
// position is published again (or another one is chosen).
func (s *Store) ListParkedOnPosition(ctx context.Context, ws, funnel string, limit int, cursor string) (Page, error) {
	return s.queryIndex(ctx, "store: list parked on position", ws, IndexParked, AttrParkedPK, positionParkedKey(ws, funnel), limit, cursor)
}

// ListParkedOnRoutedPosition lists the funnel's deliveries routed to
// position and parked until it is published again (or the integration is
// saved).
func (s *Store) ListParkedOnRoutedPosition(ctx context.Context, ws, funnel string, position int64, limit int, cursor string) (Page, error) {
	return s.queryIndex(ctx, "store: list parked on routed position", ws, IndexParked, AttrParkedPK, routedParkedKey(ws, funnel, position), limit, cursor)
}

func positionParkedKey(ws, funnel string) string { return funnelIndexKey(ws, funnel) + "#POSITION" }

// routedParkedKey names the list of the funnel's deliveries parked on a
// routed position.
func routedParkedKey(ws, funnel string, position int64) string {
	return positionParkedKey(ws, funnel) + "#" + positionKey(position)
}

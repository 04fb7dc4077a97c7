package store

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"

	"github.com/funnel-personio/funnel-personio/pkg/routing"
)

// Integration is a funnel's link to Personio: which connection, which job
// position, the mapping, and the toggle.
type Integration struct {
	WorkspaceID         string          `dynamodbav:"workspace_id"`
	FunnelID            string          `dynamodbav:"funnel_id"`
	ConnectionID        string          `dynamodbav:"connection_id"`
	JobPositionID       int64           `dynamodbav:"job_position_id"`
	RecruitingChannelID *int64          `dynamodbav:"recruiting_channel_id,omitempty"`
	Mapping             json.RawMessage `dynamodbav:"mapping"`
	Enabled             bool            `dynamodbav:"enabled"`
	// CareerSite is the career site's subdomain whose XML feed lists the
	// position ("" when the customer gave none): the watch checks the
	// position there.
	CareerSite string `dynamodbav:"career_site,omitempty"`
	// Unpublished is set while the job position is known to be
	// unpublished in Personio (by the watch, or by Personio's answer);
	// applications for it are parked until it is published again or
	// another position is chosen.
	Unpublished *PositionMark `dynamodbav:"unpublished,omitempty"`
	// PositionRouting, when set, lets the applicant's answer pick the
	// position; JobPositionID is then the default, for an answer that is
	// missing or not in the table.
	PositionRouting *routing.Table `dynamodbav:"position_routing,omitempty"`
	// RoutedUnpublished marks the routed positions (other than
	// JobPositionID, whose mark is Unpublished) known to be unpublished,
	// by position id in decimal; only the applications routed to a marked
	// position are parked.
	RoutedUnpublished map[string]PositionMark `dynamodbav:"routed_unpublished,omitempty"`
	// MarksRevision counts the changes of the marks (Unpublished and
	// RoutedUnpublished), so that two changes of the marks never
	// overwrite each other, and a save of what was read before a mark
	// changed is a conflict (the save settles the marks it read, and tells
	// their events); the marks leave Version, the ETag, alone.
	MarksRevision int64 `dynamodbav:"marks_rev,omitempty"`
	// PositionCheckedAt is when the watch last read the position in the
	// career site's feed (zero: never).
	PositionCheckedAt time.Time `dynamodbav:"position_checked_at,omitempty"`
	CreatedAt         time.Time `dynamodbav:"created_at"`
	UpdatedAt         time.Time `dynamodbav:"updated_at"`
	// Version counts saves; a save names the version it read (0 to
	// create), and a save based on an older version is a conflict.
	Version int64 `dynamodbav:"version"`
}

// PositionMark says which position was found unpublished, and when.
type PositionMark struct {
	PositionID int64     `dynamodbav:"position_id" json:"position_id"`
	Since      time.Time `dynamodbav:"since" json:"since"`
}

// UnpublishedNow reports whether the integration's position is marked
// unpublished (a mark of another position is stale).
func (in Integration) UnpublishedNow() bool {
	return in.Unpublished != nil && in.Unpublished.PositionID == in.JobPositionID
}

// Routed reports whether the routing table sends some answer to position
// and it is not the default (JobPositionID): its mark is then one of
// RoutedUnpublished.
func (in Integration) Routed(position int64) bool {
	return position != in.JobPositionID && in.PositionRouting != nil && in.PositionRouting.Has(position)
}

// Positions lists every position the integration delivers to: the
// default first, then the routed ones in order.
func (in Integration) Positions() []int64 {
	out := []int64{in.JobPositionID}
	if in.PositionRouting != nil {
		for _, p := range in.PositionRouting.PositionIDs() {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// UnpublishedMark is the mark of position if the integration delivers to
// it and it is known to be unpublished, or nil.
func (in Integration) UnpublishedMark(position int64) *PositionMark {
	switch {
	case position == in.JobPositionID && in.UnpublishedNow():
		return in.Unpublished
	case in.Routed(position):
		if m, ok := in.RoutedUnpublished[positionKey(position)]; ok {
			return &m
		}
	}
	return nil
}

// positionKey is a position id as a key of RoutedUnpublished.
func positionKey(position int64) string { return strconv.FormatInt(position, 10) }

type integrationItem struct {
	PK      string `dynamodbav:"pk"`
	SK      string `dynamodbav:"sk"`
	WatchPK string `dynamodbav:"watch_pk,omitempty"`
	WatchSK string `dynamodbav:"watch_sk,omitempty"`
	Integration
}

// Partitions of the watch index.
const (
	watchIntegrations = "WATCH#INTEGRATION"
	watchConnections  = "WATCH#CONNECTION"
)

func newIntegrationItem(in Integration) integrationItem {
	it := integrationItem{PK: wsKey(in.WorkspaceID), SK: funnelKey(in.FunnelID), Integration: in}
	if in.Enabled {
		it.WatchPK, it.WatchSK = watchIntegrations, in.WorkspaceID+"#"+in.FunnelID
	}
	return it
}

// PutIntegration saves an integration. in.Version is the version the
// caller read: 0 creates (and conflicts if one exists), n replaces version
// n (and conflicts if another save came first, or the marks changed
// since in.MarksRevision was read). It returns what was stored, with the
// new version.
func (s *Store) PutIntegration(ctx context.Context, in Integration, tell ...Pending) (Integration, error) {
	const op = "store: put integration"
	now := s.now().UTC()
	var cond expression.ConditionBuilder
	if in.Version == 0 {
		cond = absent()
		in.CreatedAt = now
	} else {
		cond = expression.Name("version").Equal(expression.Value(in.Version)).And(marksRead(in.MarksRevision))
	}
	in.Version++
	in.UpdatedAt = now
	return in, s.putTelling(ctx, op, newIntegrationItem(in), cond, tell)
}

// GetIntegration reads a funnel's integration.
func (s *Store) GetIntegration(ctx context.Context, ws, funnel string) (Integration, error) {
	var it integrationItem
	err := s.get(ctx, "store: get integration", wsKey(ws), funnelKey(funnel), &it)
	return it.Integration, err
}

// ListIntegrations lists the workspace's integrations.
func (s *Store) ListIntegrations(ctx context.Context, ws string) ([]Integration, error) {
	var items []integrationItem
	if err := s.queryPrefix(ctx, "store: list integrations", wsKey(ws), "FUNNEL#", &items); err != nil {
		return nil, err
	}
	return unwrap(items, func(it integrationItem) Integration { return it.Integration }), nil
}

// DeleteIntegration deletes a funnel's integration.
func (s *Store) DeleteIntegration(ctx context.Context, ws, funnel string) error {
	return s.delete(ctx, "store: delete integration", wsKey(ws), funnelKey(funnel))
}

// marksRead is the condition that the marks' revision is still rev, the
// one read.
func marksRead(rev int64) expression.ConditionBuilder {
	if rev == 0 {
		return expression.AttributeNotExists(expression.Name("marks_rev"))
	}
	return expression.Name("marks_rev").Equal(expression.Value(rev))
}

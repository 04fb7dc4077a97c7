package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/funnel-personio/funnel-personio/pkg/failure"
)

// Attribute and index names of the single table. The CDK stack and the
// local stack both build the table from Table.
const (
	AttrPK     = "pk"
	AttrSK     = "sk"
	AttrGSI1PK = "gsi1pk" // deliveries of a funnel
	AttrGSI1SK = "gsi1sk" // created time + event id: newest first
	// AttrStage is what the delivery log index keeps of a record's status
	// (see stageOf): it changes when a delivery comes to rest, not at each
	// of its turns.
	AttrStage = "stage"
	// AttrGSI2PK was the key of by_status (a funnel's deliveries in one
	// status). No index has it as a key now; a record that holds it was
	// last written by a version before the delivery log index, whose
	// writes did not keep AttrStage (see Retiring).
	AttrGSI2PK   = "gsi2pk"
	AttrParkedPK = "parked_pk"
	AttrWatchPK  = "watch_pk" // what the watch checks: switched-on integrations, connections
	AttrWatchSK  = "watch_sk"
	AttrTTL      = "expires_at"

	IndexDeliveryLog = "delivery_log"
	IndexParked      = "parked"
	IndexWatch       = "watch"
	// IndexByFunnel and IndexByStatus are the delivery log's indexes of
	// the version before, each projecting every attribute (Retiring).
	IndexByFunnel = "by_funnel"
	IndexByStatus = "by_status"
)

// Index is a global secondary index and what it projects: every attribute
// (types.ProjectionTypeAll), the keys only, or the keys and Include.
type Index struct {
	Name         string
	PartitionKey string
	SortKey      string
	Projection   types.ProjectionType
	Include      []string
}

// Schema describes the table: string keys, on-demand, TTL attribute.
type Schema struct {
	PartitionKey string
	SortKey      string
	Indexes      []Index
	TTLAttribute string
}

// Table is the one table of the system. Each index projects what its
// readers need:
//
//   - delivery_log (a funnel's deliveries, newest first) projects the
//     stage and gsi2pk only: DynamoDB writes an index entry only when the
//     item's index keys or projected attributes change, so a delivery's
//     entry is written when it is created and when it comes to rest, not
//     at its claims, turns and retries. A list reads its page's records
//     from the table (ListDeliveries).
//   - parked projects every attribute: only parked deliveries have an
//     entry, written when they park and when they leave, never on the
//     way of a delivery that does not park; its readers (resuming
//     deliveries, the operator's scan) read the entries themselves.
//   - watch projects every attribute: only connections and switched-on
//     integrations have an entry, written when they are saved or their
//     state changes; the watch reads every entry at each tick.
var Table = Schema{
	PartitionKey: AttrPK,
	SortKey:      AttrSK,
	Indexes: []Index{
		{Name: IndexDeliveryLog, PartitionKey: AttrGSI1PK, SortKey: AttrGSI1SK,
			Projection: types.ProjectionTypeInclude, Include: []string{AttrStage, AttrGSI2PK}},
		{Name: IndexParked, PartitionKey: AttrParkedPK, SortKey: AttrGSI1SK, Projection: types.ProjectionTypeAll},
		{Name: IndexWatch, PartitionKey: AttrWatchPK, SortKey: AttrWatchSK, Projection: types.ProjectionTypeAll},
	},
	TTLAttribute: AttrTTL,
}

// Retiring are the indexes of the version before that a deployed table
// keeps until the deploys that delete them, one a deploy
// (docs/operations.md, "Changing the table's indexes"). Nothing reads
// by_status; ListDeliveries reads by_funnel only while delivery_log is
// being built. Tables made from Table have neither.
var Retiring = []Index{
	{Name: IndexByFunnel, PartitionKey: AttrGSI1PK, SortKey: AttrGSI1SK, Projection: types.ProjectionTypeAll},
	{Name: IndexByStatus, PartitionKey: AttrGSI2PK, SortKey: AttrGSI1SK, Projection: types.ProjectionTypeAll},
}

// CreateTableInput is the CreateTable request for the schema, on demand.
func (s Schema) CreateTableInput(name string) *dynamodb.CreateTableInput {
	attrs := map[string]bool{s.PartitionKey: true, s.SortKey: true}
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(s.PartitionKey), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(s.SortKey), KeyType: types.KeyTypeRange},
		},
	}
	for _, ix := range s.Indexes {
		attrs[ix.PartitionKey], attrs[ix.SortKey] = true, true
		p := &types.Projection{ProjectionType: ix.Projection}
		if len(ix.Include) > 0 {
			p.NonKeyAttributes = ix.Include
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName: aws.String(ix.Name),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(ix.PartitionKey), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(ix.SortKey), KeyType: types.KeyTypeRange},
			},
			Projection: p,
		})
	}
	for _, a := range sortedKeys(attrs) {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(a), AttributeType: types.ScalarAttributeTypeS,
		})
	}
	return in
}

// TableAdmin is what creating a table needs.
type TableAdmin interface {
	CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	UpdateTimeToLive(context.Context, *dynamodb.UpdateTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
}

// CreateTable creates the table (Table) if it does not exist, waits until
// it is active and turns TTL on. For the local stack and tests; in AWS the
// CDK stack owns the table.
func CreateTable(ctx context.Context, db TableAdmin, name string) error {
	return Table.Create(ctx, db, name)
}

// Create creates a table of the schema if it does not exist, waits until
// it is active and turns TTL on.
func (s Schema) Create(ctx context.Context, db TableAdmin, name string) error {
	const op = "store: create table"
	_, err := db.CreateTable(ctx, s.CreateTableInput(name))
	if err != nil && !isConflict(op, err) {
		return failure.Classify(op, err)
	}
	for i := 0; ; i++ {
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return failure.Classify(op, err)
		}
		if out.Table != nil && out.Table.TableStatus == types.TableStatusActive {
			break
		}
		if i > 300 {
			return failure.New(op, failure.Transient, fmt.Errorf("table %s not active after 30 s", name))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	_, err = db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(s.TTLAttribute), Enabled: aws.Bool(true)},
	})
	if err != nil && !isConflict(op, err) && !isAlreadyEnabled(err) {
		return failure.Classify(op+" ttl", err)
	}
	return nil
}

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
	AttrPK       = "pk"
	AttrSK       = "sk"
	AttrGSI1PK   = "gsi1pk" // deliveries of a funnel
	AttrGSI1SK   = "gsi1sk" // created time + event id: newest first
	AttrGSI2PK   = "gsi2pk" // deliveries of a funnel in one status
	AttrParkedPK = "parked_pk"
	AttrWatchPK  = "watch_pk" // what the watch checks: switched-on integrations, connections
	AttrWatchSK  = "watch_sk"
	AttrTTL      = "expires_at"

	IndexByFunnel = "by_funnel"
	IndexByStatus = "by_status"
	IndexParked   = "parked"
	IndexWatch    = "watch"
)

// Index is a global secondary index, projecting all attributes.
type Index struct {
	Name         string
	PartitionKey string
	SortKey      string
}

// Schema describes the table: string keys, on-demand, TTL attribute.
type Schema struct {
	PartitionKey string
	SortKey      string
	Indexes      []Index
	TTLAttribute string
}

// Table is the one table of the system.
var Table = Schema{
	PartitionKey: AttrPK,
	SortKey:      AttrSK,
	Indexes: []Index{
		{Name: IndexByFunnel, PartitionKey: AttrGSI1PK, SortKey: AttrGSI1SK},
		{Name: IndexByStatus, PartitionKey: AttrGSI2PK, SortKey: AttrGSI1SK},
		{Name: IndexParked, PartitionKey: AttrParkedPK, SortKey: AttrGSI1SK},
		{Name: IndexWatch, PartitionKey: AttrWatchPK, SortKey: AttrWatchSK},
	},
	TTLAttribute: AttrTTL,
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
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName: aws.String(ix.Name),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(ix.PartitionKey), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(ix.SortKey), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
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

// CreateTable creates the table if it does not exist, waits until it is
// active and turns TTL on. For the local stack and tests; in AWS the CDK
// stack owns the table.
func CreateTable(ctx context.Context, db TableAdmin, name string) error {
	const op = "store: create table"
	_, err := db.CreateTable(ctx, Table.CreateTableInput(name))
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
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(Table.TTLAttribute), Enabled: aws.Bool(true)},
	})
	if err != nil && !isConflict(op, err) && !isAlreadyEnabled(err) {
		return failure.Classify(op+" ttl", err)
	}
	return nil
}

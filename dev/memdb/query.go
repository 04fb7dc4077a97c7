package memdb

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// view is a table or one of its indexes as a query reads it.
type view struct {
	t      *table
	ix     *index
	pk, sk string
	// at is the moment the view shows (the zero time: now; Lag).
	at time.Time
}

// view is the table or one of its indexes, as a read that is consistent
// or not sees it (an index cannot be read consistently).
func (db *DB) view(name, indexName *string, consistent *bool) (view, error) {
	t, err := db.table(name)
	if err != nil {
		return view{}, err
	}
	v := view{t: t, pk: t.pk, sk: t.sk}
	if indexName != nil && *indexName != "" {
		ix, ok := t.indexes[*indexName]
		if !ok {
			return view{}, validation("The table does not have the specified index: %s", *indexName)
		}
		if aws.ToBool(consistent) {
			return view{}, validation("Consistent reads are not supported on global secondary indexes")
		}
		v.ix, v.pk, v.sk = &ix, ix.pk, ix.sk
	}
	v.at = db.asOf(aws.ToBool(consistent))
	return v, nil
}

// entries are the view's entries (an index holds only items with both of
// its keys), in (pk, sk, table pk, table sk) order, forward or not.
func (v view) entries(forward bool) []item {
	var out []item
	v.t.itemsAt(v.at, func(it item) {
		if v.ix != nil {
			if _, ok := str(it[v.pk]); !ok {
				return
			}
			if _, ok := str(it[v.sk]); !ok {
				return
			}
		}
		out = append(out, it)
	})
	slices.SortFunc(out, func(a, b item) int {
		c := v.order(a, b)
		if !forward {
			c = -c
		}
		return c
	})
	return out
}

func (v view) order(a, b item) int {
	for _, k := range []string{v.pk, v.sk, v.t.pk, v.t.sk} {
		x, _ := str(a[k])
		y, _ := str(b[k])
		if c := cmp.Compare(x, y); c != 0 {
			return c
		}
	}
	return 0
}

// key is an entry's key as LastEvaluatedKey gives it.
func (v view) key(it item) item {
	out := item{v.t.pk: it[v.t.pk], v.t.sk: it[v.t.sk]}
	if v.ix != nil {
		out[v.pk], out[v.sk] = it[v.pk], it[v.sk]
	}
	return out
}

// projected is what the view holds of an item.
func (v view) projected(it item) item {
	if v.ix == nil || v.ix.projection == types.ProjectionTypeAll {
		return clone(it)
	}
	out := v.key(it)
	if v.ix.projection == types.ProjectionTypeInclude {
		for _, a := range v.ix.include {
			if x, ok := it[a]; ok {
				out[a] = x
			}
		}
	}
	return out
}

// after drops the entries up to and including start.
func (v view) after(entries []item, start item, forward bool) []item {
	if len(start) == 0 {
		return entries
	}
	i := slices.IndexFunc(entries, func(e item) bool {
		c := v.order(e, start)
		if !forward {
			c = -c
		}
		return c > 0
	})
	if i < 0 {
		return nil
	}
	return entries[i:]
}

type readSpec struct {
	keyCond, filter, projection *string
	names                       map[string]string
	values                      map[string]types.AttributeValue
	limit                       *int32
	start                       item
	forward                     bool
}

func (db *DB) read(v view, r readSpec) ([]item, item, int32, error) {
	sc := scopeOf(r.names, r.values)
	var kc, fc *cond
	var err error
	if r.keyCond != nil {
		if kc, err = sc.parseCond(*r.keyCond); err != nil {
			return nil, nil, 0, validation("Invalid KeyConditionExpression: %v", err)
		}
	}
	if r.filter != nil && *r.filter != "" {
		if fc, err = sc.parseCond(*r.filter); err != nil {
			return nil, nil, 0, validation("Invalid FilterExpression: %v", err)
		}
	}
	var out []item
	var last item
	var scanned int32
	for _, e := range v.after(v.entries(r.forward), r.start, r.forward) {
		if kc != nil {
			if ok, err := holds(e, kc); err != nil || !ok {
				if err != nil {
					return nil, nil, 0, validation("Invalid KeyConditionExpression: %v", err)
				}
				continue
			}
		}
		scanned++
		p := v.projected(e)
		keep := true
		if fc != nil {
			if keep, err = holds(p, fc); err != nil {
				return nil, nil, 0, validation("Invalid FilterExpression: %v", err)
			}
		}
		if keep {
			if p, err = project(sc, r.projection, p); err != nil {
				return nil, nil, 0, err
			}
			out = append(out, p)
		}
		if r.limit != nil && scanned == *r.limit {
			last = v.key(e)
			break
		}
	}
	return out, last, scanned, nil
}

// Query reads a partition of the table or of an index.
func (db *DB) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.count("Query")
	v, err := db.view(in.TableName, in.IndexName, in.ConsistentRead)
	if err != nil {
		return nil, err
	}
	if in.KeyConditionExpression == nil {
		return nil, validation("KeyConditionExpression is required")
	}
	items, last, scanned, err := db.read(v, readSpec{keyCond: in.KeyConditionExpression, filter: in.FilterExpression,
		projection: in.ProjectionExpression, names: in.ExpressionAttributeNames, values: in.ExpressionAttributeValues,
		limit: in.Limit, start: in.ExclusiveStartKey, forward: in.ScanIndexForward == nil || *in.ScanIndexForward})
	if err != nil {
		return nil, err
	}
	out := &dynamodb.QueryOutput{Items: items, Count: int32(len(items)), ScannedCount: scanned, LastEvaluatedKey: last}
	if in.Select == types.SelectCount {
		out.Items = nil
	}
	return out, nil
}

// Scan reads the whole table or index, in key order.
func (db *DB) Scan(_ context.Context, in *dynamodb.ScanInput, _ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.count("Scan")
	v, err := db.view(in.TableName, in.IndexName, in.ConsistentRead)
	if err != nil {
		return nil, err
	}
	items, last, scanned, err := db.read(v, readSpec{filter: in.FilterExpression, projection: in.ProjectionExpression,
		names: in.ExpressionAttributeNames, values: in.ExpressionAttributeValues, limit: in.Limit, start: in.ExclusiveStartKey, forward: true})
	if err != nil {
		return nil, err
	}
	return &dynamodb.ScanOutput{Items: items, Count: int32(len(items)), ScannedCount: scanned, LastEvaluatedKey: last}, nil
}

// CreateTable creates a table; a table of that name is a
// ResourceInUseException.
func (db *DB) CreateTable(_ context.Context, in *dynamodb.CreateTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if in.TableName == nil {
		return nil, validation("TableName is required")
	}
	if _, ok := db.tables[*in.TableName]; ok {
		return nil, &types.ResourceInUseException{Message: ptr("Table already exists: " + *in.TableName)}
	}
	t := &table{name: *in.TableName, indexes: map[string]index{}, items: map[string]map[string]item{}}
	t.pk, t.sk = keys(in.KeySchema)
	for _, g := range in.GlobalSecondaryIndexes {
		ix := index{name: aws.ToString(g.IndexName), projection: types.ProjectionTypeAll}
		ix.pk, ix.sk = keys(g.KeySchema)
		if g.Projection != nil {
			ix.projection, ix.include = g.Projection.ProjectionType, g.Projection.NonKeyAttributes
		}
		t.indexes[ix.name] = ix
	}
	db.tables[*in.TableName] = t
	return &dynamodb.CreateTableOutput{TableDescription: &types.TableDescription{TableName: in.TableName, TableStatus: types.TableStatusActive}}, nil
}

func keys(ks []types.KeySchemaElement) (hash, rng string) {
	for _, k := range ks {
		if k.KeyType == types.KeyTypeHash {
			hash = aws.ToString(k.AttributeName)
		} else {
			rng = aws.ToString(k.AttributeName)
		}
	}
	return hash, rng
}

// DescribeTable says that a table exists and is active.
func (db *DB) DescribeTable(_ context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	t, err := db.table(in.TableName)
	if err != nil {
		return nil, err
	}
	d := &types.TableDescription{TableName: in.TableName, TableStatus: types.TableStatusActive}
	for _, name := range slices.Sorted(maps.Keys(t.indexes)) {
		ix := t.indexes[name]
		d.GlobalSecondaryIndexes = append(d.GlobalSecondaryIndexes, types.GlobalSecondaryIndexDescription{
			IndexName: aws.String(name), IndexStatus: types.IndexStatusActive,
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(ix.pk), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(ix.sk), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: ix.projection, NonKeyAttributes: ix.include},
		})
	}
	return &dynamodb.DescribeTableOutput{Table: d}, nil
}

// UpdateTimeToLive accepts the setting (TTL is not applied: see the
// package doc).
func (db *DB) UpdateTimeToLive(_ context.Context, in *dynamodb.UpdateTimeToLiveInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if _, err := db.table(in.TableName); err != nil {
		return nil, err
	}
	return &dynamodb.UpdateTimeToLiveOutput{TimeToLiveSpecification: in.TimeToLiveSpecification}, nil
}

// Items returns a copy of every item of the table, in key order (for the
// simulator's invariants).
func (db *DB) Items(name string) []map[string]types.AttributeValue {
	db.mu.Lock()
	defer db.mu.Unlock()
	t, ok := db.tables[name]
	if !ok {
		return nil
	}
	v := view{t: t, pk: t.pk, sk: t.sk}
	es := v.entries(true)
	for i, e := range es {
		es[i] = clone(e)
	}
	return es
}

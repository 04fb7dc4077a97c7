package awsmeter

import (
	"context"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// DynamoDB's capacity, by its rules
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html):
// a write takes one unit per KB of the larger of the item before and after
// it (at least one; a write whose condition fails too); a read one unit per
// 4 KB, half of it when eventually consistent; a query adds up the entries
// it read (as the index projects them) before rounding, a batch read
// rounds each item it found on its own; every global
// secondary index whose entry the write puts, changes or deletes takes
// units of the entry's projected size (a changed index key is a delete and
// a put).
const (
	writeUnitBytes = 1024
	readUnitBytes  = 4096
)

// capacity is one call's units.
type capacity struct {
	read, write, indexWrite float64
	reported                bool
}

type item = map[string]types.AttributeValue

type indexSchema struct {
	name, pk, sk string
	projection   types.ProjectionType
	include      []string
}

type tableSchema struct {
	pk, sk  string
	indexes []indexSchema
}

// tables is what the meter knows of the tables: their keys and indexes
// (learnt from CreateTable calls) and their items as last written or read
// through it (for the size of an item before a write).
type tables struct {
	mu      sync.Mutex
	peek    *dynamodb.Client // reads an item back, unmetered (set by Meter.Config)
	schemas map[string]tableSchema
	items   map[string]item
}

func newTables() *tables {
	return &tables{schemas: map[string]tableSchema{}, items: map[string]item{}}
}

type opKind int

const (
	opGet opKind = iota + 1
	opPut
	opUpdate
	opDelete
	opQuery
	opBatchGet
	opTransact
)

// dynamoCall is one DynamoDB call being counted.
type dynamoCall struct {
	kind         opKind
	table, index string
	key          item
	consistent   bool
	projected    bool // a query with a projection expression returns less than it reads
	returnValues types.ReturnValue
	old, new     item
	// batch is a batch read's keys by table.
	batch map[string]types.KeysAndAttributes
	// parts are a transaction's writes and checks (each a put, update,
	// delete or, for a condition check, a get of the item checked).
	parts []*dynamoCall
}

// before asks for the call's consumed capacity and notes what computing it
// needs. The input is copied, not changed: the caller's stays as it was.
func (t *tables) before(in *middleware.InitializeInput) *dynamoCall {
	in.Parameters = askCapacity(in.Parameters)
	switch v := in.Parameters.(type) {
	case *dynamodb.CreateTableInput:
		t.learn(v)
	case *dynamodb.GetItemInput:
		return &dynamoCall{kind: opGet, table: aws.ToString(v.TableName), key: v.Key, consistent: aws.ToBool(v.ConsistentRead)}
	case *dynamodb.PutItemInput:
		c := &dynamoCall{kind: opPut, table: aws.ToString(v.TableName), new: v.Item, returnValues: v.ReturnValues}
		c.key = t.keyOf(c.table, v.Item)
		c.old = t.shadow(c.table, c.key)
		return c
	case *dynamodb.UpdateItemInput:
		if v.ReturnValues == "" || v.ReturnValues == types.ReturnValueNone {
			// The item after the update, in the answer: no read to
			// learn its size (the caller asked for nothing and reads
			// nothing of it).
			cp := *v
			cp.ReturnValues = types.ReturnValueAllNew
			in.Parameters, v = &cp, &cp
		}
		return &dynamoCall{kind: opUpdate, table: aws.ToString(v.TableName), key: v.Key, returnValues: v.ReturnValues,
			old: t.shadow(aws.ToString(v.TableName), v.Key)}
	case *dynamodb.DeleteItemInput:
		return &dynamoCall{kind: opDelete, table: aws.ToString(v.TableName), key: v.Key, returnValues: v.ReturnValues,
			old: t.shadow(aws.ToString(v.TableName), v.Key)}
	case *dynamodb.QueryInput:
		return &dynamoCall{kind: opQuery, table: aws.ToString(v.TableName), index: aws.ToString(v.IndexName),
			consistent: aws.ToBool(v.ConsistentRead) && v.IndexName == nil, projected: v.ProjectionExpression != nil}
	case *dynamodb.BatchGetItemInput:
		return &dynamoCall{kind: opBatchGet, batch: v.RequestItems}
	case *dynamodb.TransactWriteItemsInput:
		return t.transaction(v)
	}
	return nil
}

// transaction notes each part of a transaction with the item it finds.
func (t *tables) transaction(v *dynamodb.TransactWriteItemsInput) *dynamoCall {
	c := &dynamoCall{kind: opTransact}
	for _, ti := range v.TransactItems {
		var p *dynamoCall
		switch {
		case ti.Put != nil:
			p = &dynamoCall{kind: opPut, table: aws.ToString(ti.Put.TableName), new: ti.Put.Item}
			p.key = t.keyOf(p.table, ti.Put.Item)
		case ti.Update != nil:
			p = &dynamoCall{kind: opUpdate, table: aws.ToString(ti.Update.TableName), key: ti.Update.Key}
		case ti.Delete != nil:
			p = &dynamoCall{kind: opDelete, table: aws.ToString(ti.Delete.TableName), key: ti.Delete.Key}
		case ti.ConditionCheck != nil:
			p = &dynamoCall{kind: opGet, table: aws.ToString(ti.ConditionCheck.TableName), key: ti.ConditionCheck.Key}
		default:
			continue
		}
		p.old = t.shadow(p.table, p.key)
		c.parts = append(c.parts, p)
	}
	return c
}

// afterTransaction prices a transaction as DynamoDB does: each part as
// the write of its item (a condition check as a write of the item it
// checks), at twice the units of a single write.
func (t *tables) afterTransaction(ctx context.Context, c *dynamoCall, result any, err error) capacity {
	computed := t.computeTransaction(ctx, c, err)
	out, ok := result.(*dynamodb.TransactWriteItemsOutput)
	if !ok || err != nil || len(out.ConsumedCapacity) == 0 {
		return computed
	}
	sum := types.ConsumedCapacity{CapacityUnits: aws.Float64(0), GlobalSecondaryIndexes: map[string]types.Capacity{}}
	for _, cc := range out.ConsumedCapacity {
		*sum.CapacityUnits += aws.ToFloat64(cc.CapacityUnits)
		for name, ix := range cc.GlobalSecondaryIndexes {
			cur := sum.GlobalSecondaryIndexes[name]
			cur.CapacityUnits = aws.Float64(aws.ToFloat64(cur.CapacityUnits) + aws.ToFloat64(ix.CapacityUnits))
			sum.GlobalSecondaryIndexes[name] = cur
		}
	}
	return fromReport(opTransact, &sum)
}

// computeTransaction is a transaction's units by DynamoDB's rules.
func (t *tables) computeTransaction(ctx context.Context, c *dynamoCall, err error) capacity {
	var out capacity
	for _, p := range c.parts {
		var pc capacity
		switch {
		case err != nil:
			pc = capacity{write: units(size(p.old), writeUnitBytes)}
		case p.kind == opGet:
			pc = capacity{write: units(size(p.old), writeUnitBytes)}
		default:
			if p.kind == opUpdate {
				p.new = t.readBack(ctx, p.table, p.key)
			}
			t.remember(p, nil)
			pc = t.compute(p, nil)
		}
		out.write += 2 * pc.write
		out.indexWrite += 2 * pc.indexWrite
	}
	return out
}

// askCapacity returns a copy of a DynamoDB input that has a
// ReturnConsumedCapacity field, asking for the units with the indexes'
// share (any other input as it is).
func askCapacity(params any) any {
	v := reflect.ValueOf(params)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return params
	}
	f := v.Elem().FieldByName("ReturnConsumedCapacity")
	if !f.IsValid() || f.Type() != reflect.TypeFor[types.ReturnConsumedCapacity]() {
		return params
	}
	cp := reflect.New(v.Elem().Type())
	cp.Elem().Set(v.Elem())
	cp.Elem().FieldByName("ReturnConsumedCapacity").Set(reflect.ValueOf(types.ReturnConsumedCapacityIndexes))
	return cp.Interface()
}

// after reads the units the backend reported, or computes them, and
// keeps the items the call saw.
func (t *tables) after(ctx context.Context, c *dynamoCall, result any, err error) capacity {
	if c.kind == opTransact {
		if err != nil && !conditionFailed(err) {
			return capacity{}
		}
		return t.afterTransaction(ctx, c, result, err)
	}
	var reported *types.ConsumedCapacity
	var returned item
	var read []item
	var batch map[string][]item
	switch out := result.(type) {
	case *dynamodb.GetItemOutput:
		reported, returned = out.ConsumedCapacity, out.Item
	case *dynamodb.PutItemOutput:
		reported, returned = out.ConsumedCapacity, out.Attributes
	case *dynamodb.UpdateItemOutput:
		reported, returned = out.ConsumedCapacity, out.Attributes
	case *dynamodb.DeleteItemOutput:
		reported, returned = out.ConsumedCapacity, out.Attributes
	case *dynamodb.QueryOutput:
		reported, read = out.ConsumedCapacity, out.Items
	case *dynamodb.BatchGetItemOutput:
		batch = out.Responses
		if len(out.ConsumedCapacity) > 0 {
			reported = &types.ConsumedCapacity{CapacityUnits: aws.Float64(0)}
			for _, cc := range out.ConsumedCapacity {
				*reported.CapacityUnits += aws.ToFloat64(cc.CapacityUnits)
			}
		}
	}
	if err != nil {
		if !conditionFailed(err) {
			return capacity{}
		}
		// A write whose condition failed takes the units of the item it
		// was checked against, and writes nothing.
		return capacity{write: units(size(c.old), writeUnitBytes)}
	}
	switch c.kind {
	case opGet:
		c.old = returned
	case opPut, opDelete:
		if c.returnValues == types.ReturnValueAllOld {
			c.old = returned
		}
	case opUpdate:
		switch c.returnValues {
		case types.ReturnValueAllNew:
			c.new = returned
		case types.ReturnValueAllOld:
			c.old = returned
		}
		if c.new == nil && reported == nil {
			c.new = t.readBack(ctx, c.table, c.key)
		}
	}
	t.remember(c, read)
	t.rememberBatch(batch)
	if reported != nil && reported.CapacityUnits != nil {
		return fromReport(c.kind, reported)
	}
	if c.kind == opBatchGet {
		return computeBatch(c.batch, batch)
	}
	return t.compute(c, read)
}

// computeBatch is a batch read's units: each item found, read on its
// own. A key not found takes nothing (as DynamoDB Local reports it; a
// GetItem of a missing item takes a read).
func computeBatch(asked map[string]types.KeysAndAttributes, found map[string][]item) capacity {
	var c capacity
	for table, items := range found {
		for _, it := range items {
			c.read += readUnits(size(it), aws.ToBool(asked[table].ConsistentRead))
		}
	}
	return c
}

// fromReport takes DynamoDB's own figures.
func fromReport(kind opKind, r *types.ConsumedCapacity) capacity {
	total := aws.ToFloat64(r.CapacityUnits)
	if kind == opGet || kind == opQuery || kind == opBatchGet {
		return capacity{read: total, reported: true}
	}
	c := capacity{write: total, reported: true}
	for _, ix := range r.GlobalSecondaryIndexes {
		c.indexWrite += aws.ToFloat64(ix.CapacityUnits)
	}
	return c
}

// compute applies DynamoDB's rules to the items before and after.
func (t *tables) compute(c *dynamoCall, read []item) capacity {
	switch c.kind {
	case opGet:
		return capacity{read: readUnits(size(c.old), c.consistent)}
	case opQuery:
		t.mu.Lock()
		schema := t.schemas[c.table]
		t.mu.Unlock()
		ix, _ := schema.index(c.index)
		total := 0
		for _, it := range read {
			// An emulator may answer with the whole item; DynamoDB reads
			// the entry the index holds.
			total += size(ix.entry(schema, it))
		}
		return capacity{read: readUnits(total, c.consistent)}
	}
	before, after := c.old, c.new
	if c.kind == opDelete {
		after = nil
	}
	out := capacity{write: units(max(size(before), size(after)), writeUnitBytes)}
	t.mu.Lock()
	schema := t.schemas[c.table]
	t.mu.Unlock()
	for _, ix := range schema.indexes {
		out.indexWrite += ix.writeUnits(schema, before, after)
	}
	out.write += out.indexWrite
	return out
}

// writeUnits is what a write takes in the index, going from before to
// after.
func (ix indexSchema) writeUnits(t tableSchema, before, after item) float64 {
	was, is := ix.entry(t, before), ix.entry(t, after)
	switch {
	case was == nil && is == nil:
		return 0
	case was == nil:
		return units(size(is), writeUnitBytes)
	case is == nil:
		return units(size(was), writeUnitBytes)
	case !reflect.DeepEqual(was[ix.pk], is[ix.pk]) || ix.sk != "" && !reflect.DeepEqual(was[ix.sk], is[ix.sk]):
		return units(size(was), writeUnitBytes) + units(size(is), writeUnitBytes)
	case reflect.DeepEqual(was, is):
		return 0
	}
	return units(max(size(was), size(is)), writeUnitBytes)
}

// entry is the item's entry in the index (nil when the item lacks the
// index's keys; the item itself for the table, the index of no name).
func (ix indexSchema) entry(t tableSchema, it item) item {
	if ix.name == "" {
		return it
	}
	if it == nil || it[ix.pk] == nil || ix.sk != "" && it[ix.sk] == nil {
		return nil
	}
	if ix.projection == types.ProjectionTypeAll || ix.projection == "" {
		return it
	}
	keep := append([]string{t.pk, t.sk, ix.pk, ix.sk}, ix.include...)
	out := item{}
	for _, k := range keep {
		if v, ok := it[k]; ok && k != "" {
			out[k] = v
		}
	}
	return out
}

func units(bytes, per int) float64 {
	return max(1, math.Ceil(float64(bytes)/float64(per)))
}

func readUnits(bytes int, consistent bool) float64 {
	u := units(bytes, readUnitBytes)
	if !consistent {
		u /= 2
	}
	return u
}

func conditionFailed(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && (strings.Contains(ae.ErrorCode(), "ConditionalCheckFailed") || ae.ErrorCode() == "TransactionCanceledException")
}

// learn notes a table's keys and indexes.
func (t *tables) learn(in *dynamodb.CreateTableInput) {
	var s tableSchema
	keys := func(ks []types.KeySchemaElement) (pk, sk string) {
		for _, k := range ks {
			if k.KeyType == types.KeyTypeHash {
				pk = aws.ToString(k.AttributeName)
			} else {
				sk = aws.ToString(k.AttributeName)
			}
		}
		return pk, sk
	}
	s.pk, s.sk = keys(in.KeySchema)
	for _, g := range in.GlobalSecondaryIndexes {
		ix := indexSchema{name: aws.ToString(g.IndexName)}
		ix.pk, ix.sk = keys(g.KeySchema)
		if g.Projection != nil {
			ix.projection, ix.include = g.Projection.ProjectionType, g.Projection.NonKeyAttributes
		}
		s.indexes = append(s.indexes, ix)
	}
	t.mu.Lock()
	t.schemas[aws.ToString(in.TableName)] = s
	t.mu.Unlock()
}

// keyOf is the item's primary key (nil for a table it does not know).
func (t *tables) keyOf(table string, it item) item {
	t.mu.Lock()
	s, ok := t.schemas[table]
	t.mu.Unlock()
	if !ok {
		return nil
	}
	return s.keyOf(it)
}

func (s tableSchema) keyOf(it item) item {
	k := item{s.pk: it[s.pk]}
	if s.sk != "" {
		k[s.sk] = it[s.sk]
	}
	return k
}

// id names an item by its table and key.
func id(table string, key item) string {
	var b strings.Builder
	b.WriteString(table)
	names := make([]string, 0, len(key))
	for k := range key {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		b.WriteString("\x00" + k + "=")
		if s, ok := key[k].(*types.AttributeValueMemberS); ok {
			b.WriteString(s.Value)
		} else if n, ok := key[k].(*types.AttributeValueMemberN); ok {
			b.WriteString(n.Value)
		}
	}
	return b.String()
}

func (t *tables) shadow(table string, key item) item {
	if key == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.items[id(table, key)]
}

// remember keeps the items as the call left them.
func (t *tables) remember(c *dynamoCall, read []item) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c.kind == opQuery {
		if c.projected {
			return
		}
		s, ok := t.schemas[c.table]
		if !ok {
			return
		}
		for _, it := range read {
			if c.index != "" && !s.projectsAll(c.index) {
				continue
			}
			t.items[id(c.table, s.keyOf(it))] = it
		}
		return
	}
	if c.key == nil {
		return
	}
	k := id(c.table, c.key)
	switch {
	case c.kind == opDelete:
		delete(t.items, k)
	case c.kind == opGet && c.old == nil:
		delete(t.items, k)
	case c.kind == opGet:
		t.items[k] = c.old
	case c.new != nil:
		t.items[k] = c.new
	}
}

func (s tableSchema) projectsAll(index string) bool {
	ix, ok := s.index(index)
	return ok && ix.projection == types.ProjectionTypeAll
}

// index is the table's index of that name (the table itself, the index of
// no name, for "").
func (s tableSchema) index(name string) (indexSchema, bool) {
	for _, ix := range s.indexes {
		if ix.name == name && name != "" {
			return ix, true
		}
	}
	return indexSchema{}, false
}

// rememberBatch keeps the items a batch read found.
func (t *tables) rememberBatch(found map[string][]item) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for table, items := range found {
		s, ok := t.schemas[table]
		if !ok {
			continue
		}
		for _, it := range items {
			t.items[id(table, s.keyOf(it))] = it
		}
	}
}

// readBack reads an item after a write that returned none of it, to know
// its size (only where the backend reports no capacity).
func (t *tables) readBack(ctx context.Context, table string, key item) item {
	t.mu.Lock()
	peek := t.peek
	t.mu.Unlock()
	if peek == nil || key == nil {
		return nil
	}
	out, err := peek.GetItem(context.WithoutCancel(ctx), &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil
	}
	return out.Item
}

// size is an item's size by DynamoDB's rules
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
// each attribute's name and value in bytes; numbers take a byte per two
// significant digits and one; lists and maps three bytes and one per
// element; booleans and nulls one.
func size(it item) int {
	n := 0
	for name, v := range it {
		n += len(name) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return numberSize(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		return sum(v.Value, func(e string) int { return len(e) })
	case *types.AttributeValueMemberNS:
		return sum(v.Value, numberSize)
	case *types.AttributeValueMemberBS:
		return sum(v.Value, func(e []byte) int { return len(e) })
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += 1 + len(k) + valueSize(e)
		}
		return n
	}
	return 0
}

func sum[T any](xs []T, size func(T) int) int {
	n := 0
	for _, x := range xs {
		n += size(x)
	}
	return n
}

// numberSize is a number's size as DynamoDB bills it: a byte per two
// significant digits of its mantissa, plus one. It allocates nothing: the
// meter measures every call of a load run, in the process it measures.
func numberSize(s string) int {
	digits, first, last := 0, -1, -1 // the digits, and the first and last nonzero among them
	for _, c := range s {
		if c == 'e' || c == 'E' {
			break
		}
		if c < '0' || c > '9' {
			continue
		}
		if c != '0' {
			if first < 0 {
				first = digits
			}
			last = digits
		}
		digits++
	}
	n := 0
	if first >= 0 {
		n = last - first + 1
	}
	return (n+1)/2 + 1
}

// kinds names the kinds of items a DynamoDB call touches, for the
// report's count by item: each key's sort key up to its first '#'
// ("DELIVERY", "ERASED"), joined by '+' in a transaction or a batch read
// ("DELIVERY+ERASED"); "" for a query, a scan or a table without a sort
// key.
func (t *tables) kinds(params any) string {
	var keys []struct {
		table string
		key   item
	}
	add := func(table *string, k item) {
		if table != nil {
			keys = append(keys, struct {
				table string
				key   item
			}{*table, k})
		}
	}
	switch v := params.(type) {
	case *dynamodb.GetItemInput:
		add(v.TableName, v.Key)
	case *dynamodb.PutItemInput:
		add(v.TableName, v.Item)
	case *dynamodb.UpdateItemInput:
		add(v.TableName, v.Key)
	case *dynamodb.DeleteItemInput:
		add(v.TableName, v.Key)
	case *dynamodb.BatchGetItemInput:
		for table, ka := range v.RequestItems {
			for _, k := range ka.Keys {
				add(&table, k)
			}
		}
	case *dynamodb.TransactWriteItemsInput:
		for _, it := range v.TransactItems {
			switch {
			case it.Put != nil:
				add(it.Put.TableName, it.Put.Item)
			case it.Update != nil:
				add(it.Update.TableName, it.Update.Key)
			case it.Delete != nil:
				add(it.Delete.TableName, it.Delete.Key)
			case it.ConditionCheck != nil:
				add(it.ConditionCheck.TableName, it.ConditionCheck.Key)
			}
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var names []string
	for _, k := range keys {
		sk, _ := k.key[t.schemas[k.table].sk].(*types.AttributeValueMemberS)
		if sk == nil {
			continue
		}
		name, _, _ := strings.Cut(sk.Value, "#")
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return strings.Join(names, "+")
}

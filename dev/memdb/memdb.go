// Package memdb is an in-memory DynamoDB for the deterministic simulator
// and for tests that need DynamoDB's semantics without a process: tables
// with a hash and range key, global secondary indexes (sparse, with their
// projections), condition, update, key condition, filter and projection
// expressions, conditional writes, BatchGetItem and TransactWriteItems
// (all or nothing, with cancellation reasons). It answers with the AWS
// SDK's own error types, so code that classifies DynamoDB's errors reads
// them as it reads DynamoDB's.
//
// It keeps no clock and starts no goroutine: every call is done when it
// returns, and the same calls in the same order give the same answers,
// which is what a seeded simulation needs. TTL is not applied (items
// expire in days; a simulation lasts minutes). Indexes are read as of
// the call unless Lag is set: then the reads DynamoDB serves eventually
// consistent (indexes, and reads without ConsistentRead) see the table as
// it was a while ago, as DynamoDB's may.
package memdb

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// DB is a set of in-memory tables. It is safe for concurrent use: each
// call holds one lock.
type DB struct {
	mu     sync.Mutex
	tables map[string]*table
	// Calls counts the calls made, by operation name.
	calls map[string]int
	// watch is called after each write (Watch).
	watch func(table, pk, sk string, it map[string]types.AttributeValue)
	// lag, when set, has eventually consistent reads see the past (Lag).
	lag *lagging
}

type index struct {
	name, pk, sk string
	projection   types.ProjectionType
	include      []string
}

type table struct {
	name    string
	pk, sk  string
	indexes map[string]index
	items   map[string]map[string]item // pk value → sk value → item
	// past holds the recent versions of the items written since Lag was
	// set, oldest first, for the reads that lag.
	past map[[2]string][]version
	// swept is how many keys past held after its last sweep (forget).
	swept int
}

// New returns an empty DB.
func New() *DB { return &DB{tables: map[string]*table{}, calls: map[string]int{}} }

// Calls returns how many calls of each operation were made.
func (db *DB) Calls() map[string]int {
	db.mu.Lock()
	defer db.mu.Unlock()
	out := make(map[string]int, len(db.calls))
	for k, v := range db.calls {
		out[k] = v
	}
	return out
}

// Watch has f called after every write to a table (PutItem, UpdateItem,
// DeleteItem, each write of a transaction), in the order of the writes,
// under the DB's lock: the table, the item's key and the item as stored
// (nil: deleted). It lets a caller keep its own view of a table up to
// date without reading the table. f must not call the DB nor change the
// item (stored items are never changed in place: a write stores a new
// one).
func (db *DB) Watch(f func(table, pk, sk string, it map[string]types.AttributeValue)) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.watch = f
}

// store puts an item into a table and tells the watcher.
func (db *DB) store(t *table, pk, sk string, it item) {
	db.remember(t, pk, sk, it)
	t.put(pk, sk, it)
	if db.watch != nil {
		db.watch(t.name, pk, sk, it)
	}
}

// remove deletes an item from a table and tells the watcher.
func (db *DB) remove(t *table, pk, sk string) {
	db.remember(t, pk, sk, nil)
	t.del(pk, sk)
	if db.watch != nil {
		db.watch(t.name, pk, sk, nil)
	}
}

func validation(format string, a ...any) error {
	return &smithy.GenericAPIError{Code: "ValidationException", Message: fmt.Sprintf(format, a...), Fault: smithy.FaultClient}
}

func conditionFailed(old item, returnOld bool) error {
	e := &types.ConditionalCheckFailedException{Message: ptr("The conditional request failed")}
	if returnOld {
		e.Item = clone(old)
	}
	return e
}

func ptr[T any](v T) *T { return &v }

func (db *DB) table(name *string) (*table, error) {
	if name == nil {
		return nil, validation("TableName is required")
	}
	t, ok := db.tables[*name]
	if !ok {
		return nil, &types.ResourceNotFoundException{Message: ptr("Requested resource not found: table " + *name)}
	}
	return t, nil
}

func str(v types.AttributeValue) (string, bool) {
	s, ok := v.(*types.AttributeValueMemberS)
	if !ok {
		return "", false
	}
	return s.Value, true
}

// keyOf reads the item's primary key.
func (t *table) keyOf(it item) (string, string, error) {
	pk, ok1 := str(it[t.pk])
	sk, ok2 := str(it[t.sk])
	if !ok1 || !ok2 {
		return "", "", validation("the item's key (%s, %s) must be two strings", t.pk, t.sk)
	}
	return pk, sk, nil
}

func (t *table) get(pk, sk string) item {
	return t.items[pk][sk]
}

func (t *table) put(pk, sk string, it item) {
	if t.items[pk] == nil {
		t.items[pk] = map[string]item{}
	}
	t.items[pk][sk] = it
}

func (t *table) del(pk, sk string) {
	delete(t.items[pk], sk)
	if len(t.items[pk]) == 0 {
		delete(t.items, pk)
	}
}

func scopeOf(names map[string]string, values map[string]types.AttributeValue) scope {
	return scope{names: names, values: values}
}

// check evaluates an optional condition expression on an item.
func check(sc scope, expr *string, it item) (bool, error) {
	if expr == nil || *expr == "" {
		return true, nil
	}
	c, err := sc.parseCond(*expr)
	if err != nil {
		return false, validation("Invalid ConditionExpression: %v", err)
	}
	ok, err := holds(it, c)
	if err != nil {
		return false, validation("Invalid ConditionExpression: %v", err)
	}
	return ok, nil
}

func (db *DB) count(op string) {
	db.calls[op]++
}

// GetItem reads one item.
func (db *DB) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.count("GetItem")
	t, err := db.table(in.TableName)
	if err != nil {
		return nil, err
	}
	pk, sk, err := t.keyOf(in.Key)
	if err != nil {
		return nil, err
	}
	it := t.itemAt(pk, sk, db.asOf(aws.ToBool(in.ConsistentRead)))
	if it == nil {
		return &dynamodb.GetItemOutput{}, nil
	}
	out, err := project(scopeOf(in.ExpressionAttributeNames, nil), in.ProjectionExpression, it)
	return &dynamodb.GetItemOutput{Item: out}, err
}

func project(sc scope, expr *string, it item) (item, error) {
	if expr == nil || *expr == "" {
		return clone(it), nil
	}
	names, err := sc.parseProjection(*expr)
	if err != nil {
		return nil, validation("Invalid ProjectionExpression: %v", err)
	}
	out := item{}
	for _, n := range names {
		if v, ok := it[n]; ok {
			out[n] = v
		}
	}
	return out, nil
}

// PutItem writes an item if its condition holds.
func (db *DB) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.count("PutItem")
	old, err := db.put(in.TableName, in.Item, scopeOf(in.ExpressionAttributeNames, in.ExpressionAttributeValues), in.ConditionExpression, true)
	if err != nil {
		return nil, err
	}
	out := &dynamodb.PutItemOutput{}
	if in.ReturnValues == types.ReturnValueAllOld && old != nil {
		out.Attributes = clone(old)
	}
	return out, nil
}

// checked finds the item a write names and holds its condition to it:
// the table, the key, the item as it is (nil: none), or the error
// (ConditionalCheckFailed when the condition does not hold).
func (db *DB) checked(name *string, key item, sc scope, condExpr *string) (*table, string, string, item, error) {
	t, err := db.table(name)
	if err != nil {
		return nil, "", "", nil, err
	}
	pk, sk, err := t.keyOf(key)
	if err != nil {
		return nil, "", "", nil, err
	}
	old := t.get(pk, sk)
	ok, err := check(sc, condExpr, old)
	if err != nil {
		return nil, "", "", nil, err
	}
	if !ok {
		return nil, "", "", old, conditionFailed(old, false)
	}
	return t, pk, sk, old, nil
}

func (db *DB) put(name *string, it item, sc scope, condExpr *string, write bool) (item, error) {
	t, pk, sk, old, err := db.checked(name, it, sc, condExpr)
	if err != nil {
		return old, err
	}
	for _, ix := range t.indexes {
		for _, a := range []string{ix.pk, ix.sk} {
			if v, ok := it[a]; ok {
				if _, isS := str(v); !isS {
					return nil, validation("the index %s's key %s must be a string", ix.name, a)
				}
			}
		}
	}
	if write {
		db.store(t, pk, sk, clone(it))
	}
	return old, nil
}

// UpdateItem changes an item (creating it) if its condition holds.
func (db *DB) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.count("UpdateItem")
	old, nu, err := db.update(in.TableName, in.Key, scopeOf(in.ExpressionAttributeNames, in.ExpressionAttributeValues), in.UpdateExpression, in.ConditionExpression, true)
	if err != nil {
		return nil, err
	}
	out := &dynamodb.UpdateItemOutput{}
	switch in.ReturnValues {
	case types.ReturnValueAllNew:
		out.Attributes = clone(nu)
	case types.ReturnValueAllOld:
		if old != nil {
			out.Attributes = clone(old)
		}
	}
	return out, nil
}

func (db *DB) update(name *string, key item, sc scope, updExpr, condExpr *string, write bool) (item, item, error) {
	t, pk, sk, old, err := db.checked(name, key, sc, condExpr)
	if err != nil {
		return old, nil, err
	}
	base := old
	if base == nil {
		base = clone(key)
	}
	nu := clone(base)
	if updExpr != nil && *updExpr != "" {
		acts, err := sc.parseUpdate(*updExpr)
		if err != nil {
			return nil, nil, validation("Invalid UpdateExpression: %v", err)
		}
		for _, a := range acts {
			if a.name == t.pk || a.name == t.sk {
				return nil, nil, validation("Cannot update attribute %s. This attribute is part of the key", a.name)
			}
		}
		if nu, err = apply(base, acts); err != nil {
			return nil, nil, validation("Invalid UpdateExpression: %v", err)
		}
	}
	if write {
		db.store(t, pk, sk, nu)
	}
	return old, nu, nil
}

// DeleteItem deletes an item if its condition holds.
func (db *DB) DeleteItem(_ context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.count("DeleteItem")
	old, err := db.del(in.TableName, in.Key, scopeOf(in.ExpressionAttributeNames, in.ExpressionAttributeValues), in.ConditionExpression, true)
	if err != nil {
		return nil, err
	}
	out := &dynamodb.DeleteItemOutput{}
	if in.ReturnValues == types.ReturnValueAllOld && old != nil {
		out.Attributes = clone(old)
	}
	return out, nil
}

func (db *DB) del(name *string, key item, sc scope, condExpr *string, write bool) (item, error) {
	t, pk, sk, old, err := db.checked(name, key, sc, condExpr)
	if err != nil {
		return old, err
	}
	if write && old != nil {
		db.remove(t, pk, sk)
	}
	return old, nil
}

// BatchGetItem reads up to 100 items; it never leaves keys unprocessed.
func (db *DB) BatchGetItem(_ context.Context, in *dynamodb.BatchGetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.count("BatchGetItem")
	out := &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{}}
	n := 0
	for name, ka := range in.RequestItems {
		t, err := db.table(&name)
		if err != nil {
			return nil, err
		}
		at := db.asOf(aws.ToBool(ka.ConsistentRead))
		for _, k := range ka.Keys {
			n++
			pk, sk, err := t.keyOf(k)
			if err != nil {
				return nil, err
			}
			if it := t.itemAt(pk, sk, at); it != nil {
				p, err := project(scopeOf(ka.ExpressionAttributeNames, nil), ka.ProjectionExpression, it)
				if err != nil {
					return nil, err
				}
				out.Responses[name] = append(out.Responses[name], p)
			}
		}
	}
	if n > 100 {
		return nil, validation("Too many items requested for the BatchGetItem call")
	}
	return out, nil
}

// TransactWriteItems applies up to 100 writes and checks, all or none: if
// any condition fails, nothing is written and the error is a
// TransactionCanceledException whose reasons say which.
func (db *DB) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.count("TransactWriteItems")
	if len(in.TransactItems) == 0 || len(in.TransactItems) > 100 {
		return nil, validation("TransactItems must have 1 to 100 items")
	}
	reasons := make([]types.CancellationReason, len(in.TransactItems))
	failed := false
	for i, ti := range in.TransactItems {
		err := db.transactOne(ti, false)
		var cf *types.ConditionalCheckFailedException
		switch {
		case errors.As(err, &cf):
			failed = true
			reasons[i] = types.CancellationReason{Code: ptr("ConditionalCheckFailed"), Message: cf.Message}
		case err != nil:
			return nil, err
		default:
			reasons[i] = types.CancellationReason{Code: ptr("None")}
		}
	}
	if failed {
		return nil, &types.TransactionCanceledException{Message: ptr("Transaction cancelled, please refer cancellation reasons for specific reasons"), CancellationReasons: reasons}
	}
	for _, ti := range in.TransactItems {
		if err := db.transactOne(ti, true); err != nil {
			return nil, err
		}
	}
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

func (db *DB) transactOne(ti types.TransactWriteItem, write bool) error {
	switch {
	case ti.Put != nil:
		p := ti.Put
		_, err := db.put(p.TableName, p.Item, scopeOf(p.ExpressionAttributeNames, p.ExpressionAttributeValues), p.ConditionExpression, write)
		return err
	case ti.Update != nil:
		u := ti.Update
		_, _, err := db.update(u.TableName, u.Key, scopeOf(u.ExpressionAttributeNames, u.ExpressionAttributeValues), u.UpdateExpression, u.ConditionExpression, write)
		return err
	case ti.Delete != nil:
		d := ti.Delete
		_, err := db.del(d.TableName, d.Key, scopeOf(d.ExpressionAttributeNames, d.ExpressionAttributeValues), d.ConditionExpression, write)
		return err
	case ti.ConditionCheck != nil:
		c := ti.ConditionCheck
		_, _, _, _, err := db.checked(c.TableName, c.Key, scopeOf(c.ExpressionAttributeNames, c.ExpressionAttributeValues), c.ConditionExpression)
		return err
	}
	return validation("a TransactWriteItem needs one of Put, Update, Delete, ConditionCheck")
}

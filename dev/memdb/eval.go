package memdb

import (
	"bytes"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// resolve is an operand's value on the item (nil: the attribute is
// missing).
func resolve(it item, o operand) (types.AttributeValue, error) {
	switch {
	case o.value != nil:
		return o.value, nil
	case o.fn == "if_not_exists":
		if len(o.args) != 2 {
			return nil, fmt.Errorf("if_not_exists takes two operands")
		}
		if v, _ := resolve(it, o.args[0]); v != nil {
			return v, nil
		}
		return resolve(it, o.args[1])
	case o.fn == "+" || o.fn == "-":
		a, err := resolve(it, o.args[0])
		if err != nil {
			return nil, err
		}
		b, err := resolve(it, o.args[1])
		if err != nil {
			return nil, err
		}
		x, ok1 := number(a)
		y, ok2 := number(b)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("an operand of %s is not a number", o.fn)
		}
		if o.fn == "+" {
			return numberValue(new(big.Rat).Add(x, y)), nil
		}
		return numberValue(new(big.Rat).Sub(x, y)), nil
	case o.fn == "size":
		v, err := resolve(it, o.args[0])
		if err != nil || v == nil {
			return nil, err
		}
		return &types.AttributeValueMemberN{Value: fmt.Sprint(size(v))}, nil
	}
	return at(it[o.name], o.path), nil
}

// at is the value below v at path (nil: missing).
func at(v types.AttributeValue, path []string) types.AttributeValue {
	for _, p := range path {
		m, ok := v.(*types.AttributeValueMemberM)
		if !ok {
			return nil
		}
		v = m.Value[p]
	}
	return v
}

// setAt returns v with the value at path set (nv nil: removed); a missing
// map on the way is an error, as in DynamoDB.
func setAt(v types.AttributeValue, path []string, nv types.AttributeValue) (types.AttributeValue, error) {
	if len(path) == 0 {
		return nv, nil
	}
	m, ok := v.(*types.AttributeValueMemberM)
	if !ok {
		if nv == nil {
			return v, nil
		}
		return nil, fmt.Errorf("the document path provided in the update expression is invalid for update")
	}
	out := make(map[string]types.AttributeValue, len(m.Value)+1)
	for k, x := range m.Value {
		out[k] = x
	}
	child, err := setAt(m.Value[path[0]], path[1:], nv)
	if err != nil {
		return nil, err
	}
	if child == nil {
		delete(out, path[0])
	} else {
		out[path[0]] = child
	}
	return &types.AttributeValueMemberM{Value: out}, nil
}

func size(v types.AttributeValue) int {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return len(x.Value)
	case *types.AttributeValueMemberB:
		return len(x.Value)
	case *types.AttributeValueMemberL:
		return len(x.Value)
	case *types.AttributeValueMemberM:
		return len(x.Value)
	case *types.AttributeValueMemberSS:
		return len(x.Value)
	case *types.AttributeValueMemberNS:
		return len(x.Value)
	}
	return 0
}

func number(v types.AttributeValue) (*big.Rat, bool) {
	n, ok := v.(*types.AttributeValueMemberN)
	if !ok {
		return nil, false
	}
	return new(big.Rat).SetString(n.Value)
}

func numberValue(r *big.Rat) types.AttributeValue {
	if r.IsInt() {
		return &types.AttributeValueMemberN{Value: r.Num().String()}
	}
	return &types.AttributeValueMemberN{Value: strings.TrimRight(strings.TrimRight(r.FloatString(20), "0"), ".")}
}

// compare orders two scalars of one type: -1, 0, 1; ok is false when they
// cannot be compared (different types, or not scalars).
func compare(a, b types.AttributeValue) (int, bool) {
	switch x := a.(type) {
	case *types.AttributeValueMemberS:
		y, ok := b.(*types.AttributeValueMemberS)
		if !ok {
			return 0, false
		}
		return strings.Compare(x.Value, y.Value), true
	case *types.AttributeValueMemberN:
		nx, _ := number(a)
		ny, ok := number(b)
		if !ok || nx == nil {
			return 0, false
		}
		return nx.Cmp(ny), true
	case *types.AttributeValueMemberB:
		y, ok := b.(*types.AttributeValueMemberB)
		if !ok {
			return 0, false
		}
		return bytes.Compare(x.Value, y.Value), true
	}
	return 0, false
}

// equal is DynamoDB's equality of two values (sets unordered).
func equal(a, b types.AttributeValue) bool {
	if a == nil || b == nil {
		return false
	}
	if c, ok := compare(a, b); ok {
		return c == 0
	}
	switch x := a.(type) {
	case *types.AttributeValueMemberBOOL:
		y, ok := b.(*types.AttributeValueMemberBOOL)
		return ok && x.Value == y.Value
	case *types.AttributeValueMemberNULL:
		_, ok := b.(*types.AttributeValueMemberNULL)
		return ok
	case *types.AttributeValueMemberSS:
		y, ok := b.(*types.AttributeValueMemberSS)
		return ok && sameSet(x.Value, y.Value)
	case *types.AttributeValueMemberNS:
		y, ok := b.(*types.AttributeValueMemberNS)
		return ok && sameSet(x.Value, y.Value)
	case *types.AttributeValueMemberL:
		y, ok := b.(*types.AttributeValueMemberL)
		return ok && slices.EqualFunc(x.Value, y.Value, equal)
	case *types.AttributeValueMemberM:
		y, ok := b.(*types.AttributeValueMemberM)
		if !ok || len(x.Value) != len(y.Value) {
			return false
		}
		for k, v := range x.Value {
			if !equal(v, y.Value[k]) {
				return false
			}
		}
		return true
	}
	return false
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// holds evaluates a condition on an item (nil: no item).
func holds(it item, c *cond) (bool, error) {
	switch c.op {
	case "and", "or":
		l, err := holds(it, c.kids[0])
		if err != nil {
			return false, err
		}
		if c.op == "and" && !l || c.op == "or" && l {
			return l, nil
		}
		return holds(it, c.kids[1])
	case "not":
		v, err := holds(it, c.kids[0])
		return !v, err
	case "fn":
		return holdsFunc(it, c)
	}
	vals := make([]types.AttributeValue, len(c.args))
	for i, a := range c.args {
		v, err := resolve(it, a)
		if err != nil {
			return false, err
		}
		vals[i] = v
	}
	if vals[0] == nil {
		// A missing attribute is unequal to everything, and less or
		// greater than nothing.
		return c.op == "cmp" && c.cmp == "<>", nil
	}
	switch c.op {
	case "in":
		return slices.ContainsFunc(vals[1:], func(v types.AttributeValue) bool { return equal(vals[0], v) }), nil
	case "between":
		lo, ok1 := compare(vals[0], vals[1])
		hi, ok2 := compare(vals[0], vals[2])
		return ok1 && ok2 && lo >= 0 && hi <= 0, nil
	}
	if c.cmp == "=" {
		return equal(vals[0], vals[1]), nil
	}
	if c.cmp == "<>" {
		return vals[1] == nil || !equal(vals[0], vals[1]), nil
	}
	n, ok := compare(vals[0], vals[1])
	if !ok {
		return false, nil
	}
	switch c.cmp {
	case "<":
		return n < 0, nil
	case "<=":
		return n <= 0, nil
	case ">":
		return n > 0, nil
	}
	return n >= 0, nil
}

func holdsFunc(it item, c *cond) (bool, error) {
	v, err := resolve(it, c.args[0])
	if err != nil {
		return false, err
	}
	switch c.fn {
	case "attribute_exists":
		return v != nil, nil
	case "attribute_not_exists":
		return v == nil, nil
	}
	if len(c.args) != 2 {
		return false, fmt.Errorf("%s takes two operands", c.fn)
	}
	arg, err := resolve(it, c.args[1])
	if err != nil || v == nil || arg == nil {
		return false, err
	}
	switch c.fn {
	case "begins_with":
		s, ok1 := v.(*types.AttributeValueMemberS)
		p, ok2 := arg.(*types.AttributeValueMemberS)
		return ok1 && ok2 && strings.HasPrefix(s.Value, p.Value), nil
	case "contains":
		switch x := v.(type) {
		case *types.AttributeValueMemberS:
			p, ok := arg.(*types.AttributeValueMemberS)
			return ok && strings.Contains(x.Value, p.Value), nil
		case *types.AttributeValueMemberSS:
			p, ok := arg.(*types.AttributeValueMemberS)
			return ok && slices.Contains(x.Value, p.Value), nil
		case *types.AttributeValueMemberL:
			return slices.ContainsFunc(x.Value, func(e types.AttributeValue) bool { return equal(e, arg) }), nil
		}
		return false, nil
	}
	return false, fmt.Errorf("function %s is not supported", c.fn)
}

// apply applies update actions to a copy of the item.
func apply(old item, acts []action) (item, error) {
	it := clone(old)
	for _, a := range acts {
		switch a.kind {
		case "SET":
			v, err := resolve(old, a.value)
			if err != nil {
				return nil, err
			}
			if v == nil {
				return nil, fmt.Errorf("the value for %s names a missing attribute", a.name)
			}
			if err := put(it, a, v); err != nil {
				return nil, err
			}
		case "REMOVE":
			if len(a.path) == 0 {
				delete(it, a.name)
			} else if cur, ok := it[a.name]; ok {
				nv, _ := setAt(cur, a.path, nil)
				it[a.name] = nv
			}
		case "ADD", "DELETE":
			v, err := resolve(old, a.value)
			if err != nil {
				return nil, err
			}
			if len(a.path) > 0 {
				return nil, fmt.Errorf("%s takes a top-level attribute", a.kind)
			}
			nv, err := addOrDelete(a.kind, it[a.name], v)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", a.kind, a.name, err)
			}
			if nv == nil {
				delete(it, a.name)
			} else {
				it[a.name] = nv
			}
		}
	}
	return it, nil
}

func put(it item, a action, v types.AttributeValue) error {
	if len(a.path) == 0 {
		it[a.name] = v
		return nil
	}
	nv, err := setAt(it[a.name], a.path, v)
	if err != nil {
		return err
	}
	it[a.name] = nv
	return nil
}

func addOrDelete(kind string, cur, v types.AttributeValue) (types.AttributeValue, error) {
	switch x := v.(type) {
	case *types.AttributeValueMemberN:
		if kind == "DELETE" {
			return nil, fmt.Errorf("DELETE takes a set")
		}
		if cur == nil {
			return x, nil
		}
		a, ok := number(cur)
		if !ok {
			return nil, fmt.Errorf("the attribute is not a number")
		}
		b, _ := number(x)
		return numberValue(new(big.Rat).Add(a, b)), nil
	case *types.AttributeValueMemberSS:
		var have []string
		if cur != nil {
			c, ok := cur.(*types.AttributeValueMemberSS)
			if !ok {
				return nil, fmt.Errorf("the attribute is not a string set")
			}
			have = slices.Clone(c.Value)
		}
		for _, s := range x.Value {
			i := slices.Index(have, s)
			switch {
			case kind == "ADD" && i < 0:
				have = append(have, s)
			case kind == "DELETE" && i >= 0:
				have = slices.Delete(have, i, i+1)
			}
		}
		if len(have) == 0 {
			return nil, nil
		}
		return &types.AttributeValueMemberSS{Value: have}, nil
	}
	return nil, fmt.Errorf("ADD and DELETE take a number or a string set")
}

func clone(it item) item {
	out := make(item, len(it))
	for k, v := range it {
		out[k] = v
	}
	return out
}

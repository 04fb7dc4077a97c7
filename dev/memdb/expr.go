package memdb

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// An expression is parsed into a small tree: conditions (and key
// conditions and filters, which share their grammar) and updates.

type item = map[string]types.AttributeValue

// operand is a path (a top-level attribute name), a value placeholder, or
// a function of operands (if_not_exists, size, a + b).
type operand struct {
	name string   // top-level attribute name, after #placeholder substitution
	path []string // the names below it (a.b.c: [b c]), for maps

	value types.AttributeValue
	fn    string // "if_not_exists", "+", "-", "size"
	args  []operand
}

// cond is a condition tree node.
type cond struct {
	op   string // "and", "or", "not", "cmp", "in", "between", "fn"
	cmp  string // =, <>, <, <=, >, >=
	fn   string // attribute_exists, attribute_not_exists, begins_with, contains
	kids []*cond
	args []operand
}

type lexer struct {
	toks []string
	pos  int
}

func lex(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		c := rune(s[i])
		switch {
		case unicode.IsSpace(c):
			i++
		case strings.ContainsRune("(),+-", c):
			out = append(out, string(c))
			i++
		case c == '<' || c == '>' || c == '=':
			if i+1 < len(s) && (s[i+1] == '=' || (c == '<' && s[i+1] == '>')) {
				out = append(out, s[i:i+2])
				i += 2
			} else {
				out = append(out, string(c))
				i++
			}
		default:
			j := i
			for j < len(s) && !unicode.IsSpace(rune(s[j])) && !strings.ContainsRune("(),+-<>=", rune(s[j])) {
				j++
			}
			out = append(out, s[i:j])
			i = j
		}
	}
	return out
}

func (l *lexer) peek() string {
	if l.pos < len(l.toks) {
		return l.toks[l.pos]
	}
	return ""
}

func (l *lexer) next() string {
	t := l.peek()
	l.pos++
	return t
}

func (l *lexer) expect(t string) error {
	if got := l.next(); got != t {
		return fmt.Errorf("expected %q, got %q", t, got)
	}
	return nil
}

// scope resolves placeholders.
type scope struct {
	names  map[string]string
	values map[string]types.AttributeValue
}

func (sc scope) operand(l *lexer) (operand, error) {
	t := l.next()
	var o operand
	switch {
	case strings.EqualFold(t, "if_not_exists") || strings.EqualFold(t, "size"):
		o.fn = strings.ToLower(t)
		args, err := sc.list(l)
		if err != nil {
			return o, err
		}
		o.args = args
	case strings.HasPrefix(t, ":"):
		v, ok := sc.values[t]
		if !ok {
			return o, fmt.Errorf("value %s is not defined", t)
		}
		o.value = v
	case t == "" || strings.ContainsAny(t, "()[]"):
		return o, fmt.Errorf("unexpected %q", t)
	default:
		for i, part := range strings.Split(t, ".") {
			if strings.HasPrefix(part, "#") {
				n, ok := sc.names[part]
				if !ok {
					return o, fmt.Errorf("name %s is not defined", part)
				}
				part = n
			}
			if part == "" {
				return o, fmt.Errorf("unexpected %q", t)
			}
			if i == 0 {
				o.name = part
			} else {
				o.path = append(o.path, part)
			}
		}
	}
	if p := l.peek(); p == "+" || p == "-" {
		l.next()
		rhs, err := sc.operand(l)
		if err != nil {
			return o, err
		}
		return operand{fn: p, args: []operand{o, rhs}}, nil
	}
	return o, nil
}

// list reads a parenthesised, comma-separated list of operands.
func (sc scope) list(l *lexer) ([]operand, error) {
	if err := l.expect("("); err != nil {
		return nil, err
	}
	var out []operand
	for {
		a, err := sc.operand(l)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
		if l.peek() != "," {
			return out, l.expect(")")
		}
		l.next()
	}
}

// parseCond parses a condition expression.
func (sc scope) parseCond(s string) (*cond, error) {
	l := &lexer{toks: lex(s)}
	c, err := sc.or(l)
	if err != nil {
		return nil, err
	}
	if l.pos != len(l.toks) {
		return nil, fmt.Errorf("unexpected %q", l.peek())
	}
	return c, nil
}

func (sc scope) or(l *lexer) (*cond, error) { return sc.chain(l, "OR", sc.and) }

func (sc scope) and(l *lexer) (*cond, error) { return sc.chain(l, "AND", sc.not) }

// chain reads operands of next joined by the keyword, left to right.
func (sc scope) chain(l *lexer, keyword string, next func(*lexer) (*cond, error)) (*cond, error) {
	left, err := next(l)
	if err != nil {
		return nil, err
	}
	for strings.EqualFold(l.peek(), keyword) {
		l.next()
		right, err := next(l)
		if err != nil {
			return nil, err
		}
		left = &cond{op: strings.ToLower(keyword), kids: []*cond{left, right}}
	}
	return left, nil
}

func (sc scope) not(l *lexer) (*cond, error) {
	if strings.EqualFold(l.peek(), "NOT") {
		l.next()
		c, err := sc.not(l)
		if err != nil {
			return nil, err
		}
		return &cond{op: "not", kids: []*cond{c}}, nil
	}
	return sc.atom(l)
}

var condFuncs = map[string]bool{"attribute_exists": true, "attribute_not_exists": true, "begins_with": true, "contains": true, "attribute_type": true}

func (sc scope) atom(l *lexer) (*cond, error) {
	if l.peek() == "(" {
		l.next()
		c, err := sc.or(l)
		if err != nil {
			return nil, err
		}
		return c, l.expect(")")
	}
	if f := strings.ToLower(l.peek()); condFuncs[f] {
		l.next()
		args, err := sc.list(l)
		return &cond{op: "fn", fn: f, args: args}, err
	}
	left, err := sc.operand(l)
	if err != nil {
		return nil, err
	}
	switch t := l.next(); {
	case t == "=" || t == "<>" || t == "<" || t == "<=" || t == ">" || t == ">=":
		right, err := sc.operand(l)
		return &cond{op: "cmp", cmp: t, args: []operand{left, right}}, err
	case strings.EqualFold(t, "IN"):
		args, err := sc.list(l)
		return &cond{op: "in", args: append([]operand{left}, args...)}, err
	case strings.EqualFold(t, "BETWEEN"):
		lo, err := sc.operand(l)
		if err != nil {
			return nil, err
		}
		if !strings.EqualFold(l.next(), "AND") {
			return nil, fmt.Errorf("BETWEEN needs AND")
		}
		hi, err := sc.operand(l)
		return &cond{op: "between", args: []operand{left, lo, hi}}, err
	default:
		return nil, fmt.Errorf("unexpected %q after an operand", t)
	}
}

// action is one clause of an update expression.
type action struct {
	kind  string // SET, REMOVE, ADD, DELETE
	name  string
	path  []string
	value operand
}

// parseUpdate parses an update expression.
func (sc scope) parseUpdate(s string) ([]action, error) {
	l := &lexer{toks: lex(s)}
	var out []action
	kind := ""
	for l.pos < len(l.toks) {
		switch t := strings.ToUpper(l.peek()); t {
		case "SET", "REMOVE", "ADD", "DELETE":
			kind = t
			l.next()
			continue
		case ",":
			l.next()
			continue
		}
		if kind == "" {
			return nil, fmt.Errorf("update expression must start with SET, REMOVE, ADD or DELETE")
		}
		target, err := sc.operand(l)
		if err != nil {
			return nil, err
		}
		if target.name == "" {
			return nil, fmt.Errorf("an update names an attribute first")
		}
		a := action{kind: kind, name: target.name, path: target.path}
		switch kind {
		case "SET":
			if err := l.expect("="); err != nil {
				return nil, err
			}
			if a.value, err = sc.operand(l); err != nil {
				return nil, err
			}
		case "ADD", "DELETE":
			if a.value, err = sc.operand(l); err != nil {
				return nil, err
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// parseProjection parses a projection expression into attribute names.
func (sc scope) parseProjection(s string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if strings.HasPrefix(p, "#") {
			n, ok := sc.names[p]
			if !ok {
				return nil, fmt.Errorf("name %s is not defined", p)
			}
			p = n
		}
		out = append(out, p)
	}
	return out, nil
}

package application

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/message"
)

// The event's schema is checked by this package's own validator of the
// part of JSON Schema 2020-12 that SchemaV1 uses (type, const, enum,
// format date-time and uri, $ref into $defs, required, properties,
// patternProperties, additionalProperties false, maxProperties, items,
// maxItems, minLength, maxLength, pattern, minimum, allOf, if/then),
// compiled from SchemaV1 at the first event (under 1 ms on this
// project's machine, mostly the patterns' counted repetitions; the general
// validator takes 3–5 ms for the same, BenchmarkCompileSchema*). A general
// validator (santhosh-tekuri/jsonschema) also compiles the metaschemas of
// five drafts when its package is initialised: 3–10 ms of every cold
// start of ingest and the worker, whether an event comes or not. The
// problems are worded as that library words them, and
// TestCheckAgreesWithJSONSchema holds this validator to it, problem for
// problem; a keyword this validator does not know makes compileSchema
// fail, so the schema cannot grow past it unnoticed.

// schemaNode is one compiled (sub)schema.
type schemaNode struct {
	types        []string // canonical order; nil: any type
	constant     *any
	enum         []any
	format       string
	ref          string // "#/$defs/<name>", resolved through defs
	defs         map[string]*schemaNode
	required     []string
	properties   map[string]*schemaNode
	patternProps []patternProperty
	closed       bool // additionalProperties: false
	maxProps     *int
	items        *schemaNode
	maxItems     *int
	minLength    *int
	maxLength    *int
	pattern      *regexp.Regexp
	minimum      *big.Rat
	allOf        []*schemaNode
	ifNode       *schemaNode
	thenNode     *schemaNode
}

type patternProperty struct {
	re   *regexp.Regexp
	node *schemaNode
}

// typeOrder is the order the library lists types in its messages.
var typeOrder = []string{"null", "boolean", "number", "integer", "string", "array", "object"}

// decodeJSON reads one JSON document with numbers kept as json.Number,
// as the library's UnmarshalJSON does (and with its errors).
func decodeJSON(r io.Reader) (any, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid character after top-level value")
	}
	return doc, nil
}

// compileSchema compiles a schema document of the subset above.
func compileSchema(doc any) (*schemaNode, error) {
	root, ok := doc.(map[string]any)
	if !ok {
		return nil, errors.New("the schema is not an object")
	}
	defs := map[string]*schemaNode{}
	if raw, ok := root["$defs"].(map[string]any); ok {
		// Every def first, so that $refs resolve whatever their order.
		for name := range raw {
			defs[name] = &schemaNode{}
		}
		for name, d := range raw {
			n, err := compileNode(d, defs, "#/$defs/"+name)
			if err != nil {
				return nil, err
			}
			*defs[name] = *n
		}
	}
	n, err := compileNode(root, defs, "#")
	if err != nil {
		return nil, err
	}
	return n, nil
}

// compileNode compiles the schema at loc.
func compileNode(v any, defs map[string]*schemaNode, loc string) (*schemaNode, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: a schema this validator reads is an object", loc)
	}
	n := &schemaNode{defs: defs}
	sub := func(key string, v any) (*schemaNode, error) { return compileNode(v, defs, loc+"/"+key) }
	for key, val := range obj {
		var err error
		switch key {
		case "$schema", "$id", "title", "description", "$defs":
		case "type":
			n.types, err = compileTypes(val)
		case "const":
			c := val
			n.constant = &c
		case "enum":
			list, ok := val.([]any)
			if !ok {
				err = errors.New("enum is not a list")
			}
			n.enum = list
		case "format":
			n.format, _ = val.(string)
			if n.format != "date-time" && n.format != "uri" {
				err = fmt.Errorf("format %v is not one this validator checks", val)
			}
		case "$ref":
			n.ref, _ = val.(string)
			if _, ok := defs[strings.TrimPrefix(n.ref, "#/$defs/")]; !ok || !strings.HasPrefix(n.ref, "#/$defs/") {
				err = fmt.Errorf("$ref %v is not one of the schema's $defs", val)
			}
		case "required":
			for _, r := range asList(val) {
				s, _ := r.(string)
				n.required = append(n.required, s)
			}
		case "properties":
			n.properties = map[string]*schemaNode{}
			props, _ := val.(map[string]any)
			for name, p := range props {
				if n.properties[name], err = sub(key+"/"+name, p); err != nil {
					return nil, err
				}
			}
		case "patternProperties":
			props, _ := val.(map[string]any)
			for expr, p := range props {
				re, err := regexp.Compile(expr)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", loc, err)
				}
				pn, err := sub(key+"/"+expr, p)
				if err != nil {
					return nil, err
				}
				n.patternProps = append(n.patternProps, patternProperty{re: re, node: pn})
			}
		case "additionalProperties":
			if b, ok := val.(bool); !ok || b {
				err = errors.New("additionalProperties other than false")
			}
			n.closed = true
		case "maxProperties":
			n.maxProps, err = compileInt(val)
		case "items":
			n.items, err = sub(key, val)
		case "maxItems":
			n.maxItems, err = compileInt(val)
		case "minLength":
			n.minLength, err = compileInt(val)
		case "maxLength":
			n.maxLength, err = compileInt(val)
		case "pattern":
			s, _ := val.(string)
			n.pattern, err = regexp.Compile(s)
		case "minimum":
			num, ok := val.(json.Number)
			if !ok {
				err = errors.New("minimum is not a number")
				break
			}
			var okRat bool
			if n.minimum, okRat = new(big.Rat).SetString(num.String()); !okRat {
				err = errors.New("minimum is not a number")
			}
		case "allOf":
			for i, s := range asList(val) {
				c, err := sub(key+"/"+strconv.Itoa(i), s)
				if err != nil {
					return nil, err
				}
				n.allOf = append(n.allOf, c)
			}
		case "if":
			n.ifNode, err = sub(key, val)
		case "then":
			n.thenNode, err = sub(key, val)
		default:
			err = fmt.Errorf("keyword %q is not one this validator knows: add it here (and to the differential test) or keep it out of the schema", key)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", loc, err)
		}
	}
	return n, nil
}

func compileTypes(v any) ([]string, error) {
	var named []string
	switch t := v.(type) {
	case string:
		named = []string{t}
	case []any:
		for _, x := range t {
			s, _ := x.(string)
			named = append(named, s)
		}
	}
	var out []string
	for _, t := range typeOrder {
		if slices.Contains(named, t) {
			out = append(out, t)
		}
	}
	if len(out) != len(named) || len(out) == 0 {
		return nil, fmt.Errorf("type %v", v)
	}
	return out, nil
}

func compileInt(v any) (*int, error) {
	num, ok := v.(json.Number)
	if !ok {
		return nil, fmt.Errorf("%v is not a number", v)
	}
	i, err := strconv.Atoi(num.String())
	if err != nil {
		return nil, err
	}
	return &i, nil
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// checker collects the problems of one document; a probe (an if
// schema) only notes that there is one.
type checker struct {
	p        *message.Printer
	probe    bool
	failed   bool
	problems []Problem
}

// add adds a problem at loc, worded with the printer.
func (c *checker) add(loc []string, format string, args ...any) {
	if c.probe {
		c.failed = true
		return
	}
	c.problems = append(c.problems, Problem{Path: jsonPath(loc), Message: c.p.Sprintf(format, args...)})
}

// addText adds a problem at loc, worded as it stands.
func (c *checker) addText(loc []string, msg string) {
	if c.probe {
		c.failed = true
		return
	}
	c.problems = append(c.problems, Problem{Path: jsonPath(loc), Message: msg})
}

// check checks v, at loc, against n, in the library's order: type, const,
// enum and format end the checks of a value that fails them; then $ref,
// the checks of its type, and allOf with its if/then. loc's array is
// reused below it (a problem's path is rendered at once).
func (c *checker) check(n *schemaNode, v any, loc []string) {
	t := jsonType(v)
	if n.types != nil && !slices.Contains(n.types, t) && !(t == "number" && slices.Contains(n.types, "integer") && isInteger(v)) {
		c.add(loc, "must be %s; it is %s", kindsInWords(n.types), kindsInWords([]string{t}))
		return
	}
	if n.constant != nil && !equalJSON(v, *n.constant) {
		c.add(loc, "value must be %s", display(*n.constant))
		return
	}
	if n.enum != nil && !slices.ContainsFunc(n.enum, func(e any) bool { return equalJSON(v, e) }) {
		if len(n.enum) == 1 {
			c.add(loc, "value must be %s", display(n.enum[0]))
			return
		}
		want := make([]string, 0, len(n.enum))
		for _, e := range n.enum {
			want = append(want, display(e))
		}
		c.add(loc, "value must be one of %s", strings.Join(want, ", "))
		return
	}
	if s, ok := v.(string); ok && n.format != "" {
		var err error
		switch n.format {
		case "date-time":
			err = checkDateTime(s)
		case "uri":
			err = checkURI(s)
		}
		if err != nil {
			c.add(loc, "%s is not valid %s: %v", display(s), n.format, err)
			return
		}
	}
	if n.ref != "" {
		c.check(n.defs[strings.TrimPrefix(n.ref, "#/$defs/")], v, loc)
	}
	switch v := v.(type) {
	case map[string]any:
		c.object(n, v, loc)
	case []any:
		if n.maxItems != nil && len(v) > *n.maxItems {
			c.add(loc, "maxItems: got %d, want %d", len(v), *n.maxItems)
		}
		if n.items != nil {
			for i, item := range v {
				c.check(n.items, item, append(loc, strconv.Itoa(i)))
			}
		}
	case string:
		length := utf8.RuneCountInString(v)
		if n.minLength != nil && length < *n.minLength {
			if *n.minLength == 1 {
				c.add(loc, "must not be empty")
			} else {
				c.add(loc, "must be at least %d characters long; it has %d", *n.minLength, length)
			}
		}
		if n.maxLength != nil && length > *n.maxLength {
			c.add(loc, "maxLength: got %d, want %d", length, *n.maxLength)
		}
		if n.pattern != nil && !n.pattern.MatchString(v) {
			c.add(loc, "%s does not match pattern %s", quote(v), quote(n.pattern.String()))
		}
	case json.Number:
		if got, ok := new(big.Rat).SetString(v.String()); ok && n.minimum != nil && got.Cmp(n.minimum) < 0 {
			g, _ := got.Float64()
			w, _ := n.minimum.Float64()
			c.add(loc, "minimum: got %v, want %v", g, w)
		}
	}
	for _, a := range n.allOf {
		c.check(a, v, loc)
	}
	if n.ifNode != nil && n.thenNode != nil {
		probe := &checker{p: c.p, probe: true}
		if probe.check(n.ifNode, v, loc); !probe.failed {
			c.check(n.thenNode, v, loc)
		}
	}
}

// object checks an object's keywords: maxProperties, required (a
// problem per missing property, at its path), each property against
// properties and patternProperties, and the others against
// additionalProperties (a problem each).
func (c *checker) object(n *schemaNode, obj map[string]any, loc []string) {
	if n.maxProps != nil && len(obj) > *n.maxProps {
		c.add(loc, "maxProperties: got %d, want %d", len(obj), *n.maxProps)
	}
	for _, r := range n.required {
		if _, ok := obj[r]; !ok {
			c.addText(append(loc, r), "is required")
		}
	}
	names := make([]string, 0, len(obj))
	for name := range obj {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		at := append(loc, name)
		evaluated := false
		if p, ok := n.properties[name]; ok {
			evaluated = true
			c.check(p, obj[name], at)
		}
		for _, pp := range n.patternProps {
			if pp.re.MatchString(name) {
				evaluated = true
				c.check(pp.node, obj[name], at)
			}
		}
		if !evaluated && n.closed {
			msg := "is not a field of this object in schema v1"
			if len(loc) == 2 && loc[0] == "files" {
				msg = "is not a field of a file: files are sent by URL, never inline"
			}
			c.addText(at, msg)
		}
	}
}

// jsonType names v's JSON type as the library does: every number is a
// number.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "invalid"
}

func isInteger(v any) bool {
	n, ok := v.(json.Number)
	if !ok {
		return false
	}
	r, ok := new(big.Rat).SetString(n.String())
	return ok && r.IsInt()
}

// equalJSON compares two primitive JSON values (the schema's const and
// enum hold only strings); numbers by value.
func equalJSON(a, b any) bool {
	switch a := a.(type) {
	case json.Number:
		b, ok := b.(json.Number)
		if !ok {
			return false
		}
		x, okx := new(big.Rat).SetString(a.String())
		y, oky := new(big.Rat).SetString(b.String())
		return okx && oky && x.Cmp(y) == 0
	case string, bool, nil:
		return a == b
	}
	return false
}

// quote single-quotes s as the library's messages do.
func quote(s string) string {
	s = strconv.Quote(s)
	s = strings.ReplaceAll(s, `\"`, `"`)
	s = strings.ReplaceAll(s, `'`, `\'`)
	return "'" + s[1:len(s)-1] + "'"
}

// display shows a primitive value in a message.
func display(v any) string {
	switch v := v.(type) {
	case string:
		return quote(v)
	case []any, map[string]any:
		return "value"
	}
	return fmt.Sprintf("%v", v)
}

// checkDateTime checks an RFC 3339 date-time as the library does, with
// its reasons.
func checkDateTime(s string) error {
	if len(s) < 20 {
		return errors.New("less than 20 characters long")
	}
	if s[10] != 't' && s[10] != 'T' {
		return errors.New("11th character must be t or T")
	}
	if _, err := time.Parse("2006-01-02", s[:10]); err != nil {
		return fmt.Errorf("invalid date element: %v", err)
	}
	if err := checkTime(s[11:]); err != nil {
		return fmt.Errorf("invalid time element: %v", err)
	}
	return nil
}

// checkTime checks an RFC 3339 full-time (hh:mm:ss[.frac](Z|±hh:mm)),
// leap seconds only at 23:59 UTC.
func checkTime(str string) error {
	if len(str) < 9 {
		return errors.New("less than 9 characters long")
	}
	if str[2] != ':' || str[5] != ':' {
		return errors.New("missing colon in correct place")
	}
	hms, err := clockFields(str[:8], 3, "hour/min/sec")
	if err != nil {
		return err
	}
	h, m, sec := hms[0], hms[1], hms[2]
	if h > 23 || m > 59 || sec > 60 {
		return errors.New("hour/min/sec out of range")
	}
	str = str[8:]
	if rem, ok := strings.CutPrefix(str, "."); ok {
		digits := 0
		for _, ch := range rem {
			if ch < '0' || ch > '9' {
				break
			}
			digits++
		}
		if digits == 0 {
			return errors.New("no digits in second fraction")
		}
		str = rem[digits:]
	}
	if str != "z" && str != "Z" {
		if len(str) != 6 {
			return errors.New("offset must be 6 characters long")
		}
		var sign int
		switch str[0] {
		case '+':
			sign = -1
		case '-':
			sign = +1
		default:
			return errors.New("offset must begin with plus/minus")
		}
		str = str[1:]
		if str[2] != ':' {
			return errors.New("missing colon in offset in correct place")
		}
		zhm, err := clockFields(str, 2, "hour/min in offset")
		if err != nil {
			return err
		}
		if zhm[0] > 23 || zhm[1] > 59 {
			return errors.New("hour/min in offset out of range")
		}
		hm := (h*60 + m) + sign*(zhm[0]*60+zhm[1])
		if hm < 0 {
			hm += 24 * 60
		}
		h, m = hm/60, hm%60
	}
	if sec >= 60 && (h != 23 || m != 59) {
		return errors.New("invalid leap second")
	}
	return nil
}

// clockFields reads n colon-separated numbers of a time ("09:15:00",
// "01:00"), saying what they are in the reasons.
func clockFields(s string, n int, what string) ([]int, error) {
	out := make([]int, 0, n)
	for _, tok := range strings.SplitN(s, ":", n) {
		v, err := strconv.Atoi(tok)
		if err != nil {
			return nil, errors.New("invalid " + what)
		}
		if v < 0 {
			return nil, errors.New("non-positive " + what)
		}
		out = append(out, v)
	}
	return out, nil
}

// checkURI checks an absolute URI as the library does: url.Parse, an
// IPv6 host in brackets, a scheme.
func checkURI(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if host := u.Hostname(); strings.Contains(host, ":") {
		if !strings.Contains(u.Host, "[") || !strings.Contains(u.Host, "]") {
			return errors.New("ipv6 address not enclosed in brackets")
		}
		addr, err := netip.ParseAddr(host)
		if err != nil {
			return fmt.Errorf("invalid ipv6 address: %v", err)
		}
		if addr.Zone() != "" {
			return errors.New("invalid ipv6 address: zone id is not a part of ipv6 address")
		}
	}
	if !u.IsAbs() {
		return errors.New("relative url")
	}
	return nil
}

// kindsInWords names JSON types as a person would: "a string", "null, a
// number or a string".
func kindsInWords(types []string) string {
	words := map[string]string{"string": "a string", "number": "a number", "integer": "a whole number", "boolean": "true or false",
		"object": "an object", "array": "a list", "null": "null"}
	out := make([]string, 0, len(types))
	for _, t := range types {
		if w, ok := words[t]; ok {
			t = w
		}
		out = append(out, t)
	}
	if len(out) > 1 {
		return strings.Join(out[:len(out)-1], ", ") + " or " + out[len(out)-1]
	}
	return strings.Join(out, "")
}

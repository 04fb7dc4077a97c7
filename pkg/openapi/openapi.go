// Package openapi loads an API's OpenAPI 3.1 document and checks request
// parameters (path, query, header) and bodies against its operations'
// schemas (kin-openapi), every problem at once and in words: the Spec an
// apigw.Router routes by. A value that breaks its schema's type, enum,
// bounds, length or pattern is told what it must be ("job_position_id
// must be a whole number from 1 to 9223372036854775807"); a pattern is
// said by its schema's description, which the document writes for that. It is a package of its own so
// that the functions that answer without a document (ingest) do not link
// the OpenAPI library.
package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/funnel-personio/funnel-personio/pkg/apigw"
)

// Document is a loaded, valid OpenAPI document.
type Document struct {
	doc *openapi3.T
}

var _ apigw.Spec = (*Document)(nil)

// Load reads and validates an OpenAPI document.
func Load(spec []byte) (*Document, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(spec)
	if err != nil {
		return nil, fmt.Errorf("openapi: load: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	return &Document{doc: doc}, nil
}

// Body returns the check of an operation's JSON request body: an operation
// without one takes no body; an optional one may be empty.
func (d *Document) Body(method, pattern string) (apigw.BodyCheck, bool) {
	item := d.doc.Paths.Value(pattern)
	if item == nil || item.GetOperation(method) == nil {
		return nil, false
	}
	var schema *openapi3.Schema
	optional := false
	if rb := item.GetOperation(method).RequestBody; rb != nil && rb.Value != nil {
		if mt := rb.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil {
			schema, optional = mt.Schema.Value, !rb.Value.Required
		}
	}
	return func(body []byte) *apigw.Problem { return check(schema, optional, body) }, true
}

// Parameters returns the check of an operation's path, query and header
// parameters, those of its path item and its own: a required one must be
// there, each given at most once, and its value must fit its schema. A
// query parameter given empty is checked like any value; a header given
// empty counts as absent (HTTP trims header values, and proxies may send
// empty ones).
func (d *Document) Parameters(method, pattern string) apigw.ParameterCheck {
	item := d.doc.Paths.Value(pattern)
	if item == nil || item.GetOperation(method) == nil {
		return nil
	}
	var params []*openapi3.Parameter
	for _, list := range []openapi3.Parameters{item.Parameters, item.GetOperation(method).Parameters} {
		for _, ref := range list {
			p := ref.Value
			if p == nil || p.Schema == nil || p.Schema.Value == nil {
				continue
			}
			params = slices.DeleteFunc(params, func(q *openapi3.Parameter) bool { return q.In == p.In && strings.EqualFold(q.Name, p.Name) })
			params = append(params, p)
		}
	}
	if len(params) == 0 {
		return nil
	}
	return func(path map[string]string, query url.Values, header http.Header) *apigw.Problem {
		var errs []apigw.FieldError
		for _, p := range params {
			var values []string
			switch p.In {
			case openapi3.ParameterInPath:
				if v, ok := path[p.Name]; ok {
					values = []string{v}
				}
			case openapi3.ParameterInQuery:
				values = query[p.Name]
			case openapi3.ParameterInHeader:
				if v := strings.TrimSpace(header.Get(p.Name)); v != "" {
					values = []string{v}
				}
			default:
				continue
			}
			switch {
			case len(values) == 0 && p.Required:
				msg := p.Name + " is required"
				if d := p.Schema.Value.Description; d != "" {
					msg += ": " + d
				}
				errs = append(errs, apigw.FieldError{Path: p.Name, Message: msg})
			case len(values) > 1:
				errs = append(errs, apigw.FieldError{Path: p.Name, Message: p.Name + " may be given once"})
			case len(values) == 1 && !fits(p.Schema.Value, values[0]):
				errs = append(errs, apigw.FieldError{Path: p.Name, Message: p.Name + " must be " + rule(p.Schema.Value)})
			}
		}
		if len(errs) == 0 {
			return nil
		}
		return apigw.Invalid(errs...)
	}
}

// fits reports whether a parameter's text fits its schema: as a number
// when the schema takes numbers, as a boolean when it takes those, as
// text otherwise.
func fits(schema *openapi3.Schema, text string) bool {
	var value any = text
	switch {
	case schema.Type.Includes(openapi3.TypeInteger) || schema.Type.Includes(openapi3.TypeNumber):
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return false
		}
		value = f
	case schema.Type.Includes(openapi3.TypeBoolean):
		b, err := strconv.ParseBool(text)
		if err != nil {
			return false
		}
		value = b
	}
	return schema.VisitJSON(value, openapi3.EnableJSONSchema2020()) == nil
}

// valueFields are the schema keywords about one value's type, enum,
// bounds, length or pattern: a value that breaks them is told what it
// must be.
var valueFields = map[string]bool{"type": true, "enum": true, "const": true, "minimum": true, "maximum": true, "exclusiveMinimum": true,
	"exclusiveMaximum": true, "multipleOf": true, "minLength": true, "maxLength": true, "pattern": true, "format": true}

// rule says in words what a value of the schema must be, for "<name>
// must be <rule>". A pattern is said by the schema's description.
func rule(s *openapi3.Schema) string {
	if len(s.Enum) == 1 {
		return fmt.Sprint(s.Enum[0])
	}
	if len(s.Enum) > 0 {
		vals := make([]string, 0, len(s.Enum))
		for _, v := range s.Enum {
			vals = append(vals, fmt.Sprint(v))
		}
		return "one of " + strings.Join(vals, ", ")
	}
	nullable := s.Type.Includes(openapi3.TypeNull)
	var r string
	switch {
	case s.Type.Includes(openapi3.TypeInteger):
		r = "a whole number" + bounds(s)
	case s.Type.Includes(openapi3.TypeNumber):
		r = "a number" + bounds(s)
	case s.Type.Includes(openapi3.TypeBoolean):
		r = "true or false"
	case s.Type.Includes(openapi3.TypeString):
		switch {
		case s.Pattern != "" && s.Description != "":
			r = s.Description
		case s.Pattern != "":
			r = "text matching " + s.Pattern
		default:
			r = "text" + lengths(s)
		}
	case s.Type.Includes(openapi3.TypeObject):
		r = "an object"
	case s.Type.Includes(openapi3.TypeArray):
		r = "a list"
		if s.MaxItems != nil {
			r += fmt.Sprintf(" of at most %d items", *s.MaxItems)
		}
	case s.Description != "":
		r = s.Description
	default:
		r = "a valid value"
	}
	if nullable {
		r += ", or null"
	}
	return r
}

// bounds says a number's range: " from 1 to 100", " of at least 1".
func bounds(s *openapi3.Schema) string {
	switch {
	case s.Min != nil && s.Max != nil:
		return " from " + number(*s.Min) + " to " + number(*s.Max)
	case s.Min != nil:
		return " of at least " + number(*s.Min)
	case s.Max != nil:
		return " of at most " + number(*s.Max)
	}
	return ""
}

// number writes a bound. The document's numbers are read as float64,
// which rounds the largest int64 (the bound of Personio's ids) up to
// 2^63; it is written as the int64 it stands for.
func number(f float64) string {
	if f >= math.MaxInt64 {
		return strconv.FormatInt(math.MaxInt64, 10)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// lengths says a string's length: " of 1 to 100 characters".
func lengths(s *openapi3.Schema) string {
	switch {
	case s.MinLength > 0 && s.MaxLength != nil:
		return fmt.Sprintf(" of %d to %d characters", s.MinLength, *s.MaxLength)
	case s.MaxLength != nil:
		return fmt.Sprintf(" of at most %d characters", *s.MaxLength)
	case s.MinLength > 0:
		return fmt.Sprintf(" of at least %d characters", s.MinLength)
	}
	return ""
}

// check validates a body against a schema, reporting every problem in
// the API's one vocabulary (package apigw).
func check(schema *openapi3.Schema, optional bool, body []byte) *apigw.Problem {
	whole := func(msg string) *apigw.Problem { return apigw.Invalid(apigw.FieldError{Path: "", Message: msg}) }
	if schema == nil {
		if len(bytes.TrimSpace(body)) > 0 {
			return whole("this endpoint takes no body")
		}
		return nil
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if optional {
			return nil
		}
		return whole("a JSON body is required")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return apigw.Invalid(apigw.NotJSON("", err))
	}
	if dec.More() {
		return whole("the body has data after the JSON value")
	}
	doc = numbersToFloats(doc)
	err := schema.VisitJSON(doc, openapi3.MultiErrors(), openapi3.EnableJSONSchema2020())
	if err == nil {
		return nil
	}
	return apigw.Invalid(schemaErrors(err)...)
}

// numbersToFloats gives kin-openapi the float64 numbers it validates.
func numbersToFloats(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, _ := strconv.ParseFloat(string(x), 64)
		if math.IsInf(f, 0) {
			// Past float64's range: the largest float64 of its sign, which
			// breaks any bound the document sets, where Inf would be
			// refused without saying where.
			f = math.Copysign(math.MaxFloat64, f)
		}
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = numbersToFloats(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbersToFloats(e)
		}
	}
	return v
}

// schemaErrors flattens the errors of either of kin-openapi's validators
// (its own, and the JSON Schema 2020-12 one it uses for some schemas)
// into the API's vocabulary.
func schemaErrors(err error) []apigw.FieldError {
	var out []apigw.FieldError
	var me openapi3.MultiError
	if errors.As(err, &me) {
		for _, e := range me {
			out = append(out, schemaErrors(e)...)
		}
		return out
	}
	var se *openapi3.SchemaError
	if !errors.As(err, &se) {
		return []apigw.FieldError{{Path: "", Message: err.Error()}}
	}
	pointer := se.JSONPointer()
	path := apigw.Pointer("", pointer...)
	var verr *jsonschema.ValidationError
	if errors.As(se, &verr) {
		switch k := verr.ErrorKind.(type) {
		case *kind.Required:
			for _, m := range k.Missing {
				out = append(out, apigw.Missing(path, m))
			}
			return out
		case *kind.AdditionalProperties:
			for _, m := range k.Properties {
				out = append(out, apigw.Unknown(path, m))
			}
			return out
		}
	}
	switch {
	case se.SchemaField == "required" && len(pointer) > 0:
		return []apigw.FieldError{apigw.Missing(apigw.Pointer("", pointer[:len(pointer)-1]...), pointer[len(pointer)-1])}
	case se.SchemaField == "properties" && strings.HasSuffix(se.Reason, " is unsupported"):
		member, _ := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(se.Reason, "property "), " is unsupported"))
		return []apigw.FieldError{apigw.Unknown(path, member)}
	case (valueFields[se.SchemaField] || se.SchemaField == "nullable") && se.Schema != nil:
		return []apigw.FieldError{apigw.MustBe(path, rule(se.Schema), kindTail(se))}
	case se.Reason != "":
		return []apigw.FieldError{{Path: path, Message: se.Reason}}
	}
	return []apigw.FieldError{{Path: path, Message: se.Error()}}
}

// kindTail says what kind of value broke a schema's type ("null, not an
// object"), or nothing when the kind is right (a fraction where a whole
// number goes) or the schema broken is not about the type.
func kindTail(se *openapi3.SchemaError) string {
	if se.SchemaField != "type" && se.SchemaField != "nullable" {
		return ""
	}
	if _, isNumber := se.Value.(float64); isNumber && (se.Schema.Type.Includes(openapi3.TypeInteger) || se.Schema.Type.Includes(openapi3.TypeNumber)) {
		return ""
	}
	return jsonKind(se.Value) + ", not " + typeInWords(se.Schema)
}

// jsonKind says what kind of JSON value v (as decoded for validation) is.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "true or false"
	case float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return "another kind of value"
}

// typeInWords names the JSON types a schema takes, for "it is a number,
// not a string in quotes".
func typeInWords(s *openapi3.Schema) string {
	var kinds []string
	for _, t := range s.Type.Slice() {
		switch t {
		case openapi3.TypeString:
			kinds = append(kinds, "a string in quotes")
		case openapi3.TypeInteger, openapi3.TypeNumber:
			kinds = append(kinds, "a number without quotes")
		case openapi3.TypeBoolean:
			kinds = append(kinds, "true or false without quotes")
		case openapi3.TypeArray:
			kinds = append(kinds, "a list")
		case openapi3.TypeObject:
			kinds = append(kinds, "an object")
		case openapi3.TypeNull:
			kinds = append(kinds, "null")
		}
	}
	if len(kinds) == 0 {
		return "what the document describes"
	}
	return strings.Join(slices.Compact(kinds), " or ")
}

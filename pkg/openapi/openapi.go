// Package openapi loads an API's OpenAPI 3.1 document and checks request
// bodies against its operations' schemas (kin-openapi), every problem at
// once: the Spec an apigw.Router routes by. It is a package of its own so
// that the functions that answer without a document (ingest) do not link
// the OpenAPI library.
package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

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

// check validates a body against a schema, reporting every problem.
func check(schema *openapi3.Schema, optional bool, body []byte) *apigw.Problem {
	invalid := func(detail string) *apigw.Problem {
		return apigw.NewProblem(http.StatusBadRequest, "validation", "Invalid request", detail)
	}
	if schema == nil {
		if len(bytes.TrimSpace(body)) > 0 {
			return invalid("this endpoint takes no body")
		}
		return nil
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if optional {
			return nil
		}
		return invalid("a JSON body is required")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return invalid("the body is not valid JSON: " + err.Error())
	}
	if dec.More() {
		return invalid("the body has data after the JSON value")
	}
	doc = numbersToFloats(doc)
	err := schema.VisitJSON(doc, openapi3.MultiErrors(), openapi3.EnableJSONSchema2020())
	if err == nil {
		return nil
	}
	p := invalid("the body does not match the API's schema")
	p.Errors = schemaErrors(err)
	return p
}

// numbersToFloats gives kin-openapi the float64 numbers it validates.
func numbersToFloats(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, _ := strconv.ParseFloat(string(x), 64)
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

// schemaErrors flattens kin-openapi's errors into path + message.
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
	if errors.As(err, &se) {
		path := "/" + strings.Join(se.JSONPointer(), "/")
		msg := se.Reason
		if msg == "" {
			msg = se.Error()
		}
		return []apigw.FieldError{{Path: path, Message: msg}}
	}
	return []apigw.FieldError{{Path: "/", Message: err.Error()}}
}

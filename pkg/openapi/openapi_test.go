package openapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/funnel-personio/funnel-personio/pkg/openapi"
)

const doc = `openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /things/{thing_id}:
    parameters:
      - {name: thing_id, in: path, required: true, schema: {type: string, pattern: "^[a-z]{1,8}$", description: "1 to 8 small letters"}}
    put:
      parameters:
        - {name: lang, in: query, required: false, schema: {type: string, enum: [de, en]}}
        - {name: limit, in: query, required: false, schema: {type: integer, minimum: 1, maximum: 100}}
        - {name: If-Match, in: header, required: false, schema: {type: string, pattern: '^"v[0-9]+"$', description: 'an ETag such as "v3"'}}
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              additionalProperties: false
              required: [id]
              properties:
                id: {type: integer, minimum: 1, maximum: 9223372036854775807}
                tags: {type: array, items: {type: string, maxLength: 3}}
      responses:
        "204": {description: ok}
`

// TestParameters: path, query and header parameters are held to their
// schemas, each problem said in words.
func TestParameters(t *testing.T) {
	d, err := openapi.Load([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	check := d.Parameters("PUT", "/things/{thing_id}")
	for _, c := range []struct {
		name   string
		path   string
		query  string
		header string
		want   []string // nil: no problem
	}{
		{"fine", "abc", "lang=de&limit=5", `"v3"`, nil},
		{"nothing optional", "abc", "", "", nil},
		{"empty header counts as none", "abc", "", "  ", nil},
		{"path", "ABC", "", "", []string{"thing_id must be 1 to 8 small letters"}},
		{"enum", "abc", "lang=xx", "", []string{"lang must be one of de, en"}},
		{"empty query value", "abc", "lang=", "", []string{"lang must be one of de, en"}},
		{"twice", "abc", "lang=de&lang=en", "", []string{"lang may be given once"}},
		{"integer", "abc", "limit=1.5", "", []string{"limit must be a whole number from 1 to 100"}},
		{"not a number", "abc", "limit=x", "", []string{"limit must be a whole number from 1 to 100"}},
		{"header", "abc", "", "*", []string{`If-Match must be an ETag such as "v3"`}},
		{"every problem", "ABC", "lang=xx&limit=0", "x", []string{"thing_id must", "lang must", "limit must", "If-Match must"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			q, _ := url.ParseQuery(c.query)
			h := http.Header{}
			if c.header != "" {
				h.Set("If-Match", c.header)
			}
			p := check(map[string]string{"thing_id": c.path}, q, h)
			if c.want == nil {
				if p != nil {
					t.Fatalf("problem %+v", p)
				}
				return
			}
			if p == nil || p.Status != 400 || len(p.Errors) != len(c.want) {
				t.Fatalf("problem %+v, want %d errors", p, len(c.want))
			}
			for i, w := range c.want {
				if !strings.HasPrefix(p.Errors[i].Message, w) || !strings.Contains(p.Detail, w) {
					t.Errorf("error %d: %q (detail %q), want %q", i, p.Errors[i].Message, p.Detail, w)
				}
			}
		})
	}
	if d.Parameters("GET", "/things/{thing_id}") != nil || d.Parameters("PUT", "/nothing") != nil {
		t.Error("a check for an operation the document does not have")
	}
}

// TestBodyInWords: a value that breaks its schema's type, bounds or
// length is told what it must be; the largest int64 is written as it is,
// and a number past float64's range breaks the bound.
func TestBodyInWords(t *testing.T) {
	d, err := openapi.Load([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	check, ok := d.Body("PUT", "/things/{thing_id}")
	if !ok {
		t.Fatal("no body check")
	}
	const idRule = "id must be a whole number from 1 to 9223372036854775807"
	for body, want := range map[string]string{
		`{"id":0}`:                 idRule,
		`{"id":1e400}`:             idRule,
		`{"id":-1e400}`:            idRule,
		`{"id":"1"}`:               idRule + "; it is a string, not a number without quotes",
		`{"id":1.5}`:               idRule,
		`{"id":1,"tags":[5]}`:      "tags[0] must be text of at most 3 characters; it is a number, not a string in quotes",
		`{"id":1,"tags":"a"}`:      "tags must be a list; it is a string, not a list",
		`{"id":true}`:              idRule + "; it is true or false, not a number without quotes",
		`{"id":1,"tags":["abcd"]}`: "tags[0] must be text of at most 3 characters",
		`{"id":1,"x":1}`:           `the body has no member "x"; leave it out`,
		`{"tags":[]}`:              "id is required",
		`null`:                     "the body must be an object; it is null, not an object",
		`{"id":1,"tags":null}`:     "tags must be a list; it is null, not a list",
		`{"id":`:                   "the body is not valid JSON: it ends before the value is complete",
		`{"id":]`:                  "the body is not valid JSON (at byte 7)",
	} {
		p := check([]byte(body))
		if p == nil || len(p.Errors) != 1 || !strings.HasSuffix(p.Errors[0].Message, want) {
			t.Errorf("%s: %+v %+v, want %q", body, p, p.Errors, want)
			continue
		}
		// The path once (in errors[]), the words in the detail too.
		if p.Errors[0].Path == "" && !strings.HasPrefix(want, "the body") || strings.Contains(p.Errors[0].Message, "/") && !strings.Contains(want, "/") ||
			p.Detail != p.Errors[0].Message+"." {
			t.Errorf("%s: path %q, message %q, detail %q", body, p.Errors[0].Path, p.Errors[0].Message, p.Detail)
		}
	}
	if p := check([]byte(`{"id":9223372036854775807,"tags":["a"]}`)); p != nil {
		t.Errorf("a valid body: %+v", p)
	}
}

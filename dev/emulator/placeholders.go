package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// Placeholders wraps kumo's handler so that it reads DynamoDB expressions
// as DynamoDB does. The SDK's expression builder names placeholders #0,
// #1, … #10; kumo (v0.33.1) substitutes names by plain string replacement
// in map order, so #1 can eat the start of #10, and it does not read the
// newline the builder puts between SET and REMOVE. Placeholders rewrites
// every DynamoDB request's expressions and their name and value maps to
// fixed-width placeholders (#n000, :v000), which cannot be a prefix of
// one another, with each expression on one line. Production code sends
// the builder's output unchanged; only the emulators' servers (Kumo,
// localstack.ServeEmulator) put this in front of kumo, so every client —
// tests, the local stack, the operator command — gets the same.
func Placeholders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_") || r.Body == nil {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		if err != nil {
			http.Error(w, "emulator: read the request: "+err.Error(), http.StatusBadRequest)
			return
		}
		if needsFix(body) {
			if fixed, err := FixPlaceholders(body); err == nil {
				body = fixed
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.Header.Set("Content-Length", strconv.Itoa(len(body)))
		next.ServeHTTP(w, r)
	})
}

// longPlaceholderRE finds what may be a placeholder of two or more
// digits (#10, :12), one that another (#1) is a prefix of: not after a
// letter or a digit, so a time's "03:30:45" is none.
var longPlaceholderRE = regexp.MustCompile(`(^|[^0-9A-Za-z])[#:][0-9]{2}`)

// needsFix reports whether a request body may hold what kumo misreads: a
// placeholder of two or more digits, or a newline. Any escape but \"
// counts too, as it may spell either (\n, \u0031) or hide what comes
// before a placeholder (\t). Most requests have none of these (fewer than
// ten placeholders, one line) and reach kumo as the client sent them,
// without the cost of decoding and encoding them again (FuzzNeedsFix).
func needsFix(body []byte) bool {
	for i := 0; i+1 < len(body); i++ {
		if body[i] == '\\' {
			if body[i+1] != '"' {
				return true
			}
			i++
		}
	}
	return longPlaceholderRE.Match(body)
}

// expressionKeys are the request members that hold an expression.
var expressionKeys = map[string]bool{
	"ConditionExpression": true, "UpdateExpression": true, "KeyConditionExpression": true,
	"FilterExpression": true, "ProjectionExpression": true,
}

// placeholderRE finds the builder's placeholders: #12, :3.
var placeholderRE = regexp.MustCompile(`([#:])([0-9]+)\b`)

// FixPlaceholders rewrites a DynamoDB JSON request body: every
// expression's placeholders, and the keys of every
// ExpressionAttributeNames and ExpressionAttributeValues, to fixed width,
// wherever they are (a transaction's items, a batch's tables).
func FixPlaceholders(body []byte) ([]byte, error) {
	var doc any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&doc); err != nil {
		return nil, fmt.Errorf("emulator: placeholders: %w", err)
	}
	return json.Marshal(fixNode(doc))
}

// fixNode rewrites one JSON value and everything in it.
func fixNode(v any) any {
	switch n := v.(type) {
	case map[string]any:
		for k, child := range n {
			switch {
			case expressionKeys[k]:
				if s, ok := child.(string); ok {
					n[k] = strings.TrimSpace(strings.ReplaceAll(placeholderRE.ReplaceAllStringFunc(s, fixedWidth), "\n", " "))
				}
			case k == "ExpressionAttributeNames" || k == "ExpressionAttributeValues":
				if m, ok := child.(map[string]any); ok {
					out := make(map[string]any, len(m))
					for name, val := range m {
						out[fixedWidth(name)] = val
					}
					n[k] = out
				}
			default:
				n[k] = fixNode(child)
			}
		}
	case []any:
		for i := range n {
			n[i] = fixNode(n[i])
		}
	}
	return v
}

// fixedWidth turns #12 into #n012 and :3 into :v003; anything else stays.
func fixedWidth(p string) string {
	m := placeholderRE.FindStringSubmatch(p)
	if m == nil || m[0] != p {
		return p
	}
	n, _ := strconv.Atoi(m[2])
	letter := "n"
	if m[1] == ":" {
		letter = "v"
	}
	return fmt.Sprintf("%s%s%03d", m[1], letter, n)
}

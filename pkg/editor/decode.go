package editor

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"

	"github.com/funnel-personio/funnel-personio/pkg/apigw"
)

// personioID is one of Personio's ids (a job position's, a recruiting
// channel's) as the API takes it: a JSON number with a whole value from 1
// to the largest int64. As in JSON Schema, 1001.0 is the whole number
// 1001. The document bounds it the same way; its check reads numbers as
// float64, which cannot tell 2^63 from 2^63-1, so this decoding is exact.
type personioID int64

// personioIDRule says what a personioID must be.
var personioIDRule = "a whole number from 1 to " + strconv.FormatInt(math.MaxInt64, 10)

// UnmarshalJSON takes a JSON number with a whole value in range.
func (id *personioID) UnmarshalJSON(b []byte) error {
	text := strings.TrimSpace(string(b))
	refuse := &json.UnmarshalTypeError{Value: "number", Type: reflect.TypeFor[personioID]()}
	if n, err := strconv.ParseInt(text, 10, 64); err == nil {
		if n < 1 {
			return refuse
		}
		*id = personioID(n)
		return nil
	}
	f, _, err := big.ParseFloat(text, 10, 256, big.ToNearestEven)
	if err != nil || !f.IsInt() {
		return refuse
	}
	n, acc := f.Int64()
	if acc != big.Exact || n < 1 {
		return refuse
	}
	*id = personioID(n)
	return nil
}

// badBody answers a body that passed the document's schema but did not
// decode, in the API's one vocabulary: what is wrong and where, never Go's
// type names.
func badBody(err error) apigw.Response {
	return apigw.Invalid(decodeError("", err)).Response()
}

// decodeError says what is wrong with a JSON document that did not decode
// (base is the JSON pointer of the document within the body, "" for the
// body itself), never quoting Go's type or field names.
func decodeError(base string, err error) apigw.FieldError {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		path := base
		if te.Field != "" {
			path = apigw.Pointer(base, strings.Split(te.Field, ".")...)
		}
		return apigw.MustBe(path, kindInWords(te.Type), "")
	case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF):
		return apigw.NotJSON(base, err)
	}
	if _, rest, ok := strings.Cut(err.Error(), `json: unknown field "`); ok {
		return apigw.Unknown(base, strings.TrimSuffix(rest, `"`))
	}
	return apigw.FieldError{Path: base, Message: apigw.Named(base) + " is not valid"}
}

// pointerOf turns a path in a mapping's own notation
// ("optional[2].transforms[0]") into a JSON pointer below base
// ("/mapping/optional/2/transforms/0").
func pointerOf(base, path string) string {
	path = strings.ReplaceAll(strings.ReplaceAll(path, "[", "."), "]", "")
	return apigw.Pointer(base, strings.Split(path, ".")...)
}

// kindInWords says what JSON a Go type takes.
func kindInWords(t reflect.Type) string {
	if t == reflect.TypeFor[personioID]() {
		return personioIDRule
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		lo, hi := int64(-1)<<(t.Bits()-1), int64(1)<<(t.Bits()-1)-1
		return "a whole number from " + strconv.FormatInt(lo, 10) + " to " + strconv.FormatInt(hi, 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number from 0 to " + strconv.FormatUint(uint64(1)<<t.Bits()-1, 10)
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "another kind of value"
}

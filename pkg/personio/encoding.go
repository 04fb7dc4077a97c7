package personio

import (
	"bytes"
	"encoding/json"
	"mime"
)

func jsonBody(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func decodeJSON(b []byte, v any) error { return json.Unmarshal(b, v) }

// mimeHeader formats a Content-Disposition value with quoted parameters.
func mimeHeader(disposition string, kv ...string) string {
	params := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		params[kv[i]] = kv[i+1]
	}
	return mime.FormatMediaType(disposition, params)
}

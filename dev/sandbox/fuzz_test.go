package sandbox

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzApplicationRequest sends any body to the applications endpoint: the
// sandbox must answer 201 or 400, never panic or 5xx, and a 201 must come
// from a body that decodes.
func FuzzApplicationRequest(f *testing.F) {
	for _, s := range []string{
		`{"first_name":"A","last_name":"B","email":"a@b.de","job_position_id":1001}`,
		`{"first_name":"A","last_name":"B","email":"a@b.de","job_position_id":1001,"phase":{"type":"custom","id":5},"files":[{"uuid":"x","original_filename":"a","category":"cv"}],"attributes":[{"id":"gender","value":"male"}]}`,
		`{"phase":{"type":"system","id":[1]},"attributes":[{"id":null,"value":{}}],"files":[null]}`,
		`{"application_date":"2026-02-30","tags":null}`, `null`, `[]`, `{"":1}`,
	} {
		f.Add([]byte(s))
	}
	sb, err := New(Config{Seed: DefaultSeed(), RateLimit: -1})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/v1/recruiting/applications", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer sandbox-token-42")
		req.Header.Set("X-Company-ID", "42")
		rec := httptest.NewRecorder()
		sb.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusCreated:
			if _, err := decodeApplication(body); err != nil {
				t.Fatalf("201 for a body that does not decode: %v", err)
			}
		case http.StatusBadRequest:
		default:
			t.Fatalf("status %d for %q", rec.Code, body)
		}
	})
}

// FuzzDocumentRequest sends any multipart body: 200, 413 or 422, never a
// panic or 5xx.
func FuzzDocumentRequest(f *testing.F) {
	f.Add("b", []byte("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\nx\r\n--b--\r\n"))
	f.Add("b", []byte("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../a.PDF\"\r\n\r\nx\r\n--b--\r\n"))
	f.Add("zz", []byte("garbage"))
	sb, err := New(Config{Seed: DefaultSeed(), RateLimit: -1})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, boundary string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/v1/recruiting/applications/documents", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer sandbox-token-42")
		req.Header.Set("X-Company-ID", "42")
		req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
		rec := httptest.NewRecorder()
		sb.ServeHTTP(rec, req)
		if c := rec.Code; c != 200 && c != 413 && c != 422 {
			t.Fatalf("status %d", c)
		}
	})
}

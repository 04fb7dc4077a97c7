package filefetch

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestFetch(t *testing.T) {
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/cv.pdf":
			w.Header().Set("Content-Type", "application/pdf")
			_, _ = w.Write([]byte("%PDF-1.4 cv"))
		case "/big.pdf":
			_, _ = w.Write([]byte(strings.Repeat("x", 2048)))
		case "/big-chunked.pdf":
			// No Content-Length: the limit must hold while reading.
			for range 4 {
				_, _ = w.Write([]byte(strings.Repeat("x", 512)))
				w.(http.Flusher).Flush()
			}
		case "/gone":
			http.NotFound(w, r)
		case "/flaky":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/to-metadata":
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		case "/to-loopback":
			http.Redirect(w, r, "https://localhost/secret", http.StatusFound)
		}
	}))
	defer files.Close()
	host := strings.TrimPrefix(files.URL, "http://")
	f := New(Config{HostSuffixes: []string{"files.example.com", "localhost"}, Insecure: []string{host}, MaxSize: 1024})
	ctx := context.Background()
	got, err := f.Fetch(ctx, files.URL+"/cv.pdf")
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(got.Body)
	got.Body.Close()
	if err != nil || string(data) != "%PDF-1.4 cv" || got.ContentType != "application/pdf" || got.Body.(*Body).Size() != int64(len(data)) {
		t.Fatalf("allowed fetch: %q %+v, %v", data, got, err)
	}
	tests := []struct {
		name      string
		url       string
		reason    string
		permanent bool
	}{
		{"loopback address", "https://127.0.0.1/x", "loopback", true},
		{"loopback over http", "http://127.0.0.1:9/x", "only https", true},
		{"metadata", "https://169.254.169.254/latest/meta-data/", "metadata", true},
		{"private 10.x", "https://10.0.0.8/x", "private", true},
		{"private 192.168", "https://192.168.1.1/x", "private", true},
		{"IPv6 loopback", "https://[::1]/x", "loopback", true},
		{"IPv4-mapped IPv6 loopback", "https://[::ffff:127.0.0.1]/x", "loopback", true},
		{"unspecified", "https://0.0.0.0/x", "not a host", true},
		{"public address", "https://93.184.216.34/x", "by host name", true},
		{"host not allowed", "https://evil.example.net/x", "not one files may be fetched from", true},
		{"suffix trick", "https://files.example.com.evil.net/x", "not one files may be fetched from", true},
		{"name resolving to loopback", "https://localhost:1/x", "loopback", true},
		{"credentials in URL", "https://user:pw@files.example.com/x", "credentials", true},
		{"ftp", "ftp://files.example.com/x", "only https", true},
		{"redirect to metadata", files.URL + "/to-metadata", "redirected", true},
		{"redirect to loopback name", files.URL + "/to-loopback", "loopback", true},
		{"too big", files.URL + "/big.pdf", "larger than 20 MB", true},
		{"404", files.URL + "/gone", "404", true},
		{"503", files.URL + "/flaky", "503", false},
	}
	chunked, err := f.Fetch(ctx, files.URL+"/big-chunked.pdf")
	if err != nil || chunked.Body.(*Body).Size() != -1 {
		t.Fatalf("chunked: %+v, %v", chunked, err)
	}
	_, err = io.ReadAll(chunked.Body)
	var fe *Error
	if !errors.As(err, &fe) || !fe.Permanent || !strings.Contains(fe.Reason, "larger than 20 MB") {
		t.Errorf("reading past the limit: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.Fetch(ctx, tt.url)
			var fe *Error
			if !errors.As(err, &fe) || !strings.Contains(fe.Reason, tt.reason) || fe.Permanent != tt.permanent {
				t.Errorf("Fetch(%s) = %v, want %q (permanent %v)", tt.url, err, tt.reason, tt.permanent)
			}
		})
	}
}

// TestErrorsNameTheHostOnly: however a download fails, neither the error
// (which goes into a delivery's reason and a log line) nor its reason holds
// the URL's path or query: a pre-signed URL's signature is a credential,
// and a path may name the applicant.
func TestErrorsNameTheHostOnly(t *testing.T) {
	const secret = "X-Amz-Signature=5ecret5ig"
	const path = "/uploads/anna-van-der-berg/cv.pdf"
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("case") {
		case "503":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "slow":
			time.Sleep(300 * time.Millisecond)
		case "cut":
			w.Header().Set("Content-Length", "1000")
			_, _ = w.Write([]byte("%PDF"))
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}
	}))
	defer files.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	host := strings.TrimPrefix(files.URL, "http://")
	f := New(Config{HostSuffixes: []string{"files.example.com"}, Insecure: []string{host, strings.TrimPrefix(closedURL, "http://")},
		Timeout: 100 * time.Millisecond, MaxSize: 1 << 20})
	for _, u := range []string{
		files.URL + path + "?case=503&" + secret,
		files.URL + path + "?case=slow&" + secret,
		files.URL + path + "?case=cut&" + secret,
		closedURL + path + "?" + secret,
		"https://evil.example.net" + path + "?" + secret,
		"https://files.example.com.invalid" + path + "?" + secret,
	} {
		file, err := f.Fetch(context.Background(), u)
		if err == nil {
			_, err = io.ReadAll(file.Body)
			file.Body.Close()
		}
		var fe *Error
		if !errors.As(err, &fe) {
			t.Errorf("%s: %v, want an *Error", u, err)
			continue
		}
		for _, leak := range []string{"5ecret5ig", "anna-van-der-berg", "case="} {
			if strings.Contains(err.Error(), leak) || strings.Contains(fe.Reason, leak) {
				t.Errorf("the error quotes the URL: %q", err.Error())
			}
		}
	}
}

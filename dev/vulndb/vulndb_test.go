package vulndb

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the database built of testdata/osv")

// asOf is the date the fixtures' undated entries get.
var asOf = time.Date(2098, 12, 31, 23, 59, 58, 0, time.UTC)

// writeFixtures builds the database of testdata/osv and writes it into a
// folder of the test's, which it returns.
func writeFixtures(t *testing.T) string {
	t.Helper()
	db, err := Build(os.DirFS("testdata/osv"), asOf)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := db.Write(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestWriteLayout: the fixtures become govulncheck's file layout, byte
// for byte as in testdata/golden (go test -update rewrites it).
func TestWriteLayout(t *testing.T) {
	dir := writeFixtures(t)
	files := []string{"index/db.json", "index/modules.json", "index/vulns.json",
		"ID/GO-2099-0001.json", "ID/GO-2099-0002.json", "ID/GO-2099-0003.json"}
	for _, name := range files {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "golden", name)
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
}

// TestIndexes: what govulncheck decides by: each module's vulnerabilities
// with the version that fixes them, the newest date, and the dates an
// undated entry gets.
func TestIndexes(t *testing.T) {
	db, err := Build(os.DirFS("testdata/osv"), asOf)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2099, 3, 4, 5, 6, 7, 0, time.UTC); !db.Modified.Equal(want) {
		t.Errorf("modified %v, want %v (the newest entry's)", db.Modified, want)
	}
	got := map[string]string{}
	for _, m := range db.Modules {
		for _, v := range m.Vulns {
			got[m.Path+" "+v.ID] = v.Fixed
		}
	}
	want := map[string]string{
		"example.com/twice GO-2099-0001": "2.0.4",
		"example.com/twice GO-2099-0002": "1.10.0",
		"example.com/never GO-2099-0002": "",
		"stdlib GO-2099-0003":            "99.0.0",
	}
	if len(got) != len(want) {
		t.Errorf("modules index %v, want %v", got, want)
	}
	for k, v := range want {
		if f, ok := got[k]; !ok || f != v {
			t.Errorf("%s: fixed %q (listed %v), want %q", k, f, ok, v)
		}
	}
	var e struct{ Modified, Published time.Time }
	if err := json.Unmarshal(db.entries["GO-2099-0001"], &e); err != nil {
		t.Fatal(err)
	}
	if !e.Modified.Equal(asOf) || !e.Published.Equal(asOf) {
		t.Errorf("undated entry: modified %v, published %v; want both %v", e.Modified, e.Published, asOf)
	}
}

// TestLatestFixed: the version after which a module is safe, or none.
func TestLatestFixed(t *testing.T) {
	semver := func(events ...Event) Range { return Range{Type: "SEMVER", Events: events} }
	tests := []struct {
		name   string
		ranges []Range
		want   string
	}{
		{"none", nil, ""},
		{"never fixed", []Range{semver(Event{Introduced: "0"})}, ""},
		{"fixed once", []Range{semver(Event{Introduced: "0"}, Event{Fixed: "1.2.3"})}, "1.2.3"},
		{"numeric order, not text", []Range{semver(Event{Fixed: "1.9.0"}, Event{Fixed: "1.10.0"})}, "1.10.0"},
		{"two ranges", []Range{semver(Event{Fixed: "2.0.1"}), semver(Event{Fixed: "1.5.0"})}, "2.0.1"},
		{"introduced again after the fix", []Range{semver(Event{Introduced: "0"}, Event{Fixed: "1.0.0"}, Event{Introduced: "1.1.0"})}, ""},
		{"pre-release fix", []Range{semver(Event{Introduced: "0"}, Event{Fixed: "0.58.1-0.20261009181718-2f1f834330b2"})}, "0.58.1-0.20261009181718-2f1f834330b2"},
		{"other range types ignored", []Range{{Type: "GIT", Events: []Event{{Fixed: "abc"}}}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LatestFixed(tt.ranges); got != tt.want {
				t.Errorf("LatestFixed = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestBuildRefuses: what is not an OSV entry stops the build, with the
// file's name.
func TestBuildRefuses(t *testing.T) {
	entry := func(id string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte(`{"id":"` + id + `","affected":[{"package":{"name":"m"}}]}`)}
	}
	tests := []struct {
		name string
		fs   fstest.MapFS
		want string
	}{
		{"empty", fstest.MapFS{}, "no *.json"},
		{"not JSON", fstest.MapFS{"GO-1.json": {Data: []byte("{")}}, "GO-1.json"},
		{"id not the name", fstest.MapFS{"GO-1.json": entry("GO-2")}, "not the file's name"},
		{"no module", fstest.MapFS{"GO-1.json": {Data: []byte(`{"id":"GO-1"}`)}}, "no affected module"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build(tt.fs, asOf)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Build: %v, want an error with %q", err, tt.want)
			}
		})
	}
	if _, err := Build(fstest.MapFS{"GO-1.json": entry("GO-1")}, asOf); err != nil {
		t.Errorf("a minimal entry: %v", err)
	}
}

// TestPinnedSource: the vulndb version the Makefile pins carries its OSV
// entries (through the module proxy or the module cache), and they build
// into a database with the entries govulncheck needs for this module's
// own dependencies' modules.
func TestPinnedSource(t *testing.T) {
	version := makefileVar(t, "VULNDB_VERSION")
	dir, date, err := Source("golang.org/x/vulndb@" + version)
	if err != nil {
		t.Skipf("the module proxy and module cache have no %s: %v", version, err)
	}
	if want := version[len("v0.0.0-") : len("v0.0.0-")+8]; date.Format("20060102") != want {
		t.Errorf("as of %v, want the pseudo-version's date %s", date, want)
	}
	db, err := Build(os.DirFS(dir), date)
	if err != nil {
		t.Fatal(err)
	}
	paths := map[string]bool{}
	for _, m := range db.Modules {
		paths[m.Path] = true
	}
	for _, p := range []string{"stdlib", "golang.org/x/net", "golang.org/x/crypto"} {
		if !paths[p] {
			t.Errorf("no entries for %s among %d modules", p, len(db.Modules))
		}
	}
}

// makefileVar reads a `NAME := value` line of the module's Makefile.
func makefileVar(t *testing.T, name string) string {
	t.Helper()
	f, err := os.Open("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	re := regexp.MustCompile(`^` + name + `\s*:?=\s*(\S+)`)
	s := bufio.NewScanner(f)
	for s.Scan() {
		if m := re.FindStringSubmatch(s.Text()); m != nil {
			return m[1]
		}
	}
	t.Fatalf("the Makefile sets no %s", name)
	return ""
}

// TestGovulncheckReadsIt: the pinned govulncheck (make lint installs it)
// reads the database Write lays out, and finds the fixtures'
// vulnerability of the standard library in a program that imports
// net/http.
func TestGovulncheckReadsIt(t *testing.T) {
	bin, err := filepath.Abs(filepath.Join("../../.tools/bin", "govulncheck-"+makefileVar(t, "GOVULNCHECK_VERSION"), "govulncheck"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("no %s (make lint installs it): %v", bin, err)
	}
	dbDir := writeFixtures(t)
	prog := t.TempDir()
	files := map[string]string{
		"go.mod":  "module example.com/probe\n\ngo 1.26\n",
		"main.go": "package main\n\nimport \"net/http\"\n\nfunc main() { _ = http.ListenAndServe(\":0\", nil) }\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(prog, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "-db", "file://"+dbDir, "-scan", "package", "./...")
	cmd.Dir = prog
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("govulncheck: %v (want exit status 3, vulnerabilities found):\n%s", err, out)
	}
	if !strings.Contains(string(out), "GO-2099-0003") {
		t.Errorf("govulncheck did not report GO-2099-0003:\n%s", out)
	}
	if strings.Contains(string(out), "GO-2099-0001") {
		t.Errorf("govulncheck reported a module the program does not use:\n%s", out)
	}
}

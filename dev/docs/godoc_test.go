package docs

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// packageTrees are the folders whose every package is documented.
var packageTrees = []string{"pkg", "dev", "functions", "infra"}

// users are the readers and callers a package comment names to say whom
// the package is for: the system's actors, its parts and its maintainers.
var users = regexp.MustCompile(`(?i)\b(maintainers?|tests?|the worker|the editor|editor's|the platform team|the funnel platform|operators?|lambdas?|functions?|customers?|the local stack|ingest|the simulator|govulncheck|make [a-z]+|adapters?|callers?|commands?|the api|the stack|every process|the page|HR)\b`)

// packageDoc returns the package comment of the Go package in dir, read
// from its non-test files (what `go doc` shows), and the package's name;
// for a package of tests alone, its name and no comment.
func packageDoc(t *testing.T, dir string) (name, doc string, ok bool) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var src, tests []string
	for _, e := range entries {
		switch n := e.Name(); {
		case strings.HasSuffix(n, "_test.go"):
			tests = append(tests, n)
		case strings.HasSuffix(n, ".go"):
			src = append(src, n)
		}
	}
	if len(src) == 0 && len(tests) == 0 {
		return "", "", false
	}
	if len(src) == 0 {
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, tests[0]), nil, parser.PackageClauseOnly)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSuffix(f.Name.Name, "_test"), "", true
	}
	fset := token.NewFileSet()
	for _, n := range src {
		f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		name = strings.TrimSuffix(f.Name.Name, "_test")
		if f.Doc != nil {
			doc += f.Doc.Text()
		}
	}
	return name, doc, true
}

// TestEveryPackageHasItsManual: every package under pkg/, dev/,
// functions/ and infra/ has a package comment (`go doc` shows it; a
// package of tests alone has it in a doc.go) that
// begins "Package <name>" ("Command <name>" for a main package), says
// what it does in at least a dozen words, and names whom it is for (one
// of users).
func TestEveryPackageHasItsManual(t *testing.T) {
	checked := 0
	for _, tree := range packageTrees {
		err := filepath.WalkDir(filepath.Join(root, tree), func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return err
			}
			if n := d.Name(); n == "testdata" || n == "node_modules" || n == "cdk.out" || strings.HasPrefix(n, ".") {
				return filepath.SkipDir
			}
			name, doc, ok := packageDoc(t, p)
			if !ok {
				return nil
			}
			checked++
			rel, _ := filepath.Rel(root, p)
			if msg := manualProblem(name, doc); msg != "" {
				t.Errorf("%s: %s", filepath.ToSlash(rel), msg)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if checked < 40 {
		t.Errorf("checked only %d packages", checked)
	}
}

// manualProblem says what a package comment lacks, or "".
func manualProblem(name, doc string) string {
	want := "Package " + name + " "
	if name == "main" {
		want = "Command "
	}
	switch {
	case doc == "":
		return "no package comment (`go doc` shows nothing; a package of tests alone keeps it in a doc.go): say what it does and for whom"
	case !strings.HasPrefix(doc, want):
		return "the package comment begins " + strings.Fields(doc)[0] + " " + strings.Fields(doc)[1] + "…, not " + strings.TrimSpace(want)
	case len(strings.Fields(doc)) < 12:
		return "the package comment says too little of what it does: " + doc
	case !users.MatchString(doc):
		return "the package comment does not say whom it is for (a maintainer, a test, the worker, the editor, the platform team, …): " + doc
	}
	return ""
}

// TestManualProblems: what the check finds wanting.
func TestManualProblems(t *testing.T) {
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"x", "", "no package comment"},
		{"x", "Package y does things for the worker, and more words to count here.", "begins Package y"},
		{"x", "Package x does things.", "too little"},
		{"x", "Package x turns one kind of value into another kind of value, quickly.", "whom"},
		{"x", "Package x turns one kind of value into another, for the worker and its tests.", ""},
		{"main", "Command x runs the thing for the platform team, from a shell, with flags.", ""},
	} {
		got := manualProblem(tc.name, tc.doc)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%q: %q, want %q", tc.doc, got, tc.want)
		}
	}
}

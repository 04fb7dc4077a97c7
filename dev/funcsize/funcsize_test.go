package funcsize

import (
	"os"
	"path/filepath"
	"testing"
)

// maxLines is the most lines a function of non-test code should span.
const maxLines = 80

// known are the functions still longer than maxLines, each with why. A
// function that grows past maxLines fails the test until it is shortened
// or named here; one that was shortened fails it until it leaves the list.
var known = map[string]string{
	"infra/stack.go NewStack":                      "the whole CloudFormation stack as one construct tree, resource by resource, in the order the template reads",
	"dev/localstack/stack.go Start":                "starts every function of the stack in order, each undone if a later one fails",
	"functions/local/load.go runLoad":              "the flags of every load scenario, then one call",
	"functions/local/serve.go runServe":            "the flags, the emulator it owns or finds, and the banner it prints",
	"dev/awsmeter/cost.go Compute":                 "the price table applied service by service, one line per priced item",
	"pkg/application/check.go compileNode":         "one case per JSON Schema keyword the event schema uses",
	"pkg/application/check.go checker.check":       "one case per JSON Schema keyword the event schema uses",
	"dev/loadtest/loadtest.go run.report":          "assembles the report's fields from the run's counters",
	"dev/sandbox/applications.go company.validate": "one check per field of Personio's create request, in the spec's order",
}

// TestLongFunctions: no function of non-test code is longer than
// maxLines but those in known, and each of those still is.
func TestLongFunctions(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatal(err)
	}
	long, err := Long(root, maxLines)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, f := range long {
		found[f.String()] = true
		if known[f.String()] == "" {
			t.Errorf("%s is %d lines, more than %d: shorten it, or name it in known with why", f, f.Lines, maxLines)
		}
	}
	for name := range known {
		if !found[name] {
			t.Errorf("%s is no longer over %d lines: take it out of known", name, maxLines)
		}
	}
}

// coreDirs are the lifecycle, the store and the worker: no function of
// theirs is longer than coreMaxLines.
var coreDirs = []string{"pkg/lifecycle", "pkg/store", "pkg/delivery", "pkg/workerlambda", "functions/worker"}

// coreMaxLines is the most lines a function of coreDirs may span.
const coreMaxLines = 60

// TestCoreFunctions: no function of the lifecycle, the store or the worker
// is longer than coreMaxLines, without exception.
func TestCoreFunctions(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range coreDirs {
		long, err := Long(filepath.Join(root, dir), coreMaxLines)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range long {
			t.Errorf("%s/%s is %d lines, more than %d", dir, f, f.Lines, coreMaxLines)
		}
	}
}

// TestLongFindsALongFunction: Long reports a function over the limit, a
// method by its type, and not one at the limit or a test file's.
func TestLongFindsALongFunction(t *testing.T) {
	dir := t.TempDir()
	body := func(n int) string {
		s := ""
		for range n {
			s += "\t_ = 1\n"
		}
		return s
	}
	files := map[string]string{
		"a.go":      "package a\n\nfunc short() {\n" + body(78) + "}\n\ntype T struct{}\n\nfunc (t *T) Long() {\n" + body(79) + "}\n",
		"a_test.go": "package a\n\nfunc longTest() {\n" + body(200) + "}\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	long, err := Long(dir, maxLines)
	if err != nil {
		t.Fatal(err)
	}
	if len(long) != 1 || long[0].String() != "a.go T.Long" || long[0].Lines != 81 {
		t.Errorf("Long = %+v, want a.go T.Long of 81 lines", long)
	}
}

package smoke

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/funnel-personio/funnel-personio/"

// deps lists what the packages link (go list -deps, tests excluded).
func deps(t *testing.T, pkgs ...string) map[string]bool {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list", "-deps"}, pkgs...)...).Output()
	if err != nil {
		t.Fatalf("go list -deps %v: %v", pkgs, err)
	}
	m := map[string]bool{}
	for _, p := range strings.Fields(string(out)) {
		m[p] = true
	}
	return m
}

// TestWhatShips holds the tree's layering: what the Lambdas (and the
// stack) are built from never links the development wing (dev/); ingest
// links neither the Personio client, nor the phone library, nor the
// OpenAPI library; neither ingest nor the worker links a JSON Schema
// library that compiles schemas at init; the api does not link the phone library (it validates
// mappings, the worker applies them); the editor and the worker's logic
// are siblings, so the api function does not link the worker and the
// other way round.
func TestWhatShips(t *testing.T) {
	for p := range deps(t, "../api", "../ingest", "../worker", "../../infra", "../../pkg/...") {
		if strings.HasPrefix(p, module+"dev/") {
			t.Errorf("shipped code links the development wing: %s", p)
		}
	}
	ingest := deps(t, "../ingest")
	for _, p := range []string{module + "pkg/personio", "github.com/nyaruka/phonenumbers", "github.com/getkin/kin-openapi/openapi3",
		module + "pkg/mapping", module + "pkg/delivery", module + "pkg/editor"} {
		if ingest[p] {
			t.Errorf("functions/ingest links %s", p)
		}
	}
	// A general JSON Schema validator compiles five drafts' metaschemas
	// when its package is initialised (6–10 ms of a cold start): the
	// application event is checked by pkg/application's own validator.
	for _, fn := range []string{"ingest", "worker"} {
		if deps(t, "../"+fn)["github.com/santhosh-tekuri/jsonschema/v6"] {
			t.Errorf("functions/%s links github.com/santhosh-tekuri/jsonschema/v6, whose init compiles JSON schemas", fn)
		}
	}
	// The phone library (with protobuf and its metadata about 8 MB and
	// 6–10 ms of init) is for applying mappings: the api only validates
	// them (pkg/mapping keeps the regions; pkg/phone formats).
	api := deps(t, "../api")
	for _, p := range []string{"github.com/nyaruka/phonenumbers", "google.golang.org/protobuf/proto", module + "pkg/phone"} {
		if api[p] {
			t.Errorf("functions/api links %s", p)
		}
	}
	if deps(t, "../../pkg/mapping")["github.com/nyaruka/phonenumbers"] {
		t.Error("pkg/mapping links the phone library; only pkg/phone may")
	}
	if !deps(t, "../worker")[module+"pkg/phone"] {
		t.Error("functions/worker does not link pkg/phone: who formats its phone numbers?")
	}
	if deps(t, "../../pkg/editor")[module+"pkg/delivery"] || api[module+"pkg/delivery"] {
		t.Error("the editor (and so the api function) links the worker's package pkg/delivery")
	}
	if deps(t, "../../pkg/delivery")[module+"pkg/editor"] || deps(t, "../worker")[module+"pkg/editor"] {
		t.Error("the worker links the editor")
	}
}

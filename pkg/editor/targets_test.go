package editor_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/funnel-personio/funnel-personio/pkg/mapping"
)

// TestTargetsListTheKinds: GET /v1/personio/targets carries mapping's kind
// table (what fits each kind, whether a template or an option table may
// fill it), so the page reads it instead of keeping a copy; every
// target's kind is one of them.
func TestTargetsListTheKinds(t *testing.T) {
	e := setup(t)
	r := e.call(t, ws, advanced, "GET", "/v1/personio/targets", nil, nil)
	if r.status != 200 {
		t.Fatalf("targets: %d %s", r.status, r.raw)
	}
	var got struct {
		Kinds   []mapping.KindSpec `json:"kinds"`
		Targets []mapping.Target   `json:"targets"`
	}
	if err := json.Unmarshal([]byte(r.raw), &got); err != nil {
		t.Fatal(err)
	}
	want := mapping.Kinds()
	if len(got.Kinds) != len(want) {
		t.Fatalf("%d kinds, want %d: %s", len(got.Kinds), len(want), r.raw)
	}
	known := map[mapping.Kind]bool{}
	for i, k := range got.Kinds {
		w := want[i]
		if k.Kind != w.Kind || !slices.Equal(k.Transforms, w.Transforms) || k.Template != w.Template ||
			k.Options != w.Options || k.Single != w.Single || k.Custom != w.Custom || k.List != w.List {
			t.Errorf("kind %d: %+v, want %+v", i, k, w)
		}
		known[k.Kind] = true
	}
	for _, tg := range got.Targets {
		if tg.Kind != "" && !known[tg.Kind] {
			t.Errorf("target %s has kind %q, which the kinds list lacks", tg.ID, tg.Kind)
		}
	}
}

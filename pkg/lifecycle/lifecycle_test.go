package lifecycle_test

import (
	"errors"
	"flag"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
)

var update = flag.Bool("update", false, "rewrite docs/lifecycle.md's diagram from the table")

const page = "../../docs/lifecycle.md"

// TestDiagramIsTheTable: the state diagram in docs/lifecycle.md is the
// one Diagram draws from the table (go test -update rewrites it).
func TestDiagramIsTheTable(t *testing.T) {
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "```mermaid\n")
	end := strings.Index(doc[start+1:], "```\n")
	if start < 0 || end < 0 {
		t.Fatalf("%s has no mermaid block", page)
	}
	end += start + 1
	got, want := doc[start+len("```mermaid\n"):end], lifecycle.Diagram()
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(page, []byte(doc[:start+len("```mermaid\n")]+want+doc[end:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s's diagram is not the table's; run go test ./pkg/lifecycle -update\ngot:\n%s\nwant:\n%s", page, got, want)
}

func TestLookup(t *testing.T) {
	for _, tc := range []struct {
		from lifecycle.Status
		on   lifecycle.Event
		to   lifecycle.Status
		ok   bool
	}{
		{"", lifecycle.Accept, lifecycle.StatusQueued, true},
		{lifecycle.StatusQueued, lifecycle.Accept, "", false},
		{lifecycle.StatusQueued, lifecycle.Claim, lifecycle.StatusProcessing, true},
		{lifecycle.StatusParked, lifecycle.Claim, lifecycle.StatusProcessing, true},
		{lifecycle.StatusDelivered, lifecycle.Claim, "", false},
		{lifecycle.StatusProcessing, lifecycle.Deliver, lifecycle.StatusDelivered, true},
		{lifecycle.StatusQueued, lifecycle.Deliver, "", false},
		{lifecycle.StatusProcessing, lifecycle.Park, lifecycle.StatusParked, true},
		{lifecycle.StatusParked, lifecycle.Requeue, lifecycle.StatusQueued, true},
		{lifecycle.StatusDelivered, lifecycle.Requeue, "", false},
		{lifecycle.StatusUnconfirmed, lifecycle.Requeue, "", false},
		{lifecycle.StatusDelivered, lifecycle.Erase, "", true},
	} {
		tr, err := lifecycle.Lookup(tc.from, tc.on)
		var na *lifecycle.ErrNotAllowed
		switch {
		case tc.ok && (err != nil || tr.To != tc.to):
			t.Errorf("%s on %s: %v, %v; want %s", tc.on, tc.from, tr.To, err, tc.to)
		case !tc.ok && !errors.As(err, &na):
			t.Errorf("%s on %s: %v, want not allowed", tc.on, tc.from, err)
		}
	}
}

// TestEveryStatusIsReachedAndLeft: every status but the terminal ones
// has a way out, every status a way in, and every worker outcome an event.
func TestEveryStatusIsReachedAndLeft(t *testing.T) {
	for _, s := range lifecycle.Statuses {
		in, out := false, false
		for _, tr := range lifecycle.Table {
			in = in || tr.To == s
			out = out || tr.On != lifecycle.Erase && tr.To != s && slices.Contains(tr.From, s)
		}
		if !in {
			t.Errorf("nothing leads to %s", s)
		}
		if !out && s != lifecycle.StatusDelivered {
			t.Errorf("nothing but an erasure leaves %s", s)
		}
		if s != lifecycle.StatusProcessing {
			if _, ok := lifecycle.Outcome(s); !ok && s != lifecycle.StatusQueued {
				t.Errorf("no worker outcome ends in %s", s)
			}
		}
	}
}

package web

import (
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/funnel-personio/funnel-personio/pkg/mapping"
)

// listRE finds an array literal of string literals in the page's code.
var listRE = regexp.MustCompile(`\[\s*'[^']*'(?:\s*,\s*'[^']*')+\s*,?\s*\]`)

// kindLists are the lists of kinds the page still holds, each with why.
// A new list fails TestNoKindListInThePage until the page reads it from
// the API (GET /v1/personio/targets: kinds, fits) or it is named here;
// one that is gone fails it until it leaves this map.
var kindLists = map[string]string{}

// TestNoKindListInThePage: the page's JavaScript holds no list of target
// kinds (two or more, nothing else) of its own: what fits each kind comes
// from the API, so a new kind needs no change to the page.
func TestNoKindListInThePage(t *testing.T) {
	kinds := map[string]bool{}
	for _, k := range mapping.Kinds() {
		kinds[string(k.Kind)] = true
	}
	found := map[string]bool{}
	err := fs.WalkDir(Assets(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".js") {
			return err
		}
		b, err := fs.ReadFile(Assets(), p)
		if err != nil {
			return err
		}
		for _, lit := range listRE.FindAllString(string(b), -1) {
			if !allKinds(lit, kinds) {
				continue
			}
			found[lit] = true
			if kindLists[lit] == "" {
				t.Errorf("%s holds a list of kinds, %s: read it from GET /v1/personio/targets (kinds, fits), or name it in kindLists with why", p, lit)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for lit := range kindLists {
		if !found[lit] {
			t.Errorf("the page no longer holds %s: take it out of kindLists", lit)
		}
	}
}

// allKinds reports whether every string of an array literal is a kind.
func allKinds(lit string, kinds map[string]bool) bool {
	items := strings.Split(strings.Trim(lit, "[] \n\t,"), ",")
	return !slices.ContainsFunc(items, func(s string) bool {
		return !kinds[strings.Trim(strings.TrimSpace(s), "'")]
	})
}

// TestKindListsFound: the check finds a list of kinds, and passes a list
// that holds anything else.
func TestKindListsFound(t *testing.T) {
	kinds := map[string]bool{"text": true, "date": true, "option": true}
	for _, tc := range []struct {
		src  string
		want []string
	}{
		{`if (['text', 'date'].includes(kind)) x();`, []string{"['text', 'date']"}},
		{`const k = [ 'option','text', ];`, []string{"[ 'option','text', ]"}},
		{`const types = ['text', 'date', 'choice'];`, nil},
		{`const one = ['text'];`, nil},
	} {
		var got []string
		for _, lit := range listRE.FindAllString(tc.src, -1) {
			if allKinds(lit, kinds) {
				got = append(got, lit)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: found %q, want %q", tc.src, got, tc.want)
		}
	}
}

package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// maxReadmeLines is the most lines README.md may have: what a newcomer
// reads on the first day; the rest belongs in docs/.
const maxReadmeLines = 250

// root is the module's root, from this package's folder.
const root = "../.."

// pages returns README.md and every docs/*.md, by path from the root,
// with their text.
func pages(t *testing.T) map[string]string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	names = append(names, filepath.Join(root, "README.md"))
	out := make(map[string]string, len(names))
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, n)
		out[rel] = string(b)
	}
	if len(out) < 10 {
		t.Fatalf("found only %d pages: %v", len(out), names)
	}
	return out
}

// TestReadmeIsAFrontDoor: README.md is at most maxReadmeLines lines and
// has a Mermaid diagram.
func TestReadmeIsAFrontDoor(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n > maxReadmeLines {
		t.Errorf("README.md has %d lines; at most %d (move the rest into docs/)", n, maxReadmeLines)
	}
	if !strings.Contains(string(b), "\n```mermaid\n") {
		t.Error("README.md has no ```mermaid block")
	}
}

// issueRE finds a page citing an issue by number.
var issueRE = regexp.MustCompile(`(?i)\bissues? [0-9]`)

// TestNoIssueNumbers: the docs describe the system as it is; its history
// (which issue did what) is git's.
func TestNoIssueNumbers(t *testing.T) {
	for name, text := range pages(t) {
		for i, line := range strings.Split(text, "\n") {
			if issueRE.MatchString(line) {
				t.Errorf("%s:%d cites an issue: %s", name, i+1, line)
			}
		}
	}
}

// linkRE finds a Markdown link or image's target.
var linkRE = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// elsewhere are pages written on other branches that this branch links
// to; a missing one is not reported until it exists here.
var elsewhere = map[string]bool{}

// TestRelativeLinksResolve: every relative link in README.md and docs/
// (a path, with or without an anchor) names a file or folder that exists.
func TestRelativeLinksResolve(t *testing.T) {
	checked := 0
	for name, text := range pages(t) {
		for _, m := range linkRE.FindAllStringSubmatch(text, -1) {
			target, _, _ := strings.Cut(m[1], "#")
			if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path := filepath.Join(filepath.Dir(name), target)
			checked++
			if _, err := os.Stat(filepath.Join(root, path)); err != nil {
				if elsewhere[filepath.ToSlash(path)] {
					continue
				}
				t.Errorf("%s links to %s, which does not exist", name, m[1])
			}
		}
	}
	if checked < 20 {
		t.Errorf("checked only %d relative links", checked)
	}
}

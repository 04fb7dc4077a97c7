// Package vulndb builds a Go vulnerability database on disk, for the
// module's maintainers and `make lint`: govulncheck reads it with
// `-db file://…` where the machine reaches no vulnerability service. The
// entries come from the OSV files the golang.org/x/vulndb module carries
// in data/osv (served by the Go module proxy like any module); Build reads
// them and Write lays them out as the database API of
// https://go.dev/security/vuln/database#api describes: index/db.json,
// index/modules.json, index/vulns.json and ID/<id>.json.
//
// The module's OSV files carry no dates (the published database takes
// them from the vulndb repository's git history, which a module zip has
// not); an entry without one is dated with the vulndb version's commit
// time, so the database says how fresh it is.
package vulndb

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/semver"
)

// Database is a vulnerability database in memory: the entries by id and
// the three indexes govulncheck reads first.
type Database struct {
	Modified time.Time         // the newest entry's modified time (index/db.json)
	Modules  []Module          // index/modules.json, by path
	Vulns    []Vuln            // index/vulns.json, by id
	entries  map[string][]byte // ID/<id>.json
}

// Module is one module with vulnerabilities, as index/modules.json lists it.
type Module struct {
	Path  string       `json:"path"`
	Vulns []ModuleVuln `json:"vulns"`
}

// ModuleVuln is one vulnerability of a module: Fixed is the version that
// fixes it for good (without a leading "v"), empty when none does.
type ModuleVuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Fixed    string    `json:"fixed,omitempty"`
}

// Vuln is one entry as index/vulns.json lists it.
type Vuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases,omitempty"`
}

// entry is the part of an OSV entry the indexes are made of.
type entry struct {
	ID        string    `json:"id"`
	Modified  time.Time `json:"modified"`
	Published time.Time `json:"published"`
	Aliases   []string  `json:"aliases"`
	Affected  []struct {
		Package struct {
			Name string `json:"name"`
		} `json:"package"`
		Ranges []Range `json:"ranges"`
	} `json:"affected"`
}

// Range is an OSV range: its type and its events.
type Range struct {
	Type   string  `json:"type"`
	Events []Event `json:"events"`
}

// Event is an OSV range event: a version that introduces or fixes.
type Event struct {
	Introduced string `json:"introduced,omitempty"`
	Fixed      string `json:"fixed,omitempty"`
}

// Build reads every *.json file at the top of src as an OSV entry and
// returns the database of them; an entry without a modified or published
// time gets asOf. It fails on a file that is not an OSV entry, an entry
// whose id is not its file's name, and an id seen twice.
func Build(src fs.FS, asOf time.Time) (*Database, error) {
	names, err := fs.Glob(src, "*.json")
	if err != nil {
		return nil, fmt.Errorf("vulndb: list entries: %w", err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("vulndb: list entries: no *.json file")
	}
	db := &Database{entries: make(map[string][]byte, len(names))}
	modules := map[string]*Module{}
	for _, name := range names {
		e, raw, err := readEntry(src, name, asOf)
		if err != nil {
			return nil, err
		}
		if _, dup := db.entries[e.ID]; dup {
			return nil, fmt.Errorf("vulndb: read %s: id %s twice", name, e.ID)
		}
		db.entries[e.ID] = raw
		db.Vulns = append(db.Vulns, Vuln{ID: e.ID, Modified: e.Modified, Aliases: e.Aliases})
		if e.Modified.After(db.Modified) {
			db.Modified = e.Modified
		}
		for _, a := range e.Affected {
			m := modules[a.Package.Name]
			if m == nil {
				m = &Module{Path: a.Package.Name}
				modules[a.Package.Name] = m
			}
			m.Vulns = append(m.Vulns, ModuleVuln{ID: e.ID, Modified: e.Modified, Fixed: LatestFixed(a.Ranges)})
		}
	}
	for _, m := range modules {
		slices.SortFunc(m.Vulns, func(a, b ModuleVuln) int { return strings.Compare(a.ID, b.ID) })
		db.Modules = append(db.Modules, *m)
	}
	slices.SortFunc(db.Modules, func(a, b Module) int { return strings.Compare(a.Path, b.Path) })
	slices.SortFunc(db.Vulns, func(a, b Vuln) int { return strings.Compare(a.ID, b.ID) })
	return db, nil
}

// readEntry reads one OSV file: its entry and its JSON, dated asOf where
// it has no date.
func readEntry(src fs.FS, name string, asOf time.Time) (entry, []byte, error) {
	var e entry
	b, err := fs.ReadFile(src, name)
	if err != nil {
		return e, nil, fmt.Errorf("vulndb: read %s: %w", name, err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return e, nil, fmt.Errorf("vulndb: read %s: %w", name, err)
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return e, nil, fmt.Errorf("vulndb: read %s: %w", name, err)
	}
	if e.ID == "" || e.ID+".json" != path.Base(name) {
		return e, nil, fmt.Errorf("vulndb: read %s: id %q is not the file's name", name, e.ID)
	}
	if len(e.Affected) == 0 {
		return e, nil, fmt.Errorf("vulndb: read %s: no affected module", name)
	}
	if e.Modified.IsZero() {
		e.Modified = asOf.UTC()
		fields["modified"], _ = json.Marshal(e.Modified)
	}
	if e.Published.IsZero() {
		e.Published = asOf.UTC()
		fields["published"], _ = json.Marshal(e.Published)
	}
	raw, err := json.Marshal(fields)
	if err != nil {
		return e, nil, fmt.Errorf("vulndb: write %s: %w", name, err)
	}
	return e, raw, nil
}

// LatestFixed is the version after which no range of a module is
// vulnerable any more: the highest "fixed" of its SEMVER ranges, or ""
// when a range introduces the vulnerability again after it (or none
// fixes it).
func LatestFixed(ranges []Range) string {
	latest := ""
	for _, r := range ranges {
		if r.Type != "SEMVER" {
			continue
		}
		for _, e := range r.Events {
			if e.Fixed != "" && before(latest, e.Fixed) {
				latest = e.Fixed
			}
		}
		for _, e := range r.Events {
			if e.Introduced != "" && e.Introduced != "0" && before(latest, e.Introduced) {
				return ""
			}
		}
	}
	return latest
}

// before reports whether version a (no leading "v"; "" is the lowest)
// comes before b.
func before(a, b string) bool {
	if a == "" {
		return b != ""
	}
	return semver.Compare("v"+a, "v"+b) < 0
}

// Write lays the database out under dir (which it creates, and empties of
// an earlier database): index/db.json, index/modules.json,
// index/vulns.json and ID/<id>.json.
func (db *Database) Write(dir string) error {
	for _, sub := range []string{"index", "ID"} {
		if err := os.RemoveAll(filepath.Join(dir, sub)); err != nil {
			return fmt.Errorf("vulndb: write: %w", err)
		}
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return fmt.Errorf("vulndb: write: %w", err)
		}
	}
	files := map[string]any{
		"index/db.json": struct {
			Modified time.Time `json:"modified"`
		}{db.Modified},
		"index/modules.json": db.Modules,
		"index/vulns.json":   db.Vulns,
	}
	for name, v := range files {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("vulndb: write %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("vulndb: write %s: %w", name, err)
		}
	}
	for id, b := range db.entries {
		if err := os.WriteFile(filepath.Join(dir, "ID", id+".json"), b, 0o644); err != nil {
			return fmt.Errorf("vulndb: write %s: %w", id, err)
		}
	}
	return nil
}

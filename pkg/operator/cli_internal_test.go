package operator

import (
	"strings"
	"testing"
)

// TestSubcommandTable: each subcommand's help line starts with its name,
// names are unique, each is found by name, and each declares its flags on
// a fresh flag set without clashing with the flags of every command.
func TestSubcommandTable(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range subcommands {
		if seen[s.name] {
			t.Errorf("%q twice", s.name)
		}
		seen[s.name] = true
		if !strings.HasPrefix(s.usage, "  "+s.name+" ") || !strings.Contains(Usage, s.usage) {
			t.Errorf("%q: its help %q is not in Usage under its name", s.name, s.usage)
		}
		if got, ok := lookup(s.name); !ok || got.name != s.name {
			t.Errorf("lookup(%q) = %q, %v", s.name, got.name, ok)
		}
		c := &command{name: s.name}
		fs := c.flagSet()
		fs.SetOutput(&strings.Builder{})
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%q: its flags clash with the common ones: %v", s.name, r)
				}
			}()
			if act := s.flags(fs, c); act.run == nil {
				t.Errorf("%q runs nothing", s.name)
			}
		}()
		if fs.Lookup("json") == nil {
			t.Errorf("%q lacks -json", s.name)
		}
	}
	if len(subcommands) != 6 {
		t.Errorf("%d subcommands", len(subcommands))
	}
}

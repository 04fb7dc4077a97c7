package vulndb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"golang.org/x/mod/module"
)

// Source finds the OSV entries of the golang.org/x/vulndb module at a
// version ("golang.org/x/vulndb@v0.0.0-…"): `go mod download` fetches it
// through the module proxy (or finds it in the module cache), and its
// data/osv folder holds one file per entry. It returns that folder and the
// version's commit time, from its pseudo-version.
func Source(modVersion string) (dir string, asOf time.Time, err error) {
	_, version, ok := strings.Cut(modVersion, "@")
	if !ok {
		return "", time.Time{}, fmt.Errorf("vulndb: source %q: want module@version", modVersion)
	}
	asOf, err = module.PseudoVersionTime(version)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("vulndb: source %q: %w", modVersion, err)
	}
	cmd := exec.Command("go", "mod", "download", "-json", modVersion)
	// Outside any module, so the download leaves go.mod and go.sum alone.
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var got struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &got); jerr == nil && got.Error != "" {
		return "", time.Time{}, fmt.Errorf("vulndb: download %s: %s", modVersion, got.Error)
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("vulndb: download %s: %w: %s", modVersion, err, strings.TrimSpace(stderr.String()))
	}
	if got.Dir == "" {
		return "", time.Time{}, fmt.Errorf("vulndb: download %s: no folder in %q", modVersion, out)
	}
	dir = got.Dir + "/data/osv"
	if _, err := os.Stat(dir); err != nil {
		return "", time.Time{}, fmt.Errorf("vulndb: source %s: no OSV entries: %w", modVersion, err)
	}
	return dir, asOf, nil
}

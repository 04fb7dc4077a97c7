package smoke

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/funnel-personio/funnel-personio/dev/coldstart"
)

// TestBinarySizes builds each function with a size target as `make build`
// does (linux/arm64, static, stripped) and holds the target
// (coldstart.Functions: api ≤ 15 MB, ingest ≤ 12 MB, worker ≤ 21 MB; MB of
// 10^6 bytes).
func TestBinarySizes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the functions for arm64")
	}
	for _, f := range coldstart.Functions() {
		if f.MaxArm64Bytes == 0 {
			continue
		}
		t.Run(f.Name, func(t *testing.T) {
			bin := filepath.Join(t.TempDir(), "bootstrap")
			if err := coldstart.Build(context.Background(), "../..", f.Name, "arm64", bin); err != nil {
				t.Fatal(err)
			}
			info, err := os.Stat(bin)
			if err != nil {
				t.Fatal(err)
			}
			if info.Size() > f.MaxArm64Bytes {
				t.Errorf("functions/%s: %d bytes for linux/arm64, over its target of %d", f.Name, info.Size(), f.MaxArm64Bytes)
			}
			t.Logf("%s: %.2f MB (target %.0f MB)", f.Name, float64(info.Size())/1e6, float64(f.MaxArm64Bytes)/1e6)
		})
	}
}

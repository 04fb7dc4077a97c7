// Package headless starts Debian's Chromium, headless, for tests that look
// at a page as a person would (the setup page, the load report): where it
// is, and the flags it needs on this machine. Without Chromium a test is
// skipped, unless WEB_BROWSER_REQUIRED is set (as scripts/test.sh does),
// when it fails: `make test` installs it.
package headless

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// Path finds Debian's chromium (or CHROMIUM), skipping or failing the
// test when there is none.
func Path(t testing.TB) string {
	t.Helper()
	for _, name := range []string{os.Getenv("CHROMIUM"), "chromium", "chromium-browser"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("WEB_BROWSER_REQUIRED") != "" {
		t.Fatal("chromium is not installed (apt-get install -y chromium); make test installs it")
	}
	t.Skip("chromium is not installed; make test installs it")
	return ""
}

// Options are chromedp's allocator options for exe: headless, no sandbox
// or GPU, none of the background connections this machine's closed
// network refuses, English, an empty profile in a folder of the test's.
func Options(t testing.TB, exe string, width, height int) []chromedp.ExecAllocatorOption {
	return append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(width, height))
}

// Start opens one tab of a new headless Chromium; both end with the test.
func Start(t testing.TB, width, height int) context.Context {
	t.Helper()
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), Options(t, Path(t), width, height)...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelA() })
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

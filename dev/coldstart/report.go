package coldstart

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Result is one function's measurement.
type Result struct {
	Function string `json:"function"`
	// Arch is the architecture the starts ran on (this machine's).
	Arch string `json:"arch"`
	// HostBytes is the size of the binary started; Arm64Bytes that of
	// the stripped linux/arm64 binary the stack deploys (0 when not
	// built).
	HostBytes  int64 `json:"host_bytes"`
	Arm64Bytes int64 `json:"arm64_bytes,omitempty"`
	Runs       int   `json:"runs"`
	// Next is process start to the first GET next.
	Next Summary `json:"start_to_next"`
	// FirstEvent is the first event handed out to the answer.
	FirstEvent     *Summary `json:"first_event,omitempty"`
	FirstEventNote string   `json:"first_event_note,omitempty"`
	// Connections is the most connections to the outside stand-in any
	// start made before asking for an event.
	Connections int `json:"init_connections"`
	// Init is the package init of the median of InitRuns more starts,
	// from GODEBUG=inittrace=1.
	Init     InitTrace `json:"inittrace"`
	InitRuns int       `json:"inittrace_runs"`
}

// InitTrace sums GODEBUG=inittrace=1's lines.
type InitTrace struct {
	// TotalMs is the wall-clock time of every package's init.
	TotalMs float64 `json:"total_ms"`
	// Bytes and Allocs are what the inits allocated.
	Bytes  int64 `json:"bytes"`
	Allocs int64 `json:"allocs"`
	// Top are the costliest packages, most first (at most 5).
	Top []PackageInit `json:"top"`
}

// PackageInit is one package's init.
type PackageInit struct {
	Package string  `json:"package"`
	Ms      float64 `json:"ms"`
}

// ParseInitTrace reads GODEBUG=inittrace=1's lines ("init <package> @<t>
// ms, <clock> ms clock, <bytes> bytes, <allocs> allocs") out of stderr.
func ParseInitTrace(stderr string) InitTrace {
	var t InitTrace
	var all []PackageInit
	sc := bufio.NewScanner(strings.NewReader(stderr))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 11 || f[0] != "init" || f[6] != "clock," || f[8] != "bytes," || f[10] != "allocs" {
			continue
		}
		clock, err := strconv.ParseFloat(f[4], 64)
		if err != nil {
			continue
		}
		b, _ := strconv.ParseInt(f[7], 10, 64)
		a, _ := strconv.ParseInt(f[9], 10, 64)
		t.TotalMs += clock
		t.Bytes += b
		t.Allocs += a
		all = append(all, PackageInit{Package: f[1], Ms: clock})
	}
	slices.SortStableFunc(all, func(a, b PackageInit) int {
		switch {
		case a.Ms > b.Ms:
			return -1
		case a.Ms < b.Ms:
			return 1
		}
		return 0
	})
	t.Top = all[:min(5, len(all))]
	return t
}

// WriteJSON writes the results as indented JSON.
func WriteJSON(w io.Writer, results []Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(results); err != nil {
		return fmt.Errorf("coldstart: write JSON: %w", err)
	}
	return nil
}

// WriteMarkdown writes the table docs/performance.md shows: per function the
// sizes, start to next (median, max), the first event, package init and
// its costliest packages.
func WriteMarkdown(w io.Writer, results []Result) error {
	var b strings.Builder
	arch := ""
	if len(results) > 0 {
		arch = results[0].Arch
	}
	fmt.Fprintf(&b, "| function | arm64 stripped | %s stripped | start → next, median / max of %d | first event, median / max | package init (inittrace) | costliest inits |\n", arch, runsOf(results))
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, r := range results {
		first := "–"
		if r.FirstEvent != nil {
			first = fmt.Sprintf("%.1f / %.1f ms", r.FirstEvent.Median, r.FirstEvent.Max)
		}
		var top []string
		for _, p := range r.Init.Top[:min(3, len(r.Init.Top))] {
			top = append(top, fmt.Sprintf("%s %.1f", shortPackage(p.Package), p.Ms))
		}
		next := fmt.Sprintf("**%.1f** / %.1f ms", r.Next.Median, r.Next.Max)
		if r.Connections > 0 {
			next += fmt.Sprintf(" (%d connections out during init)", r.Connections)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %.1f ms | %s |\n", r.Function, megabytes(r.Arm64Bytes), megabytes(r.HostBytes),
			next, first, r.Init.TotalMs, strings.Join(top, ", "))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("coldstart: write table: %w", err)
	}
	return nil
}

func runsOf(results []Result) int {
	if len(results) == 0 {
		return 0
	}
	return results[0].Runs
}

// megabytes prints a size in MB (10^6 bytes), the unit of the targets.
func megabytes(n int64) string {
	if n == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f MB", float64(n)/1e6)
}

// shortPackage drops the module paths' hosts for the table.
func shortPackage(p string) string {
	p = strings.TrimPrefix(p, "github.com/")
	p = strings.TrimPrefix(p, "funnel-personio/funnel-personio/")
	return p
}

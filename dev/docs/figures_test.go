package docs

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// figureRE finds a figure: a number with a unit of time, size, rate,
// share or money. "s" and "min" need a space before them, so "429s" (HTTP
// answers) is not a figure.
var figureRE = regexp.MustCompile(`(?:^|[^\w.\-/+])(?:(\d[\d,]*(?:\.\d+)?(?:\s?(?:ms|%|MB|KB|GB|events/s|requests/(?:s|min|a second|a minute))| (?:s|min)))(?:[^\w/]|$)|(\$\s?\d[\d,]*(?:\.\d+)?))`)

// commandRE finds, in code, a command that produces figures.
var commandRE = regexp.MustCompile("(?m)(`[^`\n]*|^\\s*(?:\\$ )?)\\b(make [a-z]|bin/local [a-z]|go test |go run )")

// dateRE finds a date; commitRE a commit (7 to 40 hex digits, with a digit
// and a letter, or any after the word "commit": a hash may be all digits).
var (
	dateRE      = regexp.MustCompile(`\b20\d\d-\d\d-\d\d\b`)
	commitRE    = regexp.MustCompile(`\b[0-9a-f]{7,40}\b`)
	namedCommit = regexp.MustCompile(`\bcommits? [0-9a-f]{7,40}\b`)
	digitRE     = regexp.MustCompile(`[0-9]`)
	letterRE    = regexp.MustCompile(`[a-f]`)
)

// notMeasured are the sections whose figures are values set, not
// measured (a limit of Personio's or AWS's, a default of pkg/settings, a
// parameter of a test or a tool), each with what they are. A section that
// gains a measured figure leaves this list and says how it was measured.
var notMeasured = map[string]string{
	"docs/performance.md#Performance and reliability":                                 "the load runs' settings: the sandbox's latency, Personio's window and the budget's margin",
	"docs/architecture.md#The stack as code (`infra/`)":                               "the stack's settings: batching window, alarm thresholds",
	"docs/architecture.md#State on AWS (`pkg/store`, `pkg/vault`, `pkg/queue`)":       "item and message size limits, visibility and lease defaults",
	"docs/capacity.md#The load":                                                       "the load the page plans for, and the share of applications with a CV the load runs send",
	"docs/capacity.md#The limits, in the order they bind":                             "Personio's, AWS's and the stack's limits",
	"docs/capacity.md#Retries, the dead-letter queue and Personio outages":            "the retry settings (RETRY_BASE, RETRY_MAX) and what follows from them",
	"docs/contributing.md#Commands":                                                   "the targets' defaults (FUZZTIME, ATTACKTIME, the load runs' windows) and how long a load run takes",
	"docs/delivery.md#The application event (`pkg/application`)":                      "Personio's document size limit",
	"docs/delivery.md#The delivery pipeline (`functions/ingest`, `functions/worker`)": "the pipeline's settings: timeouts, backoff, leases, budgets",
	"docs/delivery.md#Telling the customer (`pkg/outbound`, `pkg/watch`)":             "the outbound retry and watch schedules",
	"docs/editor-api.md#The editor API (`functions/api`, `pkg/editor`)":               "the body size limit and Personio's rate window",
	"docs/local-stack.md#The local stack (`functions/local`, `dev/localstack`)":       "the local settings (settings.Local)",
	"docs/mapping.md#Mapping (`pkg/mapping`)":                                         "Personio's document size limit",
	"docs/operations.md#WorkerErrorsAlarm: the worker function failed":                "the visibility timeout and lease settings",
	"docs/operations.md#When Personio is down for an hour":                            "the retry settings",
	"docs/personio.md#The Personio client (`pkg/personio`)":                           "the client's timeout and Personio's limits",
	"docs/personio.md#What the sandbox enforces, against the spec":                    "Personio's limits as the spec and its terms state them",
	"docs/read-access.md#Limits, and how reads count":                                 "Personio's rate window for reads",
	"docs/read-access.md#What it gives":                                               "the watch's schedule (WATCH_TICK) and the bound of rereads (CONFIRM_CHECKS)",
	"docs/security.md#Security and data protection":                                   "the signature tolerance and the memory limit's share",
	"docs/settings.md#Configuration (`pkg/settings`)":                                 "the defaults of pkg/settings",
	"docs/simulator.md#What runs":                                                     "the simulator's fault rates and latencies",
	"README.md#Layout":                                                                "Personio's document size limit and SQS's billing chunk",
	"docs/cost.md#Requests and cost per application":                                  "SQS's billing chunk (the measured figures are in the generated tables)",
}

// section is a page's text from one heading to the next.
type section struct {
	key   string // page#heading (page alone before the first heading)
	text  string // every line, code included
	prose []string
	lines []int // the line number of each prose line
}

// sections cuts a page at its headings; prose is its lines outside fenced
// code with inline code taken out.
func sections(page, text string) []section {
	cur := section{key: page}
	var out []section
	fenced := false
	for i, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
		} else if h := strings.TrimLeft(line, "#"); !fenced && h != line && strings.HasPrefix(h, " ") {
			out = append(out, cur)
			cur = section{key: page + "#" + strings.TrimSpace(h)}
			continue
		}
		cur.text += line + "\n"
		if !fenced && !strings.HasPrefix(line, "```") {
			cur.prose = append(cur.prose, inlineCodeRE.ReplaceAllString(line, ""))
			cur.lines = append(cur.lines, i+1)
		}
	}
	return append(out, cur)
}

// inlineCodeRE is inline code: a command or a name, not a figure.
var inlineCodeRE = regexp.MustCompile("`[^`]*`")

// missing says what a section with figures lacks of command, date and
// commit, or "".
func missing(text string) string {
	var out []string
	if !commandRE.MatchString(text) {
		out = append(out, "the command (make …, bin/local …, go test …, go run …, in code)")
	}
	if !dateRE.MatchString(text) {
		out = append(out, "the date (yyyy-mm-dd)")
	}
	hasCommit := namedCommit.MatchString(text)
	for _, c := range commitRE.FindAllString(text, -1) {
		if digitRE.MatchString(c) && letterRE.MatchString(c) {
			hasCommit = true
		}
	}
	if !hasCommit {
		out = append(out, "the commit")
	}
	return strings.Join(out, ", ")
}

// figures lists a section's figures with their line numbers.
func figures(s section) []string {
	var out []string
	for i, line := range s.prose {
		for _, m := range figureRE.FindAllStringSubmatch(line, -1) {
			out = append(out, m[1]+m[2]+" (line "+strconv.Itoa(s.lines[i])+")")
		}
	}
	return out
}

// exempt says why a section's figures need no command, or "".
func exempt(key string) string {
	page, _, _ := strings.Cut(key, "#")
	if why := notMeasured[page]; why != "" {
		return why
	}
	return notMeasured[key]
}

// TestFiguresHaveTheirCommand: every section (heading to heading) of
// README.md and docs/ that gives a figure (a number with a unit: ms, s,
// min, %, MB, KB, GB, events/s, requests/…, $) outside code names the
// command that produced it (in code), the date and the commit, unless its
// figures are values set, not measured (notMeasured, each with what they
// are). An entry of notMeasured that no longer has figures fails too.
func TestFiguresHaveTheirCommand(t *testing.T) {
	used := map[string]bool{}
	for name, text := range pages(t) {
		for _, s := range sections(name, text) {
			figs := figures(s)
			if len(figs) == 0 {
				continue
			}
			page, _, _ := strings.Cut(s.key, "#")
			if exempt(s.key) != "" {
				used[s.key], used[page] = true, true
				continue
			}
			if m := missing(s.text); m != "" {
				t.Errorf("%s gives %s without %s", s.key, strings.Join(figs, ", "), m)
			}
		}
	}
	for key := range notMeasured {
		if !used[key] {
			t.Errorf("%s has no figures (or no longer exists): take it out of notMeasured", key)
		}
	}
}

// TestFigureChecks: what counts as a figure, a command, a date and a
// commit.
func TestFigureChecks(t *testing.T) {
	for _, tc := range []struct {
		line string
		want []string
	}{
		{"the median is 41.3 ms and the max 1.2 s", []string{"41.3 ms (line 1)", "1.2 s (line 1)"}},
		{"| ingest | 1,250 events/s | 98.4 % |", []string{"1,250 events/s (line 1)", "98.4 % (line 1)"}},
		{"about $12.40 a month, 594 MB", []string{"$12.40 (line 1)", "594 MB (line 1)"}},
		{"Personio answers 429s; 2,000 requests/min", []string{"2,000 requests/min (line 1)"}},
		{"run `go test -bench . 5 ms` v1.2 s3 in 3 steps", nil},
	} {
		got := figures(sections("p", tc.line)[0])
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%q: figures %q, want %q", tc.line, got, tc.want)
		}
	}
	for _, tc := range []struct {
		text, want string
	}{
		{"`make load` on 2026-11-30, commit 248f173", ""},
		{"```\nbin/local load -scenario x\n```\n2026-11-30 at 14409cb", ""},
		{"`go test -run X ./pkg/y` on 2026-11-30", "the commit"},
		{"measured on 2026-11-30 at 248f173", "the command (make …, bin/local …, go test …, go run …, in code)"},
		{"`make sim`, commit 248f173 (added, faded)", "the date (yyyy-mm-dd)"},
		{"`make sim` 2026-11-30 decaded", "the commit"},
		{"`make sim` 2026-11-30, commit 7667460", ""},
		{"`make sim` 2026-11-30, 7667460 steps", "the commit"},
	} {
		if got := missing(strings.ReplaceAll(tc.text, `\n`, "\n")); got != tc.want {
			t.Errorf("%q lacks %q, want %q", tc.text, got, tc.want)
		}
	}
}

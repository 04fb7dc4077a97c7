package sim

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"

	"github.com/funnel-personio/funnel-personio/pkg/filefetch"
)

// In filesShare of the seeds half the applications carry a CV, and one in
// four a cover letter too: the worker fetches each from the funnel's file
// host and uploads it to Personio before the create, with the budget's
// units for all of them. A generator of its own, from the seed, picks
// those seeds, so a seed without files runs as it does without this.
const filesShare = 0.3

// withFiles says whether the seed's applications carry files.
func withFiles(seed uint64) bool {
	return rand.New(rand.NewPCG(seed^0x66696c6573, seed)).Float64() < filesShare
}

// fileCount is how many files applicant n's application carries.
func fileCount(files bool, n int) int {
	switch {
	case !files || n%2 == 1:
		return 0
	case n%4 == 0:
		return 2
	}
	return 1
}

// filesOf are applicant n's files, as the platform's event lists them.
func filesOf(id string, count int) []any {
	names := []string{"cv", "cover-letter"}
	out := []any{}
	for i := range count {
		name := names[i] + ".pdf"
		out = append(out, map[string]any{"field_id": "q_" + strings.ReplaceAll(names[i], "-", "_"),
			"url": "https://files.sim/" + id + "/" + name, "filename": name, "content_type": "application/pdf", "size": len(fileContent)})
	}
	return out
}

// fileContent is every file's content: enough to be a PDF to Personio.
const fileContent = "%PDF-1.4\n% the applicant's file\n%%EOF\n"

// fileHost is the funnel's file host behind a gate: it answers after a
// while, and one fetch in ten fails as a host that does not answer does
// (the worker tries the delivery again later).
type fileHost struct{ s *Sched }

// Fetch fetches a file.
func (h fileHost) Fetch(ctx context.Context, url string) (*filefetch.File, error) {
	h.s.Gate(ctx, "files GET", h.s.Latency(5e6, 300e6))
	if h.s.Float() < 0.1 {
		return nil, &filefetch.Error{Host: "files.sim", Reason: "the file host did not answer", Err: fmt.Errorf("fetch %d bytes: timeout", len(url))}
	}
	return &filefetch.File{Body: io.NopCloser(strings.NewReader(fileContent)), ContentType: "application/pdf"}, nil
}

// Package docs holds the checks of the repository's documentation, for its
// maintainers: README.md stays a short front door with a Mermaid diagram,
// no page cites an issue number, every relative link in README.md and
// docs/ points at a file that exists, and every measured figure (a number
// with a unit) sits in a section that names the command, date and commit
// that produced it. It has no code; `go test ./dev/docs` runs the checks.
package docs

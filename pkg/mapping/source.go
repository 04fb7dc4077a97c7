package mapping

import (
	"regexp"
	"slices"
	"strings"
)

// srcKind is where a source reads from.
type srcKind uint8

const (
	srcNone srcKind = iota
	srcContact
	srcAnswer
	srcFile
	srcTracking
	srcEvent
)

// source is a parsed source reference such as answers.q1.
type source struct {
	kind srcKind
	key  string
	raw  string
}

var (
	contactFields = []string{"first_name", "last_name", "full_name", "email", "phone"}
	eventFields   = []string{"id", "occurred_at", "funnel_id", "workspace_id"}
	keyRE         = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
	placeholderRE = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)
)

// parseSource reads a source reference, or says what is wrong with it.
func parseSource(s string) (source, string) {
	prefix, key, ok := strings.Cut(s, ".")
	if !ok || key == "" {
		return source{}, "a source is contact.<field>, answers.<field_id>, files.<field_id>, tracking.<key> or event.<field>"
	}
	src := source{key: key, raw: s}
	switch prefix {
	case "contact":
		src.kind = srcContact
		if !slices.Contains(contactFields, key) {
			return source{}, "contact has " + strings.Join(contactFields, ", ")
		}
	case "event":
		src.kind = srcEvent
		if !slices.Contains(eventFields, key) {
			return source{}, "event has " + strings.Join(eventFields, ", ")
		}
	case "answers", "files", "tracking":
		src.kind = map[string]srcKind{"answers": srcAnswer, "files": srcFile, "tracking": srcTracking}[prefix]
		if !keyRE.MatchString(key) {
			return source{}, prefix + " keys are 1 to 64 letters, digits, _ . or -"
		}
	default:
		return source{}, "unknown source " + prefix + "; a source is contact.*, answers.*, files.*, tracking.* or event.*"
	}
	return src, ""
}

// segment is a piece of a template: literal text or a source.
type segment struct {
	text string
	src  source
}

// parseTemplate splits a template into literal text and sources; it
// reports every bad placeholder.
func parseTemplate(t string) ([]segment, []string) {
	var segs []segment
	var problems []string
	rest := t
	for {
		loc := placeholderRE.FindStringSubmatchIndex(rest)
		if loc == nil {
			break
		}
		if loc[0] > 0 {
			segs = append(segs, segment{text: rest[:loc[0]]})
		}
		ref := rest[loc[2]:loc[3]]
		src, problem := parseSource(ref)
		switch {
		case problem != "":
			problems = append(problems, "{{"+ref+"}}: "+problem)
		case src.kind == srcFile:
			problems = append(problems, "{{"+ref+"}}: files cannot go in a template; map them to a file target")
		default:
			segs = append(segs, segment{src: src})
		}
		rest = rest[loc[1]:]
	}
	if strings.Contains(rest, "{{") || strings.Contains(rest, "}}") {
		problems = append(problems, "unbalanced {{ or }} in the template")
	}
	if rest != "" {
		segs = append(segs, segment{text: rest})
	}
	return segs, problems
}

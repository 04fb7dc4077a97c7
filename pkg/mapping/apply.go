package mapping

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
)

// Mapping is a validated, compiled Config, ready to apply to events. It is
// safe for concurrent use.
type Mapping struct {
	first, last, email *compiledRule
	optional           []*compiledRule
	keep               bool
	region             string
	attributes         int // how many rules assign attributes, to size the list
}

type compiledRule struct {
	name       string
	target     Target
	src        source
	constant   *string
	template   []segment
	transforms []string
	options    map[string]string
	sep        string
	region     string
	phone      PhoneFormat // nil while only validating
	fallback   *compiledRule
}

// PhoneFormat formats a phone number, a national number in region unless
// it has a country code, in E.164; false when it is not a valid number.
// phone.E164 is the one the worker passes to Compile: this package does
// not link a phone library, so that the editor, which only validates
// mappings, stays small.
type PhoneFormat func(number, region string) (string, bool)

// Options are what Apply needs besides the event and the mapping: the
// integration's job position and channel, and the clock.
type Options struct {
	JobPositionID       int64
	RecruitingChannelID *int64
	// Now is the time application dates are checked against (default
	// time.Now).
	Now time.Time
}

// Result is what Apply makes of an event: the Personio request (without
// file references: the worker adds them after uploading), the files to
// upload, and warnings about optional rules that could not be applied.
type Result struct {
	Application personio.Application `json:"application"`
	Files       []FileUpload         `json:"files,omitempty"`
	Warnings    []RuleError          `json:"warnings,omitempty"`
}

// FileUpload is one file of the event to upload with a category.
type FileUpload struct {
	FieldID     string                `json:"field_id"`
	URL         string                `json:"url"`
	Filename    string                `json:"filename"`
	ContentType string                `json:"content_type,omitempty"`
	Size        int64                 `json:"size,omitempty"`
	Category    personio.FileCategory `json:"category"`
}

// RuleError says which rule failed and why. Reasons never quote names or
// e-mail addresses, so they may be logged.
type RuleError struct {
	Rule   string `json:"rule"`
	Target string `json:"target"`
	Reason string `json:"reason"`
}

func (r RuleError) String() string { return r.Rule + " (" + r.Target + "): " + r.Reason }

// Error is a failed Apply: a required assignment gave no usable value. It
// is permanent: this event can never be delivered with this mapping.
type Error struct {
	Rules []RuleError
}

func (e *Error) Error() string {
	parts := make([]string, 0, len(e.Rules))
	for _, r := range e.Rules {
		parts = append(parts, r.String())
	}
	return "mapping: apply: " + strings.Join(parts, "; ")
}

// Retryable returns false.
func (e *Error) Retryable() bool { return false }

// failedRequired finds, in an *Error's text, the rules of required
// assignments it names (required.email (email): …).
var failedRequired = regexp.MustCompile(`(?:^|: |; )required\.(first_name|last_name|email)(?:\.fallback)* \(`)

// FailedTargets reads back which required targets (first_name, last_name,
// email) an *Error's text names, each once, in the order named: for a
// delivery record that keeps only the text.
func FailedTargets(text string) []string {
	var out []string
	for _, m := range failedRequired.FindAllStringSubmatch(text, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

// Apply validates the mapping, compiles it with phone and applies it to
// the event; see (*Mapping).Apply. A mapping that does not validate is a
// *ConfigError.
func Apply(ev *application.Event, cfg Config, phone PhoneFormat, opts Options) (*Result, error) {
	m, err := Compile(cfg, phone)
	if err != nil {
		return nil, err
	}
	return m.Apply(ev, opts)
}

// val is a value being mapped: one string, or a list (multi-choice).
type val struct {
	one    string
	list   []string
	isList bool
}

func (v val) empty() bool {
	if !v.isList {
		return strings.TrimSpace(v.one) == ""
	}
	for _, s := range v.list {
		if strings.TrimSpace(s) != "" {
			return false
		}
	}
	return true
}

func (v val) text(sep string) string {
	if v.isList {
		return strings.Join(v.list, sep)
	}
	return v.one
}

// state is one Apply in progress.
type state struct {
	ev    *application.Event
	used  []bool // answers, then files, then the contact phone
	now   time.Time
	marks [8]int // what the rule being tried has read (answers beyond 8 are not marked)
	nread int
}

// Apply maps one event. Required assignments that give no usable value
// (no e-mail, a blank name, an address that is not an e-mail) fail the
// whole event with an *Error. Optional rules that cannot be applied (an
// option with no table entry, a date that does not parse) leave their
// target out, add a warning, and leave their answer to the message, so
// nothing the applicant typed is lost. What comes out satisfies Personio's
// contract.
func (m *Mapping) Apply(ev *application.Event, opts Options) (*Result, error) {
	s := &state{ev: ev, used: make([]bool, len(ev.Answers)+len(ev.Files)+1), now: opts.Now}
	if s.now.IsZero() {
		s.now = time.Now()
	}
	res := &Result{}
	app := &res.Application
	app.Attributes = make([]personio.Attribute, 0, m.attributes)
	app.JobPositionID = opts.JobPositionID
	app.RecruitingChannelID = opts.RecruitingChannelID
	var failed []RuleError
	required := func(c *compiledRule) string {
		out, _, reason := s.eval(c)
		if reason != "" {
			failed = append(failed, RuleError{Rule: c.name, Target: c.target.ID, Reason: reason})
		}
		return out
	}
	app.FirstName = required(m.first)
	app.LastName = required(m.last)
	app.Email = required(m.email)
	if failed != nil {
		return nil, &Error{Rules: failed}
	}
	var message string
	for _, c := range m.optional {
		if c.target.Kind == KindFile {
			s.files(c, res)
			continue
		}
		out, items, reason := s.eval(c)
		if reason != "" {
			res.Warnings = append(res.Warnings, RuleError{Rule: c.name, Target: c.target.ID, Reason: reason})
			continue
		}
		if out == "" && items == nil {
			continue
		}
		if c.target.Kind == KindPhone && !strings.HasPrefix(out, "+") {
			res.Warnings = append(res.Warnings, RuleError{Rule: c.name, Target: c.target.ID,
				Reason: "the value is not a phone number of region " + c.region + " or with a country code; sent as typed"})
		}
		s.set(c, app, out, items, &message)
	}
	if m.keep {
		for i := range ev.Files {
			if !s.used[len(ev.Answers)+i] {
				s.addFile(i, personio.CategoryOther, res)
			}
		}
	}
	app.Message = s.message(message, res, m.keep)
	return res, nil
}

// set puts a rule's value into the application.
func (s *state) set(c *compiledRule, app *personio.Application, out string, items []string, message *string) {
	t := c.target
	if t.Place == PlaceAttribute {
		app.Attributes = append(app.Attributes, personio.Attribute{ID: t.ID, Value: out})
		return
	}
	switch t.ID {
	case "message":
		*message = out
	case "application_date":
		app.ApplicationDate = out
	case "tags":
		for _, tag := range items {
			if !slices.Contains(app.Tags, tag) {
				app.Tags = append(app.Tags, tag)
			}
		}
	case "recruiting_channel_id":
		n, _ := strconv.ParseInt(out, 10, 64)
		app.RecruitingChannelID = &n
	case "external_posting_id":
		app.ExternalPostingID = out
	case "phase":
		app.Phase, _ = parsePhase(out)
	}
}

// eval computes a rule's value for the event: the raw value, the
// transforms, then the target's own checks; a rule that fails or gives
// nothing hands over to its fallback. It returns the value (items for
// tags), or the reason it failed. Answers it read are marked used only when
// it succeeds.
func (s *state) eval(c *compiledRule) (string, []string, string) {
	reason := ""
	for r := c; r != nil; r = r.fallback {
		out, items, why := s.try(r)
		if why == "" && (out != "" || items != nil) {
			return out, items, ""
		}
		if why != "" {
			reason = why
		}
	}
	if reason == "" && c.target.Required {
		reason = c.describe() + " gave no value"
	}
	return "", nil, reason
}

// try computes one rule of a fallback chain; an empty value is "" with no
// reason.
func (s *state) try(c *compiledRule) (string, []string, string) {
	s.nread = 0
	v := s.raw(c)
	if v.empty() {
		return "", nil, ""
	}
	v, reason := c.transform(v)
	if reason != "" {
		return "", nil, reason
	}
	out, items, reason := c.finish(v, s.now)
	if reason != "" {
		return "", nil, reason
	}
	for _, i := range s.marks[:s.nread] {
		s.used[i] = true
	}
	return out, items, ""
}

// describe names where a rule's value comes from, with its fallbacks.
func (c *compiledRule) describe() string {
	var d string
	switch {
	case c.src.kind != srcNone:
		d = c.src.raw
	case c.template != nil:
		d = "the template"
	default:
		d = "the constant"
	}
	if c.fallback != nil {
		d += ", then " + c.fallback.describe()
	}
	return d
}

// raw reads the rule's source, constant or template.
func (s *state) raw(c *compiledRule) val {
	switch {
	case c.constant != nil:
		return val{one: *c.constant}
	case c.template != nil:
		var b strings.Builder
		for _, seg := range c.template {
			if seg.src.kind == srcNone {
				b.WriteString(seg.text)
				continue
			}
			b.WriteString(s.read(seg.src).text(", "))
		}
		return val{one: b.String()}
	}
	return s.read(c.src)
}

// read reads one source, noting which answer it read.
func (s *state) read(src source) val {
	ev := s.ev
	switch src.kind {
	case srcContact:
		switch src.key {
		case "first_name":
			return val{one: ev.Contact.FirstName}
		case "last_name":
			return val{one: ev.Contact.LastName}
		case "full_name":
			return val{one: ev.Contact.FullName}
		case "email":
			return val{one: ev.Contact.Email}
		case "phone":
			s.mark(len(ev.Answers) + len(ev.Files)) // the contact phone's slot
			return val{one: ev.Contact.Phone}
		}
	case srcAnswer:
		for i := range ev.Answers {
			a := &ev.Answers[i]
			if a.FieldID != src.key {
				continue
			}
			s.mark(i)
			if a.Value.IsList() {
				return val{list: a.Value.Items(), isList: true}
			}
			return val{one: a.Value.Text(", ")}
		}
	case srcTracking:
		return val{one: ev.Tracking[src.key]}
	case srcEvent:
		switch src.key {
		case "id":
			return val{one: ev.ID}
		case "occurred_at":
			if ev.OccurredAt.IsZero() {
				return val{}
			}
			return val{one: ev.OccurredAt.Format(time.RFC3339)}
		case "funnel_id":
			return val{one: ev.FunnelID}
		case "workspace_id":
			return val{one: ev.WorkspaceID}
		}
	}
	return val{}
}

// mark notes that the rule being tried read slot i of used.
func (s *state) mark(i int) {
	if s.nread < len(s.marks) {
		s.marks[s.nread] = i
		s.nread++
	}
}

// transform applies the rule's transforms in order; string transforms
// apply to each item of a list.
func (c *compiledRule) transform(v val) (val, string) {
	for _, t := range c.transforms {
		if t == tJoin {
			v = val{one: v.text(c.sep)}
			continue
		}
		if !v.isList {
			out, reason := c.transformOne(t, v.one)
			if reason != "" {
				return val{}, reason
			}
			v.one = out
			continue
		}
		list := make([]string, 0, len(v.list))
		for _, item := range v.list {
			out, reason := c.transformOne(t, item)
			if reason != "" {
				return val{}, reason
			}
			list = append(list, out)
		}
		v.list = list
	}
	return v, ""
}

func (c *compiledRule) transformOne(t, s string) (string, string) {
	switch t {
	case tTrim:
		return squish(s), ""
	case tLower:
		return strings.ToLower(s), ""
	case tUpper:
		return strings.ToUpper(s), ""
	case tTitle:
		return title(s), ""
	case tFirstName:
		first, _ := splitName(s)
		return first, ""
	case tLastName:
		_, last := splitName(s)
		if last == "" {
			return "", "the full name has one word, so there is no last name to take"
		}
		return last, ""
	case tDate:
		if d, ok := normalizeDate(s); ok {
			return d, ""
		}
		return "", "the value is not a date in a known format (yyyy-mm-dd, dd.mm.yyyy, dd/mm/yyyy, a timestamp)"
	case tPhone:
		if p, ok := c.phone(s, c.region); ok {
			return p, ""
		}
		// A phone number that does not parse is still worth delivering
		// as typed; finish decides for phone targets.
		return strings.TrimSpace(s), ""
	case tNumber:
		if n, ok := normalizeNumber(s); ok {
			return n, ""
		}
		return "", "the value is not a number"
	case tOptions:
		if o, ok := lookupOption(c.options, s); ok {
			return o, ""
		}
		return "", fmt.Sprintf("the answer %q has no entry in the option table", truncateRunes(s, 80))
	}
	return s, ""
}

// finish checks and shapes a value for its target, as its kind says
// (kindTable). now zero skips the check that dates are not in the future.
func (c *compiledRule) finish(v val, now time.Time) (string, []string, string) {
	spec, _ := kindOf(c.target.Kind)
	if spec.List {
		var items []string
		for _, it := range v.itemsOrOne() {
			if it = strings.TrimSpace(it); it != "" {
				items = append(items, it)
			}
		}
		return "", items, ""
	}
	out := strings.TrimSpace(v.text(c.sep))
	if out == "" || spec.finish == nil {
		return out, nil, ""
	}
	out, reason := spec.finish(c, out, now)
	return out, nil, reason
}

func (v val) itemsOrOne() []string {
	if v.isList {
		return v.list
	}
	return []string{v.one}
}

// files adds the event's files of the rule's question with the rule's
// category.
func (s *state) files(c *compiledRule, res *Result) {
	for i := range s.ev.Files {
		if s.ev.Files[i].FieldID == c.src.key && !s.used[len(s.ev.Answers)+i] {
			s.addFile(i, fileCategory(c.target.ID), res)
		}
	}
}

// addFile adds one file to upload, or a warning when Personio would refuse
// it (type or size); a refused file is named in the message.
func (s *state) addFile(i int, cat personio.FileCategory, res *Result) {
	f := &s.ev.Files[i]
	s.used[len(s.ev.Answers)+i] = true
	ext := strings.TrimPrefix(path.Ext(f.Filename), ".")
	reason := ""
	switch {
	case !personio.AllowedExtension(ext):
		reason = "Personio does not accept ." + strings.ToLower(ext) + " files"
		if ext == "" {
			reason = "the file name has no extension, which Personio needs"
		}
	case f.Size > personio.MaxDocumentSize:
		reason = "the file is larger than Personio's 20 MB"
	}
	if reason != "" {
		res.Warnings = append(res.Warnings, RuleError{Rule: "files", Target: "file:" + string(cat), Reason: reason + ": " + truncateRunes(f.Filename, 120)})
		return
	}
	res.Files = append(res.Files, FileUpload{FieldID: f.FieldID, URL: f.URL, Filename: f.Filename, ContentType: f.ContentType, Size: f.Size, Category: cat})
}

// message is the mapped message followed by every answer no rule used, as
// "label: value" lines, the contact phone if nothing used it, and the
// files Personio would refuse.
func (s *state) message(mapped string, res *Result, keep bool) string {
	if !keep {
		return mapped
	}
	var b strings.Builder
	b.Grow(len(mapped) + 64*len(s.ev.Answers))
	b.WriteString(mapped)
	line := func(label, value string) {
		if b.Len() > 0 {
			if b.Len() == len(mapped) {
				b.WriteString("\n\n")
			} else {
				b.WriteByte('\n')
			}
		}
		b.WriteString(label)
		b.WriteString(": ")
		b.WriteString(value)
	}
	for i := range s.ev.Answers {
		a := &s.ev.Answers[i]
		if s.used[i] || a.Value.IsEmpty() || a.Type == application.TypeFile {
			continue
		}
		label := strings.TrimSpace(a.Label)
		if label == "" {
			label = a.FieldID
		}
		line(label, strings.TrimSpace(a.Value.Text(", ")))
	}
	if p := strings.TrimSpace(s.ev.Contact.Phone); p != "" && !s.used[len(s.used)-1] {
		line("Phone", p)
	}
	for _, w := range res.Warnings {
		if w.Rule == "files" {
			line("File not transferred", w.Reason)
		}
	}
	return b.String()
}

func truncateRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}

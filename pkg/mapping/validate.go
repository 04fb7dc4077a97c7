package mapping

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
)

// Funnel describes the funnel's questions, when the editor knows them, so
// that Validate can check answers.<field_id> sources and option tables.
type Funnel struct {
	Fields []Field `json:"fields"`
}

// Field is one question of the funnel.
type Field struct {
	ID      string                 `json:"id"`
	Type    application.AnswerType `json:"type"`
	Label   string                 `json:"label,omitempty"`
	Choices []string               `json:"choices,omitempty"`
}

func (f *Funnel) field(id string) (*Field, bool) {
	if f == nil {
		return nil, false
	}
	for i := range f.Fields {
		if f.Fields[i].ID == id {
			return &f.Fields[i], true
		}
	}
	return nil, false
}

// Problem is one thing wrong with a mapping: where (required.email.source,
// optional[2].transforms[0]) and what.
type Problem struct {
	Path    string `json:"path"`
	Message string `json:"message"`
	// Code and Params say the problem for a client that words it itself
	// (the Code… constants); Messages are its sentences in English and
	// German, naming questions by their labels.
	Code     string            `json:"code"`
	Params   map[string]string `json:"params,omitempty"`
	Messages *Sentences        `json:"messages,omitempty"`
}

// ConfigError lists every problem of a mapping. Permanent.
type ConfigError struct {
	Problems []Problem
}

func (e *ConfigError) Error() string {
	parts := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		parts = append(parts, p.Path+": "+p.Message)
	}
	return "mapping: invalid: " + strings.Join(parts, "; ")
}

// Retryable returns false.
func (e *ConfigError) Retryable() bool { return false }

// Validate checks a mapping as it is saved and returns every problem at
// once as a *ConfigError: a missing required assignment, an unknown target
// or source, a transform that does not fit the target, a constant or
// option value the target does not take, a target assigned twice, and,
// when funnel is given, sources that name no question and option tables
// that do not cover a question's choices.
func Validate(cfg Config, funnel *Funnel) error {
	_, err := Check(cfg, funnel)
	return err
}

// Check validates a mapping as Validate does, and returns its warnings
// too: sources that may fit their target only with a transform the rule
// does not have (code source-needs-transform, the transform proposed).
// A mapping with warnings is valid.
func Check(cfg Config, funnel *Funnel) ([]Problem, error) {
	var warnings []Problem
	_, err := compileWarn(cfg, funnel, nil, &warnings)
	return warnings, err
}

// Compile validates the mapping and prepares it for Apply, which formats
// phone numbers with phone (phone.E164 in the worker).
func Compile(cfg Config, phone PhoneFormat) (*Mapping, error) {
	if phone == nil {
		return nil, errors.New("mapping: compile: no phone format")
	}
	return compile(cfg, nil, phone)
}

// compile checks cfg and compiles it; phone is nil when it only
// validates (a phone target's constant is then not formatted, which
// decides nothing: a number that does not format is sent as typed).
func compile(cfg Config, funnel *Funnel, phone PhoneFormat) (*Mapping, error) {
	return compileWarn(cfg, funnel, phone, nil)
}

// compileWarn is compile that puts the mapping's warnings into warnings
// (when not nil).
func compileWarn(cfg Config, funnel *Funnel, phone PhoneFormat, warnings *[]Problem) (*Mapping, error) {
	v := &validator{funnel: funnel, seen: map[string]string{}, phone: phone}
	if warnings != nil {
		defer func() { *warnings = v.warnings }()
	}
	if cfg.Version != Version {
		v.add("version", CodeVersion, map[string]string{"version": strconv.Itoa(Version)}, fmt.Sprintf("must be %d", Version))
	}
	if cfg.DefaultRegion != "" && !validRegion(cfg.DefaultRegion) {
		v.add("default_region", CodeRegion, map[string]string{"region": cfg.DefaultRegion}, fmt.Sprintf("%q is not a region the phone library knows (use ISO 3166-1 alpha-2, such as DE)", cfg.DefaultRegion))
	}
	m := &Mapping{keep: cfg.keepUnmapped(), region: cfg.region()}
	required := []struct {
		name string
		rule *Rule
		dst  **compiledRule
	}{
		{"first_name", &cfg.Required.FirstName, &m.first},
		{"last_name", &cfg.Required.LastName, &m.last},
		{"email", &cfg.Required.Email, &m.email},
	}
	for _, r := range required {
		path := "required." + r.name
		if r.rule.Target != "" && r.rule.Target != r.name {
			v.add(path+".target", CodeRequiredTarget, map[string]string{"target": r.name}, "a required assignment's target is its own field; leave it out")
		}
		if isZeroRule(r.rule) {
			v.add(path, CodeRequiredMissing, map[string]string{"target": r.name}, "missing required assignment: Personio needs "+r.name)
			continue
		}
		t, _ := resolveTarget(r.name, "")
		*r.dst = v.rule(path, r.rule, t, m.region)
	}
	for i := range cfg.Optional {
		v.optional(i, &cfg.Optional[i], m)
	}
	if len(v.problems) > 0 {
		return nil, &ConfigError{Problems: v.problems}
	}
	return m, nil
}

// optional checks and compiles the optional rule r at index i into m.
func (v *validator) optional(i int, r *Rule, m *Mapping) {
	path := "optional[" + strconv.Itoa(i) + "]"
	if r.Target == "" {
		v.add(path+".target", CodeTargetMissing, nil, "missing target")
		return
	}
	t, ok := resolveTarget(r.Target, r.Type)
	switch {
	case !ok:
		v.add(path+".target", CodeTargetUnknown, map[string]string{"target": r.Target}, fmt.Sprintf("unknown target %q; see the catalogue", r.Target))
		return
	case t.Required:
		v.add(path+".target", CodeTargetRequired, map[string]string{"target": r.Target}, r.Target+" is a required assignment; set it under required")
		return
	case t.Kind == "":
		v.add(path+".type", CodeTypeMissing, map[string]string{"types": strings.Join(CustomAttributeTypes, ", ")}, "a custom attribute needs its type: one of "+strings.Join(CustomAttributeTypes, ", "))
		return
	}
	if r.Type != "" && t.Place != PlaceAttribute {
		v.add(path+".type", CodeTypeNotTaken, nil, "only custom attributes take a type")
	}
	if !t.Multiple {
		if prev, dup := v.seen[t.ID]; dup {
			v.add(path+".target", CodeTargetTwice, map[string]string{"target": t.ID, "row": rowNumber(prev)}, fmt.Sprintf("%s is already assigned by %s", t.ID, prev))
		}
		v.seen[t.ID] = path
	}
	if c := v.rule(path, r, t, m.region); c != nil {
		m.optional = append(m.optional, c)
		if t.Place == PlaceAttribute {
			m.attributes++
		}
	}
}

type validator struct {
	funnel   *Funnel
	problems []Problem
	warnings []Problem // what may not fit as it is (a transform would help)
	seen     map[string]string
	phone    PhoneFormat
}

// add reports a problem: its code and params, and its English sentence
// (the German one comes from the code's).
func (v *validator) add(path, code string, params map[string]string, en string) {
	v.problems = append(v.problems, coded(path, code, params, en))
}

// rowNumber is an optional rule's number as the editor shows it (1 for
// optional[0]).
func rowNumber(path string) string {
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(path, "optional["), "]"))
	if err != nil {
		return path
	}
	return strconv.Itoa(n + 1)
}

func isZeroRule(r *Rule) bool {
	return r.Source == "" && r.Constant == nil && r.Template == "" && r.Fallback == nil
}

// rule checks one rule for its target and compiles it.
func (v *validator) rule(path string, r *Rule, t Target, defaultRegion string) *compiledRule {
	spec, _ := kindOf(t.Kind)
	before := len(v.problems)
	c := v.compiled(path, r, t, defaultRegion)
	var field *Field
	if r.Source != "" {
		field = v.source(path, r, t, c)
	}
	if r.Constant != nil {
		c.constant = r.Constant
		switch {
		case t.Kind == KindFile:
			v.add(path+".constant", CodeFileSource, nil, "a file target takes files.<field_id>")
		case t.ID == "email":
			v.add(path+".constant", CodeEmailConstant, nil, "every application needs the applicant's own e-mail; a constant would make all but the first a duplicate")
		case strings.TrimSpace(*r.Constant) == "":
			v.add(path+".constant", CodeConstantBlank, nil, "is blank")
		}
	}
	if r.Template != "" {
		v.template(path, r, spec, c)
	}
	v.transforms(path, r, t, spec)
	c.transforms = r.Transforms
	v.options(path, r, t, field)
	if r.Constant != nil && len(v.problems) == before {
		if _, _, reason := c.finish(val{one: *r.Constant}, time.Time{}); reason != "" {
			v.add(path+".constant", CodeConstantInvalid, map[string]string{"target": t.ID, "value": *r.Constant}, reason)
		}
	}
	v.fits(path, t, spec, field)
	if r.Fallback != nil {
		if r.Fallback.Target != "" && r.Fallback.Target != t.ID {
			v.add(path+".fallback.target", CodeFallbackTarget, nil, "a fallback assigns the same target; leave target out")
		}
		c.fallback = v.rule(path+".fallback", r.Fallback, t, defaultRegion)
	}
	if len(v.problems) > before {
		return nil
	}
	return c
}

// source checks a rule's source for its target (and the funnel's
// question it names, which it returns when known), notes a source that
// fits only with a transform as a warning, and sets it on c.
func (v *validator) source(path string, r *Rule, t Target, c *compiledRule) *Field {
	var field *Field
	src, problem := parseSource(r.Source)
	switch {
	case problem != "":
		v.add(path+".source", CodeSourceInvalid, map[string]string{"source": r.Source}, problem)
	case t.Kind == KindFile && src.kind != srcFile:
		v.add(path+".source", CodeFileSource, nil, "a file target takes files.<field_id>")
	case t.Kind != KindFile && src.kind == srcFile:
		v.add(path+".source", CodeFileTarget, nil, "files go to a file target (file:cv, file:other, …)")
	default:
		c.src = src
		if src.kind == srcAnswer || src.kind == srcFile {
			f, ok := v.funnel.field(src.key)
			if v.funnel != nil && !ok {
				v.add(path+".source", CodeQuestionUnknown, map[string]string{"question": src.key}, fmt.Sprintf("the funnel has no question %q", src.key))
			}
			field = f
		}
		if p, ok := misfit(t, src, field); ok {
			p.Path = path + ".source"
			v.problems = append(v.problems, p)
		} else if w, ok := needsTransform(t, src, field, r.Transforms); ok {
			w.Path = path + ".source"
			v.warnings = append(v.warnings, w)
		}
	}
	return field
}

// fits checks that the question a rule reads can fill its target: one
// value for a kind that takes one, files for a file target only.
func (v *validator) fits(path string, t Target, spec KindSpec, field *Field) {
	if field == nil {
		return
	}
	if field.Type == application.TypeMultiChoice && spec.Single {
		v.add(path+".source", CodeSeveralValues, map[string]string{"target": t.ID, "question": labelOf(field)},
			fmt.Sprintf("%s takes one value; question %q can have several", t.ID, labelOf(field)))
	}
	if field.Type == application.TypeFile && t.Kind != KindFile {
		v.add(path+".source", CodeQuestionIsFile, map[string]string{"question": labelOf(field)},
			fmt.Sprintf("question %q is a file question; map files.%s to a file target", labelOf(field), field.ID))
	}
}

// compiled starts a rule's compiled form: its separator and phone region
// checked, and exactly one of source, constant and template given.
func (v *validator) compiled(path string, r *Rule, t Target, defaultRegion string) *compiledRule {
	c := &compiledRule{name: path, target: t, options: r.Options, sep: r.Separator, region: r.Region, phone: v.phone}
	if c.sep == "" {
		c.sep = ", "
	}
	if len(c.sep) > 16 {
		v.add(path+".separator", CodeSeparatorLong, nil, "at most 16 bytes")
	}
	if c.region == "" {
		c.region = defaultRegion
	} else if !validRegion(r.Region) {
		v.add(path+".region", CodeRegion, map[string]string{"region": r.Region}, fmt.Sprintf("%q is not a region the phone library knows", r.Region))
	}
	givers := 0
	for _, set := range []bool{r.Source != "", r.Constant != nil, r.Template != ""} {
		if set {
			givers++
		}
	}
	if givers != 1 {
		v.add(path, CodeOneGiver, nil, "give exactly one of source, constant and template")
	}
	return c
}

// template checks a rule's template: a kind that takes one, placeholders
// that parse, questions the funnel has.
func (v *validator) template(path string, r *Rule, spec KindSpec, c *compiledRule) {
	if !spec.Template {
		v.add(path+".template", CodeTemplateNotTaken, nil, "templates fill text targets such as message")
	}
	segs, problems := parseTemplate(r.Template)
	for _, p := range problems {
		v.add(path+".template", CodeTemplateInvalid, nil, p)
	}
	for _, s := range segs {
		if s.src.kind == srcAnswer && v.funnel != nil {
			if _, ok := v.funnel.field(s.src.key); !ok {
				v.add(path+".template", CodeQuestionUnknown, map[string]string{"question": s.src.key}, fmt.Sprintf("the funnel has no question %q", s.src.key))
			}
		}
	}
	c.template = segs
}

// transforms checks that each of a rule's transforms exists and fits its
// target's kind.
func (v *validator) transforms(path string, r *Rule, t Target, spec KindSpec) {
	for i, name := range r.Transforms {
		tp := path + ".transforms[" + strconv.Itoa(i) + "]"
		switch {
		case !slices.Contains(Transforms, name):
			v.add(tp, CodeTransformUnknown, map[string]string{"transform": name, "transforms": strings.Join(Transforms, ", ")},
				fmt.Sprintf("unknown transform %q; one of %s", name, strings.Join(Transforms, ", ")))
		case t.Kind == KindFile:
			v.add(tp, CodeTransformFile, nil, "files take no transforms")
		case !slices.Contains(spec.Transforms, name):
			v.add(tp, CodeTransformMisfit, map[string]string{"transform": name, "takes": string(t.Kind)}, fmt.Sprintf("%s does not fit a %s target", name, t.Kind))
		case name == tOptions && len(r.Options) == 0:
			v.add(tp, CodeOptionsMissing, nil, "options needs an option table in options")
		}
	}
}

// options checks an option table: its values must be what the target
// takes, its keys unique in any case, and, when the question's choices are
// known, it must cover every choice that is not already a valid value.
func (v *validator) options(path string, r *Rule, t Target, field *Field) {
	spec, _ := kindOf(t.Kind)
	if len(r.Options) > 0 && !spec.Options {
		v.add(path+".options", CodeOptionsNotTaken, map[string]string{"takes": string(t.Kind)}, fmt.Sprintf("a %s target takes no option table", t.Kind))
		return
	}
	keys := make([]string, 0, len(r.Options))
	for k := range r.Options {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	folded := map[string]string{}
	for _, k := range keys {
		o := r.Options[k]
		if prev, dup := folded[strings.ToLower(strings.TrimSpace(k))]; dup {
			v.add(path+".options", CodeOptionsSame, map[string]string{"choice": k, "other": prev}, fmt.Sprintf("%q and %q are the same answer", prev, k))
		}
		folded[strings.ToLower(strings.TrimSpace(k))] = k
		if reason := checkOptionValue(t, o); reason != "" {
			v.add(path+".options["+strconv.Quote(k)+"]", CodeOptionInvalid, map[string]string{"target": t.ID, "choice": k, "value": o}, reason)
		}
	}
	if field == nil || spec.check == nil {
		return
	}
	for _, choice := range field.Choices {
		if _, ok := lookupOption(r.Options, choice); ok {
			continue
		}
		if checkOptionValue(t, choice) == "" {
			continue
		}
		v.add(path+".options", CodeOptionMissing, map[string]string{"choice": choice, "question": labelOf(field)},
			fmt.Sprintf("no entry for the choice %q of question %q", choice, labelOf(field)))
	}
}

// parsePhase reads system:<id> or custom:<id>.
func parsePhase(s string) (*personio.Phase, bool) {
	typ, id, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return nil, false
	}
	switch typ {
	case "system":
		if slices.Contains(personio.SystemPhases, id) {
			return &personio.Phase{Type: "system", ID: id}, true
		}
	case "custom":
		if n, err := strconv.ParseInt(id, 10, 64); err == nil && n > 0 {
			return &personio.Phase{Type: "custom", ID: n}, true
		}
	}
	return nil, false
}

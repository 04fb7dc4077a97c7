package mapping

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
)

// Kind is the kind of value a target takes; it decides which transforms
// fit and how the value is checked.
type Kind string

// Target kinds.
const (
	KindName    Kind = "name"    // first_name, last_name: non-blank text
	KindEmail   Kind = "email"   // email
	KindText    Kind = "text"    // free text
	KindMessage Kind = "message" // the applicant's message: text, templates, kept answers
	KindDate    Kind = "date"    // yyyy-mm-dd
	KindPhone   Kind = "phone"   // text, E.164 where it parses
	KindNumber  Kind = "number"  // a decimal number, as text
	KindInteger Kind = "integer" // a whole number (ids)
	KindOption  Kind = "option"  // one of a fixed list of values
	KindTags    Kind = "tags"    // a list of tags
	KindPhase   Kind = "phase"   // system:<phase> or custom:<id>
	KindFile    Kind = "file"    // files of the event, by category
)

// KindSpec is everything a target kind decides, in one place: which
// transforms fit it, what a rule for it may carry, how its value is
// checked and shaped, and what a test application answers for it. The
// validator, Apply, the editor's test application and the catalogue's
// custom attribute types all read kindTable; a new kind is one entry
// there, with its finish function and tests.
type KindSpec struct {
	Kind       Kind     `json:"kind"`
	Transforms []string `json:"transforms"`            // the transforms that fit it
	Options    bool     `json:"options,omitempty"`     // takes an option table
	Template   bool     `json:"template,omitempty"`    // a template may fill it
	Choice     bool     `json:"choice,omitempty"`      // its values are the target's list: a constant and an option table pick from it
	Single     bool     `json:"single,omitempty"`      // takes one value: a multi-choice question does not fit
	Custom     bool     `json:"custom,omitempty"`      // a custom attribute may declare it as its type
	List       bool     `json:"list,omitempty"`        // its value is a list (one item per choice)
	Sample     string   `json:"sample,omitempty"`      // a test application's answer for it ("" : a text answer)
	SampleType string   `json:"sample_type,omitempty"` // the answer's type (application.AnswerType)

	// finish checks and shapes a non-blank value for a target of the
	// kind; it returns the value or why it cannot be sent. nil: as it is.
	finish func(c *compiledRule, out string, now time.Time) (string, string)
	// check says why value is not one the kind takes in an option table,
	// or "". nil: any value.
	check func(t Target, value string) string
}

// kindTable is every target kind. The order of the custom ones is the
// order the editor names them in.
var kindTable = []KindSpec{
	{Kind: KindName, Template: true, Transforms: []string{tTrim, tLower, tUpper, tTitle, tFirstName, tLastName, tJoin}},
	{Kind: KindEmail, Transforms: []string{tTrim, tLower}, finish: finishEmail},
	{Kind: KindText, Template: true, Options: true, Custom: true,
		Transforms: []string{tTrim, tLower, tUpper, tTitle, tFirstName, tLastName, tDate, tPhone, tNumber, tOptions, tJoin}},
	{Kind: KindMessage, Template: true, Transforms: []string{tTrim, tLower, tUpper, tJoin}},
	{Kind: KindNumber, Custom: true, Transforms: []string{tTrim, tNumber}, finish: finishNumber,
		Sample: "1", SampleType: string(application.TypeNumber)},
	{Kind: KindInteger, Single: true, Transforms: []string{tTrim, tNumber}, finish: finishInteger,
		Sample: "1", SampleType: string(application.TypeNumber)},
	{Kind: KindDate, Single: true, Custom: true, Transforms: []string{tTrim, tDate}, finish: finishDate,
		Sample: "1990-01-01", SampleType: string(application.TypeDate)},
	{Kind: KindPhone, Transforms: []string{tTrim, tPhone}, finish: finishPhone},
	{Kind: KindOption, Single: true, Options: true, Choice: true, Custom: true, Transforms: []string{tTrim, tLower, tOptions},
		finish: finishOption(checkOption), check: checkOption},
	{Kind: KindTags, Options: true, List: true, Transforms: []string{tTrim, tLower, tUpper, tTitle, tOptions}},
	{Kind: KindPhase, Single: true, Options: true, Choice: true, Transforms: []string{tTrim, tOptions}, finish: finishOption(checkPhase), check: checkPhase},
	{Kind: KindFile},
}

// kindOf returns the spec of a kind; an unknown kind (a custom attribute
// without its type) has none.
func kindOf(k Kind) (KindSpec, bool) {
	i := slices.IndexFunc(kindTable, func(s KindSpec) bool { return s.Kind == k })
	if i < 0 {
		return KindSpec{}, false
	}
	return kindTable[i], true
}

// Kinds returns every target kind with what fits it, for the editor; a
// kind no transform fits has an empty list.
func Kinds() []KindSpec {
	out := slices.Clone(kindTable)
	for i := range out {
		if out[i].Transforms == nil {
			out[i].Transforms = []string{}
		}
	}
	return out
}

// CustomAttributeTypes are the types a custom attribute rule may declare:
// the kinds marked Custom.
var CustomAttributeTypes = func() []string {
	var out []string
	for _, s := range kindTable {
		if s.Custom {
			out = append(out, string(s.Kind))
		}
	}
	return out
}()

// SampleAnswer is what a test application answers to a question that
// rule r reads: the first key of its option table as a choice, or the
// sample of its target's kind, or a text.
func SampleAnswer(r Rule) (application.Value, application.AnswerType) {
	if len(r.Options) > 0 {
		keys := make([]string, 0, len(r.Options))
		for k := range r.Options {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return application.StringValue(keys[0]), application.TypeChoice
	}
	t, _ := resolveTarget(r.Target, r.Type)
	spec, _ := kindOf(t.Kind)
	switch application.AnswerType(spec.SampleType) {
	case application.TypeNumber:
		return application.NumberValue(spec.Sample), application.TypeNumber
	case "":
		return application.StringValue("Test answer"), application.TypeText
	default:
		return application.StringValue(spec.Sample), application.AnswerType(spec.SampleType)
	}
}

// finishEmail takes an address Personio accepts.
func finishEmail(c *compiledRule, out string, _ time.Time) (string, string) {
	if !personio.ValidEmail(out) {
		return "", fmt.Sprintf("%s is not a valid e-mail address", c.describe())
	}
	return out, ""
}

// finishDate takes a date in a known format to yyyy-mm-dd; an application
// date may not be in the future (now zero skips that check).
func finishDate(c *compiledRule, out string, now time.Time) (string, string) {
	d, ok := normalizeDate(out)
	if !ok {
		return "", "the value is not a date in a known format (yyyy-mm-dd, dd.mm.yyyy, dd/mm/yyyy, a timestamp)"
	}
	if c.target.ID == "application_date" && !now.IsZero() {
		today := now.UTC().Format(time.DateOnly)
		if d > today {
			// A date written in a time zone ahead of UTC can be tomorrow
			// in UTC; Personio refuses future dates.
			if d > now.UTC().Add(24*time.Hour).Format(time.DateOnly) {
				return "", "the application date is in the future"
			}
			d = today
		}
	}
	return d, ""
}

// finishPhone formats a number to E.164 where it parses, unless the phone
// transform did already: the library is the costliest step of Apply.
func finishPhone(c *compiledRule, out string, _ time.Time) (string, string) {
	if c.phone != nil && !slices.Contains(c.transforms, tPhone) {
		if p, ok := c.phone(out, c.region); ok {
			return p, ""
		}
	}
	return out, ""
}

// finishNumber takes a number with any grouping to plain decimal.
func finishNumber(_ *compiledRule, out string, _ time.Time) (string, string) {
	n, ok := normalizeNumber(out)
	if !ok {
		return "", "the value is not a number"
	}
	return n, ""
}

// finishInteger takes a whole number that fits an int64.
func finishInteger(_ *compiledRule, out string, _ time.Time) (string, string) {
	n, ok := normalizeNumber(out)
	if _, err := strconv.ParseInt(n, 10, 64); !ok || err != nil {
		return "", "the value is not a whole number"
	}
	return n, ""
}

// finishOption returns the finish of an option kind: it looks the value
// up in the rule's option table (unless the options transform did) and
// takes only a value check allows.
func finishOption(check func(Target, string) string) func(*compiledRule, string, time.Time) (string, string) {
	return func(c *compiledRule, out string, _ time.Time) (string, string) {
		if c.options != nil && !slices.Contains(c.transforms, tOptions) {
			if o, ok := lookupOption(c.options, out); ok {
				out = o
			}
		}
		if check(c.target, out) != "" {
			return "", fmt.Sprintf("the answer %q has no entry in the option table", truncateRunes(out, 80))
		}
		return out, ""
	}
}

// checkOptionValue says why value is not one the target takes, or "".
func checkOptionValue(t Target, value string) string {
	if spec, ok := kindOf(t.Kind); ok && spec.check != nil {
		return spec.check(t, value)
	}
	return ""
}

// checkOption takes gender values for gender and custom_option_N ids for
// custom option attributes.
func checkOption(t Target, value string) string {
	if t.ID == personio.AttributeGender {
		if !slices.Contains(personio.Genders, value) {
			return fmt.Sprintf("%q is not a gender value (%s)", value, strings.Join(personio.Genders, ", "))
		}
		return ""
	}
	if !customOptionRE.MatchString(value) {
		return fmt.Sprintf("%q is not an option id; option values look like custom_option_12", value)
	}
	return ""
}

// checkPhase takes system:<phase> or custom:<id>.
func checkPhase(_ Target, value string) string {
	if _, ok := parsePhase(value); !ok {
		return fmt.Sprintf("%q is not a phase; use system:<%s> or custom:<id>", value, strings.Join(personio.SystemPhases, "|"))
	}
	return ""
}

// Fits says, for each transform, the kinds of target it fits (a copy, for
// the editor's mapping screen), as kindTable lists them.
func Fits() map[string][]Kind {
	out := make(map[string][]Kind, len(Transforms))
	for _, s := range kindTable {
		for _, t := range s.Transforms {
			out[t] = append(out[t], s.Kind)
		}
	}
	return out
}

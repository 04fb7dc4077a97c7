package mapping

import (
	"fmt"
	"slices"

	"github.com/funnel-personio/funnel-personio/pkg/application"
)

// What each kind of target cannot take: a source whose type is listed can
// never give a value the target accepts, whatever the transforms (a phone
// number is no e-mail address, a choice no date). Free text may fit any
// of them and is let through.
var cannotTake = map[Kind][]application.AnswerType{
	KindEmail:   {application.TypePhone, application.TypeNumber, application.TypeDate, application.TypeChoice, application.TypeMultiChoice, application.TypeConsent},
	KindName:    {application.TypeEmail, application.TypePhone, application.TypeNumber, application.TypeDate, application.TypeConsent},
	KindDate:    {application.TypeEmail, application.TypePhone, application.TypeNumber, application.TypeChoice, application.TypeMultiChoice, application.TypeConsent},
	KindPhone:   {application.TypeEmail, application.TypeDate, application.TypeChoice, application.TypeMultiChoice, application.TypeConsent},
	KindNumber:  {application.TypeEmail, application.TypePhone, application.TypeDate, application.TypeMultiChoice, application.TypeConsent},
	KindInteger: {application.TypeEmail, application.TypePhone, application.TypeDate, application.TypeMultiChoice, application.TypeConsent},
}

// kindInWords says what a target of a kind takes.
var kindInWords = map[Kind]string{KindEmail: "an e-mail address", KindName: "a name", KindDate: "a date", KindPhone: "a phone number",
	KindNumber: "a number", KindInteger: "a whole number"}

// typeInWords says what a source of a type holds.
var typeInWords = map[application.AnswerType]string{application.TypeEmail: "an e-mail address", application.TypePhone: "a phone number",
	application.TypeNumber: "a number", application.TypeDate: "a date", application.TypeChoice: "one of its choices",
	application.TypeMultiChoice: "several of its choices", application.TypeConsent: "a yes or no", application.TypeText: "free text"}

// contactTypes are the types of the contact step's fields.
var contactTypes = map[string]application.AnswerType{"first_name": application.TypeText, "last_name": application.TypeText,
	"full_name": application.TypeText, "email": application.TypeEmail, "phone": application.TypePhone}

// sourceType is what a source holds, how a sentence names it, and its
// label (the question's, for a client's own sentence); ok is false when
// that is not known (a question of a funnel not given).
func sourceType(src source, field *Field) (t application.AnswerType, name, label string, ok bool) {
	switch src.kind {
	case srcContact:
		t, ok = contactTypes[src.key]
		return t, "the contact's " + src.key, src.raw, ok
	case srcAnswer:
		if field == nil {
			return "", "", "", false
		}
		label := field.Label
		if label == "" {
			label = field.ID
		}
		return field.Type, fmt.Sprintf("question %q", label), label, true
	case srcEvent:
		if src.key == "occurred_at" {
			return application.TypeDate, "the event's time", src.raw, true
		}
	}
	return "", "", "", false
}

// misfit is the problem of a source that can never fill a target (ok is
// false when it may), with the code source-cannot-fit and its params:
// target (its id), source (the question's label, or the source), takes
// (the target's kind) and holds (the source's type).
func misfit(t Target, src source, field *Field) (p Problem, ok bool) {
	typ, name, label, ok := sourceType(src, field)
	if !ok || !slices.Contains(cannotTake[t.Kind], typ) {
		return Problem{}, false
	}
	tl := t.Label
	if tl == "" {
		tl = t.ID
	}
	return coded("", CodeCannotFit, map[string]string{"target": t.ID, "source": label, "takes": string(t.Kind), "holds": string(typ)},
		fmt.Sprintf("%s takes %s; %s holds %s", tl, kindInWords[t.Kind], name, typeInWords[typ])), true
}

// mayFitWith: for a kind of target, the transform with which a source of
// a type fits where it may not as it is (free text into a date or a
// phone number, the full name into a first or last name).
var mayFitWith = map[Kind]map[application.AnswerType]string{
	KindEmail:   {application.TypeText: tTrim},
	KindDate:    {application.TypeText: tDate},
	KindPhone:   {application.TypeText: tPhone, application.TypeNumber: tPhone},
	KindNumber:  {application.TypeText: tNumber},
	KindInteger: {application.TypeText: tNumber},
}

// needsTransform is the warning (code source-needs-transform, the params
// of source-cannot-fit and the transform proposed) for a source that may
// fit its target only with a transform the rule does not have; ok is
// false when it fits as it is or has it.
func needsTransform(t Target, src source, field *Field, transforms []string) (p Problem, ok bool) {
	typ, name, label, ok := sourceType(src, field)
	want := mayFitWith[t.Kind][typ]
	if src.raw == "contact.full_name" && (t.ID == "first_name" || t.ID == "last_name") {
		typ, want = application.TypeText, t.ID
	}
	if !ok || want == "" || slices.Contains(transforms, want) {
		return Problem{}, false
	}
	tl := t.Label
	if tl == "" {
		tl = t.ID
	}
	return coded("", CodeNeedsTransform, map[string]string{"target": t.ID, "source": label, "takes": string(t.Kind), "holds": string(typ), "transform": want},
		fmt.Sprintf("%s takes %s; %s holds %s: with the transform %q it fits", tl, kindInWords[t.Kind], name, typeInWords[typ], want)), true
}

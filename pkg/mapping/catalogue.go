package mapping

import (
	"regexp"
	"slices"
	"strings"

	"github.com/funnel-personio/funnel-personio/pkg/personio"
)

// Place says where in the Personio request a target's value goes.
type Place string

// Places.
const (
	PlaceApplication Place = "application" // a top-level field
	PlaceAttribute   Place = "attribute"   // attributes[]
	PlaceFiles       Place = "files"       // files[]
)

// Target is one Personio field a mapping can assign, as the mapping screen
// shows it.
type Target struct {
	ID          string   `json:"id"`
	Label       string   `json:"label"`
	LabelDE     string   `json:"label_de"`
	Kind        Kind     `json:"kind"`
	Place       Place    `json:"place"`
	Required    bool     `json:"required,omitempty"`
	Multiple    bool     `json:"multiple,omitempty"` // several rules may assign it
	Values      []string `json:"values,omitempty"`   // allowed values of option and phase targets
	Pattern     string   `json:"pattern,omitempty"`  // for a family of targets: custom_attribute_{id}
	Description string   `json:"description"`
}

var (
	customAttributeRE = regexp.MustCompile(`^custom_attribute_[1-9][0-9]{0,17}$`)
	customOptionRE    = regexp.MustCompile(`^custom_option_[1-9][0-9]{0,17}$`)
)

// PhaseValues are the values of the phase target: Personio's system
// phases as system:<id>; custom phases are custom:<id>.
var PhaseValues = func() []string {
	out := make([]string, 0, len(personio.SystemPhases))
	for _, p := range personio.SystemPhases {
		out = append(out, "system:"+p)
	}
	return out
}()

// Catalogue returns every Personio target a mapping can assign, with its
// kind and allowed values: what the editor's mapping screen shows.
func Catalogue() []Target {
	out := []Target{
		{ID: "first_name", Label: "First name", LabelDE: "Vorname", Kind: KindName, Place: PlaceApplication, Required: true, Description: "The applicant's first name(s); must not be blank."},
		{ID: "last_name", Label: "Last name", LabelDE: "Nachname", Kind: KindName, Place: PlaceApplication, Required: true, Description: "The applicant's last name(s); must not be blank."},
		{ID: "email", Label: "E-mail", LabelDE: "E-Mail", Kind: KindEmail, Place: PlaceApplication, Required: true, Description: "The applicant's e-mail; one application per e-mail and job position."},
		{ID: "message", Label: "Message", LabelDE: "Nachricht", Kind: KindMessage, Place: PlaceApplication, Description: "Free text; a template can combine answers. Answers no rule uses are appended."},
		{ID: "application_date", Label: "Application date", LabelDE: "Bewerbungsdatum", Kind: KindDate, Place: PlaceApplication, Description: "yyyy-mm-dd, not in the future."},
		{ID: "tags", Label: "Tags", LabelDE: "Tags", Kind: KindTags, Place: PlaceApplication, Multiple: true, Description: "Tags; a multi-choice answer gives one tag per choice."},
		{ID: "recruiting_channel_id", Label: "Recruiting channel", LabelDE: "Recruiting-Kanal", Kind: KindInteger, Place: PlaceApplication, Description: "The id of a channel set up in Personio; overrides the integration's channel."},
		{ID: "external_posting_id", Label: "External posting id", LabelDE: "Externe Posting-ID", Kind: KindText, Place: PlaceApplication, Description: "The job board's posting id (multiposting), often a tracking parameter."},
		{ID: "phase", Label: "Phase", LabelDE: "Phase", Kind: KindPhase, Place: PlaceApplication, Values: PhaseValues, Description: "system:<phase> or custom:<id>; an unknown custom phase becomes unassigned."},
		{ID: personio.AttributePhone, Label: "Phone", LabelDE: "Telefon", Kind: KindPhone, Place: PlaceAttribute, Description: "Sent in E.164 (+4915112345678) where it parses, as typed otherwise."},
		{ID: personio.AttributeGender, Label: "Gender", LabelDE: "Geschlecht", Kind: KindOption, Place: PlaceAttribute, Values: personio.Genders, Description: "Map the funnel's choices to male, female, diverse or undefined."},
		{ID: personio.AttributeBirthday, Label: "Birthday", LabelDE: "Geburtstag", Kind: KindDate, Place: PlaceAttribute, Description: "yyyy-mm-dd."},
		{ID: personio.AttributeLocation, Label: "Location", LabelDE: "Wohnort", Kind: KindText, Place: PlaceAttribute, Description: "Where the applicant lives."},
		{ID: personio.AttributeAvailableFrom, Label: "Available from", LabelDE: "Verfügbar ab", Kind: KindText, Place: PlaceAttribute, Description: "When the applicant can start, free text."},
		{ID: personio.AttributeSalaryExpectations, Label: "Salary expectations", LabelDE: "Gehaltsvorstellung", Kind: KindText, Place: PlaceAttribute, Description: "Free text, not parsed by Personio."},
		{ID: "custom_attribute_{id}", Label: "Custom attribute", LabelDE: "Eigenes Attribut", Kind: "", Place: PlaceAttribute, Pattern: customAttributeRE.String(),
			Values: CustomAttributeTypes, Description: "A custom applicant attribute by its API name; say its type (" + strings.Join(CustomAttributeTypes, ", ") + "). Option values are custom_option_{id}."},
	}
	for i := range out {
		out[i].Values = slices.Clone(out[i].Values)
	}
	for _, c := range personio.FileCategories {
		out = append(out, Target{ID: "file:" + string(c), Label: "File: " + string(c), LabelDE: "Datei: " + fileLabels[c], Kind: KindFile, Place: PlaceFiles, Multiple: true,
			Description: "Files of a file question, uploaded with category " + string(c) + "."})
	}
	return out
}

// fileLabels name the file categories in German.
var fileLabels = map[personio.FileCategory]string{personio.CategoryCV: "Lebenslauf", personio.CategoryCoverLetter: "Anschreiben",
	personio.CategoryEmploymentReference: "Arbeitszeugnis", personio.CategoryCertificate: "Zertifikat",
	personio.CategoryWorkSample: "Arbeitsprobe", personio.CategoryOther: "Sonstiges"}

// resolveTarget finds the target a rule names; custom attributes take
// their kind from the rule's type.
func resolveTarget(id, typ string) (Target, bool) {
	if customAttributeRE.MatchString(id) {
		k := Kind(typ)
		if typ == "" || !slices.Contains(CustomAttributeTypes, typ) {
			k = ""
		}
		return Target{ID: id, Kind: k, Place: PlaceAttribute, Label: id}, true
	}
	for _, t := range catalogue {
		if t.ID == id {
			return t, true
		}
	}
	return Target{}, false
}

// catalogue is built once; Catalogue() returns a fresh copy for callers.
var catalogue = Catalogue()

// fileCategory returns the category of a file:<category> target.
func fileCategory(id string) personio.FileCategory {
	return personio.FileCategory(strings.TrimPrefix(id, "file:"))
}

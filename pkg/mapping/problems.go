package mapping

import (
	"strings"

	"github.com/funnel-personio/funnel-personio/pkg/application"
)

// Sentences are a problem's sentence in English and in German.
type Sentences struct {
	EN string `json:"en"`
	DE string `json:"de"`
}

// Problem codes: every problem Validate reports has one, with the params
// its sentences name. Params that name a target (target) hold its id,
// those that name what a target takes or a source holds (takes, holds)
// a kind or answer type, those that name a question (question, source)
// its label from the funnel's schema where the funnel is given.
const (
	CodeVersion          = "version-unsupported"    // version
	CodeRegion           = "region-unknown"         // region
	CodeRequiredTarget   = "required-target-given"  // target
	CodeRequiredMissing  = "required-missing"       // target
	CodeTargetMissing    = "target-missing"         //
	CodeTargetUnknown    = "target-unknown"         // target
	CodeTargetRequired   = "target-required"        // target
	CodeTypeMissing      = "type-missing"           // types
	CodeTypeNotTaken     = "type-not-taken"         //
	CodeTargetTwice      = "target-twice"           // target, row (1-based)
	CodeSourceInvalid    = "source-invalid"         // source
	CodeFileSource       = "file-source-needed"     //
	CodeFileTarget       = "file-target-needed"     //
	CodeQuestionUnknown  = "question-unknown"       // question (its id)
	CodeCannotFit        = "source-cannot-fit"      // target, source, takes, holds
	CodeNeedsTransform   = "source-needs-transform" // target, source, takes, holds, transform (a warning)
	CodeEmailConstant    = "email-constant"         //
	CodeConstantBlank    = "constant-blank"         //
	CodeConstantInvalid  = "constant-invalid"       // target, value
	CodeTemplateNotTaken = "template-not-taken"     //
	CodeTemplateInvalid  = "template-invalid"       //
	CodeTransformUnknown = "transform-unknown"      // transform, transforms
	CodeTransformFile    = "transform-file"         //
	CodeTransformMisfit  = "transform-not-fit"      // transform, takes
	CodeOptionsMissing   = "options-missing"        //
	CodeOptionsNotTaken  = "options-not-taken"      // takes
	CodeOptionsSame      = "options-same-answer"    // choice, other
	CodeOptionInvalid    = "option-value-invalid"   // target, choice, value
	CodeOptionMissing    = "option-missing"         // choice, question
	CodeSeveralValues    = "source-several"         // target, question
	CodeQuestionIsFile   = "question-is-file"       // question
	CodeFallbackTarget   = "fallback-target-given"  //
	CodeSeparatorLong    = "separator-long"         //
	CodeOneGiver         = "one-giver"              //
)

// german is each code's German sentence, {name} standing for a param.
var german = map[string]string{
	CodeVersion:          "Die Version der Zuordnung muss {version} sein.",
	CodeRegion:           "„{region}“ ist keine Region, die die Telefonbibliothek kennt (ISO 3166-1 Alpha-2, etwa DE).",
	CodeRequiredTarget:   "Eine Pflichtzuordnung füllt ihr eigenes Feld; lassen Sie target weg.",
	CodeRequiredMissing:  "Pflichtzuordnung fehlt: Personio braucht {target}.",
	CodeTargetMissing:    "Wählen Sie ein Personio-Feld.",
	CodeTargetUnknown:    "Personio hat kein Feld „{target}“; siehe den Katalog.",
	CodeTargetRequired:   "{target} ist eine Pflichtzuordnung; legen Sie es dort fest.",
	CodeTypeMissing:      "Ein eigenes Attribut braucht seinen Typ: einen von {types}.",
	CodeTypeNotTaken:     "Nur eigene Attribute haben einen Typ.",
	CodeTargetTwice:      "{target} ist schon in Zuordnung {row} zugeordnet.",
	CodeSourceInvalid:    "„{source}“ ist keine Quelle: Eine Quelle ist contact.*, answers.*, files.*, tracking.* oder event.*.",
	CodeFileSource:       "Ein Datei-Feld nimmt nur die Dateien einer Datei-Frage.",
	CodeFileTarget:       "Dateien gehen an ein Datei-Feld (Lebenslauf, Sonstiges, …).",
	CodeQuestionUnknown:  "Der Funnel hat keine Frage „{question}“.",
	CodeCannotFit:        "{target} nimmt {takes}; „{source}“ enthält {holds}.",
	CodeNeedsTransform:   "{target} nimmt {takes}; „{source}“ enthält {holds}: Mit der Umwandlung „{transform}“ passt es.",
	CodeEmailConstant:    "Jede Bewerbung braucht die eigene E-Mail-Adresse; mit einem festen Wert wäre jede außer der ersten ein Duplikat.",
	CodeConstantBlank:    "Der feste Wert ist leer.",
	CodeConstantInvalid:  "Der feste Wert „{value}“ passt nicht zu {target}.",
	CodeTemplateNotTaken: "Vorlagen füllen Textfelder wie die Nachricht.",
	CodeTemplateInvalid:  "Die Vorlage lässt sich nicht lesen: Felder stehen in {{…}}, etwa {{answers.q_motivation}}; Dateien gehen nicht in eine Vorlage.",
	CodeTransformUnknown: "Unbekannte Umwandlung „{transform}“; eine von {transforms}.",
	CodeTransformFile:    "Dateien haben keine Umwandlungen.",
	CodeTransformMisfit:  "Die Umwandlung „{transform}“ passt nicht zu einem Feld, das {takes} nimmt.",
	CodeOptionsMissing:   "Die Umwandlung „options“ braucht eine Wertetabelle.",
	CodeOptionsNotTaken:  "Ein Feld, das {takes} nimmt, hat keine Wertetabelle.",
	CodeOptionsSame:      "„{other}“ und „{choice}“ sind dieselbe Antwort.",
	CodeOptionInvalid:    "„{value}“ (für „{choice}“) ist kein Wert, den {target} nimmt.",
	CodeOptionMissing:    "Die Auswahl „{choice}“ der Frage „{question}“ hat keinen Eintrag in der Tabelle.",
	CodeSeveralValues:    "{target} nimmt einen Wert; die Frage „{question}“ kann mehrere haben.",
	CodeQuestionIsFile:   "Die Frage „{question}“ ist eine Datei-Frage; ordnen Sie sie einem Datei-Feld zu.",
	CodeFallbackTarget:   "Eine Ersatzregel füllt dasselbe Feld; lassen Sie target weg.",
	CodeSeparatorLong:    "Das Trennzeichen hat höchstens 16 Bytes.",
	CodeOneGiver:         "Geben Sie genau eines an: ein Funnel-Feld, einen festen Wert oder eine Vorlage.",
}

// wordsDE says in German what a kind of target takes or a type of answer
// holds.
var wordsDE = map[string]string{
	string(KindEmail): "eine E-Mail-Adresse", string(KindName): "einen Namen", string(KindDate): "ein Datum", string(KindPhone): "eine Telefonnummer",
	string(KindNumber): "eine Zahl", string(KindInteger): "eine ganze Zahl", string(KindText): "Freitext", string(KindMessage): "eine Nachricht",
	string(KindOption): "einen festen Wert", string(KindTags): "Tags", string(KindPhase): "eine Phase", string(KindFile): "Dateien",
	string(application.TypeChoice): "eine ihrer Auswahlen", string(application.TypeMultiChoice): "mehrere ihrer Auswahlen",
	string(application.TypeConsent): "ein Ja oder Nein",
}

// contactDE names the contact step's fields in German.
var contactDE = map[string]string{"contact.first_name": "Vorname", "contact.last_name": "Nachname", "contact.full_name": "Vollständiger Name",
	"contact.email": "E-Mail", "contact.phone": "Telefon", "event.occurred_at": "Zeitpunkt der Bewerbung"}

// sayDE fills a code's German sentence with its params.
func sayDE(code string, params map[string]string) string {
	pairs := make([]string, 0, 2*len(params))
	for k, v := range params {
		switch k {
		case "target":
			v = targetLabelDE(v)
		case "takes", "holds":
			if w, ok := wordsDE[v]; ok {
				v = w
			}
		case "source":
			if w, ok := contactDE[v]; ok {
				v = w
			}
		}
		pairs = append(pairs, "{"+k+"}", v)
	}
	return strings.NewReplacer(pairs...).Replace(german[code])
}

// targetLabelDE is a target's German label (its id when it has none).
func targetLabelDE(id string) string {
	if t, ok := resolveTarget(id, ""); ok && t.LabelDE != "" {
		return t.LabelDE
	}
	return id
}

// coded is a problem with its code and params, its English sentence en
// and its German one from the table.
func coded(path, code string, params map[string]string, en string) Problem {
	return Problem{Path: path, Message: en, Code: code, Params: params, Messages: &Sentences{EN: en, DE: sayDE(code, params)}}
}

// labelOf names a question by its label from the funnel's schema, or by
// its id.
func labelOf(f *Field) string {
	if f.Label != "" {
		return f.Label
	}
	return f.ID
}

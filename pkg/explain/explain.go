// Package explain says what each reason code (lifecycle.Reason) means to the
// customer, in English and in German: what happened and what to do. The
// editor shows the sentences with every delivery; the notifier puts both
// into every outbound event.
package explain

import (
	"strings"

	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"golang.org/x/text/language"
)

// sentences explain each reason code (lifecycle.Reasons) to the customer, in
// English and German: what happened and what to do.
var sentences = map[lifecycle.Reason][2]string{ // en, de
	lifecycle.ReasonDelivered:           {"The application arrived in Personio.", "Die Bewerbung ist in Personio angekommen."},
	lifecycle.ReasonExistsUnconfirmed:   {"Personio has an application for this e-mail and position; the answer to our earlier try was lost, so it may be this one or an earlier application. In Personio, this application carries its delivery id as a tag.", "Personio hat eine Bewerbung für diese E-Mail-Adresse und Stelle; die Antwort auf unseren früheren Versuch ging verloren, daher kann es diese oder eine frühere Bewerbung sein. In Personio trägt diese Bewerbung ihre Zustellungs-ID als Tag."},
	lifecycle.ReasonConfirmPending:      {"Personio has an application for this e-mail and position, and the answer to our earlier try was lost. Personio's list of applications does not settle yet whether it is this one; it is read again shortly.", "Personio hat eine Bewerbung für diese E-Mail-Adresse und Stelle, und die Antwort auf unseren früheren Versuch ging verloren. Die Bewerbungsliste von Personio zeigt noch nicht, ob es diese ist; sie wird in Kürze erneut gelesen."},
	lifecycle.ReasonInvalidEvent:        {"The application data from the funnel was invalid and cannot be delivered.", "Die Bewerbungsdaten aus dem Funnel waren ungültig und können nicht übertragen werden."},
	lifecycle.ReasonNoIntegration:       {"This funnel has no Personio integration, so nothing was sent.", "Dieser Funnel hat keine Personio-Integration; es wurde nichts gesendet."},
	lifecycle.ReasonDisabled:            {"The Personio integration of this funnel is switched off, so nothing was sent.", "Die Personio-Integration dieses Funnels ist ausgeschaltet; es wurde nichts gesendet."},
	lifecycle.ReasonConnectionMissing:   {"The Personio account this funnel uses was removed. Choose another account and retry.", "Das Personio-Konto dieses Funnels wurde entfernt. Wählen Sie ein anderes Konto und versuchen Sie es erneut."},
	lifecycle.ReasonMappingInvalid:      {"The field mapping is not valid. Fix it and retry.", "Die Feldzuordnung ist ungültig. Korrigieren Sie sie und versuchen Sie es erneut."},
	lifecycle.ReasonMappingFailed:       {"A required field (first name, last name or e-mail) had no usable value. Check the required assignment and retry.", "Ein Pflichtfeld (Vorname, Nachname oder E-Mail) hatte keinen verwendbaren Wert. Prüfen Sie die Pflichtzuordnung und versuchen Sie es erneut."},
	lifecycle.ReasonPersonioValidation:  {"Personio refused the application. Check the job position, channel and optional assignments, then retry.", "Personio hat die Bewerbung abgelehnt. Prüfen Sie Stelle, Kanal und optionale Zuordnungen und versuchen Sie es erneut."},
	lifecycle.ReasonDuplicate:           {"This applicant has already applied to this job position in Personio.", "Diese Person hat sich in Personio bereits auf diese Stelle beworben."},
	lifecycle.ReasonAuth:                {"Personio did not accept the Company ID or access token. Enter new credentials; waiting applications are then sent again.", "Personio hat Company ID oder Access Token nicht akzeptiert. Geben Sie neue Zugangsdaten ein; wartende Bewerbungen werden dann erneut gesendet."},
	lifecycle.ReasonFeatureDisabled:     {"Recruiting or the recruiting API is not enabled for this Personio account. Enable it in Personio, then replace the credentials.", "Recruiting oder die Recruiting-API ist für dieses Personio-Konto nicht freigeschaltet. Schalten Sie sie in Personio frei und speichern Sie die Zugangsdaten erneut."},
	lifecycle.ReasonRateLimited:         {"Personio asked us to slow down; the application will be sent again shortly.", "Personio hat um eine Pause gebeten; die Bewerbung wird in Kürze erneut gesendet."},
	lifecycle.ReasonOutcomeUnknown:      {"Personio's answer to the last try was lost, so it may or may not have the application; it will be tried again, and Personio's duplicate check tells which.", "Die Antwort von Personio auf den letzten Versuch ging verloren; ob die Bewerbung dort ist, ist offen. Sie wird erneut versucht, und die Duplikatprüfung von Personio zeigt, ob sie schon da ist."},
	lifecycle.ReasonUnavailable:         {"Personio could not be reached; the application will be sent again shortly.", "Personio war nicht erreichbar; die Bewerbung wird in Kürze erneut gesendet."},
	lifecycle.ReasonFile:                {"An uploaded file could not be fetched; the application will be tried again.", "Eine hochgeladene Datei konnte nicht geladen werden; die Bewerbung wird erneut versucht."},
	lifecycle.ReasonTooManyFiles:        {"The application has more files than Personio takes in a minute (20 requests per account: one per file and one for the application), so it cannot be sent. Ask the funnel for fewer files.", "Die Bewerbung hat mehr Dateien, als Personio in einer Minute annimmt (20 Anfragen pro Konto: eine je Datei und eine für die Bewerbung), und kann nicht gesendet werden. Fragen Sie im Funnel nach weniger Dateien."},
	lifecycle.ReasonBudget:              {"Waiting for Personio's rate limit (20 requests a minute per account).", "Wartet auf das Personio-Limit (20 Anfragen pro Minute und Konto)."},
	lifecycle.ReasonExhausted:           {"Every try failed; the application is kept and can be retried.", "Alle Versuche sind fehlgeschlagen; die Bewerbung ist gespeichert und kann erneut gesendet werden."},
	lifecycle.ReasonExhaustedUnknown:    {"Every try failed, and the answer to one of them was lost, so Personio may have the application after all (it carries its delivery id as a tag there). Check Personio before retrying.", "Alle Versuche sind fehlgeschlagen, und die Antwort auf einen davon ging verloren; die Bewerbung kann also doch in Personio sein (dort trägt sie ihre Zustellungs-ID als Tag). Prüfen Sie Personio, bevor Sie es erneut versuchen."},
	lifecycle.ReasonStoppedUnknown:      {"An earlier try may have reached Personio, but its answer was lost; a later try stopped before asking Personio again (the integration was switched off or changed). Check Personio for this applicant: the application carries its delivery id as a tag there.", "Ein früherer Versuch hat Personio vielleicht erreicht, aber seine Antwort ging verloren; ein späterer Versuch hat aufgehört, bevor er Personio erneut fragte (die Integration wurde ausgeschaltet oder geändert). Prüfen Sie in Personio, ob die Bewerbung da ist: Sie trägt dort ihre Zustellungs-ID als Tag."},
	lifecycle.ReasonPositionUnpublished: {"The job position is no longer published in Personio. Applications wait and are sent as soon as it is published again or you choose another position.", "Die Stelle ist in Personio nicht mehr veröffentlicht. Bewerbungen warten und werden gesendet, sobald sie wieder veröffentlicht ist oder Sie eine andere Stelle wählen."},
	lifecycle.ReasonPositionPublished:   {"The job position is published again (or another one was chosen); the waiting applications are being sent.", "Die Stelle ist wieder veröffentlicht (oder eine andere wurde gewählt); die wartenden Bewerbungen werden gesendet."},
	lifecycle.ReasonConnectionRestored:  {"Personio accepts this account's credentials again; the waiting applications are being sent.", "Personio akzeptiert die Zugangsdaten dieses Kontos wieder; die wartenden Bewerbungen werden gesendet."},
	lifecycle.ReasonRetryRequested:      {"Queued again on request.", "Auf Wunsch erneut eingereiht."},
	lifecycle.ReasonCredentialsFixed:    {"Queued again after the credentials were replaced.", "Nach dem Ersetzen der Zugangsdaten erneut eingereiht."},
	lifecycle.ReasonReplayed:            {"Queued again by the service's operators after a fix on their side.", "Vom Betrieb des Dienstes nach einer Korrektur auf seiner Seite erneut eingereiht."},
	lifecycle.ReasonInternal:            {"An internal error occurred; the application will be tried again.", "Ein interner Fehler ist aufgetreten; die Bewerbung wird erneut versucht."},
}

var matcher = language.NewMatcher([]language.Tag{language.English, language.German})

// Sentence returns the sentence for a reason code in the language the
// Accept-Language header prefers (English or German; English otherwise).
// An unknown code gives "".
func Sentence(code lifecycle.Reason, acceptLanguage string) string {
	s, ok := sentences[code]
	if !ok {
		return ""
	}
	tags, _, _ := language.ParseAcceptLanguage(acceptLanguage)
	_, i, _ := matcher.Match(tags...)
	return s[i]
}

// Both returns the English and the German sentence for a reason code ("" for
// an unknown code).
func Both(code lifecycle.Reason) (en, de string) {
	s := sentences[code]
	return s[0], s[1]
}

// requiredNames name the required fields of an application in a sentence,
// in English and German.
var requiredNames = map[string][2]string{"first_name": {"first name", "Vorname"}, "last_name": {"last name", "Nachname"}, "email": {"e-mail", "E-Mail"}}

// NoUsableValue says which required fields (first_name, last_name, email)
// had no usable value, in the language Accept-Language prefers: the
// sentence of lifecycle.ReasonMappingFailed naming them. Without a field
// it knows, it is that code's sentence.
func NoUsableValue(fields []string, acceptLanguage string) string {
	tags, _, _ := language.ParseAcceptLanguage(acceptLanguage)
	_, lang, _ := matcher.Match(tags...)
	var names []string
	for _, f := range fields {
		if n, ok := requiredNames[f]; ok {
			names = append(names, n[lang])
		}
	}
	if len(names) == 0 {
		return sentences[lifecycle.ReasonMappingFailed][lang]
	}
	and, verb, rest := [2]string{" and ", " und "}, [2]string{" had", " hatte"}, [2]string{
		" no usable value. Check the required assignment and retry.",
		" keinen verwendbaren Wert. Prüfen Sie die Pflichtzuordnung und versuchen Sie es erneut."}
	if len(names) > 1 && lang == 1 {
		verb[1] = " hatten"
	}
	list := strings.Join(names[:len(names)-1], ", ")
	if list != "" {
		list += and[lang]
	}
	list += names[len(names)-1]
	return strings.ToUpper(list[:1]) + list[1:] + verb[lang] + rest[lang]
}

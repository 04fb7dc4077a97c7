package delivery

import (
	"golang.org/x/text/language"
)

// Reason codes a delivery record carries; the editor shows them with a
// sentence from Explain.
const (
	ReasonDelivered          = "delivered"
	ReasonAlreadyThere       = "personio.already_there"
	ReasonInvalidEvent       = "event.invalid"
	ReasonNoIntegration      = "integration.missing"
	ReasonDisabled           = "integration.disabled"
	ReasonConnectionMissing  = "connection.missing"
	ReasonMappingInvalid     = "mapping.invalid"
	ReasonMappingFailed      = "mapping.failed"
	ReasonPersonioValidation = "personio.validation"
	ReasonDuplicate          = "personio.duplicate"
	ReasonAuth               = "personio.auth"
	ReasonFeatureDisabled    = "personio.feature_disabled"
	ReasonRateLimited        = "personio.rate_limited"
	ReasonUnavailable        = "personio.unavailable"
	ReasonFile               = "file.unavailable"
	ReasonBudget             = "budget.wait"
	ReasonExhausted          = "retries.exhausted"
	ReasonRetryRequested     = "retry.requested"
	ReasonCredentialsFixed   = "credentials.replaced"
	ReasonInternal           = "internal"
)

var sentences = map[string][2]string{ // en, de
	ReasonDelivered:          {"The application arrived in Personio.", "Die Bewerbung ist in Personio angekommen."},
	ReasonAlreadyThere:       {"The application arrived in Personio (the answer to an earlier try was lost, and Personio confirmed it has it).", "Die Bewerbung ist in Personio angekommen (die Antwort auf einen früheren Versuch ging verloren; Personio hat sie bestätigt)."},
	ReasonInvalidEvent:       {"The application data from the funnel was invalid and cannot be delivered.", "Die Bewerbungsdaten aus dem Funnel waren ungültig und können nicht übertragen werden."},
	ReasonNoIntegration:      {"This funnel has no Personio integration, so nothing was sent.", "Dieser Funnel hat keine Personio-Integration; es wurde nichts gesendet."},
	ReasonDisabled:           {"The Personio integration of this funnel is switched off, so nothing was sent.", "Die Personio-Integration dieses Funnels ist ausgeschaltet; es wurde nichts gesendet."},
	ReasonConnectionMissing:  {"The Personio account this funnel uses was removed. Choose another account and retry.", "Das Personio-Konto dieses Funnels wurde entfernt. Wählen Sie ein anderes Konto und versuchen Sie es erneut."},
	ReasonMappingInvalid:     {"The field mapping is not valid. Fix it and retry.", "Die Feldzuordnung ist ungültig. Korrigieren Sie sie und versuchen Sie es erneut."},
	ReasonMappingFailed:      {"A required field (first name, last name or e-mail) had no usable value. Check the required assignment and retry.", "Ein Pflichtfeld (Vorname, Nachname oder E-Mail) hatte keinen verwendbaren Wert. Prüfen Sie die Pflichtzuordnung und versuchen Sie es erneut."},
	ReasonPersonioValidation: {"Personio refused the application. Check the job position, channel and optional assignments, then retry.", "Personio hat die Bewerbung abgelehnt. Prüfen Sie Stelle, Kanal und optionale Zuordnungen und versuchen Sie es erneut."},
	ReasonDuplicate:          {"This applicant has already applied to this job position in Personio.", "Diese Person hat sich in Personio bereits auf diese Stelle beworben."},
	ReasonAuth:               {"Personio did not accept the Company ID or access token. Enter new credentials; waiting applications are then sent again.", "Personio hat Company ID oder Access Token nicht akzeptiert. Geben Sie neue Zugangsdaten ein; wartende Bewerbungen werden dann erneut gesendet."},
	ReasonFeatureDisabled:    {"Recruiting or the recruiting API is not enabled for this Personio account. Enable it in Personio, then replace the credentials.", "Recruiting oder die Recruiting-API ist für dieses Personio-Konto nicht freigeschaltet. Schalten Sie sie in Personio frei und speichern Sie die Zugangsdaten erneut."},
	ReasonRateLimited:        {"Personio asked us to slow down; the application will be sent again shortly.", "Personio hat um eine Pause gebeten; die Bewerbung wird in Kürze erneut gesendet."},
	ReasonUnavailable:        {"Personio could not be reached; the application will be sent again shortly.", "Personio war nicht erreichbar; die Bewerbung wird in Kürze erneut gesendet."},
	ReasonFile:               {"An uploaded file could not be fetched; the application will be tried again.", "Eine hochgeladene Datei konnte nicht geladen werden; die Bewerbung wird erneut versucht."},
	ReasonBudget:             {"Waiting for Personio's rate limit (20 requests a minute per account).", "Wartet auf das Personio-Limit (20 Anfragen pro Minute und Konto)."},
	ReasonExhausted:          {"Every try failed; the application is kept and can be retried.", "Alle Versuche sind fehlgeschlagen; die Bewerbung ist gespeichert und kann erneut gesendet werden."},
	ReasonRetryRequested:     {"Queued again on request.", "Auf Wunsch erneut eingereiht."},
	ReasonCredentialsFixed:   {"Queued again after the credentials were replaced.", "Nach dem Ersetzen der Zugangsdaten erneut eingereiht."},
	ReasonInternal:           {"An internal error occurred; the application will be tried again.", "Ein interner Fehler ist aufgetreten; die Bewerbung wird erneut versucht."},
}

var matcher = language.NewMatcher([]language.Tag{language.English, language.German})

// Explain returns a sentence for a reason code in the language the
// Accept-Language header prefers (English or German; English otherwise).
// An unknown code gives "".
func Explain(code, acceptLanguage string) string {
	s, ok := sentences[code]
	if !ok {
		return ""
	}
	tags, _, _ := language.ParseAcceptLanguage(acceptLanguage)
	_, i, _ := matcher.Match(tags...)
	return s[i]
}

package personio

import (
	"net/mail"
	"slices"
	"strings"
)

// Reason codes from the error_response schema of Personio's Recruiting API
// (personio-recruiting-api.yaml, components.schemas.error_response).
const (
	ReasonUnknownAttribute       = "errors.attribute-validation.unknown"
	ReasonRequiredAttribute      = "errors.attribute-validation.required-attribute"
	ReasonInvalidDateFormat      = "errors.attribute-validation.invalid-date-format"
	ReasonInvalidEmailFormat     = "errors.attribute-validation.invalid-email-format"
	ReasonInvalidType            = "errors.attribute-validation.invalid-type"
	ReasonUnknownAttributeOption = "errors.attribute-validation.unknown-attribute-option"
	ReasonDateInFuture           = "errors.date-validation.date-in-the-future"
	ReasonInvalidSystemPhase     = "errors.phase-validation.invalid-system-phase"
	ReasonFileNotExists          = "errors.file-validation.file-not-exists"
	ReasonUnknownFileCategory    = "errors.file-validation.unknown-file-category"
	ReasonInvalidFileType        = "errors.invalid-file-type"
	ReasonFileTooBig             = "errors.file-too-big"
	ReasonApplicantExists        = "errors.applicant-already-exists"
	ReasonPostingNotFound        = "errors.posting-validation.posting-not-found"
	ReasonChannelNotFound        = "errors.posting-validation.channel-not-found"
	ReasonPositionNotPublished   = "errors.job-position.not-published"
	ReasonRecruitingDisabled     = "feature.recruiting.disabled"
	ReasonPublicAPIDisabled      = "feature.public-api.disabled"

	// ReasonInvalidCompanyID is this client's own code for a company id that
	// is not a positive whole number; Personio would answer 401.
	ReasonInvalidCompanyID = "client.invalid-company-id"
	// ReasonInvalidRequestBody is the detail Personio gives, in the
	// problem-shaped error, for a body it cannot read (unknown keys, wrong
	// JSON types).
	ReasonInvalidRequestBody = "Invalid request body supplied"
)

// FileCategory is the category of a document attached to an application.
type FileCategory string

// The document categories Personio accepts.
const (
	CategoryCV                  FileCategory = "cv"
	CategoryCoverLetter         FileCategory = "cover-letter"
	CategoryEmploymentReference FileCategory = "employment-reference"
	CategoryCertificate         FileCategory = "certificate"
	CategoryWorkSample          FileCategory = "work-sample"
	CategoryOther               FileCategory = "other"
)

// FileCategories lists every category Personio accepts, in the spec's order.
var FileCategories = []FileCategory{
	CategoryCV, CategoryCoverLetter, CategoryEmploymentReference,
	CategoryCertificate, CategoryWorkSample, CategoryOther,
}

// Valid reports whether c is one of Personio's document categories.
func (c FileCategory) Valid() bool {
	return slices.Contains(FileCategories, c)
}

// MaxDocumentSize is the largest document Personio takes: 20 MB.
const MaxDocumentSize = 20 << 20

// DocumentExtensions lists the file extensions the documents endpoint
// accepts, lower case, as the spec's request description gives them.
var DocumentExtensions = []string{
	"pdf", "pptx", "xlsx", "docx", "doc", "xls", "ppt", "ods", "odt", "7z",
	"gz", "rar", "zip", "bmp", "gif", "jpg", "png", "tif", "csv", "txt",
	"rtf", "mp4", "3gp", "mov", "avi", "wmv",
}

// AllowedExtension reports whether ext (without the dot, any case) is one
// Personio accepts for documents.
func AllowedExtension(ext string) bool {
	return slices.Contains(DocumentExtensions, strings.ToLower(ext))
}

// SystemPhases lists the system application phases Personio accepts.
var SystemPhases = []string{"unassigned", "rejected", "withdrawn", "offer", "accepted"}

// Genders lists the values of the gender system attribute.
var Genders = []string{"male", "female", "diverse", "undefined"}

// System attribute ids that go in Application.Attributes.
const (
	AttributeBirthday           = "birthday"
	AttributeGender             = "gender"
	AttributeLocation           = "location"
	AttributePhone              = "phone"
	AttributeAvailableFrom      = "available_from"
	AttributeSalaryExpectations = "salary_expectations"
)

// SystemAttributes lists the system attribute ids in the spec's order.
var SystemAttributes = []string{
	AttributeBirthday, AttributeGender, AttributeLocation, AttributePhone,
	AttributeAvailableFrom, AttributeSalaryExpectations,
}

// ValidEmail reports whether Personio takes s as an applicant's e-mail: a
// bare address (no display name) whose domain has a dot.
func ValidEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return at > 0 && strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

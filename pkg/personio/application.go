package personio

// Application is the body of POST /v1/recruiting/applications, field for
// field as the submit_application schema has it. Phone, gender, birthday,
// location, available_from, salary_expectations and custom attributes go
// in Attributes, never at the top level.
type Application struct {
	FirstName           string      `json:"first_name"`
	LastName            string      `json:"last_name"`
	Email               string      `json:"email"`
	JobPositionID       int64       `json:"job_position_id"`
	RecruitingChannelID *int64      `json:"recruiting_channel_id,omitempty"`
	ExternalPostingID   string      `json:"external_posting_id,omitempty"`
	Message             string      `json:"message,omitempty"`
	ApplicationDate     string      `json:"application_date,omitempty"` // yyyy-mm-dd, not in the future
	Phase               *Phase      `json:"phase,omitempty"`
	Tags                []string    `json:"tags,omitempty"`
	Files               []FileRef   `json:"files,omitempty"`
	Attributes          []Attribute `json:"attributes,omitempty"`
}

// Phase is the application phase to create the application in. Type is
// "system" (ID one of SystemPhases) or "custom" (ID a whole number).
type Phase struct {
	Type string `json:"type"`
	ID   any    `json:"id"`
}

// FileRef attaches a document uploaded with UploadDocument.
type FileRef struct {
	UUID             string       `json:"uuid"`
	OriginalFilename string       `json:"original_filename"`
	Category         FileCategory `json:"category"`
}

// Attribute is a system attribute (see SystemAttributes) or a custom one
// (custom_attribute_N). Values are always strings: dates as yyyy-mm-dd,
// option attributes as their option id (custom_option_N).
type Attribute struct {
	ID    string `json:"id"`
	Value string `json:"value"`
}

// Document is what Personio returns for an uploaded document.
type Document struct {
	UUID             string `json:"uuid"`
	Size             int64  `json:"size"`
	MimeType         string `json:"mimetype"`
	OriginalFilename string `json:"original_filename"`
	Extension        string `json:"extension"`
}

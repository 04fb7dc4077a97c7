package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/funnel-personio/funnel-personio/pkg/personio"
)

// maxApplicationBody bounds the JSON body of an application.
const maxApplicationBody = 1 << 20

// rawApplication is a decoded application body before validation. Pointers
// tell a missing or null field from an empty one.
type rawApplication struct {
	FirstName           *string        `json:"first_name"`
	LastName            *string        `json:"last_name"`
	Email               *string        `json:"email"`
	JobPositionID       *int64         `json:"job_position_id"`
	RecruitingChannelID *int64         `json:"recruiting_channel_id"`
	ExternalPostingID   *string        `json:"external_posting_id"`
	Message             *string        `json:"message"`
	ApplicationDate     *string        `json:"application_date"`
	Phase               *rawPhase      `json:"phase"`
	Tags                []string       `json:"tags"`
	Files               []rawFile      `json:"files"`
	Attributes          []rawAttribute `json:"attributes"`
}

type rawPhase struct {
	Type *string         `json:"type"`
	ID   json.RawMessage `json:"id"`
}

type rawFile struct {
	UUID             *string `json:"uuid"`
	OriginalFilename *string `json:"original_filename"`
	Category         *string `json:"category"`
}

type rawAttribute struct {
	ID    *string         `json:"id"`
	Value json.RawMessage `json:"value"`
}

// errInvalidBody is Personio's answer to a body it cannot read: not JSON,
// unknown keys (such as a top-level "phone"), or wrong JSON types.
var errInvalidBody = errors.New("invalid request body")

// The keys each object of the body may have; Personio's keys are case
// sensitive, unlike encoding/json's matching, so they are checked first.
var (
	applicationKeys = []string{"first_name", "last_name", "email", "job_position_id", "recruiting_channel_id",
		"external_posting_id", "message", "application_date", "phase", "tags", "files", "attributes"}
	phaseKeys     = []string{"type", "id"}
	fileKeys      = []string{"uuid", "original_filename", "category"}
	attributeKeys = []string{"id", "value"}
)

// decodeApplication reads an application body as Personio does: one JSON
// object with only the spec's keys (case sensitive) and the spec's JSON
// types. Anything else is errInvalidBody.
func decodeApplication(body []byte) (*rawApplication, error) {
	if err := checkKeys(body); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var app rawApplication
	if err := dec.Decode(&app); err != nil {
		return nil, fmt.Errorf("%w: %v", errInvalidBody, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the object", errInvalidBody)
	}
	return &app, nil
}

// checkKeys verifies the exact key names of the body and of its nested
// objects.
func checkKeys(body []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		return fmt.Errorf("%w: not a JSON object", errInvalidBody)
	}
	if err := onlyKeys(top, applicationKeys); err != nil {
		return err
	}
	if raw, ok := top["phase"]; ok && !isNull(raw) {
		if err := objectKeys(raw, phaseKeys); err != nil {
			return err
		}
	}
	for name, allowed := range map[string][]string{"files": fileKeys, "attributes": attributeKeys} {
		raw, ok := top[name]
		if !ok || isNull(raw) {
			continue
		}
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return fmt.Errorf("%w: %s is not an array", errInvalidBody, name)
		}
		for _, it := range items {
			if err := objectKeys(it, allowed); err != nil {
				return err
			}
		}
	}
	return nil
}

func objectKeys(raw json.RawMessage, allowed []string) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return fmt.Errorf("%w: not an object", errInvalidBody)
	}
	return onlyKeys(m, allowed)
}

func onlyKeys(m map[string]json.RawMessage, allowed []string) error {
	for k := range m {
		if !slices.Contains(allowed, k) {
			return fmt.Errorf("%w: unknown key %q", errInvalidBody, k)
		}
	}
	return nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// fieldErrors collects reasons per field, keeping fields unique as the
// spec promises.
type fieldErrors []personio.FieldError

func (fe *fieldErrors) add(field, reason string, ctx map[string]any) {
	for i := range *fe {
		if (*fe)[i].Field == field {
			(*fe)[i].Reasons = append((*fe)[i].Reasons, personio.Reason{Reason: reason, Context: ctx})
			return
		}
	}
	*fe = append(*fe, personio.FieldError{Field: field, Reasons: []personio.Reason{{Reason: reason, Context: ctx}}})
}

// validate applies every content rule of the spec and returns
// every violation, with the application as it would be stored.
func (c *company) validate(a *rawApplication, today string) (personio.Application, string, fieldErrors) {
	var errs fieldErrors
	var out personio.Application
	out.FirstName = requireText(&errs, "first_name", a.FirstName)
	out.LastName = requireText(&errs, "last_name", a.LastName)
	if email := requireText(&errs, "email", a.Email); email != "" {
		if !personio.ValidEmail(email) {
			errs.add("email", personio.ReasonInvalidEmailFormat, nil)
		}
		out.Email = email
	}
	if a.JobPositionID == nil {
		errs.add("job_position_id", personio.ReasonRequiredAttribute, nil)
	} else {
		out.JobPositionID = *a.JobPositionID
		if p, ok := c.positions[*a.JobPositionID]; !ok || !p.Published {
			// The spec has no code for an unknown position; a position that
			// does not exist is not published either.
			errs.add("job_position_id", personio.ReasonPositionNotPublished, map[string]any{"job_position_id": *a.JobPositionID})
		}
	}
	if a.RecruitingChannelID != nil {
		out.RecruitingChannelID = a.RecruitingChannelID
		if !c.channels[*a.RecruitingChannelID] {
			errs.add("recruiting_channel_id", personio.ReasonChannelNotFound, nil)
		}
	}
	if a.ExternalPostingID != nil {
		out.ExternalPostingID = *a.ExternalPostingID
		p, ok := c.postings[*a.ExternalPostingID]
		if !ok || (a.JobPositionID != nil && p.PositionID != *a.JobPositionID) ||
			(a.RecruitingChannelID != nil && p.ChannelID != *a.RecruitingChannelID) {
			errs.add("external_posting_id", personio.ReasonPostingNotFound, nil)
		}
	}
	if a.Message != nil {
		out.Message = *a.Message
	}
	if a.ApplicationDate != nil {
		out.ApplicationDate = *a.ApplicationDate
		if !validDate(*a.ApplicationDate) {
			errs.add("application_date", personio.ReasonInvalidDateFormat, nil)
		} else if *a.ApplicationDate > today {
			errs.add("application_date", personio.ReasonDateInFuture, nil)
		}
	}
	phase := ""
	if a.Phase != nil {
		phase = c.resolvePhase(&errs, a.Phase)
		out.Phase = &personio.Phase{Type: deref(a.Phase.Type), ID: rawScalar(a.Phase.ID)}
	}
	out.Tags = a.Tags
	for i, f := range a.Files {
		field := "files[" + strconv.Itoa(i) + "]"
		ref := personio.FileRef{UUID: deref(f.UUID), OriginalFilename: deref(f.OriginalFilename), Category: personio.FileCategory(deref(f.Category))}
		switch {
		case strings.TrimSpace(ref.UUID) == "":
			errs.add(field+".uuid", personio.ReasonRequiredAttribute, nil)
		case uuid.Validate(ref.UUID) != nil:
			errs.add(field+".uuid", personio.ReasonFileNotExists, nil)
		default:
			if _, ok := c.documents[strings.ToLower(ref.UUID)]; !ok {
				errs.add(field+".uuid", personio.ReasonFileNotExists, nil)
			}
		}
		if strings.TrimSpace(ref.OriginalFilename) == "" {
			errs.add(field+".original_filename", personio.ReasonRequiredAttribute, nil)
		}
		switch {
		case f.Category == nil:
			errs.add(field+".category", personio.ReasonRequiredAttribute, nil)
		case !ref.Category.Valid():
			errs.add(field+".category", personio.ReasonUnknownFileCategory, nil)
		}
		out.Files = append(out.Files, ref)
	}
	for i, at := range a.Attributes {
		id := deref(at.ID)
		field := id
		if strings.TrimSpace(id) == "" {
			field = "attributes[" + strconv.Itoa(i) + "].id"
			errs.add(field, personio.ReasonRequiredAttribute, nil)
			continue
		}
		value, ok := c.checkAttribute(&errs, field, id, at.Value)
		if ok {
			out.Attributes = append(out.Attributes, personio.Attribute{ID: id, Value: value})
		}
	}
	return out, phase, errs
}

// resolvePhase checks a phase. A system phase must be one of the spec's;
// a custom phase that does not exist is not an error: the application is
// created in phase "unassigned", as the spec says.
func (c *company) resolvePhase(errs *fieldErrors, p *rawPhase) string {
	switch deref(p.Type) {
	case "system":
		var id string
		if json.Unmarshal(p.ID, &id) != nil || !slices.Contains(personio.SystemPhases, id) {
			errs.add("phase", personio.ReasonInvalidSystemPhase, nil)
			return ""
		}
		return "system:" + id
	case "custom":
		var id int64
		if json.Unmarshal(p.ID, &id) == nil && c.phases[id] {
			return "custom:" + strconv.FormatInt(id, 10)
		}
		return "system:unassigned"
	default:
		errs.add("phase", personio.ReasonInvalidSystemPhase, nil)
		return ""
	}
}

// checkAttribute validates one attribute value by the attribute's kind.
func (c *company) checkAttribute(errs *fieldErrors, field, id string, raw json.RawMessage) (string, bool) {
	kind, options, known := c.attributeKind(id)
	if !known {
		errs.add(field, personio.ReasonUnknownAttribute, nil)
		return "", false
	}
	if len(raw) == 0 || isNull(raw) {
		errs.add(field, personio.ReasonRequiredAttribute, nil)
		return "", false
	}
	var v string
	if json.Unmarshal(raw, &v) != nil {
		errs.add(field, personio.ReasonInvalidType, nil)
		return "", false
	}
	if strings.TrimSpace(v) == "" {
		errs.add(field, personio.ReasonRequiredAttribute, nil)
		return "", false
	}
	switch kind {
	case KindDate:
		if !validDate(v) {
			errs.add(field, personio.ReasonInvalidDateFormat, nil)
			return "", false
		}
	case KindOption:
		if !slices.Contains(options, v) {
			errs.add(field, personio.ReasonUnknownAttributeOption, nil)
			return "", false
		}
	case KindNumber:
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			errs.add(field, personio.ReasonInvalidType, nil)
			return "", false
		}
	}
	return v, true
}

// attributeKind tells the kind of a system or custom attribute.
func (c *company) attributeKind(id string) (kind string, options []string, known bool) {
	switch id {
	case personio.AttributeBirthday:
		return KindDate, nil, true
	case personio.AttributeGender:
		return KindOption, personio.Genders, true
	case personio.AttributeLocation, personio.AttributePhone, personio.AttributeAvailableFrom, personio.AttributeSalaryExpectations:
		return KindText, nil, true
	}
	a, ok := c.attrs[id]
	return a.Kind, a.Options, ok
}

func requireText(errs *fieldErrors, field string, v *string) string {
	if v == nil || strings.TrimSpace(*v) == "" {
		errs.add(field, personio.ReasonRequiredAttribute, nil)
		return ""
	}
	return *v
}

// validDate accepts an ISO 8601 local date, yyyy-mm-dd.
func validDate(s string) bool {
	if len(s) != 10 {
		return false
	}
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// rawScalar returns a JSON string or integer as a Go value, for the record.
func rawScalar(raw json.RawMessage) any {
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if d.Decode(&v) != nil {
		return nil
	}
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			return i
		}
	}
	return v
}

// createApplication is POST /v1/recruiting/applications.
func (s *Sandbox) createApplication(w http.ResponseWriter, r *http.Request, c *company) (int, []string) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxApplicationBody))
	if err != nil {
		writeProblem(w, http.StatusBadRequest, "Bad Request", personio.ReasonInvalidRequestBody)
		return http.StatusBadRequest, []string{personio.ReasonInvalidRequestBody}
	}
	raw, err := decodeApplication(body)
	if err != nil {
		writeProblem(w, http.StatusBadRequest, "Bad Request", personio.ReasonInvalidRequestBody)
		return http.StatusBadRequest, []string{personio.ReasonInvalidRequestBody}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	app, phase, errs := c.validate(raw, now.UTC().Format(time.DateOnly))
	if len(errs) == 0 {
		key := applicantKey{position: app.JobPositionID, email: normEmail(app.Email)}
		if c.applicants[key] {
			errs.add("email", personio.ReasonApplicantExists, nil)
		} else {
			c.applicants[key] = true
			s.noteCandidate(c, app, now)
			s.nextID++
			s.received = append(s.received, Received{ID: strconv.FormatInt(s.nextID, 10), CompanyID: c.ID, ReceivedAt: now, Phase: phase, Application: app})
		}
	}
	if len(errs) > 0 {
		writeFieldErrors(w, http.StatusBadRequest, errs)
		return http.StatusBadRequest, reasonsOf(errs)
	}
	w.WriteHeader(http.StatusCreated)
	return http.StatusCreated, nil
}

func reasonsOf(errs fieldErrors) []string {
	var out []string
	for _, f := range errs {
		for _, r := range f.Reasons {
			out = append(out, r.Reason)
		}
	}
	return out
}

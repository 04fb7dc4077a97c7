package sandbox

import (
	"errors"
	"io"
	"net/http"
	"path"
	"strings"

	"github.com/funnel-personio/funnel-personio/pkg/personio"
)

// multipartOverhead is what a request may carry beyond the file itself.
const multipartOverhead = 1 << 20

// uploadDocument is POST /v1/recruiting/applications/documents: exactly
// one multipart part, named "file", at most 20 MB (413 errors.file-too-big), an
// extension from the spec's list (422 errors.invalid-file-type).
func (s *Sandbox) uploadDocument(w http.ResponseWriter, r *http.Request, c *company) (int, []string) {
	r.Body = http.MaxBytesReader(w, r.Body, personio.MaxDocumentSize+multipartOverhead)
	mr, err := r.MultipartReader()
	if err != nil {
		return fileError(w, http.StatusUnprocessableEntity, personio.ReasonRequiredAttribute)
	}
	var doc *personio.Document
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return bodyError(w, err)
		}
		if part.FormName() != "file" || doc != nil {
			// The body has one part, "file"; anything else is refused.
			return fileError(w, http.StatusUnprocessableEntity, personio.ReasonInvalidRequestBody)
		}
		name := path.Base(strings.ReplaceAll(part.FileName(), `\`, "/"))
		if part.FileName() == "" || name == "." || name == "/" {
			return fileError(w, http.StatusUnprocessableEntity, personio.ReasonRequiredAttribute)
		}
		ext := strings.ToLower(strings.TrimPrefix(path.Ext(name), "."))
		if !personio.AllowedExtension(ext) {
			return fileError(w, http.StatusUnprocessableEntity, personio.ReasonInvalidFileType)
		}
		data, err := io.ReadAll(io.LimitReader(part, personio.MaxDocumentSize+1))
		if err != nil {
			return bodyError(w, err)
		}
		if len(data) > personio.MaxDocumentSize {
			return fileError(w, http.StatusRequestEntityTooLarge, personio.ReasonFileTooBig)
		}
		doc = &personio.Document{
			UUID: newUUID(), Size: int64(len(data)), MimeType: http.DetectContentType(data),
			OriginalFilename: name, Extension: ext,
		}
	}
	if doc == nil {
		return fileError(w, http.StatusUnprocessableEntity, personio.ReasonRequiredAttribute)
	}
	s.mu.Lock()
	c.documents[doc.UUID] = *doc
	s.stats.Documents++
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, doc)
	return http.StatusOK, nil
}

func fileError(w http.ResponseWriter, status int, reason string) (int, []string) {
	writeFieldErrors(w, status, fieldErrors{{Field: "file", Reasons: []personio.Reason{{Reason: reason}}}})
	return status, []string{reason}
}

// bodyError answers a body that could not be read: too large, or broken
// multipart.
func bodyError(w http.ResponseWriter, err error) (int, []string) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return fileError(w, http.StatusRequestEntityTooLarge, personio.ReasonFileTooBig)
	}
	return fileError(w, http.StatusUnprocessableEntity, personio.ReasonRequiredAttribute)
}

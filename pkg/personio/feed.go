package personio

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// FeedLanguages lists the languages the positions feed is served in.
var FeedLanguages = []string{"de", "en", "fr", "es", "nl", "it", "pt"}

// subdomainRE is what a career-site subdomain may look like; anything else
// could steer the request to another host.
var subdomainRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

// Position is one published job position from the career site's XML feed.
type Position struct {
	ID                 int64            `xml:"id" json:"id"`
	Subcompany         string           `xml:"subcompany" json:"subcompany,omitempty"`
	Office             string           `xml:"office" json:"office,omitempty"`
	Department         string           `xml:"department" json:"department,omitempty"`
	RecruitingCategory string           `xml:"recruitingCategory" json:"recruiting_category,omitempty"`
	Name               string           `xml:"name" json:"name"`
	Descriptions       []JobDescription `xml:"jobDescriptions>jobDescription" json:"descriptions,omitempty"`
	EmploymentType     string           `xml:"employmentType" json:"employment_type,omitempty"`
	Seniority          string           `xml:"seniority" json:"seniority,omitempty"`
	Schedule           string           `xml:"schedule" json:"schedule,omitempty"`
	YearsOfExperience  string           `xml:"yearsOfExperience" json:"years_of_experience,omitempty"`
	Keywords           string           `xml:"keywords" json:"keywords,omitempty"`
	Occupation         string           `xml:"occupation" json:"occupation,omitempty"`
	OccupationCategory string           `xml:"occupationCategory" json:"occupation_category,omitempty"`
	CreatedAt          string           `xml:"createdAt" json:"created_at,omitempty"`
}

// JobDescription is one named section of a position's description (HTML).
type JobDescription struct {
	Name  string `xml:"name" json:"name"`
	Value string `xml:"value" json:"value"`
}

// Feed is the XML feed document, <workzag-jobs>.
type Feed struct {
	XMLName   xml.Name   `xml:"workzag-jobs"`
	Positions []Position `xml:"position"`
}

// FeedUnavailableError says the career site has no feed at that subdomain:
// the customer has not enabled it, or the subdomain is wrong. Permanent.
type FeedUnavailableError struct {
	Op         string
	Subdomain  string
	StatusCode int
}

func (e *FeedUnavailableError) Error() string {
	return fmt.Sprintf("%s: no job positions feed at subdomain %q (%s): enable the XML feed for the career site in Personio or check the subdomain",
		e.Op, e.Subdomain, statusText(e.StatusCode, "no answer"))
}

// Retryable returns false.
func (e *FeedUnavailableError) Retryable() bool { return false }

// Positions reads the published job positions from the career site's
// public XML feed (https://{subdomain}.jobs.personio.de/xml?language=..).
// The feed exists only if the customer enabled it. companyID is sent as
// X-Company-ID, as the spec lists it for this path; no token is sent.
//
// Personio API docs: https://developer.personio.de/reference/get_xml
func (c *Client) Positions(ctx context.Context, companyID, subdomain, language string) ([]Position, error) {
	const op = "personio: list positions"
	subdomain = strings.ToLower(strings.TrimSpace(subdomain))
	if !subdomainRE.MatchString(subdomain) {
		return nil, &ValidationError{Op: op, Body: ErrorBody{Fields: FieldErrors{{Field: "subdomain", Reasons: []Reason{{Reason: "client.invalid-subdomain"}}}}}}
	}
	if language == "" {
		language = "en"
	}
	if !slices.Contains(FeedLanguages, language) {
		return nil, &ValidationError{Op: op, Body: ErrorBody{Fields: FieldErrors{{Field: "language", Reasons: []Reason{{Reason: "client.invalid-language"}}}}}}
	}
	ctx, cancel := c.bound(ctx)
	defer cancel()
	u := strings.ReplaceAll(c.feedURL, "{subdomain}", subdomain) + "?language=" + language
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: build request: %w", op, err)
	}
	if companyID != "" {
		req.Header.Set("X-Company-ID", companyID)
	}
	req.Header.Set("X-Personio-Partner-ID", c.partnerID)
	req.Header.Set("X-Personio-App-ID", c.appID)
	req.Header.Set("Accept", "application/xml")
	req.Header.Set("User-Agent", c.userAgent)
	// A career site without a feed redirects to its home page: read the
	// redirect itself rather than parsing an HTML page.
	hc := *c.httpClient
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(req)
	if err != nil {
		return nil, transportError(op, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8*maxResponseBody))
	if err != nil {
		return nil, transportError(op, err)
	}
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusNotFound, resp.StatusCode == http.StatusGone,
		resp.StatusCode >= 300 && resp.StatusCode < 400:
		return nil, &FeedUnavailableError{Op: op, Subdomain: subdomain, StatusCode: resp.StatusCode}
	default:
		return nil, errorFor(op, resp.StatusCode, resp.Header, body)
	}
	feed, err := ParseFeed(body)
	if err != nil {
		return nil, &UnexpectedResponseError{Op: op, StatusCode: resp.StatusCode, Err: err}
	}
	return feed.Positions, nil
}

// ParseFeed reads a positions feed document. A document that is not a
// <workzag-jobs> feed is an error.
func ParseFeed(body []byte) (*Feed, error) {
	var f Feed
	if err := xml.Unmarshal(body, &f); err != nil {
		return nil, fmt.Errorf("parse feed: %w", err)
	}
	return &f, nil
}

package personio_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/sandbox"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
)

// One client serves every company: credentials go with each call. Here it
// talks to the local sandbox, which follows Personio's published contract.
func Example() {
	sb, _ := sandbox.New(sandbox.Config{Seed: sandbox.DefaultSeed()})
	srv := httptest.NewServer(sb)
	defer srv.Close()
	c, err := personio.NewClient(personio.WithBaseURL(srv.URL), personio.WithFeedURL(srv.URL+"/careers/{subdomain}/xml"),
		personio.WithTimeout(10*time.Second))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	creds := personio.Credentials{CompanyID: "42", Token: "sandbox-token-42"}

	fmt.Println("verify:", c.Verify(ctx, creds)) // checks the pair, creates nothing
	positions, _ := c.Positions(ctx, "42", "acme", "en")
	fmt.Println("published position:", positions[0].ID)
	doc, err := c.UploadDocument(ctx, creds, "cv.pdf", strings.NewReader("%PDF-1.4 a CV"))
	if err != nil {
		panic(err)
	}
	err = c.CreateApplication(ctx, creds, personio.Application{
		FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com", JobPositionID: 1001,
		Files:      []personio.FileRef{{UUID: doc.UUID, OriginalFilename: "cv.pdf", Category: personio.CategoryCV}},
		Attributes: []personio.Attribute{{ID: "phone", Value: "+4915112345678"}},
	})
	fmt.Println("create:", err)

	// The same applicant again, and a wrong token: typed errors.
	err = c.CreateApplication(ctx, creds, personio.Application{FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com", JobPositionID: 1001})
	var exists *personio.AlreadyExistsError
	fmt.Println("again:", errors.As(err, &exists), personio.IsRetryable(err))
	var auth *personio.AuthError
	err = c.Verify(ctx, personio.Credentials{CompanyID: "42", Token: "wrong"})
	fmt.Println("wrong token:", errors.As(err, &auth))
	// Output:
	// verify: <nil>
	// published position: 1001
	// create: <nil>
	// again: true false
	// wrong token: true
}

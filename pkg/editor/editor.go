// Package editor is what the funnel editor's API does: connect a Personio
// account (checked before it is saved), check it again, replace its
// credentials, list job positions, map a funnel, switch it on, send a test
// application, and show, retry and erase deliveries. Handlers are thin; the
// state lives behind small interfaces declared here.
package editor

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/apigw"
	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/openapi"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// OpenAPI is the API's OpenAPI 3.1 document; the router validates request
// bodies against it and the tests hold every response to it.
//
//go:embed openapi.yaml
var OpenAPI []byte

// Store is the state the editor reads and writes.
type Store interface {
	CreateConnection(context.Context, store.Connection) (store.Connection, error)
	GetConnection(ctx context.Context, ws, id string) (store.Connection, error)
	ListConnections(ctx context.Context, ws string) ([]store.Connection, error)
	UpdateConnection(context.Context, store.Connection) (store.Connection, error)
	DeleteConnection(ctx context.Context, ws, id string) error
	PutIntegration(context.Context, store.Integration) (store.Integration, error)
	GetIntegration(ctx context.Context, ws, funnel string) (store.Integration, error)
	ListIntegrations(ctx context.Context, ws string) ([]store.Integration, error)
	DeleteIntegration(ctx context.Context, ws, funnel string) error
	CreateDelivery(context.Context, store.Delivery) (store.Delivery, error)
	GetDelivery(ctx context.Context, ws, eventID string) (store.Delivery, error)
	ListDeliveries(ctx context.Context, ws, funnel string, status store.Status, limit int, cursor string) (store.Page, error)
	ListParked(ctx context.Context, ws, connectionID string, limit int, cursor string) (store.Page, error)
	Requeue(ctx context.Context, k store.DeliveryKey, code store.Reason) (store.Delivery, error)
	EraseApplicant(ctx context.Context, ws, emailHash string, until time.Time) (store.Erasure, error)
	TakeBudget(ctx context.Context, company string, n int, b store.Budget) (bool, time.Time, error)
}

// Vault keeps tokens.
type Vault interface {
	Create(ctx context.Context, ws, connection string, token personio.Token) (string, error)
	Get(ctx context.Context, ws, connection string) (personio.Token, error)
	Put(ctx context.Context, ws, connection string, token personio.Token) error
	Delete(ctx context.Context, ws, connection string) error
}

// Personio checks credentials and lists positions.
type Personio interface {
	Verify(ctx context.Context, creds personio.Credentials) error
	Positions(ctx context.Context, companyID, subdomain, language string) ([]personio.Position, error)
}

// Queue takes events for the worker.
type Queue interface {
	Send(ctx context.Context, m queue.Message) error
}

// Config configures the editor. Plans, HashKey and Budget are required:
// the deployment's values come from package settings.
type Config struct {
	// Plans that include the integration.
	Plans []string
	// HashKey keys the e-mail hash that finds records for erasure; the
	// ingest and worker functions use the same key.
	HashKey []byte
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives one line per failure; never a token, e-mail or name.
	Logger *slog.Logger
	// Budget is the per-company rate budget the worker shares; checking
	// credentials takes one unit of it.
	Budget store.Budget
	// ErasureMarkerTTL is how long an erasure refuses the applicant's
	// events (settings.Settings.ErasureMarkerTTL).
	ErasureMarkerTTL time.Duration
}

// Editor serves the editor API.
type Editor struct {
	cfg      Config
	store    Store
	vault    Vault
	personio Personio
	queue    Queue
}

// New returns an Editor, or an error naming every required setting cfg
// lacks.
func New(cfg Config, st Store, v Vault, p Personio, q Queue) (*Editor, error) {
	var missing []string
	if len(cfg.Plans) == 0 {
		missing = append(missing, "Plans")
	}
	if len(cfg.HashKey) == 0 {
		missing = append(missing, "HashKey")
	}
	if cfg.Budget.Limit < 1 || cfg.Budget.Window <= 0 {
		missing = append(missing, "Budget")
	}
	if cfg.ErasureMarkerTTL <= 0 {
		missing = append(missing, "ErasureMarkerTTL")
	}
	if len(missing) > 0 {
		return nil, errors.New("editor: config: set " + strings.Join(missing, ", "))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Editor{cfg: cfg, store: st, vault: v, personio: p, queue: q}, nil
}

// Router returns the API's router with every route of the OpenAPI document.
func (e *Editor) Router() (*apigw.Router, error) {
	doc, err := openapi.Load(OpenAPI)
	if err != nil {
		return nil, err
	}
	rt := apigw.NewRouter(doc, e.cfg.Logger)
	rt.Authorize = e.authorize
	rt.Handle("GET", "/v1/connections", e.listConnections)
	rt.Handle("POST", "/v1/connections", e.createConnection)
	rt.Handle("GET", "/v1/connections/{connection_id}", e.getConnection)
	rt.Handle("DELETE", "/v1/connections/{connection_id}", e.deleteConnection)
	rt.Handle("POST", "/v1/connections/{connection_id}/verify", e.verifyConnection)
	rt.Handle("PUT", "/v1/connections/{connection_id}/credentials", e.replaceCredentials)
	rt.Handle("GET", "/v1/connections/{connection_id}/positions", e.listPositions)
	rt.Handle("GET", "/v1/personio/targets", e.listTargets)
	rt.Handle("GET", "/v1/funnels/{funnel_id}/integration", e.getIntegration)
	rt.Handle("PUT", "/v1/funnels/{funnel_id}/integration", e.putIntegration)
	rt.Handle("PATCH", "/v1/funnels/{funnel_id}/integration", e.toggleIntegration)
	rt.Handle("DELETE", "/v1/funnels/{funnel_id}/integration", e.deleteIntegration)
	rt.Handle("POST", "/v1/funnels/{funnel_id}/integration/test", e.testIntegration)
	rt.Handle("GET", "/v1/funnels/{funnel_id}/deliveries", e.listDeliveries)
	rt.Handle("GET", "/v1/funnels/{funnel_id}/deliveries/{delivery_id}", e.getDelivery)
	rt.Handle("POST", "/v1/funnels/{funnel_id}/deliveries/{delivery_id}/retry", e.retryDelivery)
	rt.Handle("POST", "/v1/erasures", e.erase)
	return rt, nil
}

// authorize lets through the plans that include the integration.
func (e *Editor) authorize(c apigw.Claims) *apigw.Problem {
	if slices.Contains(e.cfg.Plans, c.Plan) {
		return nil
	}
	plan := c.Plan
	if plan == "" {
		plan = "none"
	}
	return apigw.NewProblem(http.StatusForbidden, "plan-required", "Plan does not include Personio",
		"The Personio integration is available from the Advanced plan onwards; this workspace's plan is "+plan+".")
}

// fail turns an error into a problem response, logging what is not the
// caller's fault.
func (e *Editor) fail(ctx context.Context, op string, err error) apigw.Response {
	var p *apigw.Problem
	switch {
	case errors.As(err, &p):
		return p.Response()
	case errors.Is(err, failure.ErrNotFound):
		return apigw.NewProblem(http.StatusNotFound, "not-found", "Not found", "").Response()
	case errors.Is(err, failure.ErrConflict):
		return apigw.NewProblem(http.StatusConflict, "conflict", "Conflict", "the resource was changed by someone else; read it again").Response()
	case failure.IsRetryable(err):
		e.cfg.Logger.WarnContext(ctx, "editor: temporary failure", "op", op, "error", err.Error())
		p := apigw.NewProblem(http.StatusServiceUnavailable, "unavailable", "Temporarily unavailable", "try again in a few seconds")
		p.Header = map[string]string{"Retry-After": "5"}
		return p.Response()
	}
	e.cfg.Logger.ErrorContext(ctx, "editor: failure", "op", op, "error", err.Error())
	return apigw.NewProblem(http.StatusInternalServerError, "internal", "Internal error", "").Response()
}

func newID(prefix string) string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return prefix + "_" + hex.EncodeToString(b[:])
}

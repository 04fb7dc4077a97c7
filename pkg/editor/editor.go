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
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/apigw"
	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/openapi"
	"github.com/funnel-personio/funnel-personio/pkg/outbound"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/resume"
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
	UpdateConnection(context.Context, store.Connection, ...store.Pending) (store.Connection, error)
	DeleteConnection(ctx context.Context, ws, id string) error
	PutIntegration(context.Context, store.Integration, ...store.Pending) (store.Integration, error)
	// Sent marks an outbound event recorded pending as published.
	Sent(ctx context.Context, ws, id string) error
	GetIntegration(ctx context.Context, ws, funnel string) (store.Integration, error)
	ListIntegrations(ctx context.Context, ws string) ([]store.Integration, error)
	DeleteIntegration(ctx context.Context, ws, funnel string) error
	CreateDelivery(context.Context, store.Delivery) (store.Delivery, error)
	GetDelivery(ctx context.Context, ws, eventID string) (store.Delivery, error)
	ListDeliveries(ctx context.Context, ws, funnel string, status lifecycle.Status, limit int, cursor string) (store.Page, error)
	ListParked(ctx context.Context, ws, connectionID string, limit int, cursor string) (store.Page, error)
	ListParkedOnPosition(ctx context.Context, ws, funnel string, limit int, cursor string) (store.Page, error)
	ListParkedOnRoutedPosition(ctx context.Context, ws, funnel string, position int64, limit int, cursor string) (store.Page, error)
	Event(ctx context.Context, ws, eventID string) ([]byte, error)
	Requeue(ctx context.Context, k store.DeliveryKey, code lifecycle.Reason) (store.Delivery, error)
	EraseApplicant(ctx context.Context, ws, emailHash string, until time.Time) (store.Erasure, error)
	TakeBudget(ctx context.Context, company string, n int, b store.Budget) (bool, time.Time, error)
	GiveBackBudget(ctx context.Context, company string, n int, at time.Time) error
	TakeWorkspaceBudget(ctx context.Context, ws string, name store.WorkspaceBudget, n int, b store.Budget) (bool, time.Time, error)
}

// Vault keeps tokens and read-access client secrets.
type Vault interface {
	Create(ctx context.Context, ws, connection string, token personio.Token) (string, error)
	Get(ctx context.Context, ws, connection string) (personio.Token, error)
	Put(ctx context.Context, ws, connection string, token personio.Token) error
	Delete(ctx context.Context, ws, connection string) error
	ReadSecret(ctx context.Context, ws, connection string) (personio.Token, error)
	PutReadSecret(ctx context.Context, ws, connection string, secret personio.Token) error
}

// Personio checks credentials and read access, and lists positions (from
// the career site's feed) and jobs (from the v2 API).
type Personio interface {
	Verify(ctx context.Context, creds personio.Credentials) error
	Positions(ctx context.Context, companyID, subdomain, language string) ([]personio.Position, error)
	CheckReadAccess(ctx context.Context, rc personio.ReadCredentials) error
	Jobs(ctx context.Context, rc personio.ReadCredentials) ([]personio.Job, error)
}

// Notifier tells the funnel platform about a problem (outbound events).
type Notifier interface {
	Publish(ctx context.Context, e outbound.Event) error
}

// Queue takes events for the worker.
type Queue interface {
	Send(ctx context.Context, m queue.Message) error
}

// Config configures the editor. Plans, HashKey, Budget, Checks and Tests
// are required: the deployment's values come from package settings.
type Config struct {
	// Plans that include the integration.
	Plans []string
	// HashKey keys the e-mail hash that finds records for erasure; the
	// ingest and worker functions use the same key.
	HashKey []byte
	// Now is the clock (default time.Now).
	Now func() time.Time
	// IDs is where new ids' random bytes come from (default
	// crypto/rand; the simulator seeds its own).
	IDs io.Reader
	// Logger receives one line per failure; never a token, e-mail or name.
	Logger *slog.Logger
	// Notify, if set, is told when a connection needs attention or works
	// again, and when an unpublished position is replaced or re-saved.
	Notify Notifier
	// Budget is the per-company rate budget the worker shares; checking
	// credentials takes one unit of it, and gives it back when Personio
	// refused the credentials (it counts only authenticated requests).
	Budget store.Budget
	// ErasureMarkerTTL is how long an erasure refuses the applicant's
	// events (settings.Settings.ErasureMarkerTTL).
	ErasureMarkerTTL time.Duration
	// Checks bounds each workspace's credential checks, so that no
	// workspace can spend a company's budget that others share.
	Checks store.Budget
	// Tests bounds each workspace's test applications.
	Tests store.Budget
}

// Editor serves the editor API.
type Editor struct {
	cfg      Config
	store    Store
	vault    Vault
	personio Personio
	queue    Queue
	// teller tells of the problems the editor's changes make.
	teller outbound.Teller
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
	for name, b := range map[string]store.Budget{"Budget": cfg.Budget, "Checks": cfg.Checks, "Tests": cfg.Tests} {
		if b.Limit < 1 || b.Window <= 0 {
			missing = append(missing, name)
		}
	}
	if cfg.ErasureMarkerTTL <= 0 {
		missing = append(missing, "ErasureMarkerTTL")
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		return nil, errors.New("editor: config: set " + strings.Join(missing, ", "))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.IDs == nil {
		cfg.IDs = rand.Reader
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Editor{cfg: cfg, store: st, vault: v, personio: p, queue: q, teller: outbound.NewTeller("editor", cfg.Notify, st, cfg.Logger)}, nil
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
	rt.Handle("PATCH", "/v1/connections/{connection_id}", e.renameConnection)
	rt.Handle("DELETE", "/v1/connections/{connection_id}", e.deleteConnection)
	rt.Handle("POST", "/v1/connections/{connection_id}/verify", e.verifyConnection)
	rt.Handle("PUT", "/v1/connections/{connection_id}/credentials", e.replaceCredentials)
	rt.Handle("GET", "/v1/connections/{connection_id}/positions", e.listPositions)
	rt.Handle("PUT", "/v1/connections/{connection_id}/read-access", e.putReadAccess)
	rt.Handle("DELETE", "/v1/connections/{connection_id}/read-access", e.deleteReadAccess)
	rt.Handle("GET", "/v1/personio/targets", e.listTargets)
	rt.Handle("GET", "/v1/integrations", e.listIntegrations)
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
	return e.problem(ctx, op, err).Response()
}

// problem is the problem an error answers.
func (e *Editor) problem(ctx context.Context, op string, err error) *apigw.Problem {
	var p *apigw.Problem
	switch {
	case errors.As(err, &p):
		return p
	case errors.Is(err, resume.ErrExpired):
		return apigw.NewProblem(http.StatusConflict, "event-expired", "The application is no longer kept",
			"The original application data has expired or was erased, so it cannot be sent again.")
	case errors.Is(err, failure.ErrNotFound):
		return apigw.NewProblem(http.StatusNotFound, "not-found", "Not found", "")
	case errors.Is(err, failure.ErrConflict):
		return apigw.NewProblem(http.StatusConflict, "conflict", "Conflict", "the resource was changed by someone else; read it again")
	case failure.IsRetryable(err):
		e.cfg.Logger.WarnContext(ctx, "editor: temporary failure", "op", op, "error", err.Error())
		p := apigw.NewProblem(http.StatusServiceUnavailable, "unavailable", "Temporarily unavailable", "try again in a few seconds")
		p.Header = map[string]string{"Retry-After": "5"}
		return p
	}
	e.cfg.Logger.ErrorContext(ctx, "editor: failure", "op", op, "error", err.Error())
	return apigw.NewProblem(http.StatusInternalServerError, "internal", "Internal error", "")
}

// takeWorkspace takes a unit of one of the workspace's own budgets. Past
// the workspace's limit it returns a 429 problem with Retry-After; what
// names the requests in words ("credential checks").
func (e *Editor) takeWorkspace(ctx context.Context, ws string, name store.WorkspaceBudget, b store.Budget, what string) *apigw.Problem {
	ok, at, err := e.store.TakeWorkspaceBudget(ctx, ws, name, 1, b)
	if err != nil {
		return e.problem(ctx, "take workspace budget: "+string(name), err)
	}
	if ok {
		return nil
	}
	wait := retryAfter(e.cfg.Now(), at)
	p := apigw.NewProblem(http.StatusTooManyRequests, "too-many-requests", "Too many requests",
		fmt.Sprintf("A workspace may make %d %s in any %s; try again in %s. Nothing was done.", b.Limit, what, duration(b.Window), duration(wait)))
	p.Header = map[string]string{"Retry-After": strconv.Itoa(int(wait / time.Second))}
	return p
}

// retryAfter is the wait until at in whole seconds, rounded up, at least
// one.
func retryAfter(now, at time.Time) time.Duration {
	d := at.Sub(now)
	return max(time.Second, (d+time.Second-1)/time.Second*time.Second)
}

// duration says a duration in words: "1 minute", "10 minutes", "42 seconds".
func duration(d time.Duration) string {
	unit, n := "second", int64((d+time.Second-1)/time.Second)
	if d >= time.Minute && d%time.Minute == 0 {
		unit, n = "minute", int64(d/time.Minute)
	}
	if n == 1 {
		return "1 " + unit
	}
	return strconv.FormatInt(n, 10) + " " + unit + "s"
}

// newID names a new connection or test event: random, from Config.IDs.
func (e *Editor) newID(prefix string) string {
	var b [10]byte
	_, _ = io.ReadFull(e.cfg.IDs, b[:])
	return prefix + "_" + hex.EncodeToString(b[:])
}

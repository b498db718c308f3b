// Package api serves Rapport's REST API under /api/v1: JSON in and out,
// an OpenAPI 3.1 document generated from the handlers themselves, RFC 9457
// problem+json errors, and a permission check on every operation.
// Handlers are thin: decode, call the store or a feature package, encode.
package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/importer"
	"github.com/rapportcrm/rapport/internal/insight"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/targeting"
)

// Version is the API and product version shown in the OpenAPI document.
const Version = "0.1.0"

// Server holds what the handlers need.
type Server struct {
	Store   *store.Store
	Auth    *auth.Service
	Log     *slog.Logger
	Region  string // default phone region for normalization
	Metrics *Metrics
	Insight *insight.Service // analytics; registerAnalytics makes one when nil
	// Targeting runs segments, lists and experiments; registerSegments
	// makes one without real-time membership when nil.
	Targeting *targeting.Service
	Imports   *importer.Jobs // background file imports; registerImports makes one when nil
}

// Metrics are the Prometheus collectors the API updates.
type Metrics struct {
	Requests *prometheus.CounterVec
	Duration *prometheus.HistogramVec
}

// NewMetrics registers the API's collectors with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rapport_api_requests_total", Help: "API requests by operation and status."}, []string{"operation", "status"}),
		Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "rapport_api_request_seconds", Help: "API request latency by operation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"operation"}),
	}
	reg.MustRegister(m.Requests, m.Duration)
	return m
}

// permKey is the operation metadata key holding the required permission.
const permKey = "permission"

// Register mounts the API on mux and returns the huma API (for tests that
// inspect the generated document).
func (s *Server) Register(mux *http.ServeMux) huma.API {
	cfg := huma.DefaultConfig("Rapport API", Version)
	cfg.Info.Description = "Rapport: customer-centric CRM and customer data platform. Authenticate with `Authorization: Bearer <API key>` or a session cookie."
	cfg.OpenAPIPath = "/api/v1/openapi"
	cfg.DocsPath = "" // the default docs page loads scripts from a CDN; we serve offline
	cfg.SchemasPath = "/api/v1/schemas"
	cfg.CreateHooks = nil // no $schema links injected into bodies
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer"},
		"cookie": {Type: "apiKey", In: "cookie", Name: SessionCookie},
	}
	api := humago.New(mux, cfg)
	api.UseMiddleware(s.authorize(api))
	api.UseMiddleware(refuseUnstorableText(api))
	s.registerCustomers(api)
	s.registerNotes(api)
	s.registerAdmin(api)
	s.registerTouchpoints(api)
	s.registerImports(api)
	s.registerAnalytics(api)
	s.registerSegments(api)
	s.registerWebhooks(api)
	return api
}

// SessionCookie is the name of the browser session cookie.
const SessionCookie = "rapport_session"

// op declares an operation with the permission it needs.
func op(id, method, path, summary string, perm auth.Permission, tags ...string) huma.Operation {
	return huma.Operation{
		OperationID: id, Method: method, Path: path, Summary: summary, Tags: tags,
		Metadata: map[string]any{permKey: perm},
		Security: []map[string][]string{{"bearer": {}}, {"cookie": {}}},
	}
}

// authorize authenticates the caller and checks the operation's permission
// before the handler runs; it also records metrics.
func (s *Server) authorize(api huma.API) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		start := time.Now()
		o := ctx.Operation()
		defer func() {
			if s.Metrics != nil {
				s.Metrics.Requests.WithLabelValues(o.OperationID, fmt.Sprint(ctx.Status())).Inc()
				s.Metrics.Duration.WithLabelValues(o.OperationID).Observe(time.Since(start).Seconds())
			}
		}()
		perm, _ := o.Metadata[permKey].(auth.Permission)
		if perm == "" {
			// Every operation must declare a permission; refuse rather than
			// serve an unguarded endpoint.
			huma.WriteErr(api, ctx, http.StatusForbidden, "operation has no permission declared")
			return
		}
		p, err := s.authenticate(ctx.Context(), ctx.Header("Authorization"), cookieValue(ctx.Header("Cookie"), SessionCookie))
		if err != nil {
			ctx.SetHeader("WWW-Authenticate", `Bearer realm="rapport"`)
			huma.WriteErr(api, ctx, http.StatusUnauthorized, err.Error())
			return
		}
		if !p.Role.Can(perm) {
			huma.WriteErr(api, ctx, http.StatusForbidden, fmt.Sprintf("role %s may not %s", p.Role, perm))
			return
		}
		next(huma.WithContext(ctx, auth.WithPrincipal(ctx.Context(), p)))
	}
}

func (s *Server) authenticate(ctx context.Context, authorization, session string) (auth.Principal, error) {
	if key, ok := strings.CutPrefix(authorization, "Bearer "); ok {
		return s.Auth.APIKey(ctx, strings.TrimSpace(key))
	}
	if authorization != "" {
		return auth.Principal{}, errs.E(errs.Unauthorized, "use Authorization: Bearer <API key>")
	}
	if session != "" {
		return s.Auth.Session(ctx, session)
	}
	return auth.Principal{}, errs.E(errs.Unauthorized, "authentication required: send Authorization: Bearer <API key>")
}

func cookieValue(header, name string) string {
	cs, err := http.ParseCookie(header)
	if err != nil {
		return ""
	}
	for _, c := range cs {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// principal returns the caller; the middleware guarantees one.
func principal(ctx context.Context) auth.Principal {
	p, _ := auth.FromContext(ctx)
	return p
}

var statusOf = map[errs.Kind]int{
	errs.Invalid:            http.StatusUnprocessableEntity,
	errs.NotFound:           http.StatusNotFound,
	errs.Conflict:           http.StatusConflict,
	errs.PreconditionFailed: http.StatusPreconditionFailed,
	errs.PreconditionNeeded: http.StatusPreconditionRequired,
	errs.Unauthorized:       http.StatusUnauthorized,
	errs.Forbidden:          http.StatusForbidden,
	errs.TooLarge:           http.StatusRequestEntityTooLarge,
}

// problem turns an error into an RFC 9457 response. Application errors keep
// their message and field list; anything else is logged and answered with a
// bare "internal error".
func (s *Server) problem(ctx context.Context, err error) error {
	var e *errs.Error
	if errors.As(err, &e) {
		if status, ok := statusOf[e.Kind]; ok {
			details := make([]error, 0, len(e.Fields))
			for _, f := range e.Fields {
				details = append(details, &huma.ErrorDetail{Message: f.Message, Location: f.Field, Value: f.Value})
			}
			return huma.NewError(status, e.Message, details...)
		}
	}
	if errors.Is(err, context.Canceled) {
		return huma.NewError(499, "request cancelled")
	}
	if store.IsUnstorableText(err) {
		return huma.NewError(http.StatusUnprocessableEntity, "the request holds text that cannot be stored: a NUL character or bytes that are not UTF-8")
	}
	s.Log.ErrorContext(ctx, "internal error", "err", err)
	return huma.Error500InternalServerError("internal error")
}

// rules returns the validation rules in force now.
func (s *Server) rules(ctx context.Context) (customer.Rules, error) {
	fields, err := s.Store.FieldMap(ctx)
	if err != nil {
		return customer.Rules{}, err
	}
	return customer.Rules{Region: s.Region, Fields: fields}, nil
}

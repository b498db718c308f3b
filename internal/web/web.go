// Package web serves Rapport's browser UI: server-rendered pages
// (html/template), htmx for in-place updates and ECharts for charts, all
// embedded in the binary, in English and Chinese. Handlers are thin: they
// read the request, call the store or a feature package, and render. Business
// rules live in those packages, never here or in templates. It does not
// import internal/api; both sit side by side on one mux.
package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/importer"
	"github.com/rapportcrm/rapport/internal/insight"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/targeting"
	"github.com/rapportcrm/rapport/internal/textcheck"
)

// SessionCookie is the browser session cookie; the API accepts the same
// cookie (a test keeps the two names equal).
const SessionCookie = "rapport_session"

// langCookie remembers the language of a browser that is not logged in.
const langCookie = "rapport_lang"

// flashCookie carries a one-line message to the next page after a redirect.
const flashCookie = "rapport_flash"

// RepsOwnOnlySetting is the workspace setting that limits reps to their own
// customers (the API's setting of the same name; a test keeps them equal).
const RepsOwnOnlySetting = "reps_own_customers_only"

//go:embed templates static
var assets embed.FS

// Server holds what the UI handlers need.
type Server struct {
	Store  *store.Store
	Auth   *auth.Service
	Log    *slog.Logger
	Region string // default phone region for normalization
	// SecureCookies marks cookies Secure even on plain HTTP, for a server
	// behind a TLS-terminating proxy; they are always Secure over TLS.
	SecureCookies bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Insight serves the dashboards; without it they say analytics is off.
	Insight *insight.Service
	// Targeting serves segments, target lists, tasks, the success board and
	// initiatives; without it those pages say targeting is off.
	Targeting *targeting.Service
	// Imports runs the import wizard's jobs; nil means Register makes one
	// that lives as long as the process.
	Imports *importer.Jobs
	// MaxUpload caps an import upload in bytes; 0 means 100 MB.
	MaxUpload int64
	uploads   uploads

	locales map[string]*Locale
	pages   map[string]*template.Template
	static  map[string]*asset
	version string // content hash of the static files, for cache busting
	limiter *limiter
	csrf    *http.CrossOriginProtection
	routes  []string // the patterns Register mounted, for the bad-input sweep

	tagMu   sync.Mutex
	tagAt   time.Time
	tagList []store.TagCount
}

// New prepares a UI server: catalogs, templates and assets are loaded once.
func New(st *store.Store, a *auth.Service, log *slog.Logger, region string) (*Server, error) {
	s := &Server{Store: st, Auth: a, Log: log, Region: region, limiter: newLimiter(5, 15*time.Minute)}
	var err error
	if s.locales, err = loadCatalogs(); err != nil {
		return nil, err
	}
	if err := s.loadStatic(); err != nil {
		return nil, err
	}
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	s.csrf = http.NewCrossOriginProtection()
	s.csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "cross-origin request refused / 拒绝跨站请求", http.StatusForbidden)
	}))
	return s, nil
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Register mounts the UI on mux. Every route goes through cross-origin
// protection, so state-changing requests from other sites are refused.
func (s *Server) Register(mux *http.ServeMux) {
	h := func(pattern string, fn http.HandlerFunc) {
		s.routes = append(s.routes, pattern)
		mux.Handle(pattern, s.secure(fn))
	}
	h("GET /static/", s.serveStatic)
	h("GET /{$}", s.home)
	h("GET /login", s.loginForm)
	h("POST /login", s.login)
	h("POST /logout", s.logout)

	h("GET /customers", s.page(auth.ReadCustomers, "customers", s.customers))
	h("GET /customers/export", s.page(auth.ReadCustomers, "customers", s.exportCustomers))
	h("POST /customers/bulk", s.page(auth.WriteCustomers, "customers", s.bulk))
	h("POST /customers/views", s.page(auth.ReadCustomers, "customers", s.saveView))
	h("POST /customers/views/{id}/delete", s.page(auth.ReadCustomers, "customers", s.deleteView))
	h("GET /customers/new", s.page(auth.WriteCustomers, "customers", s.newCustomerForm))
	h("POST /customers/new", s.page(auth.WriteCustomers, "customers", s.createCustomer))
	h("GET /customers/{id}", s.page(auth.ReadCustomers, "customers", s.customer360))
	h("GET /customers/{id}/timeline", s.page(auth.ReadCustomers, "customers", s.timelineFragment))
	h("POST /customers/{id}/notes", s.page(auth.WriteCustomers, "customers", s.addNote))
	h("POST /customers/{id}/interactions", s.page(auth.WriteCustomers, "customers", s.addInteraction))
	h("GET /customers/{id}/edit", s.page(auth.WriteCustomers, "customers", s.editForm))
	h("POST /customers/{id}/edit", s.page(auth.WriteCustomers, "customers", s.saveEdit))

	h("GET /dashboards", s.page(auth.ReadAnalytics, "dashboards", s.dashboards))

	h("GET /settings", s.page(auth.ReadFields, "settings", s.settingsHome))
	h("GET /settings/users", s.page(auth.ManageUsers, "settings", s.users))
	h("POST /settings/users", s.page(auth.ManageUsers, "settings", s.createUser))
	h("POST /settings/users/{id}", s.page(auth.ManageUsers, "settings", s.updateUser))
	h("GET /settings/keys", s.page(auth.ManageSettings, "settings", s.keys))
	h("POST /settings/keys", s.page(auth.ManageSettings, "settings", s.createKey))
	h("POST /settings/keys/{id}/revoke", s.page(auth.ManageSettings, "settings", s.revokeKey))
	h("GET /settings/profile", s.page(auth.ManageSettings, "settings", s.profileForm))
	h("POST /settings/profile", s.page(auth.ManageSettings, "settings", s.saveProfile))
	h("GET /settings/fields", s.page(auth.ReadFields, "settings", s.fields))
	h("POST /settings/fields", s.page(auth.WriteFields, "settings", s.createField))

	s.registerImports(h)
	s.registerDuplicates(h)
	s.registerSources(h)
	s.registerSegmentPages(h)
	s.registerTargetingPages(h)
	s.registerPivot(h)
}

// secure adds the security headers every UI response carries and the
// cross-origin check (CSRF protection) on state-changing methods.
func (s *Server) secure(h http.Handler) http.Handler {
	return s.csrf.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Frame-Options", "DENY")
		h.ServeHTTP(w, r)
	}))
}

// view is what every page template sees besides its own data.
type view struct {
	L      *Locale
	P      auth.Principal
	Nav    string
	Req    *http.Request
	Now    time.Time
	Flash  string
	Assets string // static files version
	s      *Server
}

// T translates a message id.
func (v *view) T(id string, args ...any) string { return v.L.T(id, args...) }

// Can reports whether the user may do what a permission names.
func (v *view) Can(p string) bool { return v.P.Role.Can(auth.Permission(p)) }

// LangURL is the current page in another language.
func (v *view) LangURL(code string) string {
	u := *v.Req.URL
	q := u.Query()
	q.Set("lang", code)
	u.RawQuery = q.Encode()
	return u.RequestURI()
}

// Static is the URL of an embedded static file, versioned for caching.
func (v *view) Static(name string) string { return "/static/" + name + "?v=" + v.Assets }

// pageData is the value a page template executes with.
type pageData struct {
	*view
	D any
}

// With is the same page with other data, for a fragment rendered inside
// a page and on its own.
func (p pageData) With(d any) pageData { return pageData{view: p.view, D: d} }

// page authenticates a UI request, checks the permission, resolves the
// language and hands a view to the handler.
func (s *Server) page(perm auth.Permission, nav string, h func(http.ResponseWriter, *http.Request, *view)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := s.principal(r)
		if err != nil {
			s.toLogin(w, r)
			return
		}
		v := s.newView(w, r, p)
		v.Nav = nav
		if !p.Role.Can(perm) {
			s.fail(w, r, v, errs.E(errs.Forbidden, "forbidden"))
			return
		}
		if err := unstorableInput(r); err != nil {
			s.fail(w, r, v, errs.E(errs.Invalid, "%s", err.Error()))
			return
		}
		h(w, r, v)
	}
}

// unstorableInput finds text PostgreSQL cannot store (and SQLite would) in
// a request's URL or its url-encoded form, so that both engines refuse it
// alike. Multipart forms carry files, which the importer checks row by row.
func unstorableInput(r *http.Request) error {
	if err := textcheck.URL(r.URL); err != nil {
		return err
	}
	if r.Method != http.MethodPost {
		return nil
	}
	if err := r.ParseForm(); err != nil {
		return nil // the handler reports a form it cannot read
	}
	return textcheck.Values(r.PostForm)
}

func (s *Server) principal(r *http.Request) (auth.Principal, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return auth.Principal{}, errs.E(errs.Unauthorized, "not logged in")
	}
	return s.Auth.Session(r.Context(), c.Value)
}

// toLogin sends an anonymous visitor to the login page, remembering where
// they were going.
func (s *Server) toLogin(w http.ResponseWriter, r *http.Request) {
	target := "/login"
	if r.Method == http.MethodGet && r.Header.Get("HX-Request") == "" {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	if r.Header.Get("HX-Request") != "" {
		w.Header().Set("HX-Redirect", target)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// newView resolves the language: an explicit ?lang= (remembered for the
// user, or in a cookie before login), then the user's saved choice, then the
// cookie, then Accept-Language.
func (s *Server) newView(w http.ResponseWriter, r *http.Request, p auth.Principal) *view {
	code := ""
	if l, ok := parseLocale(r.URL.Query().Get("lang")); ok {
		code = l
		if p.UserID != "" && p.Locale != l {
			if err := s.Store.SetUserLocale(r.Context(), p.UserID, l); err != nil {
				s.Log.ErrorContext(r.Context(), "save user locale", "err", err)
			}
			p.Locale = l
		}
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secureCookie(r)})
	}
	if code == "" {
		code, _ = parseLocale(p.Locale)
	}
	if code == "" {
		if c, err := r.Cookie(langCookie); err == nil {
			code, _ = parseLocale(c.Value)
		}
	}
	if code == "" {
		code = fromAcceptLanguage(r)
	}
	v := &view{L: s.locales[code], P: p, Req: r, Now: s.now(), Assets: s.version, s: s}
	if c, err := r.Cookie(flashCookie); err == nil && c.Value != "" {
		if msg, err := url.QueryUnescape(c.Value); err == nil {
			v.Flash = msg
		}
		http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
	return v
}

func (s *Server) secureCookie(r *http.Request) bool { return s.SecureCookies || r.TLS != nil }

// flash shows msg on the next page the browser loads.
func (s *Server) flash(w http.ResponseWriter, r *http.Request, msg string) {
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: url.QueryEscape(msg), Path: "/", MaxAge: 60,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secureCookie(r)})
}

// render executes a page (or, with block, one named fragment of it).
func (s *Server) render(w http.ResponseWriter, r *http.Request, v *view, status int, name, block string, data any) {
	t, ok := s.pages[name]
	if !ok {
		s.Log.ErrorContext(r.Context(), "unknown page template", "page", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if block == "" {
		block = "layout"
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, block, pageData{view: v, D: data}); err != nil {
		s.Log.ErrorContext(r.Context(), "render page", "page", name, "block", block, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Vary", "HX-Request, Cookie, Accept-Language")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fail answers an error with a page in the user's language. Application
// errors show their kind; anything else is logged and shown as "something
// went wrong" without details.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, v *view, err error) {
	status, msg := http.StatusInternalServerError, "error.internal"
	switch errs.KindOf(err) {
	case errs.NotFound:
		status, msg = http.StatusNotFound, "error.not_found"
	case errs.Forbidden:
		status, msg = http.StatusForbidden, "error.forbidden"
	case errs.Invalid:
		status, msg = http.StatusUnprocessableEntity, "error.invalid"
	case errs.Conflict:
		status, msg = http.StatusConflict, "error.conflict"
	case errs.PreconditionFailed:
		status, msg = http.StatusPreconditionFailed, "error.stale"
	case errs.Unauthorized:
		s.toLogin(w, r)
		return
	default:
		if errors.Is(err, context.Canceled) {
			return
		}
		if store.IsUnstorableText(err) {
			status, msg = http.StatusUnprocessableEntity, "error.invalid"
			break
		}
		s.Log.ErrorContext(r.Context(), "internal error", "path", r.URL.Path, "err", err)
	}
	detail := ""
	if status != http.StatusInternalServerError {
		var e *errs.Error
		if errors.As(err, &e) && e.Kind != errs.Forbidden {
			detail = e.Message
		}
	}
	data := struct {
		Status          int
		Message, Detail string
	}{status, msg, detail}
	if r.Header.Get("HX-Request") != "" {
		s.render(w, r, v, status, "error", "error-box", data)
		return
	}
	s.render(w, r, v, status, "error", "", data)
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	if _, err := s.principal(r); err != nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/customers", http.StatusSeeOther)
}

// asset is one embedded static file, with a gzipped copy when that is smaller.
type asset struct {
	data, gz []byte
	ctype    string
	etag     string
}

func (s *Server) loadStatic() error {
	s.static = map[string]*asset{}
	sum := sha256.New()
	err := fs.WalkDir(assets, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := assets.ReadFile(p)
		if err != nil {
			return err
		}
		h := sha256.Sum256(b)
		sum.Write(h[:])
		a := &asset{data: b, ctype: mime.TypeByExtension(path.Ext(p)), etag: `"` + hex.EncodeToString(h[:8]) + `"`}
		if a.ctype == "" {
			a.ctype = "application/octet-stream"
		}
		if strings.HasSuffix(p, ".js") || strings.HasSuffix(p, ".css") || strings.HasSuffix(p, ".svg") {
			var gz bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
			zw.Write(b)
			zw.Close()
			if gz.Len() < len(b) {
				a.gz = gz.Bytes()
			}
		}
		s.static[strings.TrimPrefix(p, "static/")] = a
		return nil
	})
	if err != nil {
		return fmt.Errorf("web: load static files: %w", err)
	}
	s.version = hex.EncodeToString(sum.Sum(nil)[:6])
	return nil
}

// serveStatic serves embedded files; a versioned URL is cached for a year.
func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request) {
	a, ok := s.static[strings.TrimPrefix(r.URL.Path, "/static/")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("ETag", a.etag)
	h.Set("Vary", "Accept-Encoding")
	if r.URL.Query().Get("v") == s.version {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=300")
	}
	if r.Header.Get("If-None-Match") == a.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.data
	if a.gz != nil && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = a.gz
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.Write(body)
}

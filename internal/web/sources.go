package web

import (
	"net/http"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/ingest"
	"github.com/rapportcrm/rapport/internal/store"
)

// Tracking sources in settings: each site or app that sends events has its
// own write key, shown once with a ready-to-paste /t.js snippet.

func (s *Server) registerSources(h func(string, http.HandlerFunc)) {
	h("GET /settings/sources", s.page(auth.ManageSettings, "settings", s.sources))
	h("POST /settings/sources", s.page(auth.ManageSettings, "settings", s.createSource))
	h("POST /settings/sources/{id}/revoke", s.page(auth.ManageSettings, "settings", s.revokeSource))
	h("POST /settings/sources/retry", s.page(auth.ManageSettings, "settings", s.retryIngest))
}

type sourcesData struct {
	Sources   []store.Source
	Created   string // name of the source just created
	WriteKey  string // shown once, right after creating it
	Origin    string
	Name      string
	Error     string
	Queue     store.QueueStatus // accepted events not yet applied, and failures
	OldestAgo string
}

func (s *Server) sources(w http.ResponseWriter, r *http.Request, v *view) {
	s.renderSources(w, r, v, http.StatusOK, sourcesData{})
}

func (s *Server) renderSources(w http.ResponseWriter, r *http.Request, v *view, status int, d sourcesData) {
	var err error
	if d.Sources, err = s.Store.Sources(r.Context()); err != nil {
		s.fail(w, r, v, err)
		return
	}
	if d.Queue, err = s.Store.IngestQueueStatus(r.Context()); err != nil {
		s.fail(w, r, v, err)
		return
	}
	if d.Queue.Oldest != nil {
		d.OldestAgo = v.L.Ago(*d.Queue.Oldest, s.now())
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	d.Origin = scheme + "://" + r.Host
	s.render(w, r, v, status, "sources", "", d)
}

func (s *Server) createSource(w http.ResponseWriter, r *http.Request, v *view) {
	name := r.PostFormValue("name")
	src, key, err := ingest.CreateSource(r.Context(), s.Store, v.P.Actor(), name)
	switch errs.KindOf(err) {
	case errs.Invalid:
		s.renderSources(w, r, v, http.StatusUnprocessableEntity, sourcesData{Name: name, Error: v.T("sources.need_name")})
		return
	case errs.Conflict:
		s.renderSources(w, r, v, http.StatusConflict, sourcesData{Name: name, Error: v.T("sources.taken", name)})
		return
	}
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.renderSources(w, r, v, http.StatusOK, sourcesData{Created: src.Name, WriteKey: key})
}

func (s *Server) revokeSource(w http.ResponseWriter, r *http.Request, v *view) {
	if _, err := s.Store.RevokeSource(r.Context(), v.P.Actor(), r.PathValue("id"), s.now()); err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.flash(w, r, v.T("sources.revoked"))
	http.Redirect(w, r, "/settings/sources", http.StatusSeeOther)
}

func (s *Server) retryIngest(w http.ResponseWriter, r *http.Request, v *view) {
	n, err := s.Store.RetryFailedQueued(r.Context())
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.flash(w, r, v.T("sources.retried", n))
	http.Redirect(w, r, "/settings/sources", http.StatusSeeOther)
}

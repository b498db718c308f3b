package web

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"strings"

	"github.com/rapportcrm/rapport/internal/analytics/value"
)

// funcs are the template helpers that need no request; per-request ones
// (translation, formatting) are methods of the view.
var funcs = template.FuncMap{
	"add": func(a, b int) int { return a + b },
	"join": func(xs []string, sep string) string {
		return strings.Join(xs, sep)
	},
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
	"has": func(xs []string, x string) bool {
		for _, y := range xs {
			if y == x {
				return true
			}
		}
		return false
	},
	"listURL": listURL,
	"list":    func(xs ...string) []string { return xs },
	"initial": func(name string) string {
		for _, r := range name {
			return strings.ToUpper(string(r))
		}
		return "?"
	},
}

// parseTemplates parses each page with the shared layout and partials once,
// at start.
func (s *Server) parseTemplates() error {
	pages, err := fs.Glob(assets, "templates/pages/*.html")
	if err != nil {
		return fmt.Errorf("web: list templates: %w", err)
	}
	s.pages = map[string]*template.Template{}
	for _, p := range pages {
		name := strings.TrimSuffix(strings.TrimPrefix(p, "templates/pages/"), ".html")
		t, err := template.New(name).Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/partials/*.html", p)
		if err != nil {
			return fmt.Errorf("web: parse template %s: %w", name, err)
		}
		s.pages[name] = t
	}
	return nil
}

// listURL is the customer list with a stored or computed query; the query
// is re-encoded from what the list understands, so it is safe as a URL.
func listURL(path, query string) template.URL {
	q, _ := url.ParseQuery(query)
	enc := parseListQuery(q).Values(true)
	if f := q.Get("format"); f == "xlsx" {
		enc.Set("format", f)
	}
	if len(enc) == 0 {
		return template.URL(path)
	}
	return template.URL(path + "?" + enc.Encode())
}

var (
	tierLabels    = value.TierLabels()
	segmentLabels = value.SegmentLabels()
)

// Tier names a value tier in the user's language.
func (v *view) Tier(id string) string {
	if l, ok := tierLabels[id]; ok {
		return v.L.Label(l.EN, l.ZH)
	}
	return id
}

// IDType names an identity type in the user's language, or shows it as is.
func (v *view) IDType(t string) string {
	if s := v.L.T("id." + t); s != "id."+t {
		return s
	}
	return t
}

// Segment names an RFM segment in the user's language.
func (v *view) Segment(id string) string {
	if l, ok := segmentLabels[id]; ok {
		return v.L.Label(l.EN, l.ZH)
	}
	return id
}

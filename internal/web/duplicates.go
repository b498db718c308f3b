package web

import (
	"net/http"
	"strings"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/identity"
	"github.com/rapportcrm/rapport/internal/identity/dedupe"
	"github.com/rapportcrm/rapport/internal/store"
)

// The duplicate review: likely duplicates side by side with what matched,
// merged (choosing who stays) or dismissed, and recent merges with undo.
// Reviewing is for those who may merge (customers:delete, as the API's
// POST /api/v1/merges), so every customer shown is one they may merge.

const (
	duplicateMinScore = 0.5
	duplicatesShown   = 50
	mergesShown       = 20
)

func (s *Server) registerDuplicates(h func(string, http.HandlerFunc)) {
	h("GET /duplicates", s.page(auth.DeleteCustomers, "duplicates", s.duplicates))
	h("POST /duplicates/merge", s.page(auth.DeleteCustomers, "duplicates", s.mergeDuplicate))
	h("POST /duplicates/dismiss", s.page(auth.DeleteCustomers, "duplicates", s.dismissDuplicate))
	h("POST /duplicates/merges/{id}/undo", s.page(auth.DeleteCustomers, "duplicates", s.undoMerge))
}

// evidenceView is one field of a pair that counted for or against it.
type evidenceView struct {
	Field, Outcome, Note string
	For                  bool // the field supports the pair
}

type pairView struct {
	identity.Candidate
	Percent  int
	Evidence []evidenceView
}

// mergeView is a recorded merge with the names of both sides.
type mergeView struct {
	store.Merge
	WinnerName, LoserName string
}

type duplicatesData struct {
	Pairs  []pairView
	More   int // pairs found beyond those shown
	Merges []mergeView
}

func (s *Server) duplicates(w http.ResponseWriter, r *http.Request, v *view) {
	ctx := r.Context()
	cs, err := s.Store.LiveCustomers(ctx)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	pairs, err := identity.Duplicates(ctx, cs, duplicateMinScore)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	dismissed, err := s.Store.DismissedDuplicates(ctx)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	var d duplicatesData
	for _, p := range pairs {
		if dismissed[store.PairOf(p.A.ID, p.B.ID)] {
			continue
		}
		if len(d.Pairs) == duplicatesShown {
			d.More++
			continue
		}
		pv := pairView{Candidate: p, Percent: int(p.Score*100 + 0.5)}
		for _, ev := range p.Evidence {
			if ev.Outcome == dedupe.Missing {
				continue
			}
			pv.Evidence = append(pv.Evidence, evidenceView{Field: ev.Field.String(), Outcome: ev.Outcome.String(), Note: ev.Note, For: ev.Weight > 0})
		}
		d.Pairs = append(d.Pairs, pv)
	}
	merges, err := s.Store.Merges(ctx, "", mergesShown)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	names := make(map[string]string, len(cs))
	for _, c := range cs {
		names[c.ID] = c.Name
	}
	for _, m := range merges {
		mv := mergeView{Merge: m, WinnerName: names[m.WinnerID], LoserName: names[m.LoserID]}
		for _, side := range []struct {
			id   string
			name *string
		}{{m.WinnerID, &mv.WinnerName}, {m.LoserID, &mv.LoserName}} {
			if *side.name == "" { // merged away (or since deleted): read it
				if c, err := s.Store.Customer(ctx, side.id); err == nil {
					*side.name = c.Name
				}
			}
		}
		d.Merges = append(d.Merges, mv)
	}
	s.render(w, r, v, http.StatusOK, "duplicates", "", d)
}

// mergeDuplicate merges a pair; keep names the customer that stays.
func (s *Server) mergeDuplicate(w http.ResponseWriter, r *http.Request, v *view) {
	a, b, keep := r.PostFormValue("a"), r.PostFormValue("b"), r.PostFormValue("keep")
	winner, loser := a, b
	switch keep {
	case a:
	case b:
		winner, loser = b, a
	default:
		s.fail(w, r, v, errs.E(errs.Invalid, "%s", v.T("dup.need_keep")))
		return
	}
	if _, err := s.Store.MergeCustomers(r.Context(), v.P.Actor(), winner, loser); err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.flash(w, r, v.T("dup.merged"))
	http.Redirect(w, r, "/duplicates", http.StatusSeeOther)
}

func (s *Server) dismissDuplicate(w http.ResponseWriter, r *http.Request, v *view) {
	if err := s.Store.DismissDuplicate(r.Context(), v.P.Actor(), r.PostFormValue("a"), r.PostFormValue("b")); err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.flash(w, r, v.T("dup.dismissed"))
	http.Redirect(w, r, "/duplicates", http.StatusSeeOther)
}

func (s *Server) undoMerge(w http.ResponseWriter, r *http.Request, v *view) {
	if _, err := s.Store.UndoMerge(r.Context(), v.P.Actor(), r.PathValue("id")); err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.flash(w, r, v.T("dup.undone"))
	http.Redirect(w, r, "/duplicates", http.StatusSeeOther)
}

// MergeRule names why a merge happened in the user's language.
func (v *view) MergeRule(rule string) string {
	if kind, ok := strings.CutPrefix(rule, "auto:"); ok {
		return v.T("dup.rule_auto", v.IDType(kind))
	}
	if s := v.T("dup.rule." + rule); s != "dup.rule."+rule {
		return s
	}
	return rule
}

package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/insight"
)

// profileData is the business-profile form: the purchase cycle the models
// derive their periods from, and the costs profitability subtracts.
type profileData struct {
	Available bool
	Stored    insight.Profile // as saved (zero fields are derived)
	Effective insight.Profile // with derived fields filled in
	Kinds     []string
	Cost      map[string]string
	Cycle     string
	Marketing string
	Errors    map[string]string
}

func (s *Server) profileForm(w http.ResponseWriter, r *http.Request, v *view) {
	d := profileData{Errors: map[string]string{}}
	if err := s.loadProfile(r, &d); err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.render(w, r, v, http.StatusOK, "profile", "", d)
}

func (s *Server) loadProfile(r *http.Request, d *profileData) error {
	d.Kinds = customer.InteractionKinds
	d.Available = s.Insight != nil
	if _, err := s.Store.Setting(r.Context(), insight.ProfileSetting, &d.Stored); err != nil {
		return err
	}
	d.Effective = d.Stored.Effective()
	d.Cycle = strconv.FormatFloat(d.Effective.PurchaseCycleDays, 'f', -1, 64)
	d.Marketing = strconv.FormatFloat(d.Stored.MarketingCostPerCustomer, 'f', -1, 64)
	d.Cost = map[string]string{}
	for _, k := range d.Kinds {
		if c, ok := d.Stored.CostToServe[k]; ok {
			d.Cost[k] = strconv.FormatFloat(c, 'f', -1, 64)
		}
	}
	return nil
}

// saveProfile changes only the fields on the form, keeping the rest of the
// stored profile (and its derived fields derived), and asks for a refit.
func (s *Server) saveProfile(w http.ResponseWriter, r *http.Request, v *view) {
	d := profileData{Errors: map[string]string{}}
	if err := s.loadProfile(r, &d); err != nil {
		s.fail(w, r, v, err)
		return
	}
	if s.Insight == nil {
		s.fail(w, r, v, errs.E(errs.Conflict, "analytics is not running"))
		return
	}
	p := d.Stored
	num := func(field, raw string) float64 {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			return 0
		}
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil || customer.CheckAmount(f) != nil {
			d.Errors[field] = v.T("profile.not_a_number")
		}
		return f
	}
	d.Cycle, d.Marketing = r.PostFormValue("purchase_cycle_days"), r.PostFormValue("marketing_cost_per_customer")
	p.PurchaseCycleDays = num("purchase_cycle_days", d.Cycle)
	p.MarketingCostPerCustomer = num("marketing_cost_per_customer", d.Marketing)
	p.CostToServe = map[string]float64{}
	for _, k := range d.Kinds {
		d.Cost[k] = r.PostFormValue("cost." + k)
		if strings.TrimSpace(d.Cost[k]) != "" {
			p.CostToServe[k] = num("cost."+k, d.Cost[k])
		}
	}
	if len(d.Errors) == 0 {
		_, err := s.Insight.SetProfile(r.Context(), p)
		if errs.Is(err, errs.Invalid) {
			for f, msg := range fieldErrors(err) {
				d.Errors[strings.Replace(f, "cost_to_serve.", "cost.", 1)] = msg
			}
		} else if err != nil {
			s.fail(w, r, v, err)
			return
		}
	}
	if len(d.Errors) > 0 {
		s.render(w, r, v, http.StatusUnprocessableEntity, "profile", "", d)
		return
	}
	s.flash(w, r, v.T("profile.saved"))
	http.Redirect(w, r, "/settings/profile", http.StatusSeeOther)
}

package insight

import (
	"context"
	"math"
	"strconv"

	"github.com/rapportcrm/rapport/internal/analytics/clv"
	"github.com/rapportcrm/rapport/internal/analytics/value"
	"github.com/rapportcrm/rapport/internal/errs"
)

// ProfileSetting is the workspace setting key of the business profile.
const ProfileSetting = "business_profile"

// Profile describes the business so that nothing assumes one industry: a
// coffee chain buys every few days, a car dealer every few years. Zero
// values mean "derive from the purchase cycle"; Effective fills them in.
type Profile struct {
	// PurchaseCycleDays is the typical time between two purchases of a
	// regular customer.
	PurchaseCycleDays float64 `json:"purchase_cycle_days" required:"false" doc:"Typical days between two purchases of a regular customer (e.g. 7 for a coffee chain, 1500 for a car dealer)"`
	// TimeUnit is the unit the CLV models count time in: day, week or month.
	TimeUnit string `json:"time_unit" required:"false" enum:"day,week,month," doc:"Model time unit; empty derives it from the purchase cycle"`
	// Model is the repeat-transaction model: bgnbd (default) or paretonbd.
	Model string `json:"model" required:"false" enum:"bgnbd,paretonbd," doc:"Repeat-purchase model for CLV and P(alive)"`
	// HorizonDays is how far ahead CLV looks.
	HorizonDays int `json:"horizon_days" required:"false" doc:"CLV horizon in days; 0 derives it (one year, or three purchase cycles when longer)"`
	// DiscountRate is the annual discount rate for CLV.
	DiscountRate float64 `json:"discount_rate" required:"false" doc:"Annual discount rate for CLV, e.g. 0.1"`
	// TierCuts are the shares of customers in the upper tiers of the pyramid.
	TierCuts value.TierCuts `json:"tier_cuts" required:"false" doc:"Shares of customers in platinum, gold and silver; the rest are bronze"`
	// RFMWindowDays limits RFM ranking to customers who bought within it.
	RFMWindowDays int `json:"rfm_window_days" required:"false" doc:"Only customers who bought within this many days are ranked; older ones are lost. 0 derives it (6 purchase cycles, at least 180 days)"`
	// LapsedAfterDays is when a customer without a purchase counts as lapsed.
	LapsedAfterDays int `json:"lapsed_after_days" required:"false" doc:"Days without a purchase after which a customer counts as lapsed; 0 derives it (3 purchase cycles)"`
	// HoldoutDays is the holdout period used to check the CLV model.
	HoldoutDays int `json:"holdout_days" required:"false" doc:"Days held out to check the CLV model's forecast; 0 derives it (2 purchase cycles, 28 to 365 days)"`
	// CohortPeriodDays is the period of cohorts and of the pivot's period
	// dimension; 0 means calendar months.
	CohortPeriodDays int `json:"cohort_period_days" required:"false" doc:"Period of cohorts and pivots in days; 0 means calendar months"`
	// CostToServe is the cost of one interaction of each kind.
	CostToServe map[string]float64 `json:"cost_to_serve" required:"false" doc:"Cost of one interaction per kind (call, meeting, visit, email, message, service)"`
	// MarketingCostPerCustomer is marketing spend attributed to every customer.
	MarketingCostPerCustomer float64 `json:"marketing_cost_per_customer" required:"false" doc:"Marketing cost attributed to each customer; a numeric marketing_cost attribute on a customer overrides it"`
	// CityAttribute is the custom attribute holding the customer's city.
	CityAttribute string `json:"city_attribute" required:"false" doc:"Attribute holding the city or region (default city)"`
	// ChannelAttribute is the attribute holding the acquisition channel;
	// without it the source of the first order is used.
	ChannelAttribute string `json:"channel_attribute" required:"false" doc:"Attribute holding the acquisition channel (default channel); otherwise the first order's source"`
	// ChurnAttribute and ChurnValue declare contractual customers: those
	// with the attribute are scored by the logistic churn model trained on
	// it, the value marking a customer who cancelled.
	ChurnAttribute string `json:"churn_attribute" required:"false" doc:"Attribute of contractual customers that records cancellation, e.g. status; empty for none"`
	ChurnValue     string `json:"churn_value" required:"false" doc:"Value of churn_attribute that means cancelled, e.g. cancelled"`
	// RefitEveryHours is how often the models are refitted in full.
	RefitEveryHours float64 `json:"refit_every_hours" required:"false" doc:"Hours between full model refits (default 24: nightly)"`
}

// DefaultProfile is the profile of a workspace that never set one: a
// monthly purchase cycle.
func DefaultProfile() Profile { return Profile{PurchaseCycleDays: 30}.Effective() }

// Effective returns p with every derived field filled in.
func (p Profile) Effective() Profile {
	if !(p.PurchaseCycleDays > 0) {
		p.PurchaseCycleDays = 30
	}
	c := p.PurchaseCycleDays
	if p.TimeUnit == "" {
		switch {
		case c < 14:
			p.TimeUnit = string(clv.Day)
		case c < 120:
			p.TimeUnit = string(clv.Week)
		default:
			p.TimeUnit = string(clv.Month)
		}
	}
	if p.Model == "" {
		p.Model = "bgnbd"
	}
	if p.HorizonDays == 0 {
		p.HorizonDays = int(math.Max(365, math.Ceil(3*c)))
	}
	if p.TierCuts == (value.TierCuts{}) {
		p.TierCuts = value.DefaultTierCuts()
	}
	if p.RFMWindowDays == 0 {
		p.RFMWindowDays = int(math.Max(180, math.Ceil(6*c)))
	}
	if p.LapsedAfterDays == 0 {
		p.LapsedAfterDays = int(math.Ceil(3 * c))
	}
	if p.HoldoutDays == 0 {
		p.HoldoutDays = int(math.Min(365, math.Max(28, math.Ceil(2*c))))
	}
	if p.CostToServe == nil {
		p.CostToServe = map[string]float64{}
	}
	if p.CityAttribute == "" {
		p.CityAttribute = "city"
	}
	if p.ChannelAttribute == "" {
		p.ChannelAttribute = "channel"
	}
	if !(p.RefitEveryHours > 0) {
		p.RefitEveryHours = 24
	}
	return p
}

// Validate reports every bad field of p as a field error.
func (p Profile) Validate() error {
	var fe []errs.FieldError
	bad := func(field, msg string, v any) {
		fe = append(fe, errs.FieldError{Field: "body." + field, Message: msg, Value: v})
	}
	finite := func(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
	if !finite(p.PurchaseCycleDays) || p.PurchaseCycleDays < 0 || p.PurchaseCycleDays > 36500 {
		bad("purchase_cycle_days", "must be between 0 and 36500 days", p.PurchaseCycleDays)
	}
	if p.TimeUnit != "" {
		if _, err := clv.ParseUnit(p.TimeUnit); err != nil {
			bad("time_unit", "must be day, week or month", p.TimeUnit)
		}
	}
	if p.Model != "" && p.Model != "bgnbd" && p.Model != "paretonbd" {
		bad("model", "must be bgnbd or paretonbd", p.Model)
	}
	if p.HorizonDays < 0 || p.HorizonDays > 36500 {
		bad("horizon_days", "must be between 0 and 36500", p.HorizonDays)
	}
	if !finite(p.DiscountRate) || p.DiscountRate < 0 || p.DiscountRate >= 10 {
		bad("discount_rate", "must be an annual rate between 0 and 10 (e.g. 0.1 for 10%)", p.DiscountRate)
	}
	if p.TierCuts != (value.TierCuts{}) {
		t := p.TierCuts
		if !(t.Platinum > 0 && t.Gold > 0 && t.Silver > 0) || !finite(t.Platinum+t.Gold+t.Silver) || t.Platinum+t.Gold+t.Silver >= 1 {
			bad("tier_cuts", "platinum, gold and silver must be positive shares adding up to less than 1", t)
		}
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"rfm_window_days", p.RFMWindowDays}, {"lapsed_after_days", p.LapsedAfterDays}, {"holdout_days", p.HoldoutDays}, {"cohort_period_days", p.CohortPeriodDays}} {
		if f.v < 0 || f.v > 36500 {
			bad(f.name, "must be between 0 and 36500 days", f.v)
		}
	}
	for kind, c := range p.CostToServe {
		if !finite(c) || c < 0 {
			bad("cost_to_serve."+kind, "must be a cost of zero or more", c)
		}
	}
	if !finite(p.MarketingCostPerCustomer) || p.MarketingCostPerCustomer < 0 {
		bad("marketing_cost_per_customer", "must be zero or more", p.MarketingCostPerCustomer)
	}
	if (p.ChurnAttribute == "") != (p.ChurnValue == "") {
		bad("churn_value", "churn_attribute and churn_value go together", p.ChurnValue)
	}
	if !finite(p.RefitEveryHours) || p.RefitEveryHours < 0 || p.RefitEveryHours > 24*31 {
		bad("refit_every_hours", "must be between 0 and "+strconv.Itoa(24*31)+" hours", p.RefitEveryHours)
	}
	if len(fe) > 0 {
		return errs.Validation(fe...)
	}
	return nil
}

// unit is the profile's model time unit.
func (p Profile) unit() clv.Unit { return clv.Unit(p.TimeUnit) }

// horizon turns the CLV horizon into monthly periods (the discounting
// period), the annual rate into a monthly one, both in model time units.
func (p Profile) horizon() clv.Horizon {
	const month = 365.25 / 12
	periods := max(1, int(math.Ceil(float64(p.HorizonDays)/month)))
	return clv.Horizon{
		Periods:      periods,
		PeriodLength: month / p.unit().Days(),
		DiscountRate: math.Pow(1+p.DiscountRate, 1/12.0) - 1,
	}
}

// Profile returns the workspace's business profile with derived fields
// filled in.
func (s *Service) Profile(ctx context.Context) (Profile, error) {
	var p Profile
	if _, err := s.store.Setting(ctx, ProfileSetting, &p); err != nil {
		return Profile{}, err
	}
	return p.Effective(), nil
}

// SetProfile validates and saves the business profile; models, scores and
// reports follow it after the refit it requests (in the background).
func (s *Service) SetProfile(ctx context.Context, p Profile) (Profile, error) {
	if err := p.Validate(); err != nil {
		return Profile{}, err
	}
	if err := s.store.SetSetting(ctx, ProfileSetting, p); err != nil {
		return Profile{}, err
	}
	s.RequestRefit()
	return p.Effective(), nil
}

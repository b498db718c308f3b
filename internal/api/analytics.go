package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/insight"
)

type profileBody struct {
	Body insight.Profile
}

type rfmOutput struct{ Body insight.RFMReport }
type clvOutput struct{ Body insight.CLVReport }
type paretoOutput struct{ Body insight.ParetoReport }
type tiersOutput struct{ Body insight.TierReport }
type cohortsOutput struct{ Body insight.CohortReport }
type associationsOutput struct{ Body insight.AssociationReport }
type profitOutput struct{ Body insight.ProfitabilityReport }
type customerInsightOutput struct{ Body insight.CustomerInsight }

type tiersInput struct {
	From     string `query:"from" doc:"First period for tier migration, START/END dates, e.g. 2024-01-01/2024-12-31"`
	To       string `query:"to" doc:"Second period for tier migration, e.g. 2025-01-01/2025-12-31"`
	Upgrades int    `query:"upgrades" minimum:"1" maximum:"10000" default:"100" doc:"Length of the upgrade list"`
}

type associationsInput struct {
	CustomerID    string  `query:"customer_id" maxLength:"64" doc:"Suggest cross-sell products for this customer"`
	Level         string  `query:"level" enum:"product,category" default:"product"`
	MinSupport    float64 `query:"min_support" minimum:"0" maximum:"1" default:"0.01" doc:"Share of orders holding both items"`
	MinConfidence float64 `query:"min_confidence" minimum:"0" maximum:"1" default:"0.1" doc:"P(then | if)"`
	Limit         int     `query:"limit" minimum:"1" maximum:"5000" default:"100"`
}

type pivotInput struct {
	Format string `query:"format" enum:"json,csv,xlsx" default:"json" doc:"json, or a csv / xlsx download"`
	Body   insight.PivotRequest
}

type pivotOutput struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	Body               []byte
}

type refitOutput struct {
	Body struct {
		Status string `json:"status"`
	}
}

// registerAnalytics mounts the business profile and the analytics reports.
func (s *Server) registerAnalytics(api huma.API) {
	if s.Insight == nil {
		s.Insight = insight.New(s.Store, insight.Options{Log: s.Log})
	}
	in := s.Insight

	huma.Register(api, op("get-business-profile", http.MethodGet, "/api/v1/settings/business", "The business profile: purchase cycle, model time unit, horizon, tiers, costs", auth.ReadAnalytics, "analytics"),
		func(ctx context.Context, _ *struct{}) (*profileBody, error) {
			p, err := in.Profile(ctx)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &profileBody{Body: p}, nil
		})
	put := op("put-business-profile", http.MethodPut, "/api/v1/settings/business", "Replace the business profile; models refit in the background", auth.ManageSettings, "analytics")
	put.MaxBodyBytes = 64 << 10
	huma.Register(api, put, func(ctx context.Context, b *profileBody) (*profileBody, error) {
		p, err := in.SetProfile(ctx, b.Body)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		return &profileBody{Body: p}, nil
	})

	huma.Register(api, op("analytics-rfm", http.MethodGet, "/api/v1/analytics/rfm", "RFM segments: counts, revenue, bilingual names and the R × FM grid", auth.ReadAnalytics, "analytics"),
		func(ctx context.Context, _ *struct{}) (*rfmOutput, error) {
			r, err := in.RFM(ctx)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &rfmOutput{Body: r}, nil
		})
	huma.Register(api, op("analytics-tiers", http.MethodGet, "/api/v1/analytics/tiers", "Customer pyramid by historical and predicted value, tier migration and the upgrade list", auth.ReadAnalytics, "analytics"),
		func(ctx context.Context, q *tiersInput) (*tiersOutput, error) {
			tq := insight.TierQuery{UpgradeLimit: q.Upgrades}
			var fe []errs.FieldError
			for _, p := range []struct {
				name, v string
				dst     **insight.Interval
			}{{"query.from", q.From, &tq.From}, {"query.to", q.To, &tq.To}} {
				if p.v == "" {
					continue
				}
				iv, err := insight.ParseInterval(p.v)
				if err != nil {
					fe = append(fe, errs.FieldError{Field: p.name, Message: err.Error(), Value: p.v})
					continue
				}
				*p.dst = &iv
			}
			if len(fe) > 0 {
				return nil, s.problem(ctx, errs.Validation(fe...))
			}
			r, err := in.Tiers(ctx, tq)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &tiersOutput{Body: r}, nil
		})
	huma.Register(api, op("analytics-pareto", http.MethodGet, "/api/v1/analytics/pareto", "Pareto curve of revenue and predicted value, with a reading in both languages", auth.ReadAnalytics, "analytics"),
		func(ctx context.Context, _ *struct{}) (*paretoOutput, error) {
			r, err := in.Pareto(ctx)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &paretoOutput{Body: r}, nil
		})
	huma.Register(api, op("analytics-clv", http.MethodGet, "/api/v1/analytics/clv", "Lifetime-value model: parameters, fit date, holdout accuracy, CLV distribution", auth.ReadAnalytics, "analytics"),
		func(ctx context.Context, _ *struct{}) (*clvOutput, error) {
			r, err := in.CLV(ctx)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &clvOutput{Body: r}, nil
		})
	huma.Register(api, op("analytics-cohorts", http.MethodGet, "/api/v1/analytics/cohorts", "Acquisition-cohort retention and repeat-revenue curves", auth.ReadAnalytics, "analytics"),
		func(ctx context.Context, _ *struct{}) (*cohortsOutput, error) {
			r, err := in.Cohorts(ctx)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &cohortsOutput{Body: r}, nil
		})
	huma.Register(api, op("analytics-associations", http.MethodGet, "/api/v1/analytics/associations", "Product association rules; with customer_id, cross-sell suggestions for that customer", auth.ReadAnalytics, "analytics"),
		func(ctx context.Context, q *associationsInput) (*associationsOutput, error) {
			r, err := in.Associations(ctx, insight.AssociationQuery{CustomerID: q.CustomerID, Level: q.Level, MinSupport: q.MinSupport, MinConfidence: q.MinConfidence, Limit: q.Limit})
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &associationsOutput{Body: r}, nil
		})
	huma.Register(api, op("analytics-profitability", http.MethodGet, "/api/v1/analytics/profitability", "Profit per RFM segment and per tier; unprofitable ones flagged", auth.ReadAnalytics, "analytics"),
		func(ctx context.Context, _ *struct{}) (*profitOutput, error) {
			r, err := in.Profitability(ctx)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &profitOutput{Body: r}, nil
		})
	huma.Register(api, op("analytics-customer", http.MethodGet, "/api/v1/analytics/customers/{id}", "What the models say about one customer: scores with names, churn reasons, profit, cross-sell", auth.ReadAnalytics, "analytics"),
		func(ctx context.Context, p *idPath) (*customerInsightOutput, error) {
			r, err := in.Customer(ctx, p.ID)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &customerInsightOutput{Body: r}, nil
		})

	pivot := op("analytics-pivot", http.MethodPost, "/api/v1/analytics/pivot",
		"Pivot: measures (customers, revenue, orders, clv, profit) by up to three dimensions, with filters; format=csv|xlsx downloads it", auth.ReadAnalytics, "analytics")
	pivot.MaxBodyBytes = 64 << 10
	huma.Register(api, pivot, func(ctx context.Context, q *pivotInput) (*pivotOutput, error) {
		r, err := in.Pivot(ctx, q.Body)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		var buf bytes.Buffer
		out := &pivotOutput{}
		switch q.Format {
		case "csv":
			err = r.WriteCSV(&buf)
			out.ContentType, out.ContentDisposition = "text/csv; charset=utf-8", `attachment; filename="pivot.csv"`
		case "xlsx":
			err = r.WriteXLSX(&buf)
			out.ContentType, out.ContentDisposition = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", `attachment; filename="pivot.xlsx"`
		default:
			err = json.NewEncoder(&buf).Encode(r)
			out.ContentType = "application/json"
		}
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		out.Body = buf.Bytes()
		return out, nil
	})

	refit := op("analytics-refit", http.MethodPost, "/api/v1/analytics/refit", "Refit every model and rescore every customer in the background", auth.ManageSettings, "analytics")
	refit.DefaultStatus = http.StatusAccepted
	huma.Register(api, refit, func(ctx context.Context, _ *struct{}) (*refitOutput, error) {
		in.RequestRefit()
		out := &refitOutput{}
		out.Body.Status = "refit requested / 已请求重新拟合"
		return out, nil
	})
}

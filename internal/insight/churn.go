package insight

import (
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/internal/analytics/churn"
)

// The behavioural features every churn model sees beside the customer's
// own attributes.
var churnBase = []string{"orders", "revenue", "recency_days", "tenure_days", "interactions"}

// ChurnModelReport is the contractual churn model's held-out quality.
type ChurnModelReport struct {
	Attribute    string                 `json:"attribute"`
	Value        string                 `json:"value"`
	Customers    int                    `json:"customers"`
	Churned      int                    `json:"churned"`
	AUC          float64                `json:"auc"`
	LogLoss      float64                `json:"logloss"`
	Brier        float64                `json:"brier"`
	Coefficients []churn.Coefficient    `json:"coefficients"`
	Calibration  []churn.CalibrationBin `json:"calibration"`
	Note         string                 `json:"note,omitempty"`
}

// minChurnCustomers is the fewest contractual customers a churn model is
// trained on.
const minChurnCustomers = 40

// fitChurn trains the logistic churn model on the customers that carry the
// profile's churn attribute, when the profile declares one.
func (m *models) fitChurn(snap *snapshot, p Profile, asOf time.Time, log *slog.Logger) {
	if p.ChurnAttribute == "" {
		return
	}
	rep := &ChurnModelReport{Attribute: p.ChurnAttribute, Value: p.ChurnValue}
	m.report.Churn = rep
	cols := map[string]bool{}
	var which []int
	for i := range snap.rows {
		r := &snap.rows[i]
		if r.dead || r.x().attrs.get(p.ChurnAttribute) == "" {
			continue
		}
		which = append(which, i)
		for _, kv := range r.x().attrs {
			if kv.k != p.ChurnAttribute && kv.k != "marketing_cost" {
				cols[kv.k] = true
			}
		}
	}
	features := slices.Clone(churnBase)
	extra := make([]string, 0, len(cols))
	for k := range cols {
		if !slices.Contains(churnBase, k) {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	features = append(features, extra...)
	t := &churn.Table{Columns: features, LabelCol: p.ChurnAttribute, Positive: p.ChurnValue}
	for _, i := range which {
		r := &snap.rows[i]
		cr := churnRow(r, features, asOf)
		vals := make([]string, len(features))
		for j, f := range features {
			vals[j] = cr[f]
		}
		label := 0.0
		if strings.EqualFold(strings.TrimSpace(r.x().attrs.get(p.ChurnAttribute)), strings.TrimSpace(p.ChurnValue)) {
			label = 1
			rep.Churned++
		}
		t.Rows = append(t.Rows, vals)
		t.Labels = append(t.Labels, label)
		t.IDs = append(t.IDs, snap.ids.str(r.id))
		t.Lines = append(t.Lines, len(t.Rows))
	}
	t.Input = churn.InputReport{Rows: len(t.Rows), Used: len(t.Rows)}
	rep.Customers = len(t.Rows)
	if rep.Customers < minChurnCustomers || rep.Churned < 5 || rep.Customers-rep.Churned < 5 {
		rep.Note = "not enough contractual customers to train the churn model (need " + strconv.Itoa(minChurnCustomers) +
			", with at least 5 churned and 5 retained) / 合约客户不足，无法训练流失模型"
		return
	}
	r, model, err := churn.Analyze(t, churn.Options{Seed: 1, TopRisk: -1})
	if err != nil {
		rep.Note = "churn model failed / 流失模型训练失败: " + err.Error()
		log.Warn("insight: churn model", "err", err)
		return
	}
	rep.AUC, rep.LogLoss, rep.Brier = r.AUC, r.LogLoss, r.Brier
	rep.Coefficients, rep.Calibration = r.Coefficients, r.Calibration
	m.churn, m.churnF = model, features
}

// churnRow is a customer's feature values as the churn model reads them.
func churnRow(r *row, features []string, asOf time.Time) churn.Row {
	out := churn.Row{
		"orders":       strconv.Itoa(int(r.p().orders)),
		"revenue":      strconv.FormatFloat(r.p().revenue, 'f', -1, 64),
		"tenure_days":  strconv.FormatInt((asOf.Unix()-r.created)/86400, 10),
		"interactions": strconv.Itoa(int(r.interactions)),
	}
	if r.p().orders > 0 {
		out["recency_days"] = strconv.FormatInt((asOf.Unix()-r.p().last)/86400, 10)
	}
	for _, f := range features[len(churnBase):] {
		if v, ok := r.x().attrs.lookup(f); ok {
			out[f] = v
		}
	}
	return out
}

package churn

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// DefaultTopK is how many reasons Score gives per customer by default.
const DefaultTopK = 3

// Model is a fitted churn model: the encoder learned on the training rows
// and the logistic coefficients on the standardized features.
type Model struct {
	enc  *Encoder
	beta []float64 // intercept, then one per feature
	// featCol maps a feature to the index of its column code in enc.cols.
	featCol []int
	// TopK is how many reasons Score returns; zero means DefaultTopK,
	// negative none.
	TopK int
}

// NewModel pairs an encoder with a fit on its design matrix.
func NewModel(enc *Encoder, fit Fit) *Model {
	m := &Model{enc: enc, beta: fit.Beta, featCol: make([]int, len(enc.features))}
	for k, f := range enc.features {
		for ci, cc := range enc.cols {
			if cc.name == f.Column {
				m.featCol[k] = ci
			}
		}
	}
	return m
}

// Row is one customer's values keyed by column name, as in the CSV the
// model was trained on. Absent columns read as blank.
type Row map[string]string

// Contribution is one reason for a customer's risk: a column's share of
// the log-odds, the sum of coefficient × standardized value over the
// column's features (its value, or its level's one-hot features, and its
// missing indicator). Positive contributions raise the risk above that of
// a customer with average (training-mean) features.
type Contribution struct {
	// Feature is the feature the customer's value falls in ("contract=月付",
	// "tenure_months", "tenure_months:missing").
	Feature      string  `json:"feature"`
	Column       string  `json:"column"`
	Value        string  `json:"value"`
	Contribution float64 `json:"contribution"`
}

// Score returns the churn probability of a customer and the top reasons:
// the columns with the largest positive contributions, at most TopK,
// largest first. A customer with no risk-raising column gets none.
func (m *Model) Score(row Row) (p float64, top []Contribution) {
	names := m.enc.columns
	return m.score(func(c int) string { return row[names[c].Name] })
}

func (m *Model) score(get func(c int) string) (float64, []Contribution) {
	enc := m.enc
	raw := make([]float64, enc.raw)
	z := make([]float64, len(enc.features))
	enc.encode(get, raw, z)
	eta := m.beta[0]
	per := make([]float64, len(enc.cols))
	for k, v := range z {
		c := m.beta[k+1] * v
		eta += c
		per[m.featCol[k]] += c
	}
	var out []Contribution
	for ci, c := range per {
		if c <= 0 {
			continue
		}
		cc := &enc.cols[ci]
		cell := get(cc.index)
		out = append(out, Contribution{Feature: m.featureOf(cc, cell), Column: cc.name, Value: displayValue(cell), Contribution: c})
	}
	slices.SortFunc(out, func(a, b Contribution) int {
		return cmp.Or(cmp.Compare(b.Contribution, a.Contribution), strings.Compare(a.Column, b.Column))
	})
	return sigmoid(eta), out[:min(len(out), orDefault(m.TopK, DefaultTopK))]
}

// featureOf names the feature a cell falls in within its column.
func (m *Model) featureOf(cc *columnCode, cell string) string {
	switch cc.kind {
	case Numeric:
		var v float64
		if parseCell(cell, &v) != valueOK {
			return cc.name + ":missing"
		}
		return cc.name
	default:
		l := categoryValue(cell)
		if _, ok := cc.levels[l]; ok {
			return cc.name + "=" + l
		}
		return cc.name + "=other"
	}
}

func displayValue(cell string) string {
	if s := strings.TrimSpace(cell); s != "" {
		return s
	}
	return "(blank)"
}

// Intercept is the log-odds of churn for a customer with average features.
func (m *Model) Intercept() float64 { return m.beta[0] }

// Features lists the model's features in coefficient order.
func (m *Model) Features() []Feature { return m.enc.features }

// Coefficient is one feature's fitted effect.
type Coefficient struct {
	Feature string `json:"feature"`
	Column  string `json:"column"`
	Role    string `json:"role"`
	// Coef is the change in log-odds per standard deviation of the
	// feature (the scale the model is fitted and penalized on).
	Coef float64 `json:"coef"`
	// PerUnit is the change in log-odds per unit of the original feature
	// (per 1 of a numeric column; from 0 to 1 of a one-hot or missing
	// indicator), that is Coef / SD.
	PerUnit float64 `json:"coef_per_unit"`
	// OddsRatio is exp(Coef), the odds multiplier per standard deviation.
	OddsRatio float64 `json:"odds_ratio_per_sd"`
}

// Coefficients lists the feature coefficients, largest |Coef| first (ties
// in feature order).
func (m *Model) Coefficients() []Coefficient {
	out := make([]Coefficient, len(m.enc.features))
	for k, f := range m.enc.features {
		b := m.beta[k+1]
		out[k] = Coefficient{Feature: f.Name, Column: f.Column, Role: f.Role, Coef: b, PerUnit: b / f.SD, OddsRatio: math.Exp(b)}
	}
	slices.SortStableFunc(out, func(a, b Coefficient) int { return cmp.Compare(math.Abs(b.Coef), math.Abs(a.Coef)) })
	return out
}

package churn

import (
	"cmp"
	"fmt"
	"slices"
)

// Defaults of Options.
const (
	DefaultTestFraction = 0.25
	DefaultTopRisk      = 20
	DefaultBins         = 10
)

// Options tune Analyze. The zero value uses the defaults and seed 0.
type Options struct {
	// TestFraction is the held-out share of each label; zero means
	// DefaultTestFraction.
	TestFraction float64
	// Seed fixes the train/test split.
	Seed   uint64
	Encode EncodeOptions
	Fit    FitOptions
	// TopK is how many reasons each listed customer gets; zero means
	// DefaultTopK, negative none.
	TopK int
	// TopRisk is how many test customers are listed, highest risk first;
	// zero means DefaultTopRisk, negative none.
	TopRisk int
	// Bins is the number of calibration bins; zero means DefaultBins
	// (deciles).
	Bins int
}

// RiskRow is one held-out customer in a Report's risk list.
type RiskRow struct {
	Line int     `json:"line"`
	ID   string  `json:"id,omitempty"`
	P    float64 `json:"p"`
	// Churned is the customer's actual label.
	Churned bool           `json:"churned"`
	Reasons []Contribution `json:"reasons"`
}

// Report is the outcome of Analyze: data, split, fit, held-out quality
// and the riskiest held-out customers.
type Report struct {
	Input    InputReport `json:"input"`
	LabelCol string      `json:"label_col"`
	Positive string      `json:"positive,omitempty"`
	IDCol    string      `json:"id_col,omitempty"`

	Seed              uint64  `json:"seed"`
	TestFraction      float64 `json:"test_fraction"`
	NTrain            int     `json:"n_train"`
	NTest             int     `json:"n_test"`
	PositiveRate      float64 `json:"positive_rate"`
	TrainPositiveRate float64 `json:"train_positive_rate"`
	TestPositiveRate  float64 `json:"test_positive_rate"`

	// AUC, LogLoss and Brier are on the test split; the baselines predict
	// the training churn rate for everyone.
	AUC             float64 `json:"auc"`
	LogLoss         float64 `json:"logloss"`
	BaselineLogLoss float64 `json:"baseline_logloss"`
	Brier           float64 `json:"brier"`
	BaselineBrier   float64 `json:"baseline_brier"`
	TrainAUC        float64 `json:"train_auc"`

	Solver     Solver  `json:"solver"`
	Lambda     float64 `json:"lambda"`
	Iterations int     `json:"iterations"`
	Converged  bool    `json:"converged"`
	NFeatures  int     `json:"n_features"`
	Intercept  float64 `json:"intercept"`

	Coefficients []Coefficient    `json:"coefficients"`
	Calibration  []CalibrationBin `json:"calibration"`
	Columns      []ColumnReport   `json:"columns"`
	TopRisk      []RiskRow        `json:"top_risk"`
}

// Analyze splits t into training and test rows (stratified, fixed seed),
// learns the encoding and the model on the training rows and evaluates
// them on the test rows. It returns the report and the model, which can
// score new customers.
func Analyze(t *Table, opts Options) (*Report, *Model, error) {
	frac := opts.TestFraction
	if frac == 0 {
		frac = DefaultTestFraction
	}
	if frac <= 0 || frac >= 1 {
		return nil, nil, fmt.Errorf("churn: analyze: test fraction %v is not between 0 and 1", frac)
	}
	r := &Report{Input: t.Input, LabelCol: t.LabelCol, Positive: t.Positive, IDCol: t.IDCol, Seed: opts.Seed, TestFraction: frac}
	profile := Profile(t)
	r.Columns = profile
	train, test := StratifiedSplit(t.Labels, frac, opts.Seed)
	r.NTrain, r.NTest = len(train), len(test)
	yTrain, yTest := pick(t.Labels, train), pick(t.Labels, test)
	r.PositiveRate, r.TrainPositiveRate, r.TestPositiveRate = mean(t.Labels), mean(yTrain), mean(yTest)
	for _, part := range []struct {
		name string
		y    []float64
	}{{"training", yTrain}, {"test", yTest}} {
		if m := mean(part.y); len(part.y) == 0 || m == 0 || m == 1 {
			return r, nil, fmt.Errorf("churn: analyze: the %s split (%d rows) needs both churned and retained customers; the table has %d rows, %.0f churned",
				part.name, len(part.y), len(t.Labels), r.PositiveRate*float64(len(t.Labels)))
		}
	}
	enc, err := FitEncoder(t, profile, train, opts.Encode)
	if err != nil {
		return r, nil, fmt.Errorf("churn: analyze: %w", err)
	}
	r.Columns = enc.Columns()
	d := len(enc.Features()) + 1
	fit, err := FitLogistic(enc.Design(t, train), yTrain, d, opts.Fit)
	if err != nil {
		return r, nil, fmt.Errorf("churn: analyze: %w", err)
	}
	m := NewModel(enc, fit)
	m.TopK = opts.TopK
	r.Solver, r.Lambda, r.Iterations, r.Converged = fit.Solver, fit.Lambda, fit.Iterations, fit.Converged
	r.NFeatures, r.Intercept, r.Coefficients = d-1, m.Intercept(), m.Coefficients()

	pTrain := make([]float64, len(train))
	for k, i := range train {
		pTrain[k], _ = m.score(func(c int) string { return t.Rows[i][c] })
	}
	r.TrainAUC = AUC(pTrain, yTrain)

	pTest := make([]float64, len(test))
	risks := make([]RiskRow, len(test))
	for k, i := range test {
		p, why := m.score(func(c int) string { return t.Rows[i][c] })
		pTest[k] = p
		risks[k] = RiskRow{Line: t.Lines[i], P: p, Churned: t.Labels[i] == 1, Reasons: why}
		if t.IDs != nil {
			risks[k].ID = t.IDs[i]
		}
		if risks[k].Reasons == nil {
			risks[k].Reasons = []Contribution{}
		}
	}
	r.AUC, r.LogLoss, r.Brier = AUC(pTest, yTest), LogLoss(pTest, yTest), Brier(pTest, yTest)
	base := make([]float64, len(test))
	for k := range base {
		base[k] = r.TrainPositiveRate
	}
	r.BaselineLogLoss, r.BaselineBrier = LogLoss(base, yTest), Brier(base, yTest)
	r.Calibration = Calibration(pTest, yTest, max(1, orDefault(opts.Bins, DefaultBins)))
	slices.SortStableFunc(risks, func(a, b RiskRow) int { return cmp.Or(cmp.Compare(b.P, a.P), cmp.Compare(a.Line, b.Line)) })
	r.TopRisk = risks[:min(len(risks), orDefault(opts.TopRisk, DefaultTopRisk))]
	return r, m, nil
}

func pick(v []float64, idx []int) []float64 {
	out := make([]float64, len(idx))
	for k, i := range idx {
		out[k] = v[i]
	}
	return out
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

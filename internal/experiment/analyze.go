package experiment

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/rapportcrm/rapport/internal/errs"
)

// Kind says how an outcome is measured.
type Kind string

// The kinds of outcome.
const (
	// Binary outcomes are 0/1 per customer (visited, converted); their
	// "rate" is a proportion and arms are compared by the two-proportion test.
	Binary Kind = "binary"
	// Continuous outcomes are numbers per customer (revenue); their "rate"
	// is the mean and arms are compared by Welch's t-test.
	Continuous Kind = "continuous"
)

// Dataset is one row per customer: the arm and one value per outcome.
// Binary outcome values are 0 or 1.
type Dataset struct {
	Outcomes []string
	Kinds    []Kind
	Arms     []string    // arm of each row
	Values   [][]float64 // Values[outcome][row]
	Read     ReadReport
}

// CSVOptions name the columns of an experiment CSV (with a header row).
type CSVOptions struct {
	ArmCol      string
	OutcomeCols []string
	// AllowedArms, when not empty, is the set of arms the experiment
	// planned; rows in any other arm are rejected as "unknown arm".
	AllowedArms []string
	// Comma is the field separator; zero means ','.
	Comma rune
}

// RejectedRow says why one input row was not used.
type RejectedRow struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// ReadReport counts the rows of a read.
type ReadReport struct {
	Rows     int            `json:"rows"`
	Accepted int            `json:"accepted"`
	Rejected int            `json:"rejected"`
	ByReason map[string]int `json:"by_reason,omitempty"`
	// First holds the first rejected rows (at most MaxRejectExamples).
	First []RejectedRow `json:"first,omitempty"`
}

// MaxRejectExamples is how many rejected rows a ReadReport lists.
const MaxRejectExamples = 10

// The reasons a row is rejected.
const (
	ReasonMissingArm     = "missing arm"
	ReasonUnknownArm     = "unknown arm"
	ReasonBadOutcome     = "malformed outcome"
	ReasonMissingOutcome = "missing outcome"
	ReasonShortRow       = "malformed row"
)

func (r *ReadReport) reject(line int, reason, detail string) {
	r.Rejected++
	if r.ByReason == nil {
		r.ByReason = make(map[string]int)
	}
	r.ByReason[reason]++
	if len(r.First) < MaxRejectExamples {
		if detail != "" {
			reason += ": " + detail
		}
		r.First = append(r.First, RejectedRow{Line: line, Reason: reason})
	}
}

// parseOutcome reads one outcome cell. word reports a yes/no style token,
// which only a binary column accepts.
func parseOutcome(s string) (v float64, word bool, ok bool) {
	s = strings.TrimSpace(s)
	switch {
	case s == "0":
		return 0, false, true
	case s == "1":
		return 1, false, true
	case strings.EqualFold(s, "true"), strings.EqualFold(s, "yes"):
		return 1, true, true
	case strings.EqualFold(s, "false"), strings.EqualFold(s, "no"):
		return 0, true, true
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false, false
	}
	return v, false, true
}

// ReadCSV reads an experiment CSV. An outcome column is binary when every
// value is 0/1/true/false/yes/no (any case) and continuous otherwise. Rows
// with no arm, an unknown arm or an outcome that is empty or not a number
// are rejected and counted in the report (a yes/no word in a continuous
// column is malformed); only an unreadable file or missing columns are
// errors.
func ReadCSV(r io.Reader, opt CSVOptions) (*Dataset, error) {
	if opt.ArmCol == "" || len(opt.OutcomeCols) == 0 {
		return nil, errs.E(errs.Invalid, "experiment: read csv: need an arm column and at least one outcome column")
	}
	cr := csv.NewReader(r)
	if opt.Comma != 0 {
		cr.Comma = opt.Comma
	}
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("experiment: read csv header: %w", err)
	}
	col := make(map[string]int, len(header))
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if _, dup := col[h]; !dup {
			col[h] = i
		}
	}
	armIdx, ok := col[opt.ArmCol]
	if !ok {
		return nil, errs.E(errs.Invalid, "experiment: read csv: no column %q in header %v", opt.ArmCol, header)
	}
	outIdx := make([]int, len(opt.OutcomeCols))
	for i, c := range opt.OutcomeCols {
		if outIdx[i], ok = col[c]; !ok {
			return nil, errs.E(errs.Invalid, "experiment: read csv: no column %q in header %v", c, header)
		}
		if slices.Index(opt.OutcomeCols, c) != i {
			return nil, errs.E(errs.Invalid, "experiment: read csv: outcome column %q given twice", c)
		}
	}
	allowed := map[string]bool{}
	for _, a := range opt.AllowedArms {
		allowed[a] = true
	}
	need := armIdx
	for _, i := range outIdx {
		need = max(need, i)
	}

	d := &Dataset{
		Outcomes: slices.Clone(opt.OutcomeCols),
		Kinds:    make([]Kind, len(opt.OutcomeCols)),
		Values:   make([][]float64, len(opt.OutcomeCols)),
	}
	words := make([][]bool, len(opt.OutcomeCols)) // yes/no token per accepted row
	lines := []int{}                              // file line of each accepted row
	binary := make([]bool, len(opt.OutcomeCols))
	for i := range binary {
		binary[i] = true
	}
	interned := map[string]string{}
	vals := make([]float64, len(outIdx))
	wrds := make([]bool, len(outIdx))
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		d.Read.Rows++
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				d.Read.reject(pe.Line, ReasonShortRow, pe.Err.Error())
				continue
			}
			return nil, fmt.Errorf("experiment: read csv: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) <= need {
			d.Read.reject(line, ReasonShortRow, fmt.Sprintf("%d fields, need %d", len(rec), need+1))
			continue
		}
		arm := strings.TrimSpace(rec[armIdx])
		if arm == "" {
			d.Read.reject(line, ReasonMissingArm, "")
			continue
		}
		if len(allowed) > 0 && !allowed[arm] {
			d.Read.reject(line, ReasonUnknownArm, strconv.Quote(arm))
			continue
		}
		bad := false
		for i, idx := range outIdx {
			cell := strings.TrimSpace(rec[idx])
			if cell == "" {
				d.Read.reject(line, ReasonMissingOutcome, opt.OutcomeCols[i])
				bad = true
				break
			}
			v, w, ok := parseOutcome(cell)
			if !ok {
				d.Read.reject(line, ReasonBadOutcome, fmt.Sprintf("%s=%q", opt.OutcomeCols[i], cell))
				bad = true
				break
			}
			vals[i], wrds[i] = v, w
		}
		if bad {
			continue
		}
		for i := range outIdx {
			d.Values[i] = append(d.Values[i], vals[i])
			words[i] = append(words[i], wrds[i])
			if vals[i] != 0 && vals[i] != 1 {
				binary[i] = false
			}
		}
		// Intern the arm: the record's fields share one string per line,
		// and keeping a slice of it would keep every line alive.
		if a, ok := interned[arm]; ok {
			arm = a
		} else {
			arm = strings.Clone(arm)
			interned[arm] = arm
		}
		d.Arms = append(d.Arms, arm)
		lines = append(lines, line)
	}

	// A yes/no word in a column that turned out continuous is malformed:
	// drop those rows from every outcome so all outcomes share the rows.
	drop := make([]bool, len(d.Arms))
	for i := range outIdx {
		if binary[i] {
			d.Kinds[i] = Binary
			continue
		}
		d.Kinds[i] = Continuous
		for row, w := range words[i] {
			if w && !drop[row] {
				drop[row] = true
				d.Read.reject(lines[row], ReasonBadOutcome, fmt.Sprintf("%s is continuous, %q word not allowed", opt.OutcomeCols[i], "yes/no"))
			}
		}
	}
	if slices.Contains(drop, true) {
		keep := 0
		for row := range d.Arms {
			if drop[row] {
				continue
			}
			d.Arms[keep] = d.Arms[row]
			for i := range d.Values {
				d.Values[i][keep] = d.Values[i][row]
			}
			keep++
		}
		d.Arms = d.Arms[:keep]
		for i := range d.Values {
			d.Values[i] = d.Values[i][:keep]
		}
	}
	d.Read.Accepted = len(d.Arms)
	slices.SortStableFunc(d.Read.First, func(a, b RejectedRow) int { return cmp.Compare(a.Line, b.Line) })
	return d, nil
}

// Options control Analyze.
type Options struct {
	// Control is the arm every other arm is compared with.
	Control string
	// Weights is the planned split for the SRM check; empty means equal
	// weights across the arms seen in the data.
	Weights []Arm
	// Confidence of the intervals; 0 means DefaultConfidence.
	Confidence float64
	// BootstrapResamples, when positive, adds a seeded percentile bootstrap
	// interval to continuous comparisons.
	BootstrapResamples int
	Seed               uint64
}

// ArmSummary is one arm's size and per-outcome rate and mean (equal for
// binary outcomes; for continuous ones Rate holds the mean too).
type ArmSummary struct {
	Arm  string             `json:"arm"`
	N    int                `json:"n"`
	Rate map[string]float64 `json:"rate"`
	Mean map[string]float64 `json:"mean"`
	// StdDev is the sample standard deviation per outcome.
	StdDev map[string]float64 `json:"std_dev"`
}

// Comparison is one treatment arm against the control on one outcome.
// Uplift is treatment − control (proportion points for binary outcomes,
// outcome units for continuous ones); CILow/CIHigh is the Wald interval
// for binary and the Welch interval for continuous outcomes.
type Comparison struct {
	Arm           string  `json:"arm"`
	Outcome       string  `json:"outcome"`
	Kind          Kind    `json:"kind"`
	ControlRate   float64 `json:"control_rate"`
	TreatmentRate float64 `json:"treatment_rate"`
	Uplift        float64 `json:"uplift"`
	// RelativeUplift is Uplift / ControlRate; absent when the control is 0.
	RelativeUplift *float64 `json:"relative_uplift,omitempty"`
	CILow          float64  `json:"ci_low"`
	CIHigh         float64  `json:"ci_high"`
	PValue         float64  `json:"p_value"`
	// PValueHolm adjusts PValue for the number of arms compared with the
	// control on this outcome.
	PValueHolm  float64         `json:"p_value_holm"`
	Significant bool            `json:"significant"`
	Proportion  *ProportionTest `json:"proportion_test,omitempty"`
	Welch       *MeanTest       `json:"welch_test,omitempty"`
	// BootstrapLow/High are present when a bootstrap was asked for.
	BootstrapLow  *float64 `json:"bootstrap_ci_low,omitempty"`
	BootstrapHigh *float64 `json:"bootstrap_ci_high,omitempty"`
	ReadingEN     string   `json:"reading_en"`
	ReadingZH     string   `json:"reading_zh"`
}

// OutcomeInfo names an outcome and its kind.
type OutcomeInfo struct {
	Name string `json:"name"`
	Kind Kind   `json:"kind"`
}

// SRM is the sample-ratio-mismatch result in a report.
type SRM struct {
	SRMTest
	Arms      []string `json:"arms"`
	Mismatch  bool     `json:"mismatch"`
	ReadingEN string   `json:"reading_en"`
	ReadingZH string   `json:"reading_zh"`
}

// SRMAlpha is the p-value below which a sample ratio counts as mismatched;
// the strict threshold is customary because the check runs on every
// experiment and a false alarm is cheap to investigate.
const SRMAlpha = 0.001

// Report is the full reading of an experiment.
type Report struct {
	Control     string        `json:"control"`
	Confidence  float64       `json:"confidence"`
	Outcomes    []OutcomeInfo `json:"outcomes"`
	Arms        []ArmSummary  `json:"arms"`
	Comparisons []Comparison  `json:"comparisons"`
	SRMPValue   float64       `json:"srm_p_value"`
	SRM         SRM           `json:"srm"`
	Input       ReadReport    `json:"input"`
	// Warnings are comparisons that could not be made, in English / Chinese.
	Warnings []string `json:"warnings,omitempty"`
}

// Analyze compares every arm of d with the control on every outcome and
// checks the sample ratio. Arms are listed control first, then by name.
func Analyze(d *Dataset, opt Options) (*Report, error) {
	confidence, err := checkConfidence(opt.Confidence)
	if err != nil {
		return nil, err
	}
	if opt.Control == "" {
		return nil, errs.E(errs.Invalid, "experiment: analyze: no control arm named")
	}
	if len(opt.Weights) > 0 {
		if err := ValidateArms(opt.Weights); err != nil {
			return nil, fmt.Errorf("experiment: analyze: weights: %w", err)
		}
	}

	// Index the arms: the planned ones (with weights) plus any seen.
	armIndex := map[string]int{}
	var names []string
	for _, a := range opt.Weights {
		armIndex[a.Name] = len(names)
		names = append(names, a.Name)
	}
	for _, a := range d.Arms {
		if _, ok := armIndex[a]; !ok {
			if len(opt.Weights) > 0 {
				return nil, errs.E(errs.Invalid, "experiment: analyze: arm %q is not among the weights", a)
			}
			armIndex[a] = len(names)
			names = append(names, a)
		}
	}
	if _, ok := armIndex[opt.Control]; !ok {
		return nil, errs.E(errs.Invalid, "experiment: analyze: control arm %q not found; arms are %v", opt.Control, names)
	}
	order := slices.Clone(names)
	slices.SortFunc(order, func(a, b string) int {
		switch {
		case a == opt.Control:
			return -1
		case b == opt.Control:
			return 1
		}
		return strings.Compare(a, b)
	})
	if len(order) < 2 {
		return nil, errs.E(errs.Invalid, "experiment: analyze: only one arm (%q) in the data", opt.Control)
	}

	rowArm := make([]int, len(d.Arms))
	sizes := make([]int, len(names))
	for r, a := range d.Arms {
		rowArm[r] = armIndex[a]
		sizes[rowArm[r]]++
	}
	// stats[outcome][arm]
	stats := make([][]welford, len(d.Outcomes))
	sums := make([][]float64, len(d.Outcomes))
	for o, vals := range d.Values {
		stats[o] = make([]welford, len(names))
		sums[o] = make([]float64, len(names))
		for r, v := range vals {
			stats[o][rowArm[r]].add(v)
			sums[o][rowArm[r]] += v
		}
	}

	rep := &Report{Control: opt.Control, Confidence: confidence, Input: d.Read}
	for o, name := range d.Outcomes {
		rep.Outcomes = append(rep.Outcomes, OutcomeInfo{Name: name, Kind: d.Kinds[o]})
	}
	for _, a := range order {
		ai := armIndex[a]
		s := ArmSummary{Arm: a, N: sizes[ai], Rate: map[string]float64{}, Mean: map[string]float64{}, StdDev: map[string]float64{}}
		for o, name := range d.Outcomes {
			m := stats[o][ai].moments()
			mean := 0.0
			if m.N > 0 {
				mean = sums[o][ai] / float64(m.N) // exactly successes/n for binary outcomes
			}
			s.Rate[name], s.Mean[name], s.StdDev[name] = mean, mean, math.Sqrt(m.Variance)
		}
		rep.Arms = append(rep.Arms, s)
	}

	ci := armIndex[opt.Control]
	alpha := 1 - confidence
	for o, name := range d.Outcomes {
		first := len(rep.Comparisons)
		for _, a := range order[1:] {
			ai := armIndex[a]
			c := Comparison{Arm: a, Outcome: name, Kind: d.Kinds[o]}
			var err error
			switch d.Kinds[o] {
			case Binary:
				ctl := Proportion{Successes: int(math.Round(sums[o][ci])), N: sizes[ci]}
				trt := Proportion{Successes: int(math.Round(sums[o][ai])), N: sizes[ai]}
				var t ProportionTest
				if t, err = CompareProportions(ctl, trt, confidence); err == nil {
					c.Proportion = &t
					c.ControlRate, c.TreatmentRate, c.Uplift = t.ControlRate, t.TreatmentRate, t.Uplift
					c.CILow, c.CIHigh, c.PValue = t.CILow, t.CIHigh, t.PValue
				}
			default:
				var t MeanTest
				if t, err = CompareMeans(stats[o][ci].moments(), stats[o][ai].moments(), confidence); err == nil {
					c.Welch = &t
					c.ControlRate, c.TreatmentRate, c.Uplift = t.ControlMean, t.TreatmentMean, t.Difference
					c.CILow, c.CIHigh, c.PValue = t.CILow, t.CIHigh, t.PValue
					if opt.BootstrapResamples > 0 {
						lo, hi, berr := BootstrapMeanDifference(armValues(d.Values[o], rowArm, ci), armValues(d.Values[o], rowArm, ai), opt.BootstrapResamples, confidence, opt.Seed)
						if berr != nil {
							return nil, fmt.Errorf("experiment: analyze %s: %w", name, berr)
						}
						c.BootstrapLow, c.BootstrapHigh = &lo, &hi
					}
				}
			}
			if err != nil {
				rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s vs %s on %s not compared: %v / %s 与 %s 的 %s 无法比较", a, opt.Control, name, err, a, opt.Control, name))
				continue
			}
			if c.ControlRate != 0 {
				rel := c.Uplift / c.ControlRate
				c.RelativeUplift = &rel
			}
			c.Significant = c.PValue < alpha
			rep.Comparisons = append(rep.Comparisons, c)
		}
		group := rep.Comparisons[first:]
		ps := make([]float64, len(group))
		for i, c := range group {
			ps[i] = c.PValue
		}
		for i, adj := range HolmAdjust(ps) {
			group[i].PValueHolm = adj
		}
	}
	for i := range rep.Comparisons {
		rep.Comparisons[i].ReadingEN, rep.Comparisons[i].ReadingZH = rep.Comparisons[i].Reading(confidence)
	}

	observed := make([]int, len(order))
	weights := make([]float64, len(order))
	for i, a := range order {
		observed[i] = sizes[armIndex[a]]
		weights[i] = 1
		if len(opt.Weights) > 0 {
			weights[i] = opt.Weights[armIndex[a]].Weight
		}
	}
	srm, err := SampleRatioMismatch(observed, weights)
	if err != nil {
		return nil, fmt.Errorf("experiment: analyze: %w", err)
	}
	rep.SRM = SRM{SRMTest: srm, Arms: order, Mismatch: srm.PValue < SRMAlpha}
	rep.SRM.ReadingEN, rep.SRM.ReadingZH = rep.SRM.Reading()
	rep.SRMPValue = srm.PValue
	return rep, nil
}

func armValues(vals []float64, rowArm []int, arm int) []float64 {
	var out []float64
	for r, v := range vals {
		if rowArm[r] == arm {
			out = append(out, v)
		}
	}
	return out
}

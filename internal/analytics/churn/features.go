package churn

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Kind says how a column is read.
type Kind string

// Column kinds.
const (
	Numeric     Kind = "numeric"
	Categorical Kind = "categorical"
)

// NumericShare is the share of a column's non-missing values that must
// parse as numbers for the column to be numeric; the rest then count as
// malformed and are imputed like missing values.
const NumericShare = 0.8

// DefaultMaxLevels is how many levels of a categorical column are one-hot
// encoded by default; rarer levels share one "other" feature.
const DefaultMaxLevels = 20

// MaxExamples is how many malformed values a ColumnReport lists.
const MaxExamples = 3

// ValueExample is one offending value and where it was.
type ValueExample struct {
	Line  int    `json:"line"`
	Value string `json:"value"`
}

// ColumnReport describes one input column: how it was read, how many of
// its values were missing or malformed, and whether it was left out.
type ColumnReport struct {
	Name string `json:"name"`
	Kind Kind   `json:"kind"`
	// Missing counts blank values and NA markers ("n/a", "null", "-" …).
	Missing int `json:"missing"`
	// Malformed counts values of a numeric column that are not numbers.
	Malformed         int            `json:"malformed"`
	MalformedExamples []ValueExample `json:"malformed_examples,omitempty"`
	// Distinct counts the distinct non-missing values.
	Distinct int `json:"distinct"`
	// Levels counts the one-hot features of a categorical column,
	// "other" included.
	Levels int `json:"levels,omitempty"`
	// Skipped says why the column is not a feature, empty when it is.
	Skipped string `json:"skipped,omitempty"`
}

// valueStatus is how one cell reads in a numeric column.
type valueStatus uint8

const (
	valueOK valueStatus = iota
	valueMissing
	valueMalformed
)

// missingMarkers are the cell values that mean "no value" (lower-cased).
var missingMarkers = map[string]bool{
	"": true, "na": true, "n/a": true, "n.a.": true, "#n/a": true, "nan": true, "null": true, "none": true,
	"nil": true, "-": true, "--": true, "?": true, "—": true, "－": true, "missing": true,
	"缺失": true, "空": true, "不详": true, "未知": true,
}

// maxMarkerLen is the byte length of the longest missing marker.
const maxMarkerLen = len("missing")

func isMissing(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return true
	}
	// Most cells are numbers or longer words: skip the lookup for them.
	if len(s) > maxMarkerLen || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	return missingMarkers[strings.ToLower(s)]
}

// ParseNumber reads a number the way it appears in exported tables:
// "1,234.5" (thousands separators), a leading currency sign (¥ $ € £) and
// a trailing % are accepted. ok is false for a blank or NA marker and for
// anything else that is not a finite number; missing tells the two apart.
func ParseNumber(s string) (v float64, ok, missing bool) {
	switch parseCell(s, &v) {
	case valueOK:
		return v, true, false
	case valueMissing:
		return 0, false, true
	}
	return 0, false, false
}

func parseCell(s string, v *float64) valueStatus {
	s = strings.TrimSpace(s)
	if isMissing(s) {
		return valueMissing
	}
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	for _, sym := range []string{"¥", "￥", "$", "€", "£"} {
		s = strings.TrimPrefix(s, sym)
	}
	s = strings.TrimSuffix(s, "%")
	if strings.Contains(s, ",") {
		if !thousands(s) {
			return valueMalformed
		}
		s = strings.ReplaceAll(s, ",", "")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || s == "" || s[0] == '+' && neg {
		return valueMalformed
	}
	if neg {
		f = -f
	}
	*v = f
	return valueOK
}

// thousands reports whether s is digits grouped by commas in threes, with
// an optional fraction: 1,234 or 12,345,678.9.
func thousands(s string) bool {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimPrefix(s, "+")
	groups := strings.Split(s, ",")
	for i, g := range groups {
		if g == "" || len(g) > 3 || (i > 0 && len(g) != 3) {
			return false
		}
		for _, c := range g {
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	return true
}

// Profile reads every feature column of t and decides its kind, counting
// missing and malformed values over all rows. Kinds come from the whole
// table (no label is used); the statistics used for encoding come from the
// training rows only, in FitEncoder.
func Profile(t *Table) []ColumnReport {
	out := make([]ColumnReport, len(t.Columns))
	for c, name := range t.Columns {
		r := ColumnReport{Name: name}
		var ok, bad int
		distinct := make(map[string]struct{})
		var v float64
		var badEx []ValueExample
		for i, row := range t.Rows {
			s := strings.TrimSpace(row[c])
			switch parseCell(s, &v) {
			case valueMissing:
				r.Missing++
				continue
			case valueOK:
				ok++
			case valueMalformed:
				bad++
				if len(badEx) < MaxExamples {
					badEx = append(badEx, ValueExample{Line: t.Lines[i], Value: s})
				}
			}
			distinct[s] = struct{}{}
		}
		r.Distinct = len(distinct)
		nonMissing := ok + bad
		if ok > 0 && float64(ok) >= NumericShare*float64(nonMissing) {
			r.Kind, r.Malformed, r.MalformedExamples = Numeric, bad, badEx
		} else {
			r.Kind = Categorical
		}
		switch {
		case name == t.IDCol:
			r.Skipped = "id column"
		case nonMissing == 0:
			r.Skipped = "no values"
		case r.Kind == Categorical && nonMissing >= 10 && float64(r.Distinct) >= 0.9*float64(nonMissing):
			r.Skipped = "unique per row (identifier)"
		}
		out[c] = r
	}
	return out
}

// Feature is one column of the design matrix.
type Feature struct {
	// Name is how reports show the feature: the column name for a
	// numeric column, "col:missing" for its missing indicator, "col=level"
	// for a category and "col=other" for the rarer ones.
	Name   string `json:"feature"`
	Column string `json:"column"`
	// Role is "numeric", "missing", "level" or "other".
	Role  string `json:"role"`
	Level string `json:"level,omitempty"`
	// Mean and SD are the training statistics used to standardize it.
	Mean float64 `json:"mean"`
	SD   float64 `json:"sd"`
}

// columnCode turns one table column into raw (unstandardized) features.
type columnCode struct {
	name  string
	index int // in Table.Columns
	kind  Kind
	// numeric: median of the training values; missing indicator offset
	// (-1 when training had no missing value).
	median     float64
	missingOff int
	// categorical: offset of each kept level, and of "other" (-1 when none).
	levels   map[string]int
	otherOff int
	// first raw feature offset of this column.
	off int
}

// Encoder turns table rows into standardized feature vectors with the
// statistics of the rows it was fitted on.
type Encoder struct {
	cols     []columnCode
	raw      int       // number of raw features
	keep     []int     // raw feature -> kept feature index, -1 if dropped
	features []Feature // kept features
	columns  []ColumnReport
}

// EncodeOptions tune FitEncoder.
type EncodeOptions struct {
	// MaxLevels caps the one-hot levels per categorical column (the most
	// frequent in training; ties by value); zero means DefaultMaxLevels.
	MaxLevels int
}

// categoryValue is how a categorical cell is named as a level.
func categoryValue(s string) string {
	if isMissing(s) {
		return "(missing)"
	}
	return strings.TrimSpace(s)
}

// FitEncoder learns the encoding from the training rows of t: medians for
// imputing numeric columns, the kept levels of categorical columns, and
// the mean and standard deviation of every feature. Features that are
// constant in training are dropped. profile is Profile(t).
func FitEncoder(t *Table, profile []ColumnReport, train []int, opts EncodeOptions) (*Encoder, error) {
	if len(train) == 0 {
		return nil, fmt.Errorf("churn: fit encoder: no training rows")
	}
	maxLevels := opts.MaxLevels
	if maxLevels <= 0 {
		maxLevels = DefaultMaxLevels
	}
	e := &Encoder{columns: slices.Clone(profile)}
	var names []Feature
	for c := range t.Columns {
		p := profile[c]
		if p.Skipped != "" {
			continue
		}
		cc := columnCode{name: p.Name, index: c, kind: p.Kind, off: e.raw, missingOff: -1, otherOff: -1}
		switch p.Kind {
		case Numeric:
			var vals []float64
			var v float64
			missing := 0
			for _, i := range train {
				if parseCell(t.Rows[i][c], &v) == valueOK {
					vals = append(vals, v)
				} else {
					missing++
				}
			}
			if len(vals) == 0 {
				e.columns[c].Skipped = "no numeric value in training rows"
				continue
			}
			cc.median = median(vals)
			names = append(names, Feature{Name: p.Name, Column: p.Name, Role: "numeric"})
			e.raw++
			if missing > 0 {
				cc.missingOff = e.raw
				names = append(names, Feature{Name: p.Name + ":missing", Column: p.Name, Role: "missing"})
				e.raw++
			}
		case Categorical:
			counts := make(map[string]int)
			for _, i := range train {
				counts[categoryValue(t.Rows[i][c])]++
			}
			type lc struct {
				level string
				n     int
			}
			var ls []lc
			for l, n := range counts {
				ls = append(ls, lc{l, n})
			}
			slices.SortFunc(ls, func(a, b lc) int {
				return cmp.Or(cmp.Compare(b.n, a.n), strings.Compare(a.level, b.level))
			})
			cc.levels = make(map[string]int)
			for k, l := range ls {
				if k == maxLevels {
					cc.otherOff = e.raw
					names = append(names, Feature{Name: p.Name + "=other", Column: p.Name, Role: "other"})
					e.raw++
					break
				}
				cc.levels[l.level] = e.raw
				names = append(names, Feature{Name: p.Name + "=" + l.level, Column: p.Name, Role: "level", Level: l.level})
				e.raw++
			}
		}
		e.cols = append(e.cols, cc)
	}
	if e.raw == 0 {
		return nil, fmt.Errorf("churn: fit encoder: no usable feature column")
	}
	// Training means and standard deviations of the raw features.
	sum := make([]float64, e.raw)
	sq := make([]float64, e.raw)
	x := make([]float64, e.raw)
	for _, i := range train {
		e.rawRow(func(c int) string { return t.Rows[i][c] }, x)
		for j, v := range x {
			sum[j] += v
		}
	}
	n := float64(len(train))
	for j := range sum {
		sum[j] /= n
	}
	for _, i := range train {
		e.rawRow(func(c int) string { return t.Rows[i][c] }, x)
		for j, v := range x {
			d := v - sum[j]
			sq[j] += d * d
		}
	}
	e.keep = make([]int, e.raw)
	perColumn := make(map[string]int)
	for j := range names {
		sd := math.Sqrt(sq[j] / n)
		if sd < 1e-12*(1+math.Abs(sum[j])) {
			e.keep[j] = -1
			continue
		}
		names[j].Mean, names[j].SD = sum[j], sd
		e.keep[j] = len(e.features)
		e.features = append(e.features, names[j])
		if names[j].Role == "level" || names[j].Role == "other" {
			perColumn[names[j].Column]++
		}
	}
	for c := range e.columns {
		r := &e.columns[c]
		if r.Skipped != "" {
			continue
		}
		used := false
		for _, f := range e.features {
			used = used || f.Column == r.Name
		}
		if !used {
			r.Skipped = "constant in training rows"
		}
		r.Levels = perColumn[r.Name]
	}
	if len(e.features) == 0 {
		return nil, fmt.Errorf("churn: fit encoder: every feature is constant in the training rows")
	}
	return e, nil
}

// Features lists the encoded features in design-matrix order.
func (e *Encoder) Features() []Feature { return e.features }

// Columns reports every input column as encoded.
func (e *Encoder) Columns() []ColumnReport { return e.columns }

// rawRow writes the raw features of one row; get returns the cell of the
// table column with the given index.
func (e *Encoder) rawRow(get func(c int) string, x []float64) {
	clear(x)
	var v float64
	for _, cc := range e.cols {
		s := get(cc.index)
		switch cc.kind {
		case Numeric:
			if parseCell(s, &v) == valueOK {
				x[cc.off] = v
			} else {
				x[cc.off] = cc.median
				if cc.missingOff >= 0 {
					x[cc.missingOff] = 1
				}
			}
		case Categorical:
			if off, ok := cc.levels[categoryValue(s)]; ok {
				x[off] = 1
			} else if cc.otherOff >= 0 {
				x[cc.otherOff] = 1
			}
		}
	}
}

// encode writes the standardized feature vector of one row into dst
// (len(Features())); raw is scratch of the raw width.
func (e *Encoder) encode(get func(c int) string, raw, dst []float64) {
	e.rawRow(get, raw)
	for j, k := range e.keep {
		if k >= 0 {
			f := &e.features[k]
			dst[k] = (raw[j] - f.Mean) / f.SD
		}
	}
}

// Design encodes the given rows of t into a row-major design matrix whose
// first column is the intercept (1), followed by Features().
func (e *Encoder) Design(t *Table, rows []int) []float64 {
	d := len(e.features) + 1
	X := make([]float64, len(rows)*d)
	raw := make([]float64, e.raw)
	for r, i := range rows {
		row := X[r*d : (r+1)*d]
		row[0] = 1
		e.encode(func(c int) string { return t.Rows[i][c] }, raw, row[1:])
	}
	return X
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

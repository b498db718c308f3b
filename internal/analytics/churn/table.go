package churn

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ReadOptions name the label and id columns of a customer CSV.
type ReadOptions struct {
	// LabelCol is the column that says whether the customer churned.
	LabelCol string
	// Positive, when set, is the label value that means "churned"
	// (compared case-insensitively after trimming); every other non-blank
	// value is negative. When empty, labels are read with ParseLabel.
	Positive string
	// IDCol is the optional customer id column; it is never a feature.
	IDCol string
	// Comma is the field separator; zero means ','.
	Comma rune
}

// Table is a customer table with a usable label on every row. Feature
// values are kept as text; Profile and FitEncoder decide how to read them.
type Table struct {
	// Columns are the candidate feature columns (every header column but
	// the label), in file order.
	Columns []string
	// Rows holds one record per kept row, aligned with Columns.
	Rows [][]string
	// Labels is 1 for churned, 0 for retained, aligned with Rows.
	Labels []float64
	// IDs holds the id column's value per row (empty without an id column).
	IDs []string
	// Lines is the 1-based line number of each row in the file.
	Lines []int
	// LabelCol, Positive and IDCol are the ReadOptions the table was
	// read with.
	LabelCol, Positive, IDCol string
	// Input counts the rows read and why some were skipped.
	Input InputReport
}

// RejectedRow says why one input row was not used.
type RejectedRow struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// InputReport counts the data rows of a file and the rows skipped.
type InputReport struct {
	Rows     int            `json:"rows"`
	Used     int            `json:"used"`
	Rejected int            `json:"rejected"`
	ByReason map[string]int `json:"by_reason,omitempty"`
	// First holds the first rejected rows (at most MaxRejectExamples).
	First []RejectedRow `json:"first,omitempty"`
}

// MaxRejectExamples is how many rejected rows an InputReport lists.
const MaxRejectExamples = 10

func (r *InputReport) reject(line int, reason, detail string) {
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

// Label words understood without --positive. Matching is on the trimmed,
// lower-cased value.
var (
	positiveLabels = map[string]bool{
		"1": true, "1.0": true, "true": true, "t": true, "yes": true, "y": true,
		"churn": true, "churned": true, "left": true, "lost": true, "cancelled": true, "canceled": true,
		"inactive": true, "terminated": true, "attrited": true, "attrited customer": true,
		"是": true, "流失": true, "已流失": true, "离网": true, "已离网": true, "退订": true, "已退订": true,
	}
	negativeLabels = map[string]bool{
		"0": true, "0.0": true, "false": true, "f": true, "no": true, "n": true,
		"not churned": true, "no churn": true, "retained": true, "stayed": true, "active": true, "current": true,
		"existing": true, "existing customer": true,
		"否": true, "未流失": true, "留存": true, "在网": true, "活跃": true,
	}
)

// ParseLabel reads a churn label without an explicit positive value:
// 1/0, true/false, yes/no, 是/否 and churned-style words (churned,
// cancelled, 流失 … against retained, active, 留存 …).
func ParseLabel(s string) (float64, bool) {
	v := strings.ToLower(strings.TrimSpace(s))
	switch {
	case positiveLabels[v]:
		return 1, true
	case negativeLabels[v]:
		return 0, true
	}
	return 0, false
}

// ReadCSV reads a customer table with a header row (UTF-8, a leading BOM
// is tolerated). Rows whose label is blank or not understood, and rows
// with too few fields, are counted in Input and skipped. The error is for
// input that cannot be used as a whole: no header, unknown columns, no
// usable row.
func ReadCSV(r io.Reader, opts ReadOptions) (*Table, error) {
	if opts.LabelCol == "" {
		return nil, errors.New("churn: read csv: no label column given")
	}
	cr := csv.NewReader(r)
	if opts.Comma != 0 {
		cr.Comma = opts.Comma
	}
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("churn: read csv header: %w", err)
	}
	names := uniqueNames(header)
	labelIdx, idIdx := -1, -1
	for i, h := range names {
		if h == opts.LabelCol && labelIdx < 0 {
			labelIdx = i
		}
		if opts.IDCol != "" && h == opts.IDCol && idIdx < 0 {
			idIdx = i
		}
	}
	if labelIdx < 0 {
		return nil, fmt.Errorf("churn: read csv: label column %q not in header %q", opts.LabelCol, names)
	}
	if opts.IDCol != "" && idIdx < 0 {
		return nil, fmt.Errorf("churn: read csv: id column %q not in header %q", opts.IDCol, names)
	}
	if idIdx == labelIdx && idIdx >= 0 {
		return nil, fmt.Errorf("churn: read csv: id column and label column are both %q", opts.LabelCol)
	}
	t := &Table{LabelCol: opts.LabelCol, Positive: opts.Positive, IDCol: opts.IDCol}
	var featIdx []int
	for i, h := range names {
		if i != labelIdx {
			t.Columns = append(t.Columns, h)
			featIdx = append(featIdx, i)
		}
	}
	positive := strings.TrimSpace(opts.Positive)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				t.Input.Rows++
				t.Input.reject(pe.Line, "malformed csv", pe.Err.Error())
				continue
			}
			return nil, fmt.Errorf("churn: read csv: %w", err)
		}
		line, _ := cr.FieldPos(0)
		t.Input.Rows++
		if len(rec) <= labelIdx || (idIdx >= 0 && len(rec) <= idIdx) {
			t.Input.reject(line, "missing field", fmt.Sprintf("%d fields, header has %d", len(rec), len(names)))
			continue
		}
		raw := strings.TrimSpace(rec[labelIdx])
		var y float64
		switch {
		case raw == "":
			t.Input.reject(line, "blank label", "")
			continue
		case positive != "":
			if strings.EqualFold(raw, positive) {
				y = 1
			}
		default:
			var ok bool
			if y, ok = ParseLabel(raw); !ok {
				t.Input.reject(line, "unrecognized label", strconv.Quote(raw))
				continue
			}
		}
		// Short rows keep their present fields; the absent ones are blank
		// and counted as missing per column.
		row := make([]string, len(featIdx))
		for k, i := range featIdx {
			if i < len(rec) {
				row[k] = rec[i]
			}
		}
		t.Rows = append(t.Rows, row)
		t.Labels = append(t.Labels, y)
		t.Lines = append(t.Lines, line)
		if idIdx >= 0 {
			t.IDs = append(t.IDs, strings.TrimSpace(rec[idIdx]))
		}
	}
	t.Input.Used = len(t.Rows)
	if len(t.Rows) == 0 {
		return nil, fmt.Errorf("churn: read csv: no row with a usable label (%d rows, %d rejected)", t.Input.Rows, t.Input.Rejected)
	}
	return t, nil
}

// uniqueNames trims the header (and a UTF-8 BOM) and renames repeated or
// blank names so every column can be addressed.
func uniqueNames(header []string) []string {
	names := make([]string, len(header))
	seen := make(map[string]int, len(header))
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff")
		}
		h = strings.TrimSpace(h)
		if h == "" {
			h = fmt.Sprintf("column_%d", i+1)
		}
		if n := seen[h]; n > 0 {
			seen[h] = n + 1
			h = fmt.Sprintf("%s_%d", h, n+1)
		}
		seen[h]++
		names[i] = h
	}
	return names
}

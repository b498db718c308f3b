package clv

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// CSVOptions name the columns of a transactions CSV (with a header row).
type CSVOptions struct {
	CustomerCol, DateCol, AmountCol string
	// DateFormat is a Go layout ("20060102") or a strftime-like pattern
	// ("%Y%m%d"). Empty means: try ISO dates, ISO date-times, RFC 3339,
	// yyyymmdd and yyyy/mm/dd.
	DateFormat string
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

func (r *ReadReport) reject(line int, reason, detail string) {
	r.Rejected++
	if r.ByReason == nil {
		r.ByReason = make(map[string]int)
	}
	r.ByReason[reason]++
	if len(r.First) < MaxRejectExamples {
		r.First = append(r.First, RejectedRow{Line: line, Reason: reason + ": " + detail})
	}
}

var defaultDateLayouts = []string{
	time.DateOnly, time.RFC3339, time.DateTime, "2006-01-02T15:04:05", "20060102", "2006/01/02", "2006/1/2", "2006-1-2",
}

// DateLayout turns a strftime-like pattern (%Y %m %d %H %M %S %y %b %B %j
// %%) into a Go layout; a string without % is returned as is.
func DateLayout(format string) (string, error) {
	if !strings.Contains(format, "%") {
		return format, nil
	}
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+1 == len(format) {
			return "", fmt.Errorf("clv: date format %q ends with %%", format)
		}
		i++
		switch format[i] {
		case 'Y':
			b.WriteString("2006")
		case 'y':
			b.WriteString("06")
		case 'm':
			b.WriteString("01")
		case 'd':
			b.WriteString("02")
		case 'H':
			b.WriteString("15")
		case 'M':
			b.WriteString("04")
		case 'S':
			b.WriteString("05")
		case 'b':
			b.WriteString("Jan")
		case 'B':
			b.WriteString("January")
		case 'j':
			b.WriteString("002")
		case '%':
			b.WriteByte('%')
		default:
			return "", fmt.Errorf("clv: date format %q: unsupported directive %%%c", format, format[i])
		}
	}
	return b.String(), nil
}

// ReadTransactionsCSV reads transactions from a CSV with a header row. Rows
// whose customer is empty, or whose date or amount does not parse, are
// counted in the report and skipped; the error is for unusable input as a
// whole (unreadable file, missing columns, no usable row).
func ReadTransactionsCSV(r io.Reader, opts CSVOptions) ([]Transaction, ReadReport, error) {
	var rep ReadReport
	layouts := defaultDateLayouts
	if opts.DateFormat != "" {
		l, err := DateLayout(opts.DateFormat)
		if err != nil {
			return nil, rep, err
		}
		layouts = []string{l}
	}
	cr := csv.NewReader(r)
	if opts.Comma != 0 {
		cr.Comma = opts.Comma
	}
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, rep, fmt.Errorf("clv: read csv header: %w", err)
	}
	col := make(map[string]int, len(header))
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if _, dup := col[h]; !dup {
			col[h] = i
		}
	}
	var idx [3]int
	var missing []string
	for k, name := range []string{opts.CustomerCol, opts.DateCol, opts.AmountCol} {
		i, ok := col[name]
		if !ok {
			missing = append(missing, strconv.Quote(name))
		}
		idx[k] = i
	}
	if len(missing) > 0 {
		return nil, rep, fmt.Errorf("clv: read csv: column %s not in header %v", strings.Join(missing, ", "), header)
	}
	need := max(idx[0], idx[1], idx[2]) + 1
	var txs []Transaction
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				rep.Rows++
				rep.reject(pe.Line, "malformed csv", pe.Err.Error())
				continue
			}
			return nil, rep, fmt.Errorf("clv: read csv: %w", err)
		}
		rep.Rows++
		if len(rec) < need {
			rep.reject(line, "missing field", fmt.Sprintf("%d fields, need %d", len(rec), need))
			continue
		}
		id := strings.TrimSpace(rec[idx[0]])
		if id == "" {
			rep.reject(line, "empty customer", "")
			continue
		}
		ds := strings.TrimSpace(rec[idx[1]])
		t, ok := parseDate(ds, layouts)
		if !ok {
			rep.reject(line, "bad date", strconv.Quote(ds))
			continue
		}
		as := strings.TrimSpace(rec[idx[2]])
		amt, err := strconv.ParseFloat(as, 64)
		if err != nil || math.IsNaN(amt) || math.IsInf(amt, 0) {
			rep.reject(line, "bad amount", strconv.Quote(as))
			continue
		}
		txs = append(txs, Transaction{Customer: id, Time: t, Amount: amt})
	}
	rep.Accepted = len(txs)
	if len(txs) == 0 {
		return nil, rep, fmt.Errorf("clv: read csv: no usable row (%d rows, %d rejected)", rep.Rows, rep.Rejected)
	}
	return txs, rep, nil
}

func parseDate(s string, layouts []string) (time.Time, bool) {
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

package dedupe

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// CSVOptions say how ReadCSV maps a file's columns.
type CSVOptions struct {
	// IDCol is the header of the record id column. Required.
	IDCol string
	// FieldOf maps a header to a canonical field name (given_name,
	// surname, name, birth_date, phone, email, national_id, company,
	// street_number, address, address_2, city, postcode, state, gender);
	// the importer's header guesser fits. When nil, headers must already be
	// canonical names.
	FieldOf func(header string) (string, bool)
}

// ReadReport says what ReadCSV did with each row and column.
type ReadReport struct {
	Rows     int               `json:"rows"`
	Accepted int               `json:"accepted"`
	Rejected int               `json:"rejected"`
	ByReason map[string]int    `json:"by_reason,omitempty"`
	First    []RejectedRow     `json:"first,omitempty"` // the first few rejected rows
	Columns  map[string]string `json:"columns"`         // header → canonical field
	Unmapped []string          `json:"unmapped,omitempty"`
}

// RejectedRow is one row ReadCSV did not use, and why.
type RejectedRow struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

const firstRejected = 10

func (rep *ReadReport) reject(line int, reason string) {
	rep.Rejected++
	if rep.ByReason == nil {
		rep.ByReason = map[string]int{}
	}
	rep.ByReason[reason]++
	if len(rep.First) < firstRejected {
		rep.First = append(rep.First, RejectedRow{Line: line, Reason: reason})
	}
}

// recordSetters write one canonical field into a Record.
var recordSetters = map[string]func(r *Record, v string){
	"name":          func(r *Record, v string) { r.Name = v },
	"given_name":    func(r *Record, v string) { r.GivenName = v },
	"surname":       func(r *Record, v string) { r.Surname = v },
	"birth_date":    func(r *Record, v string) { r.BirthDate = v },
	"gender":        func(r *Record, v string) { r.Gender = v },
	"phone":         func(r *Record, v string) { r.Phone = v },
	"email":         func(r *Record, v string) { r.Email = v },
	"national_id":   func(r *Record, v string) { r.NationalID = v },
	"company":       func(r *Record, v string) { r.Company = v },
	"street_number": func(r *Record, v string) { r.StreetNumber = v },
	"address":       func(r *Record, v string) { r.Address = v },
	"address_2":     func(r *Record, v string) { r.Address2 = v },
	"city":          func(r *Record, v string) { r.City = v },
	"postcode":      func(r *Record, v string) { r.Postcode = v },
	"state":         func(r *Record, v string) { r.State = v },
}

// ReadCSV reads customer records from a CSV file with a header row. Spaces
// around values are trimmed (Febrl files write ", "). Rows with a wrong
// number of columns, an empty id or an id seen before are rejected and
// counted in the report; they never stop the read.
func ReadCSV(r io.Reader, opts CSVOptions) ([]Record, ReadReport, error) {
	rep := ReadReport{Columns: map[string]string{}}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, rep, fmt.Errorf("dedupe: read csv header: %w", err)
	}
	idCol := -1
	setters := make([]func(*Record, string), len(header))
	claimed := map[string]string{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if h == strings.TrimSpace(opts.IDCol) {
			idCol = i
			continue
		}
		field, ok := h, recordSetters[h] != nil
		if opts.FieldOf != nil {
			field, ok = opts.FieldOf(h)
		}
		set := recordSetters[field]
		if !ok || set == nil {
			rep.Unmapped = append(rep.Unmapped, h)
			continue
		}
		if prev, dup := claimed[field]; dup {
			return nil, rep, fmt.Errorf("dedupe: columns %q and %q both map to %s", prev, h, field)
		}
		claimed[field] = h
		rep.Columns[h] = field
		setters[i] = set
	}
	if idCol < 0 {
		return nil, rep, fmt.Errorf("dedupe: id column %q not in header %q", opts.IDCol, header)
	}
	var recs []Record
	seen := map[string]bool{}
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		rep.Rows++
		var perr *csv.ParseError
		switch {
		case errors.As(err, &perr):
			rep.reject(perr.StartLine, "malformed csv")
			continue
		case err != nil:
			return recs, rep, fmt.Errorf("dedupe: read csv after row %d: %w", rep.Rows, err)
		}
		line, _ := cr.FieldPos(0)
		if len(row) != len(header) {
			rep.reject(line, fmt.Sprintf("has %d columns, header has %d", len(row), len(header)))
			continue
		}
		id := strings.TrimSpace(row[idCol])
		if id == "" {
			rep.reject(line, "empty id")
			continue
		}
		if seen[id] {
			rep.reject(line, "duplicate id")
			continue
		}
		seen[id] = true
		rec := Record{ID: id}
		for i, v := range row {
			if setters[i] != nil {
				setters[i](&rec, strings.TrimSpace(v))
			}
		}
		recs = append(recs, rec)
		rep.Accepted++
	}
	return recs, rep, nil
}

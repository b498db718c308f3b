package importer

import (
	"encoding/csv"
	"io"
	"strconv"

	"github.com/rapportcrm/rapport/internal/store"
)

// RejectsWriter writes rejected rows as CSV: the file's own columns and an
// "error" column ("line 7: reason"), so the rows can be corrected and
// imported again (the importer reports the error column as ignored).
type RejectsWriter struct {
	w     *csv.Writer
	width int
}

// NewRejectsWriter starts a rejects CSV (UTF-8 with a BOM, so Excel opens
// Chinese text correctly) with the file's header.
func NewRejectsWriter(w io.Writer, header []string) (*RejectsWriter, error) {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return nil, err
	}
	cw := csv.NewWriter(w)
	h := append(append([]string{}, header...), "error")
	if err := cw.Write(h); err != nil {
		return nil, err
	}
	return &RejectsWriter{w: cw, width: len(header)}, nil
}

// Write adds one rejected row.
func (r *RejectsWriter) Write(rj store.ImportReject) error {
	rec := make([]string, r.width, r.width+1)
	copy(rec, rj.Cells)
	return r.w.Write(append(rec, "line "+strconv.Itoa(rj.Line)+": "+rj.Reason))
}

// Flush writes buffered rows out and reports any write error.
func (r *RejectsWriter) Flush() error {
	r.w.Flush()
	return r.w.Error()
}

package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/rapportcrm/rapport/internal/textcheck"
)

// Row is one data row of a file: its line (CSV) or row number (XLSX),
// counted from 1 with the header on line 1, and its cells as written.
type Row struct {
	Line  int
	Cells []string
	// Err is set when the row could not be parsed at all (a broken quote).
	Err error
}

// Table is an opened file: its header and a stream of rows.
type Table struct {
	Header    []string
	Format    string // "csv" or "xlsx"
	Encoding  string // "utf-8", "utf-8-bom", "gb18030", "utf-16"
	Delimiter string // "," "\t" ";" for CSV
	// Estimate is the number of data rows, counted from line breaks (an
	// upper bound when quoted cells hold line breaks).
	Estimate int64
	next     func() (Row, bool)
	close    func() error
}

// Next returns the next row, or false at the end.
func (t *Table) Next() (Row, bool) {
	row, ok := t.next()
	if ok && row.Err == nil {
		row.Err = t.unstorable(row.Cells)
	}
	return row, ok
}

// unstorable refuses a row with a cell PostgreSQL cannot store (a NUL
// character, which some exports pad fields with, or bytes that are not
// UTF-8), naming the column, and makes the cells storable for the
// rejected-rows file: each such character becomes U+FFFD.
func (t *Table) unstorable(cells []string) error {
	var bad error
	for i, c := range cells {
		err := textcheck.String(c)
		if err == nil {
			continue
		}
		if bad == nil {
			col := strconv.Itoa(i + 1)
			if i < len(t.Header) && t.Header[i] != "" {
				col = t.Header[i]
			}
			bad = unstorableCell(fmt.Sprintf("column %s: %v / 第 %d 列含有无法保存的字符（NUL 或非 UTF-8）", col, err, i+1))
		}
		cells[i] = storable(c)
	}
	return bad
}

// unstorableCell is the error of a row that was read but holds a cell
// that cannot be stored.
type unstorableCell string

func (e unstorableCell) Error() string { return string(e) }

// rowReason is why a row that could not be taken in is rejected.
func rowReason(err error) string {
	var cell unstorableCell
	if errors.As(err, &cell) {
		return cell.Error()
	}
	return "cannot read this line / 无法解析此行: " + err.Error()
}

// storable replaces what textcheck refuses with U+FFFD.
func storable(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\ufffd"), "\x00", "\ufffd")
}

// Close releases the table's resources.
func (t *Table) Close() error {
	if t.close == nil {
		return nil
	}
	return t.close()
}

// Open reads a CSV or XLSX file. XLSX is recognised by its content (a ZIP
// archive) whatever the name says. For CSV it detects the encoding (UTF-8,
// UTF-8 with BOM, UTF-16 with BOM, otherwise GB18030, which includes GBK,
// the encoding of Chinese Excel exports) and the delimiter (comma, tab or
// semicolon, whichever the header line has most of).
func Open(r io.ReadSeeker, name string) (*Table, error) {
	head := make([]byte, 4)
	n, _ := io.ReadFull(r, head)
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("import: read %s: %w", name, err)
	}
	if n == 4 && bytes.Equal(head, []byte("PK\x03\x04")) {
		return openXLSX(r, name)
	}
	if strings.EqualFold(filepath.Ext(name), ".xls") {
		return nil, fmt.Errorf("import: %s is an old binary Excel file (.xls); save it as .xlsx or CSV / 请将 .xls 另存为 .xlsx 或 CSV", name)
	}
	return openCSV(r, name)
}

// scan reads the whole file once: whether it is valid UTF-8, how many line
// breaks it has, and the first line (for delimiter detection).
func scan(r io.Reader) (validUTF8 bool, lines int64, first []byte, err error) {
	br := bufio.NewReaderSize(r, 1<<20)
	validUTF8 = true
	var carry []byte
	buf := make([]byte, 1<<20)
	for {
		n, rerr := br.Read(buf)
		chunk := buf[:n]
		lines += int64(bytes.Count(chunk, []byte{'\n'}))
		if first == nil || (len(first) < 1<<16 && !bytes.Contains(first, []byte{'\n'})) {
			first = append(first, chunk[:min(len(chunk), 1<<16)]...)
		}
		if validUTF8 {
			data := append(carry, chunk...)
			// Keep an incomplete trailing rune for the next chunk.
			cut := len(data)
			for i := 1; i <= 3 && i <= len(data); i++ {
				if utf8.RuneStart(data[len(data)-i]) {
					if !utf8.FullRune(data[len(data)-i:]) {
						cut = len(data) - i
					}
					break
				}
			}
			if !utf8.Valid(data[:cut]) {
				validUTF8 = false
			}
			carry = append(carry[:0], data[cut:]...)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return false, 0, nil, rerr
		}
	}
	if len(carry) > 0 {
		validUTF8 = false
	}
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	return validUTF8, lines, first, nil
}

func openCSV(r io.ReadSeeker, name string) (*Table, error) {
	valid, lines, first, err := scan(r)
	if err != nil {
		return nil, fmt.Errorf("import: read %s: %w", name, err)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("import: read %s: %w", name, err)
	}
	t := &Table{Format: "csv"}
	var in io.Reader = bufio.NewReaderSize(r, 1<<20)
	switch {
	case bytes.HasPrefix(first, []byte("\xef\xbb\xbf")):
		t.Encoding = "utf-8-bom"
		in = transform.NewReader(in, unicode.UTF8BOM.NewDecoder())
		first = first[3:]
	case bytes.HasPrefix(first, []byte("\xff\xfe")) || bytes.HasPrefix(first, []byte("\xfe\xff")):
		t.Encoding = "utf-16"
		in = transform.NewReader(in, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder())
		// The first line has to be decoded to find the delimiter.
		dec, _, _ := transform.Bytes(unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder(), first)
		first = dec
	case valid:
		t.Encoding = "utf-8"
	default:
		t.Encoding = "gb18030"
		in = transform.NewReader(in, simplifiedchinese.GB18030.NewDecoder())
		dec, _, _ := transform.Bytes(simplifiedchinese.GB18030.NewDecoder(), first)
		first = dec
	}
	delim := detectDelimiter(first)
	t.Delimiter = string(delim)
	cr := csv.NewReader(in)
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("import: %s is empty / 文件为空", name)
	}
	if err != nil {
		return nil, fmt.Errorf("import: read the header of %s / 无法读取表头: %w", name, err)
	}
	t.Header = cleanHeader(header)
	t.Estimate = max(0, lines-1)
	t.next = func() (Row, bool) {
		for {
			rec, err := cr.Read()
			if errors.Is(err, io.EOF) {
				return Row{}, false
			}
			if err != nil {
				var pe *csv.ParseError
				line := 0
				if errors.As(err, &pe) {
					line = pe.StartLine
				}
				return Row{Line: line, Err: err}, true
			}
			line, _ := cr.FieldPos(0)
			return Row{Line: line, Cells: rec}, true
		}
	}
	return t, nil
}

// detectDelimiter picks the delimiter the header line uses most, outside
// quotes; comma when there is none.
func detectDelimiter(line []byte) rune {
	counts := map[byte]int{}
	quoted := false
	for _, c := range line {
		switch {
		case c == '"':
			quoted = !quoted
		case !quoted && (c == ',' || c == '\t' || c == ';'):
			counts[c]++
		}
	}
	best := byte(',')
	for _, c := range []byte{'\t', ';'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return rune(best)
}

func cleanHeader(h []string) []string {
	out := make([]string, len(h))
	for i, c := range h {
		out[i] = storable(strings.TrimSpace(strings.TrimPrefix(c, "\ufeff")))
	}
	return out
}

func openXLSX(r io.Reader, name string) (*Table, error) {
	f, err := excelize.OpenReader(r)
	if err != nil {
		return nil, fmt.Errorf("import: open workbook %s / 无法打开工作簿: %w", name, err)
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		f.Close()
		return nil, fmt.Errorf("import: %s has no sheet / 工作簿没有工作表", name)
	}
	sheet := sheets[f.GetActiveSheetIndex()]
	var estimate int64
	if dim, err := f.GetSheetDimension(sheet); err == nil {
		if _, last, ok := strings.Cut(dim, ":"); ok {
			if _, row, err := excelize.CellNameToCoordinates(last); err == nil {
				estimate = int64(row - 1)
			}
		}
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("import: read sheet %s of %s: %w", sheet, name, err)
	}
	t := &Table{Format: "xlsx", Encoding: "utf-8", Estimate: estimate}
	t.close = func() error { return errors.Join(rows.Close(), f.Close()) }
	line, done := 0, false
	read := func() ([]string, bool, error) {
		if done || !rows.Next() {
			done = true
			return nil, false, rows.Error()
		}
		line++
		cells, err := rows.Columns()
		return cells, true, err
	}
	for {
		h, ok, err := read()
		if err != nil {
			t.Close()
			return nil, fmt.Errorf("import: read sheet %s of %s: %w", sheet, name, err)
		}
		if !ok {
			t.Close()
			return nil, fmt.Errorf("import: sheet %s of %s is empty / 工作表为空", sheet, name)
		}
		if len(h) > 0 {
			t.Header = cleanHeader(h)
			estimate -= int64(line - 1)
			break
		}
	}
	t.Estimate = max(0, estimate)
	reported := false
	t.next = func() (Row, bool) {
		cells, ok, err := read()
		if !ok {
			if err != nil && !reported {
				reported = true
				return Row{Line: line + 1, Err: err}, true
			}
			return Row{}, false
		}
		return Row{Line: line, Cells: cells, Err: err}, true
	}
	return t, nil
}

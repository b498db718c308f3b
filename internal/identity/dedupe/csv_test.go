package dedupe

import (
	"strings"
	"testing"
)

func TestReadCSVCountsBadRowsAndKeepsGoodOnes(t *testing.T) {
	in := "id, name, phone, birth_date, notes\n" +
		"1, 张伟, 13800138000, 1990-03-15, vip\n" +
		"2, 李娜, 13900000000\n" + // too few columns
		", 王芳, 13700000000, 1985-01-01, x\n" + // no id
		"1, 张伟, 13800138000, 1990-03-15, again\n" + // id seen before
		"3, \"Smith, John\", +1 415 555 0100, 1970-01-02, \n"
	recs, rep, err := ReadCSV(strings.NewReader(in), CSVOptions{IDCol: "id"})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Name != "张伟" || recs[0].Phone != "13800138000" || recs[1].Name != "Smith, John" {
		t.Errorf("records %+v", recs)
	}
	if rep.Rows != 5 || rep.Accepted != 2 || rep.Rejected != 3 ||
		rep.ByReason["empty id"] != 1 || rep.ByReason["duplicate id"] != 1 || rep.ByReason["has 3 columns, header has 5"] != 1 {
		t.Errorf("report %+v", rep)
	}
	if len(rep.First) != 3 || rep.First[0].Line != 3 {
		t.Errorf("first rejected rows %+v, want lines 3, 4, 5", rep.First)
	}
	if len(rep.Unmapped) != 1 || rep.Unmapped[0] != "notes" {
		t.Errorf("unmapped %v, want [notes]", rep.Unmapped)
	}
}

func TestReadCSVRejectsAmbiguousOrMissingColumns(t *testing.T) {
	if _, _, err := ReadCSV(strings.NewReader("id,phone,phone\n1,2,3\n"), CSVOptions{IDCol: "id"}); err == nil {
		t.Error("two phone columns: no error")
	}
	if _, _, err := ReadCSV(strings.NewReader("key,phone\n1,2\n"), CSVOptions{IDCol: "id"}); err == nil {
		t.Error("missing id column: no error")
	}
	if _, _, err := ReadCSV(strings.NewReader(""), CSVOptions{IDCol: "id"}); err == nil {
		t.Error("empty file: no error")
	}
}

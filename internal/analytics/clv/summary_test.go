package clv

import (
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestSummarizeMergesSameDayAndSplitsHoldout(t *testing.T) {
	txs := []Transaction{
		{"b", day("2024-01-10"), 5},
		{"a", day("2024-01-01"), 10},
		{"a", day("2024-01-15").Add(9 * time.Hour), 20},
		{"a", day("2024-01-15").Add(18 * time.Hour), 4}, // same day: one transaction of 24
		{"a", day("2024-01-29"), 30},
		{"a", day("2024-02-05"), 7}, // holdout
		{"a", day("2024-02-12"), 9}, // holdout, last day
		{"a", day("2024-02-13"), 9}, // after observation end
		{"c", day("2024-02-01"), 1}, // first purchase after calibration
	}
	s, err := Summarize(txs, SummaryOptions{CalibrationEnd: day("2024-01-29"), ObservationEnd: day("2024-02-12"), Unit: Week})
	if err != nil {
		t.Fatal(err)
	}
	want := []Summary{
		{ID: "b", X: 0, TX: 0, T: 19.0 / 7},
		{ID: "a", X: 2, TX: 4, T: 4, Zbar: 27, HoldoutX: 2, HoldoutValue: 16},
	}
	if len(s.Customers) != len(want) {
		t.Fatalf("customers %+v, want %+v", s.Customers, want)
	}
	for i, w := range want {
		if s.Customers[i] != w {
			t.Errorf("customer %d = %+v, want %+v", i, s.Customers[i], w)
		}
	}
	if s.LateCustomers != 1 || s.IgnoredTransactions != 1 || s.HoldoutDuration != 2 {
		t.Errorf("late %d ignored %d holdout %v, want 1, 1, 2", s.LateCustomers, s.IgnoredTransactions, s.HoldoutDuration)
	}
}

func TestSummarizeUnits(t *testing.T) {
	txs := []Transaction{{"a", day("2024-01-01"), 1}, {"a", day("2024-01-31"), 1}}
	tests := []struct {
		unit  Unit
		tx, T float64
	}{
		{Day, 30, 60},
		{Week, 30.0 / 7, 60.0 / 7},
		{Month, 30 / (365.25 / 12), 60 / (365.25 / 12)},
	}
	for _, tt := range tests {
		s, err := Summarize(txs, SummaryOptions{CalibrationEnd: day("2024-03-01"), Unit: tt.unit})
		if err != nil {
			t.Fatal(err)
		}
		c := s.Customers[0]
		if math.Abs(c.TX-tt.tx) > 1e-12 || math.Abs(c.T-tt.T) > 1e-12 {
			t.Errorf("%s: t_x %v T %v, want %v %v", tt.unit, c.TX, c.T, tt.tx, tt.T)
		}
	}
	if _, err := ParseUnit("fortnight"); err == nil {
		t.Error("unknown unit accepted")
	}
}

func TestSummarizeRejectsBadOptions(t *testing.T) {
	txs := []Transaction{{"a", day("2024-01-01"), 1}}
	if _, err := Summarize(txs, SummaryOptions{}); err == nil {
		t.Error("missing calibration end accepted")
	}
	if _, err := Summarize(nil, SummaryOptions{CalibrationEnd: day("2024-01-01")}); err == nil {
		t.Error("no transactions accepted")
	}
	if _, err := Summarize(txs, SummaryOptions{CalibrationEnd: day("2024-02-01"), ObservationEnd: day("2024-01-15")}); err == nil {
		t.Error("observation end before calibration end accepted")
	}
}

func TestReadTransactionsCSVMatchesCDNOWSample(t *testing.T) {
	f, err := os.Open("testdata/cdnowElog.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	txs, rep, err := ReadTransactionsCSV(f, CSVOptions{CustomerCol: "sampleid", DateCol: "date", AmountCol: "sales", DateFormat: "%Y%m%d"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != 6919 || rep.Accepted != 6919 || rep.Rejected != 0 {
		t.Errorf("report %+v, want 6919 rows all accepted", rep)
	}
	sample := readCDNOWSample(t)
	if len(sample) != len(txs) {
		t.Fatalf("%d transactions from the CSV, %d from the sample", len(txs), len(sample))
	}
	for i := range txs {
		if txs[i] != sample[i] {
			t.Fatalf("row %d: CSV %+v, sample %+v", i, txs[i], sample[i])
		}
	}
}

func TestReadTransactionsCSVCountsBadRows(t *testing.T) {
	in := "cust,when,amount,note\n" +
		"1,2024-01-01,10.5,ok\n" +
		"2,2024-13-01,3,bad month\n" +
		"3,2024-01-02,abc,bad amount\n" +
		",2024-01-02,1,no customer\n" +
		"4,2024-01-03\n" +
		"5,2024-01-04,NaN,nan\n" +
		"6,\"2024-01-05\",2,ok\n"
	txs, rep, err := ReadTransactionsCSV(strings.NewReader(in), CSVOptions{CustomerCol: "cust", DateCol: "when", AmountCol: "amount"})
	if err != nil {
		t.Fatal(err)
	}
	if len(txs) != 2 || rep.Rows != 7 || rep.Accepted != 2 || rep.Rejected != 5 {
		t.Fatalf("txs %d, report %+v", len(txs), rep)
	}
	wantReasons := map[string]int{"bad date": 1, "bad amount": 2, "empty customer": 1, "missing field": 1}
	for k, v := range wantReasons {
		if rep.ByReason[k] != v {
			t.Errorf("reason %q: %d, want %d (all: %v)", k, rep.ByReason[k], v, rep.ByReason)
		}
	}
	if rep.First[0].Line != 3 || !strings.HasPrefix(rep.First[0].Reason, "bad date") {
		t.Errorf("first rejected row %+v, want line 3 bad date", rep.First[0])
	}
}

func TestReadTransactionsCSVFailsWhenNothingIsUsable(t *testing.T) {
	tests := []struct{ name, in string }{
		{"missing column", "cust,when\n1,2024-01-01\n"},
		{"no usable rows", "cust,when,amount\n1,yesterday,3\n"},
		{"empty", ""},
	}
	for _, tt := range tests {
		if _, _, err := ReadTransactionsCSV(strings.NewReader(tt.in), CSVOptions{CustomerCol: "cust", DateCol: "when", AmountCol: "amount"}); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

func TestDateLayoutAcceptsStrftimeAndGoLayouts(t *testing.T) {
	tests := []struct{ format, in string }{
		{"%Y%m%d", "19970102"},
		{"20060102", "19970102"},
		{"%d/%m/%Y", "02/01/1997"},
		{"%Y-%m-%d %H:%M:%S", "1997-01-02 13:04:05"},
	}
	for _, tt := range tests {
		l, err := DateLayout(tt.format)
		if err != nil {
			t.Fatal(err)
		}
		d, err := time.Parse(l, tt.in)
		if err != nil {
			t.Errorf("%s: %v", tt.format, err)
			continue
		}
		if y, m, dd := d.Date(); y != 1997 || m != 1 || dd != 2 {
			t.Errorf("%s: parsed %v", tt.format, d)
		}
	}
	if _, err := DateLayout("%Q"); err == nil {
		t.Error("unknown directive accepted")
	}
}

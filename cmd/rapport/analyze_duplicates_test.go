package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// febrlDataset1 is the Febrl copy kept in the dedupe package's testdata
// (source: shared/datasets/febrl).
const febrlDataset1 = "../../internal/identity/dedupe/testdata/dataset1.csv"

func febrlPerson(id string) string {
	parts := strings.Split(id, "-")
	if len(parts) < 3 {
		return id
	}
	return parts[1]
}

func TestAnalyzeDuplicatesCSVOnFebrlDataset1(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := runAnalyzeDuplicates([]string{"--input", febrlDataset1, "--id-col", "rec_id", "--format", "csv"}, &out, &errOut); err != nil {
		t.Fatalf("runAnalyzeDuplicates: %v\n%s", err, errOut.String())
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatalf("output is not CSV: %v", err)
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != "id_a,id_b,score" {
		t.Fatalf("first line %v, want id_a,id_b,score", rows[:min(1, len(rows))])
	}
	const truePairs = 500 // dataset README
	correct := 0
	seen := map[[2]string]bool{}
	for _, r := range rows[1:] {
		if len(r) != 3 {
			t.Fatalf("line %v has %d fields", r, len(r))
		}
		s, err := strconv.ParseFloat(r[2], 64)
		if err != nil || s < 0.5 || s > 1 {
			t.Errorf("score %q not a number in [threshold, 1]", r[2])
		}
		key := [2]string{min(r[0], r[1]), max(r[0], r[1])}
		if seen[key] {
			t.Errorf("pair %v listed twice", key)
		}
		seen[key] = true
		if febrlPerson(r[0]) == febrlPerson(r[1]) {
			correct++
		}
	}
	found := len(rows) - 1
	precision, recall := float64(correct)/float64(found), float64(correct)/truePairs
	t.Logf("%d pairs, precision %.4f recall %.4f", found, precision, recall)
	if precision < 0.95 || recall < 0.90 {
		t.Errorf("precision %.4f recall %.4f, want ≥ 0.95 and ≥ 0.90", precision, recall)
	}
	if !strings.Contains(errOut.String(), "1000 rows") || !strings.Contains(errOut.String(), "拒绝 0 行") {
		t.Errorf("summary on stderr does not report the rows read:\n%s", errOut.String())
	}
}

func TestAnalyzeDuplicatesJSONCarriesEvidence(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := runAnalyzeDuplicates([]string{"--input", febrlDataset1, "--id-col", "rec_id", "--format", "json", "--threshold", "0.9"}, &out, &errOut); err != nil {
		t.Fatalf("runAnalyzeDuplicates: %v\n%s", err, errOut.String())
	}
	var got struct {
		Input struct {
			Rows    int               `json:"rows"`
			Columns map[string]string `json:"columns"`
		} `json:"input"`
		Pairs []struct {
			IDA      string  `json:"id_a"`
			IDB      string  `json:"id_b"`
			Score    float64 `json:"score"`
			Evidence []struct {
				Field   string `json:"field"`
				Outcome string `json:"outcome"`
			} `json:"evidence"`
		} `json:"pairs"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	if got.Input.Rows != 1000 || got.Input.Columns["soc_sec_id"] != "national_id" || got.Input.Columns["suburb"] != "city" {
		t.Errorf("input report %+v", got.Input)
	}
	if len(got.Pairs) < 400 {
		t.Fatalf("%d pairs at threshold 0.9, expected most of the 500 duplicates", len(got.Pairs))
	}
	for _, p := range got.Pairs {
		if p.Score < 0.9 || len(p.Evidence) == 0 {
			t.Fatalf("pair %+v: score below threshold or no evidence", p)
		}
	}
}

func TestAnalyzeDuplicatesReportsBadInput(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "customers.csv")
	data := "客户编号, 姓名, 手机号, 生日\n" +
		"c1, 张伟, 138 0013 8000, 1990-03-15\n" +
		"c2, 张玮, 13800138000, 1990-03-15\n" +
		"c3, 李娜\n" + // too few columns: rejected, counted
		", 王芳, 13900000000, 1985-01-01\n" // no id: rejected, counted
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := runAnalyzeDuplicates([]string{"--input", path, "--id-col", "客户编号"}, &out, &errOut); err != nil {
		t.Fatalf("runAnalyzeDuplicates: %v\n%s", err, errOut.String())
	}
	if got := strings.TrimSpace(out.String()); !strings.HasPrefix(got, "id_a,id_b,score\nc1,c2,") {
		t.Errorf("output %q, want the pair c1,c2", got)
	}
	if !strings.Contains(errOut.String(), "2 rejected") {
		t.Errorf("stderr does not count the 2 bad rows:\n%s", errOut.String())
	}

	for _, args := range [][]string{
		{},
		{"--input", path, "--format", "xml"},
		{"--input", path, "--threshold", "1.5"},
		{"--input", path, "--id-col", "nope"},
		{"--input", filepath.Join(dir, "missing.csv")},
	} {
		if err := runAnalyzeDuplicates(args, &out, &errOut); err == nil {
			t.Errorf("args %q: no error", args)
		}
	}
}

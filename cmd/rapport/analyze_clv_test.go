package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cdnowElog is the BTYD copy of the CDNOW 1/10 sample kept in the clv
// package's testdata (source: shared/datasets/cdnow).
const cdnowElog = "../../internal/analytics/clv/testdata/cdnowElog.csv"

type clvOutput struct {
	Customers    int `json:"customers"`
	Repeaters    int `json:"repeaters"`
	RejectedRows struct {
		Count    int            `json:"count"`
		ByReason map[string]int `json:"by_reason"`
		First    []struct {
			Line   int    `json:"line"`
			Reason string `json:"reason"`
		} `json:"first"`
	} `json:"rejected_rows"`
	BGNBD      map[string]any     `json:"bgnbd"`
	ParetoNBD  map[string]any     `json:"paretonbd"`
	GammaGamma map[string]any     `json:"gammagamma"`
	Holdout    map[string]any     `json:"holdout"`
	FitSeconds map[string]float64 `json:"fit_seconds"`
}

func runCLV(t *testing.T, args ...string) clvOutput {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := runAnalyzeCLV(args, &out, &errOut); err != nil {
		t.Fatalf("runAnalyzeCLV: %v\n%s", err, errOut.String())
	}
	var got clvOutput
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	return got
}

func checkParams(t *testing.T, model string, got map[string]any, want map[string]float64) {
	t.Helper()
	for k, w := range want {
		v, ok := got[k].(float64)
		if !ok {
			t.Errorf("%s.%s missing in %v", model, k, got)
			continue
		}
		if math.Abs(v-w) > 0.01*math.Abs(w) {
			t.Errorf("%s.%s = %.5f, published %.4f (1%%)", model, k, v, w)
		}
	}
}

func cdnowArgs(path string) []string {
	return []string{"--transactions", path, "--customer-col", "sampleid", "--date-col", "date", "--amount-col", "sales",
		"--date-format", "20060102", "--calibration-end", "1997-09-30", "--unit", "week", "--format", "json"}
}

func TestAnalyzeCLVOnCDNOWGivesPublishedFits(t *testing.T) {
	got := runCLV(t, cdnowArgs(cdnowElog)...)
	if got.Customers != 2357 || got.Repeaters != 946 || got.RejectedRows.Count != 0 {
		t.Errorf("customers %d repeaters %d rejected %d, want 2357, 946, 0", got.Customers, got.Repeaters, got.RejectedRows.Count)
	}
	checkParams(t, "bgnbd", got.BGNBD, map[string]float64{"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "loglik": -9582.4})
	checkParams(t, "paretonbd", got.ParetoNBD, map[string]float64{"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669, "loglik": -9595.0})
	checkParams(t, "gammagamma", got.GammaGamma, map[string]float64{"p": 6.25, "q": 3.74, "gamma": 15.44})
	if d, _ := got.Holdout["duration"].(float64); d != 39 {
		t.Errorf("holdout duration %v, want 39 weeks", got.Holdout["duration"])
	}
	bg, _ := got.Holdout["bgnbd"].(map[string]any)
	if _, ok := bg["predicted_total"].(float64); !ok {
		t.Errorf("holdout has no BG/NBD prediction: %v", got.Holdout)
	}
}

func TestAnalyzeCLVAcceptsStrftimeDateFormat(t *testing.T) {
	args := cdnowArgs(cdnowElog)
	args[9] = "%Y%m%d"
	got := runCLV(t, args...)
	checkParams(t, "bgnbd", got.BGNBD, map[string]float64{"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
}

func TestAnalyzeCLVReportsBadRowsAndStillFits(t *testing.T) {
	data, err := os.ReadFile(cdnowElog)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	// Lines 2 and 4 of the file become unusable; two junk rows are added.
	bad := append([]string{lines[0], "4,1,1997-01-01,2,29.33\n", lines[2], "4,1,19970802,1,fifteen\n"}, lines[4:]...)
	bad = append(bad, "9,9999,19980101\n", "9,9998,99999999,1,1\n")
	path := filepath.Join(t.TempDir(), "elog.csv")
	if err := os.WriteFile(path, []byte(strings.Join(bad, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	got := runCLV(t, cdnowArgs(path)...)
	r := got.RejectedRows
	if r.Count != 4 || r.ByReason["bad date"] != 2 || r.ByReason["bad amount"] != 1 || r.ByReason["missing field"] != 1 {
		t.Errorf("rejected rows %+v, want 4: 2 bad date, 1 bad amount, 1 missing field", r)
	}
	if len(r.First) == 0 || r.First[0].Line != 2 {
		t.Errorf("first rejected row %+v, want line 2", r.First)
	}
	if got.Customers != 2357 || got.BGNBD == nil {
		t.Errorf("customers %d, bgnbd %v: the fit should go on without the bad rows", got.Customers, got.BGNBD)
	}
}

func TestAnalyzeCLVRejectsUnusableInput(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.csv")
	if err := os.WriteFile(junk, []byte("sampleid,date,sales\n1,notadate,3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
	}{
		{"no file", []string{"--calibration-end", "1997-09-30"}},
		{"bad calibration end", []string{"--transactions", cdnowElog, "--calibration-end", "30/09/1997"}},
		{"bad unit", append(cdnowArgs(cdnowElog), "--unit", "fortnight")},
		{"missing column", append(cdnowArgs(cdnowElog), "--amount-col", "revenue")},
		{"no usable rows", cdnowArgs(junk)},
		{"unknown format", append(cdnowArgs(cdnowElog), "--format", "xml")},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		if err := runAnalyzeCLV(tt.args, &out, &errOut); err == nil {
			t.Errorf("%s: no error, output %s", tt.name, out.String())
		}
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/internal/experiment"
)

// experimentOutput is the contract of `rapport analyze experiment --format json`.
type experimentOutput struct {
	Arms []struct {
		Arm  string             `json:"arm"`
		N    int                `json:"n"`
		Rate map[string]float64 `json:"rate"`
		Mean map[string]float64 `json:"mean"`
	} `json:"arms"`
	Comparisons []struct {
		Arm     string   `json:"arm"`
		Outcome string   `json:"outcome"`
		Kind    string   `json:"kind"`
		Uplift  *float64 `json:"uplift"`
		CILow   *float64 `json:"ci_low"`
		CIHigh  *float64 `json:"ci_high"`
		PValue  *float64 `json:"p_value"`
		Reading string   `json:"reading_zh"`
	} `json:"comparisons"`
	SRMPValue *float64 `json:"srm_p_value"`
	Input     struct {
		Rows, Accepted, Rejected int
		ByReason                 map[string]int `json:"by_reason"`
	} `json:"input"`
}

func runExperimentCmd(t *testing.T, args ...string) (experimentOutput, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := runAnalyzeExperiment(args, &out, &errOut); err != nil {
		t.Fatalf("runAnalyzeExperiment(%v): %v\nstderr: %s", args, err, errOut.String())
	}
	var got experimentOutput
	dec := json.NewDecoder(bytes.NewReader(out.Bytes()))
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	if got.SRMPValue == nil {
		t.Fatalf("no srm_p_value in output:\n%s", out.String())
	}
	for _, c := range got.Comparisons {
		if c.Uplift == nil || c.CILow == nil || c.CIHigh == nil || c.PValue == nil {
			t.Fatalf("comparison %s/%s lacks a contract field:\n%s", c.Arm, c.Outcome, out.String())
		}
	}
	return got, errOut.String()
}

func expClose(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tol {
		t.Errorf("%s = %.10g, want %.10g ± %g", what, got, want, tol)
	}
}

// The tiny file: control visits 2 of 10, treatment 5 of 10, and two bad rows.
const tinyExperimentCSV = `customer_id,group,visit,spend
c01,control,0,0
c02,control,0,0
c03,control,no,0
c04,control,0,0
c05,control,0,0
c06,control,0,0
c07,control,0,0
c08,control,0,0
c09,control,1,10
c10,control,yes,20
t01,treatment,0,0
t02,treatment,0,0
t03,treatment,0,0
t04,treatment,0,0
t05,treatment,0,5
t06,treatment,1,10
t07,treatment,1,10
t08,treatment,1,20
t09,treatment,1,30
t10,treatment,1,0
x01,,1,0
x02,treatment,maybe,3
`

func TestAnalyzeExperimentTinyFileByHand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tiny.csv")
	if err := os.WriteFile(path, []byte(tinyExperimentCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	got, stderr := runExperimentCmd(t, "--input", path, "--arm-col", "group", "--control", "control",
		"--outcome-col", "visit", "--outcome-col", "spend", "--format", "json")

	if got.Input.Rows != 22 || got.Input.Rejected != 2 || got.Input.ByReason["missing arm"] != 1 || got.Input.ByReason["malformed outcome"] != 1 {
		t.Errorf("input report %+v, want 22 rows with 1 missing arm and 1 malformed outcome", got.Input)
	}
	if !strings.Contains(stderr, "2 of 22 rows rejected") {
		t.Errorf("stderr does not report the rejected rows: %q", stderr)
	}
	if len(got.Arms) != 2 || got.Arms[0].Arm != "control" || got.Arms[0].N != 10 || got.Arms[1].N != 10 {
		t.Fatalf("arms %+v", got.Arms)
	}
	expClose(t, "control visit rate", got.Arms[0].Rate["visit"], 0.2, 1e-15)
	expClose(t, "treatment visit rate", got.Arms[1].Rate["visit"], 0.5, 1e-15)
	expClose(t, "control spend mean", got.Arms[0].Mean["spend"], 3, 1e-12)
	expClose(t, "treatment spend rate holds the mean", got.Arms[1].Rate["spend"], 7.5, 1e-12)
	expClose(t, "srm p (10 vs 10)", *got.SRMPValue, 1, 1e-12)

	if len(got.Comparisons) != 2 {
		t.Fatalf("%d comparisons, want 2", len(got.Comparisons))
	}
	visit, spend := got.Comparisons[0], got.Comparisons[1]
	if visit.Outcome != "visit" || visit.Kind != "binary" || spend.Outcome != "spend" || spend.Kind != "continuous" {
		t.Fatalf("comparisons %+v", got.Comparisons)
	}
	// Binary by hand: uplift 0.3; Wald SE sqrt(.2·.8/10 + .5·.5/10) = sqrt(.041);
	// pooled SE sqrt(.35·.65·(1/10+1/10)); R prop.test(c(5,2), c(10,10),
	// correct=FALSE) prints X-squared = 1.978, p-value = 0.1596.
	const z975 = 1.959963984540054
	expClose(t, "visit uplift", *visit.Uplift, 0.3, 1e-15)
	expClose(t, "visit ci low", *visit.CILow, 0.3-z975*math.Sqrt(0.041), 1e-12)
	expClose(t, "visit ci high", *visit.CIHigh, 0.3+z975*math.Sqrt(0.041), 1e-12)
	z := 0.3 / math.Sqrt(0.35*0.65*0.2)
	expClose(t, "visit z² (R X-squared)", z*z, 1.978, 0.0005)
	expClose(t, "visit p", *visit.PValue, math.Erfc(z/math.Sqrt2), 1e-12)
	expClose(t, "visit p (R)", *visit.PValue, 0.1596, 0.00005)
	if !strings.Contains(visit.Reading, "不显著") {
		t.Errorf("reading %q should say not significant", visit.Reading)
	}

	// Continuous by hand: control spend {0×8, 10, 20} mean 3, variance
	// (8·9 + 49 + 289)/9 = 410/9; treatment {0×5, 5, 10, 10, 20, 30} mean 7.5,
	// variance (5·56.25 + 6.25 + 2·6.25 + 156.25 + 506.25)/9 = 962.5/9.
	a, b := 410.0/9/10, 962.5/9/10
	expClose(t, "spend uplift", *spend.Uplift, 4.5, 1e-12)
	df := (a + b) * (a + b) / (a*a/9 + b*b/9) // 15.49
	se := math.Sqrt(a + b)
	// The interval is symmetric about the difference with half-width q·SE
	// for the Student t quantile q at df; 2.12 < q < 2.131 (t tables, 15–16 df).
	half := (*spend.CIHigh - *spend.CILow) / 2
	expClose(t, "spend ci centre", (*spend.CIHigh+*spend.CILow)/2, 4.5, 1e-12)
	if q := half / se; q < 2.12 || q > 2.131 {
		t.Errorf("spend interval half-width is %.4f SE, want the t quantile between 2.120 (16 df) and 2.131 (15 df)", q)
	}
	if *spend.PValue < 0.2 || *spend.PValue > 0.4 {
		t.Errorf("spend p %v, want t = %.3f on %.1f df (about 0.29)", *spend.PValue, 4.5/se, df)
	}
}

// writeHillstromLike writes a file shaped like the MineThatData E-Mail
// Analytics challenge (Hillstrom 2008): about 64,000 customers split evenly
// by Assign into no e-mail, womens and mens e-mail, with visit rates 10.6%,
// 15.2% and 18.3% and conversion 0.57%, 0.88% and 1.25% at about $115 an
// order. A few malformed rows are mixed in.
func writeHillstromLike(t *testing.T, dropWomens float64) (string, hillstromTruth) {
	t.Helper()
	truth := hillstromTruth{
		visit:     map[string]float64{"no_email": 0.106, "womens": 0.152, "mens": 0.183},
		conv:      map[string]float64{"no_email": 0.0057, "womens": 0.0088, "mens": 0.0125},
		orderMean: 115,
	}
	visit, conv, orderMean := truth.visit, truth.conv, truth.orderMean
	arms := []experiment.Arm{{Name: "no_email", Weight: 1}, {Name: "womens", Weight: 1}, {Name: "mens", Weight: 1}}
	rng := rand.New(rand.NewPCG(2008, 64000))
	var b strings.Builder
	b.WriteString("customer_id,segment,visit,spend\n")
	for i := range 64_000 {
		id := fmt.Sprintf("cust-%06d", i)
		arm := experiment.Assign("hillstrom-2008", id, arms)
		if arm == "womens" && rng.Float64() < dropWomens {
			continue // lost by a broken logger
		}
		v := 0
		if rng.Float64() < visit[arm] {
			v = 1
		}
		s := 0.0
		if rng.Float64() < conv[arm] {
			s = orderMean * rng.ExpFloat64()
		}
		fmt.Fprintf(&b, "%s,%s,%d,%.2f\n", id, arm, v, s)
		switch i % 16_000 {
		case 7:
			fmt.Fprintf(&b, "bad-%d,,1,0\n", i)
		case 11:
			fmt.Fprintf(&b, "bad-%d,%s,n/a,0\n", i, arm)
		}
	}
	path := filepath.Join(t.TempDir(), "hillstrom_like.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, truth
}

// hillstromTruth is what the generated file was drawn from. Spend per
// customer is an exponential order (mean m) with probability c: mean m·c,
// variance 2m²c − (m·c)².
type hillstromTruth struct {
	visit, conv map[string]float64
	orderMean   float64
}

func (h hillstromTruth) spendMean(arm string) float64 { return h.orderMean * h.conv[arm] }

func (h hillstromTruth) spendVar(arm string) float64 {
	m := h.spendMean(arm)
	return 2*h.orderMean*h.orderMean*h.conv[arm] - m*m
}

func TestAnalyzeExperimentFindsKnownLargeEffect(t *testing.T) {
	path, truth := writeHillstromLike(t, 0)
	visit := truth.visit
	got, _ := runExperimentCmd(t, "--input", path, "--arm-col", "segment", "--control", "no_email",
		"--outcome-col", "visit", "--outcome-col", "spend", "--format", "json")

	if got.Input.Rejected != 8 || got.Input.ByReason["missing arm"] != 4 || got.Input.ByReason["malformed outcome"] != 4 {
		t.Errorf("input report %+v, want 4 missing arms and 4 malformed outcomes", got.Input)
	}
	n := map[string]int{}
	total := 0
	for _, a := range got.Arms {
		n[a.Arm] = a.N
		total += a.N
		// Observed rate within 4 binomial SE of the true rate.
		p := visit[a.Arm]
		expClose(t, a.Arm+" visit rate", a.Rate["visit"], p, 4*math.Sqrt(p*(1-p)/float64(a.N)))
	}
	if got.Arms[0].Arm != "no_email" || total != 64_000 || len(got.Arms) != 3 {
		t.Fatalf("arms %+v, want control first and 64,000 customers", got.Arms)
	}
	if *got.SRMPValue < 0.001 {
		t.Errorf("even SHA-256 split flagged as mismatch: p %v", *got.SRMPValue)
	}
	if len(got.Comparisons) != 4 {
		t.Fatalf("%d comparisons, want 2 arms × 2 outcomes", len(got.Comparisons))
	}
	for _, c := range got.Comparisons {
		switch c.Outcome {
		case "visit":
			trueUplift := visit[c.Arm] - visit["no_email"]
			p0, p1 := visit["no_email"], visit[c.Arm]
			se := math.Sqrt(p0*(1-p0)/float64(n["no_email"]) + p1*(1-p1)/float64(n[c.Arm]))
			expClose(t, c.Arm+" visit uplift", *c.Uplift, trueUplift, 4*se)
			expClose(t, c.Arm+" visit ci half-width", (*c.CIHigh-*c.CILow)/2, 1.96*se, 0.05*se)
			if *c.PValue > 1e-40 || c.Kind != "binary" || !strings.Contains(c.Reading, "显著") || strings.Contains(c.Reading, "不显著") {
				t.Errorf("%s visit: p %g kind %s reading %q; a 4.6+ point lift on 21k per arm is unmistakable", c.Arm, *c.PValue, c.Kind, c.Reading)
			}
		case "spend":
			if c.Kind != "continuous" {
				t.Errorf("spend kind %q", c.Kind)
			}
			trueDiff := truth.spendMean(c.Arm) - truth.spendMean("no_email")
			se := math.Sqrt(truth.spendVar("no_email")/float64(n["no_email"]) + truth.spendVar(c.Arm)/float64(n[c.Arm]))
			expClose(t, c.Arm+" spend difference", *c.Uplift, trueDiff, 4*se)
			if !(*c.CILow < *c.Uplift && *c.Uplift < *c.CIHigh) {
				t.Errorf("spend interval [%v, %v] misses %v", *c.CILow, *c.CIHigh, *c.Uplift)
			}
		default:
			t.Errorf("unexpected outcome %q", c.Outcome)
		}
	}
}

func TestAnalyzeExperimentFlagsSampleRatioMismatch(t *testing.T) {
	path, _ := writeHillstromLike(t, 0.04)
	got, _ := runExperimentCmd(t, "--input", path, "--arm-col", "segment", "--control", "no_email",
		"--outcome-col", "visit", "--format", "json", "--weights", "no_email=1,womens=1,mens=1")
	if *got.SRMPValue > 0.001 {
		t.Errorf("4%% of one arm lost, srm p %v; want < 0.001", *got.SRMPValue)
	}
	// The same data against the plan it actually ran with (womens 0.96) passes.
	got, _ = runExperimentCmd(t, "--input", path, "--arm-col", "segment", "--control", "no_email",
		"--outcome-col", "visit", "--weights", "no_email=1,womens=0.96,mens=1")
	if *got.SRMPValue < 0.001 {
		t.Errorf("matching plan flagged: p %v", *got.SRMPValue)
	}
}

func TestAnalyzeExperimentWeightsRejectUnplannedArms(t *testing.T) {
	path := filepath.Join(t.TempDir(), "e.csv")
	if err := os.WriteFile(path, []byte("arm,y\nc,1\nc,0\nt,1\nt,0\ntypo,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, _ := runExperimentCmd(t, "--input", path, "--control", "c", "--outcome-col", "y", "--weights", "c=1,t=1")
	if got.Input.ByReason["unknown arm"] != 1 || len(got.Arms) != 2 {
		t.Errorf("unplanned arm: input %+v arms %+v", got.Input, got.Arms)
	}
}

func TestAnalyzeExperimentRejectsBadInvocations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "e.csv")
	if err := os.WriteFile(path, []byte("arm,y\nc,1\nt,0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := map[string][]string{
		"no input":        {"--control", "c", "--outcome-col", "y"},
		"no control":      {"--input", path, "--outcome-col", "y"},
		"no outcome":      {"--input", path, "--control", "c"},
		"csv format":      {"--input", path, "--control", "c", "--outcome-col", "y", "--format", "csv"},
		"missing file":    {"--input", path + ".nope", "--control", "c", "--outcome-col", "y"},
		"unknown column":  {"--input", path, "--control", "c", "--outcome-col", "z"},
		"unknown control": {"--input", path, "--control", "ctl", "--outcome-col", "y"},
		"bad weights":     {"--input", path, "--control", "c", "--outcome-col", "y", "--weights", "c=1"},
	}
	for name, args := range cases {
		var out, errOut bytes.Buffer
		if err := runAnalyzeExperiment(args, &out, &errOut); err == nil {
			t.Errorf("%s: accepted, printed %s", name, out.String())
		}
	}
}

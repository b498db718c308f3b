package churn

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/telecom_churn.csv from the generator")

const telecomPath = "testdata/telecom_churn.csv"

// telecomInjected counts the messy values the generator wrote on purpose,
// for the tests to check the reader's counts against.
type telecomInjected struct {
	rows, blankLabel, badLabel int
	totalBlank, totalNA        int // total_charges
	callsBlank, callsText      int // support_calls
	regionBlank                int
}

// telecomCSV generates a telecom-style churn table: Chinese and English
// categorical values, a thousands-separated total, blanks, "n/a", text in a
// numeric column and a few unusable labels. Churn is drawn from a known
// logistic model: month-to-month contracts, fiber, electronic checks,
// support calls, seniors and high charges raise it; tenure and two-year
// contracts lower it; gender and region have no effect.
func telecomCSV(n int, seed uint64) ([]byte, telecomInjected) {
	rng := rand.New(rand.NewPCG(seed, 2))
	var inj telecomInjected
	pickW := func(vals []string, w []float64) string {
		u := rng.Float64()
		for i, x := range w {
			if u < x {
				return vals[i]
			}
			u -= x
		}
		return vals[len(vals)-1]
	}
	var b bytes.Buffer
	b.WriteString("\ufeffcustomer_id,gender,senior_citizen,region,contract,internet_service,payment_method,tenure_months,monthly_charges,total_charges,support_calls,churn\n")
	for i := range n {
		gender := pickW([]string{"男", "女", "Male", "Female"}, []float64{0.4, 0.4, 0.1})
		senior := pickW([]string{"是", "否"}, []float64{0.16})
		region := pickW([]string{"北京", "上海", "广州", "深圳", "成都", "杭州", "Hong Kong", "Singapore", ""}, []float64{0.2, 0.2, 0.12, 0.12, 0.1, 0.1, 0.08, 0.06})
		contract := pickW([]string{"月付", "一年", "两年"}, []float64{0.55, 0.24})
		internet := pickW([]string{"Fiber optic", "DSL", "无"}, []float64{0.44, 0.34})
		payment := pickW([]string{"Electronic check", "Mailed check", "Bank transfer", "Credit card", "支付宝", "微信支付"}, []float64{0.3, 0.15, 0.15, 0.15, 0.13})
		tenure := rng.IntN(73)
		if contract == "两年" {
			tenure = min(72, tenure+rng.IntN(24))
		}
		var charges float64
		switch internet {
		case "Fiber optic":
			charges = 70 + 40*rng.Float64()
		case "DSL":
			charges = 40 + 30*rng.Float64()
		default:
			charges = 18 + 7*rng.Float64()
		}
		calls := rng.IntN(3) + rng.IntN(3)
		eta := -1.6 + 0.03*(charges-65) - 0.035*float64(tenure) + 0.3*float64(calls)
		eta += map[string]float64{"月付": 1.3, "一年": 0, "两年": -1.2}[contract]
		eta += map[string]float64{"Fiber optic": 0.5, "DSL": 0, "无": -0.4}[internet]
		if payment == "Electronic check" {
			eta += 0.5
		}
		if senior == "是" {
			eta += 0.35
		}
		churn := "否"
		if rng.Float64() < sigmoid(eta) {
			churn = "是"
		}
		total := fmt.Sprintf("%.2f", charges*float64(tenure))
		if t := charges * float64(tenure); t >= 1000 {
			total = fmt.Sprintf("%d,%03d.%02d", int(t)/1000, int(t)%1000, int(math.Round(t*100))%100)
		}
		switch u := rng.Float64(); {
		case tenure == 0:
			total = ""
			inj.totalBlank++
		case u < 0.02:
			total = "n/a"
			inj.totalNA++
		}
		callsCell := fmt.Sprint(calls)
		switch u := rng.Float64(); {
		case u < 0.03:
			callsCell = ""
			inj.callsBlank++
		case u < 0.05:
			callsCell = "unknown"
			inj.callsText++
		}
		if region == "" {
			inj.regionBlank++
		}
		switch {
		case i%500 == 499:
			churn = ""
			inj.blankLabel++
		case i%700 == 350:
			churn = "待定"
			inj.badLabel++
		}
		fmt.Fprintf(&b, "TC%05d,%s,%s,%s,%s,%s,%s,%d,%.2f,%q,%s,%s\n",
			i+1, gender, senior, region, contract, internet, payment, tenure, charges, total, callsCell, churn)
		inj.rows++
	}
	return b.Bytes(), inj
}

const telecomRows, telecomSeed = 3000, 2024

func TestTelecomTestdataIsTheGeneratorsOutput(t *testing.T) {
	want, _ := telecomCSV(telecomRows, telecomSeed)
	if *update {
		if err := os.WriteFile(telecomPath, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(telecomPath)
	if err != nil {
		t.Fatalf("%v (run go test -run Telecom -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from telecomCSV(%d, %d); run go test -run Telecom -update", telecomPath, telecomRows, telecomSeed)
	}
}

func readTelecom(t *testing.T) (*Table, telecomInjected) {
	t.Helper()
	data, inj := telecomCSV(telecomRows, telecomSeed)
	tab, err := ReadCSV(bytes.NewReader(data), ReadOptions{LabelCol: "churn", IDCol: "customer_id"})
	if err != nil {
		t.Fatal(err)
	}
	return tab, inj
}

func TestTelecomTableIsReadAndModelled(t *testing.T) {
	tab, inj := readTelecom(t)
	if tab.Input.Rows != inj.rows || tab.Input.ByReason["blank label"] != inj.blankLabel || tab.Input.ByReason["unrecognized label"] != inj.badLabel {
		t.Errorf("input %+v, injected %+v", tab.Input, inj)
	}
	rep, m, err := Analyze(tab, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	cols := map[string]ColumnReport{}
	for _, c := range rep.Columns {
		cols[c.Name] = c
	}
	checks := []struct {
		name               string
		kind               Kind
		missing, malformed int
	}{
		{"total_charges", Numeric, inj.totalBlank + inj.totalNA, 0},
		{"support_calls", Numeric, inj.callsBlank, inj.callsText},
		{"region", Categorical, inj.regionBlank, 0},
		{"contract", Categorical, 0, 0},
		{"tenure_months", Numeric, 0, 0},
	}
	for _, c := range checks {
		// The counts cover the used rows only; the few rows with unusable
		// labels may hold injected values too, so allow for those.
		got := cols[c.name]
		slack := tab.Input.Rejected
		if got.Kind != c.kind || got.Missing > c.missing || got.Missing < c.missing-slack ||
			got.Malformed > c.malformed || got.Malformed < c.malformed-slack {
			t.Errorf("%s: %s, missing %d, malformed %d; injected %s, %d, %d", c.name, got.Kind, got.Missing, got.Malformed, c.kind, c.missing, c.malformed)
		}
	}
	if cols["customer_id"].Skipped != "id column" {
		t.Errorf("customer_id: %+v", cols["customer_id"])
	}
	if rep.AUC < 0.75 || rep.AUC > 0.9 {
		t.Errorf("test AUC %.3f, want 0.75–0.9 for this generator", rep.AUC)
	}
	coef := map[string]float64{}
	for _, c := range rep.Coefficients {
		coef[c.Feature] = c.PerUnit
	}
	// Signs of the generating model (differences for one-hot levels).
	for _, s := range []struct {
		name string
		got  float64
		sign float64
	}{
		{"tenure", coef["tenure_months"], -1},
		{"month-to-month vs two-year", coef["contract=月付"] - coef["contract=两年"], 1},
		{"fiber vs DSL", coef["internet_service=Fiber optic"] - coef["internet_service=DSL"], 1},
		{"support calls", coef["support_calls"], 1},
	} {
		if s.got*s.sign <= 0 {
			t.Errorf("%s: %.4f has the wrong sign", s.name, s.got)
		}
	}
	if len(rep.TopRisk) != DefaultTopRisk || rep.TopRisk[0].ID == "" || len(rep.TopRisk[0].Reasons) == 0 {
		t.Fatalf("top risk %+v", rep.TopRisk)
	}
	for k := 1; k < len(rep.TopRisk); k++ {
		if rep.TopRisk[k].P > rep.TopRisk[k-1].P {
			t.Errorf("top risk not sorted at %d", k)
		}
	}
	// The model scores a row of the table like Analyze did.
	top := rep.TopRisk[0]
	i := -1
	for k, id := range tab.IDs {
		if id == top.ID {
			i = k
		}
	}
	row := Row{}
	for c, name := range tab.Columns {
		row[name] = tab.Rows[i][c]
	}
	if p, why := m.Score(row); p != top.P || fmt.Sprint(why) != fmt.Sprint(top.Reasons) {
		t.Errorf("Score(%s) = %v %v, Analyze gave %v %v", top.ID, p, why, top.P, top.Reasons)
	}
}

func TestSameSeedGivesIdenticalReport(t *testing.T) {
	run := func(seed uint64) []byte {
		tab, _ := readTelecom(t)
		rep, _, err := Analyze(tab, Options{Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		out, err := json.Marshal(rep)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	a, b, c := run(7), run(7), run(8)
	if !bytes.Equal(a, b) {
		t.Error("two runs with seed 7 differ")
	}
	if bytes.Equal(a, c) {
		t.Error("seeds 7 and 8 give the same report")
	}
	if !strings.Contains(string(a), `"auc":`) {
		t.Errorf("report JSON has no auc: %.200s", a)
	}
}

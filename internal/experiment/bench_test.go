package experiment

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"testing"
)

// Benchmarks: go test -run '^$' -bench . -benchmem ./internal/experiment
// The peers run in the same process: FNV-1a (fast, not cryptographic) for
// the assignment hash, a bare summing pass for the statistics, and
// encoding/csv reading alone for the CSV path.

const benchCustomers = 1_000_000

var benchIDs = func() []string {
	ids := make([]string, benchCustomers)
	for i := range ids {
		ids[i] = fmt.Sprintf("cust-%08d", i)
	}
	return ids
}()

var benchArms = []Arm{{"control", 1}, {"email_a", 1}, {"email_b", 1}}

// assignFNV is the peer: the same bucket mapping over 64-bit FNV-1a.
func assignFNV(salt, id string, arms []Arm) string {
	h := uint64(14695981039346656037)
	for i := 0; i < len(salt); i++ {
		h = (h ^ uint64(salt[i])) * 1099511628211
	}
	h = (h ^ ':') * 1099511628211
	for i := 0; i < len(id); i++ {
		h = (h ^ uint64(id[i])) * 1099511628211
	}
	return armAt(pointOf(h), arms)
}

var sink string

func BenchmarkAssign1M(b *testing.B) {
	for _, peer := range []struct {
		name   string
		assign func(string, string, []Arm) string
	}{{"sha256", Assign}, {"fnv1a", assignFNV}} {
		b.Run(peer.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, id := range benchIDs {
					sink = peer.assign("exp-bench", id, benchArms)
				}
			}
			b.ReportMetric(float64(b.N)*benchCustomers/b.Elapsed().Seconds(), "hashes/s")
			b.ReportMetric(0, "ns/op") // per-op time of 1M hashes is in the hashes/s figure
		})
	}
}

func BenchmarkAssignStratified1M(b *testing.B) {
	units := make([]Unit, benchCustomers)
	tiers := []string{"platinum", "gold", "silver", "bronze"}
	for i, id := range benchIDs {
		units[i] = Unit{CustomerID: id, Stratum: tiers[i%len(tiers)]}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := AssignStratified("exp-bench", units, benchArms); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*benchCustomers/b.Elapsed().Seconds(), "customers/s")
}

// benchDataset is Hillstrom-sized: 64,000 customers, 3 arms, a binary and
// a continuous outcome.
func benchDataset() *Dataset {
	rng := rand.New(rand.NewPCG(1, 1))
	arms := []string{"no_email", "womens", "mens"}
	rates := []float64{0.106, 0.152, 0.183}
	d := &Dataset{Outcomes: []string{"visit", "spend"}, Kinds: []Kind{Binary, Continuous}, Values: make([][]float64, 2)}
	for i := range 64_000 {
		a := i % 3
		v, s := 0.0, 0.0
		if rng.Float64() < rates[a] {
			v = 1
		}
		if rng.Float64() < 0.01 {
			s = 115 * rng.ExpFloat64()
		}
		d.Arms = append(d.Arms, arms[a])
		d.Values[0] = append(d.Values[0], v)
		d.Values[1] = append(d.Values[1], s)
	}
	return d
}

func BenchmarkAnalyze64k(b *testing.B) {
	d := benchDataset()
	b.Run("analyze", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Analyze(d, Options{Control: "no_email"}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)*64_000/b.Elapsed().Seconds(), "rows/s")
	})
	// Ceiling: one pass that only sums each outcome per arm.
	b.Run("sum-pass-ceiling", func(b *testing.B) {
		b.ReportAllocs()
		var total float64
		for b.Loop() {
			idx := map[string]int{}
			sums := make([][3]float64, len(d.Values))
			for r, a := range d.Arms {
				k, ok := idx[a]
				if !ok {
					k = len(idx)
					idx[a] = k
				}
				for o := range d.Values {
					sums[o][k] += d.Values[o][r]
				}
			}
			total += sums[0][0]
		}
		b.ReportMetric(float64(b.N)*64_000/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("analyze+bootstrap1000", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Analyze(d, Options{Control: "no_email", BootstrapResamples: 1000, Seed: 1}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkCompare(b *testing.B) {
	b.Run("proportions", func(b *testing.B) {
		for b.Loop() {
			if _, err := CompareProportions(Proportion{2262, 21306}, Proportion{3894, 21307}, 0.95); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("welch", func(b *testing.B) {
		for b.Loop() {
			if _, err := CompareMeans(Moments{21306, 0.65, 150}, Moments{21307, 1.42, 320}, 0.95); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("srm", func(b *testing.B) {
		for b.Loop() {
			if _, err := SampleRatioMismatch([]int{21306, 21387, 21307}, []float64{1, 1, 1}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkReadCSV64k(b *testing.B) {
	d := benchDataset()
	var buf bytes.Buffer
	buf.WriteString("customer_id,segment,visit,spend\n")
	for r, a := range d.Arms {
		fmt.Fprintf(&buf, "c%d,%s,%s,%s\n", r, a, strconv.FormatFloat(d.Values[0][r], 'f', -1, 64), strconv.FormatFloat(d.Values[1][r], 'f', 2, 64))
	}
	data := buf.Bytes()
	b.Run("readcsv", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ReadCSV(bytes.NewReader(data), CSVOptions{ArmCol: "segment", OutcomeCols: []string{"visit", "spend"}}); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Ceiling: encoding/csv reading the same bytes and doing nothing else.
	b.Run("encoding-csv-ceiling", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			r := csv.NewReader(bytes.NewReader(data))
			r.ReuseRecord = true
			for {
				if _, err := r.Read(); err == io.EOF {
					break
				} else if err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

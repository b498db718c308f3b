package dedupe_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/internal/identity/dedupe"
	"github.com/rapportcrm/rapport/internal/importer"
)

func guessField(h string) (string, bool) {
	f, ok := importer.GuessField(h)
	return string(f), ok
}

// readFebrl reads one of the Febrl sets copied into testdata.
func readFebrl(t testing.TB, name string) []dedupe.Record {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	defer f.Close()
	recs, rep, err := dedupe.ReadCSV(f, dedupe.CSVOptions{IDCol: "rec_id", FieldOf: guessField})
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	if rep.Rejected != 0 || len(rep.Unmapped) != 0 {
		t.Fatalf("read %s: %d rows rejected (%v), unmapped columns %v", name, rep.Rejected, rep.ByReason, rep.Unmapped)
	}
	return recs
}

// person is the N of a Febrl rec-N-org / rec-N-dup-K id.
func person(id string) string {
	parts := strings.Split(id, "-")
	if len(parts) < 3 || parts[0] != "rec" {
		return id
	}
	return parts[1]
}

// truePairs counts the pairs of records that share a person.
func truePairs(recs []dedupe.Record) int {
	n := map[string]int{}
	for _, r := range recs {
		n[person(r.ID)]++
	}
	total := 0
	for _, k := range n {
		total += k * (k - 1) / 2
	}
	return total
}

type quality struct {
	found, correct, truth int
}

func (q quality) precision() float64 {
	if q.found == 0 {
		return 0
	}
	return float64(q.correct) / float64(q.found)
}
func (q quality) recall() float64 { return float64(q.correct) / float64(q.truth) }

func score(pairs [][2]string, truth int) quality {
	q := quality{found: len(pairs), truth: truth}
	for _, p := range pairs {
		if person(p[0]) == person(p[1]) {
			q.correct++
		}
	}
	return q
}

func TestFebrlPrecisionAndRecallWithOneThreshold(t *testing.T) {
	cases := []struct {
		file  string
		truth int // from the dataset README
	}{
		{"dataset1.csv", 500},
		{"dataset2.csv", 1934},
		{"dataset3.csv", 6538},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			recs := readFebrl(t, c.file)
			if got := truePairs(recs); got != c.truth {
				t.Fatalf("ground truth has %d pairs, README says %d", got, c.truth)
			}
			res, err := dedupe.Find(context.Background(), recs, dedupe.Options{})
			if err != nil {
				t.Fatal(err)
			}
			pairs := make([][2]string, len(res.Pairs))
			for i, p := range res.Pairs {
				pairs[i] = [2]string{p.IDA, p.IDB}
			}
			q := score(pairs, c.truth)
			t.Logf("%s: %d candidates compared, %d proposed, %d correct of %d true: precision %.4f recall %.4f",
				c.file, res.Stats.CandidatePairs, q.found, q.correct, q.truth, q.precision(), q.recall())
			if q.precision() < 0.95 || q.recall() < 0.90 {
				t.Errorf("precision %.4f, recall %.4f; want ≥ 0.95 and ≥ 0.90", q.precision(), q.recall())
			}
		})
	}
}

// TestFebrlThresholdSweep logs precision and recall around the default
// threshold and checks that the default is not a knife edge: the targets
// hold on every set for a band of thresholds around it.
func TestFebrlThresholdSweep(t *testing.T) {
	thresholds := []float64{0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95}
	for _, file := range []string{"dataset1.csv", "dataset2.csv", "dataset3.csv"} {
		recs := readFebrl(t, file)
		truth := truePairs(recs)
		res, err := dedupe.Find(context.Background(), recs, dedupe.Options{Threshold: 1e-12})
		if err != nil {
			t.Fatal(err)
		}
		kept := 0
		for _, p := range res.Pairs {
			if person(p.IDA) == person(p.IDB) {
				kept++
			}
		}
		t.Logf("%s: blocking keeps %d of %d true pairs (%.4f) in %d candidates", file, kept, truth, float64(kept)/float64(truth), res.Stats.CandidatePairs)
		for _, th := range thresholds {
			var pairs [][2]string
			for _, p := range res.Pairs {
				if p.Score >= th {
					pairs = append(pairs, [2]string{p.IDA, p.IDB})
				}
			}
			q := score(pairs, truth)
			t.Logf("  threshold %.2f: %5d proposed, precision %.4f recall %.4f", th, q.found, q.precision(), q.recall())
			if th >= 0.2 && th <= 0.8 && (q.precision() < 0.95 || q.recall() < 0.90) {
				t.Errorf("%s at threshold %.2f: precision %.4f recall %.4f", file, th, q.precision(), q.recall())
			}
		}
	}
}

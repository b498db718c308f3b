package dedupe

import (
	"context"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// benchRecords is the size of the synthetic benchmark population;
// RAPPORT_DEDUPE_BENCH_N overrides it for a quick run.
func benchRecords() int {
	if v, err := strconv.Atoi(os.Getenv("RAPPORT_DEDUPE_BENCH_N")); err == nil && v > 0 {
		return v
	}
	return 1_000_000
}

var (
	benchOnce sync.Once
	benchData []Record
)

func benchPopulation(b *testing.B) []Record {
	benchOnce.Do(func() {
		start := time.Now()
		benchData = syntheticRecords(benchRecords(), 42)
		b.Logf("generated %d records in %v", len(benchData), time.Since(start).Round(time.Millisecond))
	})
	return benchData
}

func syntheticPerson(id string) string {
	p, _, _ := strings.Cut(id, "-")
	return p
}

func syntheticTruePairs(recs []Record) int {
	n := map[string]int{}
	for _, r := range recs {
		n[syntheticPerson(r.ID)]++
	}
	total := 0
	for _, k := range n {
		total += k * (k - 1) / 2
	}
	return total
}

// peakHeap samples the live heap until stop is closed and returns the
// largest value seen.
func peakHeap(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var peak uint64
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-stop:
				out <- peak
				return
			case <-t.C:
			}
		}
	}()
	return out
}

// rssHighWater is the process's peak resident set (VmHWM) in bytes, or 0
// where /proc is not available.
func rssHighWater() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb * 1024
		}
	}
	return 0
}

// BenchmarkDuplicates runs the finder over the synthetic population beside
// two peers measured in the same run: comparing all pairs (timed on a
// 3,000-record subset, extrapolated), and the naive rule of the Febrl
// README (block on exact given name), whose candidate count is counted in
// full and whose comparison time is extrapolated from a timed sample.
func BenchmarkDuplicates(b *testing.B) {
	recs := benchPopulation(b)
	truth := syntheticTruePairs(recs)
	n := float64(len(recs))

	b.Run("find", func(b *testing.B) {
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		var res Result
		var peak uint64
		for b.Loop() {
			stop := make(chan struct{})
			peakc := peakHeap(stop)
			var err error
			res, err = Find(context.Background(), recs, Options{})
			close(stop)
			peak = max(peak, <-peakc)
			if err != nil {
				b.Fatal(err)
			}
		}
		correct := 0
		for _, p := range res.Pairs {
			if syntheticPerson(p.IDA) == syntheticPerson(p.IDB) {
				correct++
			}
		}
		b.ReportMetric(float64(res.Stats.CandidatePairs), "candidates")
		b.ReportMetric(float64(len(res.Pairs)), "pairs")
		b.ReportMetric(float64(truth), "true-pairs")
		b.ReportMetric(float64(correct)/float64(max(1, len(res.Pairs))), "precision")
		b.ReportMetric(float64(correct)/float64(truth), "recall")
		b.ReportMetric(float64(base.HeapAlloc)/(1<<20), "input-heap-MB")
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
		b.ReportMetric(rssHighWater()/(1<<20), "rss-hwm-MB")
	})

	b.Run("peer_all_pairs_3k_extrapolated", func(b *testing.B) {
		sub := recs[:min(3000, len(recs))]
		prep := make([]prepared, len(sub))
		for i := range sub {
			prep[i] = prepare(&sub[i])
		}
		var c comparison
		var pairs int
		need := weightFor(DefaultThreshold)
		start := time.Now()
		for b.Loop() {
			pairs = 0
			for i := range prep {
				for j := i + 1; j < len(prep); j++ {
					evaluate(&prep[i], &prep[j], &c, need)
					pairs++
				}
			}
		}
		perPair := time.Since(start).Seconds() / float64(b.N) / float64(pairs)
		b.ReportMetric(perPair*1e9, "ns/pair")
		b.ReportMetric(perPair*n*(n-1)/2/3600, "extrapolated-hours")
	})

	b.Run("peer_exact_given_name_blocking", func(b *testing.B) {
		var candidates, kept int
		var seconds float64
		for b.Loop() {
			blocks := map[string][]int32{}
			for i := range recs {
				if g := recs[i].GivenName; g != "" {
					blocks[g] = append(blocks[g], int32(i))
				}
			}
			candidates, kept = 0, 0
			for _, m := range blocks {
				candidates += len(m) * (len(m) - 1) / 2
				for x := range m {
					for y := x + 1; y < len(m); y++ {
						if syntheticPerson(recs[m[x]].ID) == syntheticPerson(recs[m[y]].ID) {
							kept++
						}
					}
				}
			}
			// Time the README's six-feature rule on a sample of the
			// candidates and extrapolate to all of them.
			const sample = 2_000_000
			done := 0
			start := time.Now()
		outer:
			for _, m := range blocks {
				for x := range m {
					for y := x + 1; y < len(m); y++ {
						febrlRule(&recs[m[x]], &recs[m[y]])
						if done++; done == sample {
							break outer
						}
					}
				}
			}
			seconds = time.Since(start).Seconds() / float64(max(1, done)) * float64(candidates)
		}
		b.ReportMetric(float64(candidates), "candidates")
		b.ReportMetric(float64(kept)/float64(truth), "blocking-recall")
		b.ReportMetric(seconds, "extrapolated-compare-s")
	})
}

// febrlRule is the naive six-feature sum from the Febrl README.
func febrlRule(a, b *Record) int {
	s := 0
	if a.GivenName == b.GivenName {
		s++
	}
	if a.Surname != "" && b.Surname != "" && JaroWinkler(a.Surname, b.Surname) >= 0.85 {
		s++
	}
	for _, f := range [][2]string{{a.BirthDate, b.BirthDate}, {a.City, b.City}, {a.State, b.State}} {
		if f[0] != "" && f[0] == f[1] {
			s++
		}
	}
	if a.Address != "" && b.Address != "" && LevenshteinSimilarity(a.Address, b.Address) >= 0.85 {
		s++
	}
	return s
}

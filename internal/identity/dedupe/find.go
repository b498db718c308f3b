package dedupe

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
)

// Options tune Find. The zero value is the tested configuration.
type Options struct {
	// Threshold is the lowest score a proposed pair has; 0 means
	// DefaultThreshold.
	Threshold float64
	// MaxBlock is the largest block compared all-pairs; members of a
	// larger block are compared only with their Window nearest neighbours
	// in name order. 0 means 50.
	MaxBlock int
	// Window is how many neighbours on each side a record is compared
	// with in the sorted-neighbourhood passes and in oversized blocks.
	// 0 means 10.
	Window int
	// Workers is the number of goroutines comparing pairs; 0 means
	// GOMAXPROCS.
	Workers int
}

func (o Options) withDefaults() Options {
	if o.Threshold == 0 {
		o.Threshold = DefaultThreshold
	}
	if o.MaxBlock <= 0 {
		o.MaxBlock = 50
	}
	if o.Window <= 0 {
		o.Window = 10
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	return o
}

// Pair is a proposed duplicate: two records, by index into the slice given
// to Find and by ID, with the score and the per-field evidence behind it.
// A is always the earlier record.
type Pair struct {
	A        int        `json:"-"`
	B        int        `json:"-"`
	IDA      string     `json:"id_a"`
	IDB      string     `json:"id_b"`
	Score    float64    `json:"score"`
	Weight   float64    `json:"weight"` // total log2 likelihood ratio
	Evidence []Evidence `json:"evidence"`
}

// Stats describe the work Find did.
type Stats struct {
	Records         int   `json:"records"`
	CandidatePairs  int64 `json:"candidate_pairs"`  // pairs compared
	OversizedBlocks int   `json:"oversized_blocks"` // compared in a window, not all-pairs
	ProposedPairs   int   `json:"proposed_pairs"`
}

// Result is what Find returns.
type Result struct {
	Pairs []Pair `json:"pairs"`
	Stats Stats  `json:"stats"`
}

// Compare scores one pair of records regardless of blocking; A and B are 0
// and 1.
func Compare(a, b Record) Pair {
	pa, pb := prepare(&a), prepare(&b)
	var c comparison
	compare(&pa, &pb, &c)
	w := c.total()
	return Pair{A: 0, B: 1, IDA: a.ID, IDB: b.ID, Score: round4(scoreOf(w)), Weight: round4(w), Evidence: c.evidence()}
}

// Find proposes the pairs of records that are probably the same person,
// best first (score descending, then record order). Its output depends only
// on the records and options, not on the number of workers.
func Find(ctx context.Context, records []Record, opts Options) (Result, error) {
	opts = opts.withDefaults()
	n := len(records)
	if n > 1<<31-1 {
		return Result{}, fmt.Errorf("dedupe: %d records is more than this finder indexes", n)
	}
	res := Result{Stats: Stats{Records: n}}
	if n < 2 {
		return res, nil
	}
	recs := make([]prepared, n)
	parallel(opts.Workers, n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			recs[i] = prepare(&records[i])
		}
	})
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("dedupe: %w", err)
	}
	idx := buildIndexes(recs, opts)
	for _, ix := range idx {
		res.Stats.OversizedBlocks += ix.oversized
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("dedupe: %w", err)
	}

	// Records are compared in chunks; each pair is compared once, by its
	// earlier record, so the set of pairs does not depend on scheduling.
	const chunk = 4096
	nChunks := (n + chunk - 1) / chunk
	found := make([][]Pair, nChunks)
	counts := make([]int64, nChunks)
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < opts.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stamp := make([]int32, n)
			for k := range next {
				lo, hi := k*chunk, min(n, (k+1)*chunk)
				found[k], counts[k] = scanChunk(recs, records, idx, opts, stamp, lo, hi)
			}
		}()
	}
	var err error
	for k := 0; k < nChunks; k++ {
		if err = ctx.Err(); err != nil {
			break
		}
		next <- k
	}
	close(next)
	wg.Wait()
	if err != nil {
		return res, fmt.Errorf("dedupe: %w", err)
	}
	total := 0
	for k := range found {
		total += len(found[k])
		res.Stats.CandidatePairs += counts[k]
	}
	res.Pairs = make([]Pair, 0, total)
	for k := range found {
		res.Pairs = append(res.Pairs, found[k]...)
	}
	slices.SortFunc(res.Pairs, func(p, q Pair) int {
		if c := cmp.Compare(q.Score, p.Score); c != 0 {
			return c
		}
		if c := cmp.Compare(p.A, q.A); c != 0 {
			return c
		}
		return cmp.Compare(p.B, q.B)
	})
	res.Stats.ProposedPairs = len(res.Pairs)
	return res, nil
}

// scanChunk compares records lo..hi-1 with their later candidates.
func scanChunk(recs []prepared, records []Record, idx []keyIndex, opts Options, stamp []int32, lo, hi int) ([]Pair, int64) {
	var out []Pair
	var compared int64
	var c comparison
	// A pair whose person fields cannot reach the threshold even with a
	// perfect address is rejected before the (costlier) address fields.
	need := weightFor(opts.Threshold)
	for i := lo; i < hi; i++ {
		mark := int32(i + 1)
		for t := range idx {
			ix := &idx[t]
			p := ix.pos[i]
			if p < 0 {
				continue
			}
			s, e := ix.start[p], ix.end[p]
			if ix.window || int(e-s) > opts.MaxBlock {
				s, e = max(s, p-int32(opts.Window)), min(e, p+int32(opts.Window)+1)
			}
			for q := s; q < e; q++ {
				j := ix.order[q]
				if int(j) <= i || stamp[j] == mark {
					continue
				}
				stamp[j] = mark
				compared++
				w, ok := evaluate(&recs[i], &recs[j], &c, need)
				if !ok {
					continue
				}
				if score := scoreOf(w); score >= opts.Threshold {
					out = append(out, Pair{
						A: i, B: int(j), IDA: records[i].ID, IDB: records[j].ID,
						Score: round4(score), Weight: round4(w), Evidence: c.evidence(),
					})
				}
			}
		}
	}
	return out, compared
}

// evaluate compares x and y into c and returns the total weight, or false
// when the pair cannot reach need: the person fields are compared first,
// and the address fields only if a perfect address could lift the pair to
// need.
func evaluate(x, y *prepared, c *comparison, need float64) (float64, bool) {
	comparePerson(x, y, c)
	if c.personTotal()+addressCap < need {
		return 0, false
	}
	comparePlace(x, y, c)
	w := c.total()
	return w, w >= need
}

// parallel runs fn over [0, n) split into one range per worker.
func parallel(workers, n int, fn func(lo, hi int)) {
	var wg sync.WaitGroup
	step := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += step {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			fn(lo, hi)
		}(lo, min(n, lo+step))
	}
	wg.Wait()
}

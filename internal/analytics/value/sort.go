package value

import "math"

// NTile returns the SQL ntile(buckets) value (1-based) of the row at 0-based
// position pos among n rows ordered by the window's ORDER BY: the rows are cut
// into buckets groups whose sizes differ by at most one, the larger groups
// first. Rows with equal sort values are not treated specially, exactly as in
// SQL; callers make the order total with a tie-breaker (here: input order).
func NTile(pos, n, buckets int) int {
	if buckets > n {
		buckets = n
	}
	if buckets <= 0 || pos < 0 || pos >= n {
		return 0
	}
	size := n / buckets
	large := n - buckets*size // groups holding size+1 rows
	smallStart := large * (size + 1)
	if pos < smallStart {
		return 1 + pos/(size+1)
	}
	return 1 + large + (pos-smallStart)/size
}

// floatKey maps a float64 to a uint64 whose unsigned order is the numeric
// order (negative zero is taken as zero). NaN must be filtered by the caller.
func floatKey(f float64) uint64 {
	if f == 0 {
		f = 0
	}
	b := math.Float64bits(f)
	if b>>63 == 1 {
		return ^b
	}
	return b | 1<<63
}

// intKey maps an int64 to a uint64 in the same order.
func intKey(v int64) uint64 { return uint64(v) ^ 1<<63 }

// radixOrder returns the positions 0..len(keys)-1 sorted by key ascending;
// equal keys keep their input order (the sort is stable), which is the
// tie-breaker every ranking in this package documents. keys is clobbered.
func radixOrder(keys []uint64) []uint32 {
	n := len(keys)
	idx := make([]uint32, n)
	for i := range idx {
		idx[i] = uint32(i)
	}
	if n < 2 {
		return idx
	}
	const bits = 11
	const buckets = 1 << bits
	const mask = buckets - 1
	tmpK := make([]uint64, n)
	tmpI := make([]uint32, n)
	var count [buckets]int
	for shift := uint(0); shift < 64; shift += bits {
		clear(count[:])
		for _, k := range keys {
			count[(k>>shift)&mask]++
		}
		if count[(keys[0]>>shift)&mask] == n {
			continue // every key has the same digit here
		}
		sum := 0
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for i, k := range keys {
			d := (k >> shift) & mask
			p := count[d]
			count[d]++
			tmpK[p] = k
			tmpI[p] = idx[i]
		}
		keys, tmpK = tmpK, keys
		idx, tmpI = tmpI, idx
	}
	return idx
}

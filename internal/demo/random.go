package demo

import (
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/google/uuid"
)

// UUIDv7 builds a version-7, variant-2 (RFC 9562) UUID string from a Unix
// time in milliseconds and 10 random bytes. Unlike customer.NewID it reads
// neither the clock nor a global random source, so a seeded generator can
// make the same identifiers on every run.
func UUIDv7(unixMilli int64, random [10]byte) string {
	var b uuid.UUID
	ms := uint64(unixMilli)
	for i := range 6 {
		b[i] = byte(ms >> (40 - 8*i))
	}
	b[6] = 0x70 | random[0]&0x0f
	b[7] = random[1]
	b[8] = 0x80 | random[2]&0x3f
	copy(b[9:], random[3:])
	return b.String()
}

// gen wraps the seeded source with the few distributions the generator
// needs; math/rand/v2 has no gamma, beta or Poisson.
type gen struct {
	*rand.Rand
}

// id returns a UUIDv7 for a record made at t.
func (g gen) id(t time.Time) string {
	var r [10]byte
	x, y := g.Uint64(), g.Uint64()
	for i := range 8 {
		r[i] = byte(x >> (8 * i))
	}
	r[8], r[9] = byte(y), byte(y>>8)
	return UUIDv7(t.UnixMilli(), r)
}

// chance reports true with probability p.
func (g gen) chance(p float64) bool { return g.Float64() < p }

// between returns a uniform float in [lo, hi).
func (g gen) between(lo, hi float64) float64 { return lo + (hi-lo)*g.Float64() }

// gamma draws from Gamma(shape, scale) by Marsaglia and Tsang's method.
func (g gen) gamma(shape, scale float64) float64 {
	if shape < 1 {
		// Boost: Gamma(a) = Gamma(a+1) · U^(1/a).
		return g.gamma(shape+1, scale) * math.Pow(g.Float64(), 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := g.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := g.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v * scale
		}
	}
}

// beta draws from Beta(a, b).
func (g gen) beta(a, b float64) float64 {
	x := g.gamma(a, 1)
	return x / (x + g.gamma(b, 1))
}

// poisson draws a Poisson count with the given mean (Knuth's method; the
// means used here are small).
func (g gen) poisson(mean float64) int {
	if mean <= 0 {
		return 0
	}
	if mean > 30 {
		return max(0, int(math.Round(mean+math.Sqrt(mean)*g.NormFloat64())))
	}
	l, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= g.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// lognormal draws exp(N(mu, sigma²)).
func (g gen) lognormal(mu, sigma float64) float64 {
	return math.Exp(mu + sigma*g.NormFloat64())
}

// digits returns n random decimal digits.
func (g gen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.IntN(10))
	}
	return string(b)
}

// table is a weighted choice among n items.
type table struct {
	cum []float64
}

func newTable(weights []float64) table {
	t := table{cum: make([]float64, len(weights))}
	s := 0.0
	for i, w := range weights {
		s += w
		t.cum[i] = s
	}
	return t
}

func (t table) pick(g gen) int {
	u := g.Float64() * t.cum[len(t.cum)-1]
	return min(sort.SearchFloat64s(t.cum, u), len(t.cum)-1)
}

// pickOf chooses one of items with the given weights.
func pickOf[T any](g gen, items []T, weights ...float64) T {
	u := g.Float64()
	s := 0.0
	for _, w := range weights {
		s += w
	}
	u *= s
	for i, w := range weights {
		if u < w {
			return items[i]
		}
		u -= w
	}
	return items[len(items)-1]
}

// one chooses uniformly.
func one[T any](g gen, items []T) T { return items[g.IntN(len(items))] }

package clv

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/stat/distuv"
)

// SimulateBGNBD draws one customer per entry of T (each observed for T[i]
// time units after the first purchase) from a BG/NBD process with the
// parameters of m. The same seed gives the same customers.
func SimulateBGNBD(m BGNBD, T []float64, seed uint64) []Summary {
	rng := rand.New(rand.NewPCG(seed, 0x5eed_b9))
	lam := distuv.Gamma{Alpha: m.R, Beta: m.Alpha, Src: rng}
	drop := distuv.Beta{Alpha: m.A, Beta: m.B, Src: rng}
	out := make([]Summary, len(T))
	for i, obs := range T {
		l, p := lam.Rand(), drop.Rand()
		c := Summary{T: obs}
		t := 0.0
		for {
			t += rng.ExpFloat64() / l
			if t > obs {
				break
			}
			c.X++
			c.TX = t
			if rng.Float64() < p {
				break
			}
		}
		out[i] = c
	}
	return out
}

// SimulateParetoNBD draws one customer per entry of T from a Pareto/NBD
// process with the parameters of m.
func SimulateParetoNBD(m ParetoNBD, T []float64, seed uint64) []Summary {
	rng := rand.New(rand.NewPCG(seed, 0x5eed_9a))
	lam := distuv.Gamma{Alpha: m.R, Beta: m.Alpha, Src: rng}
	mu := distuv.Gamma{Alpha: m.S, Beta: m.Beta, Src: rng}
	out := make([]Summary, len(T))
	for i, obs := range T {
		l := lam.Rand()
		life := rng.ExpFloat64() / mu.Rand()
		end := math.Min(life, obs)
		c := Summary{T: obs}
		for t := rng.ExpFloat64() / l; t <= end; t += rng.ExpFloat64() / l {
			c.X++
			c.TX = t
		}
		out[i] = c
	}
	return out
}

// SimulateSpend sets Zbar of every customer with repeat purchases to the
// mean of X transaction values drawn from the Gamma-Gamma model g.
func SimulateSpend(g GammaGamma, customers []Summary, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed_99))
	nu := distuv.Gamma{Alpha: g.Q, Beta: g.Gamma, Src: rng}
	for i := range customers {
		c := &customers[i]
		if c.X == 0 {
			c.Zbar = 0
			continue
		}
		// The mean of x Gamma(p, ν) draws is Gamma(px, xν).
		z := distuv.Gamma{Alpha: g.P * float64(c.X), Beta: float64(c.X) * nu.Rand(), Src: rng}
		c.Zbar = z.Rand()
	}
}

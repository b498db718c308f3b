package experiment

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/rapportcrm/rapport/internal/errs"
)

// Arm is one variant of an experiment and its share of the traffic.
// Weights are relative: {A 1, B 1} and {A 50, B 50} split the same way.
type Arm struct {
	Name   string  `json:"name"`
	Weight float64 `json:"weight"`
}

// HashPoint places a customer on [0, 1) for an experiment. It is the first
// 8 bytes of SHA-256(experimentSalt + ":" + customerID), read big-endian,
// keeping the top 53 bits so the point is an exact float64. Anyone can audit
// an assignment with `printf '%s:%s' SALT ID | sha256sum`.
func HashPoint(experimentSalt, customerID string) float64 {
	return pointOf(hashKey(experimentSalt, customerID))
}

// hashKey is the 64-bit key HashPoint and the stratified ordering share.
func hashKey(salt, id string) uint64 {
	var buf [256]byte
	b := buf[:0]
	b = append(b, salt...)
	b = append(b, ':')
	b = append(b, id...)
	sum := sha256.Sum256(b)
	return binary.BigEndian.Uint64(sum[:8])
}

func pointOf(key uint64) float64 {
	return float64(key>>11) * 0x1p-53
}

// Assign returns the arm a customer is in. The same salt, customer and arms
// always give the same arm, and each arm receives its weight's share of
// customers. Use a fresh salt per experiment so that assignments of
// different experiments are independent. Arms with a weight that is not a
// positive finite number receive nobody; when no arm has such a weight,
// Assign returns "" (check arms once with ValidateArms).
func Assign(experimentSalt, customerID string, arms []Arm) string {
	return armAt(HashPoint(experimentSalt, customerID), arms)
}

// armAt maps a point on [0, 1) to the arm whose cumulative-weight interval
// holds it.
func armAt(point float64, arms []Arm) string {
	total := 0.0
	for _, a := range arms {
		total += usableWeight(a.Weight)
	}
	if total == 0 {
		return ""
	}
	target := point * total
	acc := 0.0
	last := ""
	for _, a := range arms {
		w := usableWeight(a.Weight)
		if w == 0 {
			continue
		}
		acc += w
		last = a.Name
		if target < acc {
			return a.Name
		}
	}
	return last // rounding left target at the very top
}

func usableWeight(w float64) float64 {
	if w > 0 && !math.IsInf(w, 1) {
		return w
	}
	return 0
}

// ValidateArms reports whether arms can run an experiment: at least two,
// unique non-empty names, positive finite weights.
func ValidateArms(arms []Arm) error {
	if len(arms) < 2 {
		return errs.E(errs.Invalid, "experiment: need at least two arms, got %d", len(arms))
	}
	seen := make(map[string]bool, len(arms))
	for _, a := range arms {
		if strings.TrimSpace(a.Name) == "" {
			return errs.E(errs.Invalid, "experiment: arm with an empty name")
		}
		if seen[a.Name] {
			return errs.E(errs.Invalid, "experiment: arm %q listed twice", a.Name)
		}
		seen[a.Name] = true
		if usableWeight(a.Weight) == 0 {
			return errs.E(errs.Invalid, "experiment: arm %q has weight %v; weights must be positive and finite", a.Name, a.Weight)
		}
	}
	return nil
}

// ParseWeights reads a planned split written as "control=1,email_a=1,email_b=2"
// (the form of the CLI's --weights flag).
func ParseWeights(s string) ([]Arm, error) {
	var arms []Arm
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, w, ok := strings.Cut(part, "=")
		if !ok {
			return nil, errs.E(errs.Invalid, "experiment: weight %q is not arm=weight", part)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(w), 64)
		if err != nil {
			return nil, errs.E(errs.Invalid, "experiment: weight of arm %q: %q is not a number", name, w)
		}
		arms = append(arms, Arm{Name: strings.TrimSpace(name), Weight: v})
	}
	if err := ValidateArms(arms); err != nil {
		return nil, err
	}
	return arms, nil
}

// Unit is a customer to place in a stratified assignment.
type Unit struct {
	CustomerID string `json:"customer_id"`
	// Stratum is the block the split is balanced within, such as a tier.
	Stratum string `json:"stratum"`
}

// Assignment is the arm a Unit was placed in.
type Assignment struct {
	CustomerID string `json:"customer_id"`
	Stratum    string `json:"stratum"`
	Arm        string `json:"arm"`
}

// AssignStratified splits every stratum exactly by the weights: each
// stratum's arm counts are its size apportioned by largest remainder (so
// they differ from size×share by less than one), ties in the remainder
// broken by a hash of salt, stratum and arm so no arm is favoured across
// strata. Within a stratum customers are ordered by their HashPoint and
// handed out in weight order, so a customer usually lands in the same arm
// Assign would give; the result is deterministic for a given set of units
// and salt, but unlike Assign it is a snapshot: adding customers to a
// stratum may move customers near an arm boundary. Store the result of a
// holdout drawn this way rather than recomputing it later.
//
// The result is in the order of units. Duplicate customer IDs are an error.
func AssignStratified(experimentSalt string, units []Unit, arms []Arm) ([]Assignment, error) {
	if err := ValidateArms(arms); err != nil {
		return nil, fmt.Errorf("experiment: stratified assignment: %w", err)
	}
	type member struct {
		index int
		key   uint64
	}
	strata := make(map[string][]member)
	seen := make(map[string]bool, len(units))
	for i, u := range units {
		if seen[u.CustomerID] {
			return nil, errs.E(errs.Invalid, "experiment: stratified assignment: customer %q listed twice", u.CustomerID)
		}
		seen[u.CustomerID] = true
		strata[u.Stratum] = append(strata[u.Stratum], member{i, hashKey(experimentSalt, u.CustomerID)})
	}
	out := make([]Assignment, len(units))
	for stratum, ms := range strata {
		slices.SortFunc(ms, func(a, b member) int {
			if c := cmp.Compare(a.key, b.key); c != 0 {
				return c
			}
			return strings.Compare(units[a.index].CustomerID, units[b.index].CustomerID)
		})
		counts := apportion(experimentSalt, stratum, len(ms), arms)
		pos := 0
		for ai, c := range counts {
			for _, m := range ms[pos : pos+c] {
				u := units[m.index]
				out[m.index] = Assignment{CustomerID: u.CustomerID, Stratum: u.Stratum, Arm: arms[ai].Name}
			}
			pos += c
		}
	}
	return out, nil
}

// apportion splits n seats among arms by the largest-remainder method.
func apportion(salt, stratum string, n int, arms []Arm) []int {
	total := 0.0
	for _, a := range arms {
		total += a.Weight
	}
	counts := make([]int, len(arms))
	type rem struct {
		arm  int
		frac float64
		tie  uint64
	}
	rems := make([]rem, len(arms))
	given := 0
	for i, a := range arms {
		q := float64(n) * a.Weight / total
		counts[i] = int(math.Floor(q))
		given += counts[i]
		rems[i] = rem{i, q - math.Floor(q), hashKey(salt, stratum+":"+a.Name)}
	}
	slices.SortFunc(rems, func(a, b rem) int {
		if c := cmp.Compare(b.frac, a.frac); c != 0 {
			return c
		}
		return cmp.Compare(a.tie, b.tie)
	})
	for i := 0; given < n; i++ {
		counts[rems[i%len(rems)].arm]++
		given++
	}
	return counts
}

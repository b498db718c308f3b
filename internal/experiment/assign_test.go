package experiment

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The golden points were computed outside Go with Python's hashlib:
// int.from_bytes(sha256(f"{salt}:{id}".encode()).digest()[:8], "big") >> 11, / 2**53.
func TestHashPointMatchesIndependentSHA256(t *testing.T) {
	cases := []struct {
		salt, id string
		point    float64
		arm      string // with arms control=9, holdout=1
	}{
		{"exp-2024-spring", "cust-000001", 0.9893585774866713, "holdout"},
		{"exp-2024-spring", "张伟", 0.8068644100653433, "control"},
		{"holdout-q3", "42", 0.9722117086543083, "holdout"},
	}
	arms := []Arm{{"control", 9}, {"holdout", 1}}
	for _, c := range cases {
		if got := HashPoint(c.salt, c.id); got != c.point {
			t.Errorf("HashPoint(%q, %q) = %.17g, want %.17g", c.salt, c.id, got, c.point)
		}
		if got := Assign(c.salt, c.id, arms); got != c.arm {
			t.Errorf("Assign(%q, %q) = %q, want %q", c.salt, c.id, got, c.arm)
		}
	}
}

func TestAssignIsStableAcrossCallsAndArmWeightScale(t *testing.T) {
	a := []Arm{{"control", 1}, {"email_a", 1}, {"email_b", 2}}
	scaled := []Arm{{"control", 25}, {"email_a", 25}, {"email_b", 50}}
	for i := range 5000 {
		id := fmt.Sprintf("c%07d", i)
		first := Assign("exp-stable", id, a)
		if again := Assign("exp-stable", id, a); again != first {
			t.Fatalf("customer %s moved from %s to %s between calls", id, first, again)
		}
		if s := Assign("exp-stable", id, scaled); s != first {
			t.Fatalf("customer %s: weights 1:1:2 give %s, 25:25:50 give %s", id, first, s)
		}
	}
}

func TestAssignProportionsFollowWeights(t *testing.T) {
	const n = 200_000
	cases := []struct {
		name string
		arms []Arm
	}{
		{"even two", []Arm{{"control", 1}, {"treatment", 1}}},
		{"1:1:2", []Arm{{"control", 1}, {"email_a", 1}, {"email_b", 2}}},
		{"10% holdout", []Arm{{"treated", 0.9}, {"holdout", 0.1}}},
		{"tiny arm", []Arm{{"a", 0.99}, {"b", 0.01}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			counts := map[string]int{}
			for i := range n {
				counts[Assign("exp-"+c.name, fmt.Sprintf("cust-%d", i), c.arms)]++
			}
			total := 0.0
			for _, a := range c.arms {
				total += a.Weight
			}
			for _, a := range c.arms {
				share := a.Weight / total
				se := math.Sqrt(share * (1 - share) / n)
				got := float64(counts[a.Name]) / n
				if math.Abs(got-share) > 4*se {
					t.Errorf("arm %s: share %.5f, want %.5f ± %.5f (4 SE)", a.Name, got, share, 4*se)
				}
			}
			if counts[""] != 0 {
				t.Errorf("%d customers got no arm", counts[""])
			}
		})
	}
}

func TestHashPointIsUniform(t *testing.T) {
	// Chi-square goodness of fit over 20 equal buckets; critical value of
	// chi-square(19) at 0.001 is 43.82.
	const n, buckets = 100_000, 20
	var counts [buckets]int
	for i := range n {
		counts[int(HashPoint("uniformity", fmt.Sprint(i))*buckets)]++
	}
	chi := 0.0
	e := float64(n) / buckets
	for _, c := range counts {
		chi += (float64(c) - e) * (float64(c) - e) / e
	}
	if chi > 43.82 {
		t.Errorf("bucket chi-square %.2f > 43.82: points are not uniform: %v", chi, counts)
	}
}

func TestAssignDifferentSaltsAreIndependent(t *testing.T) {
	arms := []Arm{{"a", 1}, {"b", 1}}
	const n = 50_000
	same := 0
	for i := range n {
		id := fmt.Sprint("cust-", i)
		if Assign("exp-one", id, arms) == Assign("exp-two", id, arms) {
			same++
		}
	}
	// Independent 50/50 splits agree half the time; SE = 0.5/sqrt(n).
	if got := float64(same) / n; math.Abs(got-0.5) > 4*0.5/math.Sqrt(n) {
		t.Errorf("two experiments agree for %.4f of customers, want 0.5", got)
	}
}

func TestAssignSkipsUnusableWeights(t *testing.T) {
	arms := []Arm{{"off", 0}, {"on", 1}, {"broken", math.NaN()}, {"neg", -3}}
	for i := range 1000 {
		if got := Assign("s", fmt.Sprint(i), arms); got != "on" {
			t.Fatalf("customer %d in %q, want every customer in the only usable arm", i, got)
		}
	}
	if got := Assign("s", "x", []Arm{{"a", 0}}); got != "" {
		t.Errorf("no usable weights: got %q, want empty", got)
	}
	if got := Assign("s", "x", nil); got != "" {
		t.Errorf("no arms: got %q, want empty", got)
	}
}

func TestValidateArmsAndParseWeights(t *testing.T) {
	arms, err := ParseWeights("control=1, email_a=1,email_b = 2")
	if err != nil {
		t.Fatal(err)
	}
	want := []Arm{{"control", 1}, {"email_a", 1}, {"email_b", 2}}
	if fmt.Sprint(arms) != fmt.Sprint(want) {
		t.Errorf("ParseWeights = %v, want %v", arms, want)
	}
	for _, bad := range []string{"", "control=1", "a=1,b", "a=1,b=x", "a=1,a=2", "a=1,b=0", "a=1,b=-1", "a=1,=1", "a=1,b=Inf"} {
		if _, err := ParseWeights(bad); err == nil {
			t.Errorf("ParseWeights(%q) accepted", bad)
		}
	}
}

func TestAssignStratifiedBalancesEveryStratum(t *testing.T) {
	sizes := map[string]int{"platinum": 37, "gold": 250, "silver": 1013, "bronze": 4999, "single": 1}
	cases := []struct {
		name string
		arms []Arm
	}{
		{"even", []Arm{{"control", 1}, {"treatment", 1}}},
		{"holdout 10%", []Arm{{"treated", 9}, {"holdout", 1}}},
		{"three arms 1:2:7", []Arm{{"a", 1}, {"b", 2}, {"c", 7}}},
	}
	var units []Unit
	for tier, n := range sizes {
		for i := range n {
			units = append(units, Unit{CustomerID: fmt.Sprintf("%s-%05d", tier, i), Stratum: tier})
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := AssignStratified("holdout-2024", units, c.arms)
			if err != nil {
				t.Fatal(err)
			}
			counts := map[string]map[string]int{}
			agree := 0
			for i, a := range got {
				if a.CustomerID != units[i].CustomerID || a.Stratum != units[i].Stratum {
					t.Fatalf("result %d is %+v, not in input order", i, a)
				}
				if counts[a.Stratum] == nil {
					counts[a.Stratum] = map[string]int{}
				}
				counts[a.Stratum][a.Arm]++
				if a.Arm == Assign("holdout-2024", a.CustomerID, c.arms) {
					agree++
				}
			}
			total := 0.0
			for _, a := range c.arms {
				total += a.Weight
			}
			for tier, n := range sizes {
				sum := 0
				for _, a := range c.arms {
					k := counts[tier][a.Name]
					sum += k
					if exact := float64(n) * a.Weight / total; math.Abs(float64(k)-exact) >= 1 {
						t.Errorf("%s/%s: %d customers, want %.2f within 1", tier, a.Name, k, exact)
					}
				}
				if sum != n {
					t.Errorf("%s: %d assigned of %d", tier, sum, n)
				}
			}
			// Ordering by hash point makes the stratified arm mostly the
			// arm Assign gives: only customers near boundaries move.
			if share := float64(agree) / float64(len(units)); share < 0.95 {
				t.Errorf("only %.3f of customers agree with Assign, want ≥ 0.95", share)
			}
		})
	}
}

func TestAssignStratifiedIgnoresInputOrder(t *testing.T) {
	var units []Unit
	for i := range 3000 {
		units = append(units, Unit{CustomerID: fmt.Sprint("c", i), Stratum: []string{"A", "B", "C"}[i%3]})
	}
	arms := []Arm{{"control", 1}, {"treatment", 1}}
	first, err := AssignStratified("order", units, arms)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]string{}
	for _, a := range first {
		byID[a.CustomerID] = a.Arm
	}
	shuffled := append([]Unit(nil), units...)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	second, err := AssignStratified("order", shuffled, arms)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range second {
		if byID[a.CustomerID] != a.Arm {
			t.Fatalf("customer %s: %s before shuffling, %s after", a.CustomerID, byID[a.CustomerID], a.Arm)
		}
	}
}

func TestAssignStratifiedSpreadsRemaindersAcrossArms(t *testing.T) {
	// 200 strata of 3 customers on a 1:1 split: each stratum has one spare
	// customer. Always giving it to the first arm would make 400 vs 200.
	var units []Unit
	for s := range 200 {
		for i := range 3 {
			units = append(units, Unit{CustomerID: fmt.Sprintf("s%d-c%d", s, i), Stratum: fmt.Sprint("s", s)})
		}
	}
	got, err := AssignStratified("spread", units, []Arm{{"a", 1}, {"b", 1}})
	if err != nil {
		t.Fatal(err)
	}
	a := 0
	for _, x := range got {
		if x.Arm == "a" {
			a++
		}
	}
	// The spares are fair coin flips: a = 200 + Binomial(200, 0.5), SD ≈ 7.1.
	if math.Abs(float64(a)-300) > 30 {
		t.Errorf("arm a has %d of 600, want about 300", a)
	}
}

func TestAssignStratifiedRejectsBadInput(t *testing.T) {
	arms := []Arm{{"a", 1}, {"b", 1}}
	if _, err := AssignStratified("s", []Unit{{"x", "t"}, {"x", "u"}}, arms); err == nil {
		t.Error("duplicate customer accepted")
	}
	if _, err := AssignStratified("s", []Unit{{"x", "t"}}, []Arm{{"a", 1}}); err == nil {
		t.Error("single arm accepted")
	}
	if got, err := AssignStratified("s", nil, arms); err != nil || len(got) != 0 {
		t.Errorf("no units: %v, %v; want empty result", got, err)
	}
}

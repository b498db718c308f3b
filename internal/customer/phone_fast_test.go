package customer

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// The fast path for Chinese mobiles must agree with libphonenumber. It
// assumes validity depends on the leading digits only: check that the
// first five digits decide, for every five-digit prefix, with suffixes
// that vary everything after them.
func TestMobileValidityDependsOnTheLeadingDigitsOnly(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for p := 10000; p <= 19999; p++ {
		var first bool
		for k := range 3 {
			n := fmt.Sprintf("%d%06d", p, rng.IntN(1_000_000))
			if k == 0 {
				n = fmt.Sprintf("%d000000", p)
			}
			_, err := parsePhone(n, n, "CN")
			if k == 0 {
				first = err == nil
			} else if (err == nil) != first {
				t.Fatalf("prefix %d: %s valid=%v but %d000000 valid=%v", p, n, err == nil, p, first)
			}
		}
	}
}

// NormalizePhone (fast path, memoized by prefix) gives exactly what the
// libphonenumber path gives, for numbers written in the usual ways.
func TestFastMobilePathAgreesWithLibphonenumber(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	forms := []func(d string) string{
		func(d string) string { return d },
		func(d string) string { return d[:3] + " " + d[3:7] + " " + d[7:] },
		func(d string) string { return d[:3] + "-" + d[3:7] + "-" + d[7:] },
		func(d string) string { return "+86 " + d },
		func(d string) string { return "+86" + d },
		func(d string) string { return "(" + d[:3] + ") " + d[3:] },
	}
	for i := range 20_000 {
		d := fmt.Sprintf("1%010d", rng.Int64N(10_000_000_000))
		raw := forms[i%len(forms)](d)
		got, gerr := NormalizePhone(raw, "CN")
		want, werr := parsePhone(NormalizeText(raw), raw, "CN")
		if got != want || (gerr == nil) != (werr == nil) {
			t.Fatalf("%q: fast %q (%v), libphonenumber %q (%v)", raw, got, gerr, want, werr)
		}
	}
	// Region matters without +86; with it, it does not.
	if got, err := NormalizePhone("+86 138 0013 8000", "US"); err != nil || got != "+8613800138000" {
		t.Fatalf("+86 in region US: %q %v", got, err)
	}
	if got, _ := NormalizePhone("13800138000", "US"); got == "+8613800138000" {
		t.Fatal("an 11-digit number in region US was read as Chinese")
	}
}

// BenchmarkNormalizePhone: the fast path beside the libphonenumber path.
func BenchmarkNormalizePhone(b *testing.B) {
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			NormalizePhone("138 0013 8000", "CN")
		}
	})
	b.Run("libphonenumber", func(b *testing.B) {
		for b.Loop() {
			parsePhone("138 0013 8000", "138 0013 8000", "CN")
		}
	})
}

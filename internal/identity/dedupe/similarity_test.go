package dedupe

import (
	"math"
	"testing"
)

func TestJaroWinklerKnownValues(t *testing.T) {
	// Values from Winkler (1990) and the usual textbook examples.
	cases := []struct {
		a, b string
		want float64
	}{
		{"MARTHA", "MARHTA", 0.9611},
		{"DWAYNE", "DUANE", 0.84},
		{"DIXON", "DICKSONX", 0.8133},
		{"JELLYFISH", "SMELLYFISH", 0.8963},
		{"abc", "abc", 1},
		{"abc", "xyz", 0},
		{"", "", 1},
		{"a", "", 0},
		{"张伟", "张伟", 1},
	}
	for _, c := range cases {
		if got := JaroWinkler(c.a, c.b); math.Abs(got-c.want) > 5e-5 {
			t.Errorf("JaroWinkler(%q, %q) = %.4f, want %.4f", c.a, c.b, got, c.want)
		}
		if got := JaroWinkler(c.b, c.a); math.Abs(got-c.want) > 5e-5 {
			t.Errorf("JaroWinkler(%q, %q) = %.4f, want %.4f (symmetry)", c.b, c.a, got, c.want)
		}
	}
}

func TestJaroKnownValues(t *testing.T) {
	cases := []struct {
		a, b string
		want float64
	}{
		{"MARTHA", "MARHTA", 0.9444},
		{"DWAYNE", "DUANE", 0.8222},
		{"DIXON", "DICKSONX", 0.7667},
		{"CRATE", "TRACE", 0.7333},
	}
	for _, c := range cases {
		if got := Jaro(c.a, c.b); math.Abs(got-c.want) > 5e-5 {
			t.Errorf("Jaro(%q, %q) = %.4f, want %.4f", c.a, c.b, got, c.want)
		}
	}
}

func TestLevenshtein(t *testing.T) {
	cases := []struct {
		a, b string
		want int
		sim  float64
	}{
		{"kitten", "sitting", 3, 1 - 3.0/7},
		{"flaw", "lawn", 2, 0.5},
		{"", "abc", 3, 0},
		{"abc", "abc", 0, 1},
		{"张伟", "张玮", 1, 0.5}, // characters, not bytes
		{"tullaroop street", "tullarop street", 1, 1 - 1.0/16},
	}
	for _, c := range cases {
		if got := Levenshtein(c.a, c.b); got != c.want {
			t.Errorf("Levenshtein(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := LevenshteinSimilarity(c.a, c.b); math.Abs(got-c.sim) > 1e-12 {
			t.Errorf("LevenshteinSimilarity(%q, %q) = %.4f, want %.4f", c.a, c.b, got, c.sim)
		}
	}
}

func TestWithinOneEdit(t *testing.T) {
	cases := []struct {
		a, b string
		want EditKind
	}{
		{"19750818", "19750818", EditNone},
		{"19750818", "19750819", EditSubstitution},
		{"19750818", "19758018", EditTransposition},
		{"13800138000", "1380013800", EditInsertion},
		{"1380013800", "13800138000", EditInsertion},
		{"19750818", "19570818", EditTransposition},
		{"19750818", "18750819", EditMore}, // two substitutions
		{"ann@x.cn", "anne@x.cn", EditInsertion},
		{"abcd", "badc", EditMore},
		{"张伟", "张玮", EditSubstitution},
		{"", "a", EditInsertion},
	}
	for _, c := range cases {
		if got := WithinOneEdit(c.a, c.b); got != c.want {
			t.Errorf("WithinOneEdit(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestSoundex(t *testing.T) {
	cases := map[string]string{
		"Robert": "R163", "Rupert": "R163", "Rubin": "R150", "Ashcraft": "A261",
		"Tymczak": "T522", "Pfister": "P236", "Honeyman": "H555", "zhang": "Z520", "": "",
	}
	for in, want := range cases {
		if got := Soundex(in); got != want {
			t.Errorf("Soundex(%q) = %q, want %q", in, got, want)
		}
	}
}

package demo

import (
	"encoding/json"
	"testing"
)

// BenchmarkGenerate times the default demo dataset (6,000 customers). Its
// peer below, BenchmarkMarshalDataset, encodes that same dataset to JSON:
// a floor for any pass that touches every record once.
func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		Generate(Options{Seed: 1, Now: testNow, Users: testUsers})
	}
}

func BenchmarkMarshalDataset(b *testing.B) {
	d := Generate(Options{Seed: 1, Now: testNow, Users: testUsers})
	for b.Loop() {
		if _, err := json.Marshal(d); err != nil {
			b.Fatal(err)
		}
	}
}

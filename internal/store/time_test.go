package store

import (
	"testing"
	"time"
)

func TestStoredTimesParseLikeTheGeneralParser(t *testing.T) {
	for _, s := range []string{"2025-06-01T08:30:15.123456Z", "1999-12-31T23:59:59.000000Z", "2024-02-29T00:00:00.000001Z",
		"2025-02-31T00:00:00.000000Z", "2025-13-01T00:00:00.000000Z", "2025-06-01T08:30:15Z", "2025-06-01T08:30:15.123456+08:00", "garbage"} {
		var fast, slow dbTime
		ferr := fast.parse(s)
		want, serr := time.Parse(time.RFC3339Nano, s)
		slow.Time, slow.Valid = want.UTC(), serr == nil
		if (ferr == nil) != (serr == nil) || (ferr == nil && !fast.Time.Equal(slow.Time)) {
			t.Errorf("%q: parsed %v (%v), the general parser says %v (%v)", s, fast.Time, ferr, want, serr)
		}
	}
}

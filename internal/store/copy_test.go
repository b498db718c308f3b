package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/store"
)

// TestCopyRowsWritesEveryTypeOrNothing: on PostgreSQL rows go by COPY with
// their text, integer, float, timestamp and NULL values intact; a value
// whose type the column cannot take in binary makes copyRows decline
// before it writes anything (a failed COPY would abort the transaction), and
// so do a few rows. SQLite always declines.
func TestCopyRowsWritesEveryTypeOrNothing(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var cs []*customer.Customer
		for i := range 70 {
			cs = append(cs, newCustomer(t, fmt.Sprintf("拷贝%02d", i)))
		}
		if err := s.CreateCustomers(ctx, actor, cs); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Exec(ctx, `DELETE FROM customer_stats`); err != nil {
			t.Fatal(err)
		}
		cols := []string{"customer_id", "orders", "revenue", "first_seen", "last_seen"}
		rows := make([][]any, len(cs))
		for i, c := range cs {
			var last any // NULL for the even ones
			if i%2 == 1 {
				last = "2025-03-01T09:00:00.123456Z"
			}
			rows[i] = []any{c.ID, int64(i), float64(i) + 0.5, "2025-02-01T08:00:00.000001Z", last}
		}
		bad := append([][]any{}, rows...)
		bad[40] = []any{cs[40].ID, "forty", 1.0, nil, nil} // a string for a bigint
		copied, err := s.CopyRows(ctx, "customer_stats", cols, bad)
		if err != nil || copied {
			t.Fatalf("a row COPY cannot encode: copied %v, err %v", copied, err)
		}
		if copied, err := s.CopyRows(ctx, "customer_stats", cols, rows[:10]); err != nil || copied {
			t.Fatalf("10 rows, below COPY's minimum: copied %v, err %v", copied, err)
		}
		copied, err = s.CopyRows(ctx, "customer_stats", cols, rows)
		if err != nil {
			t.Fatal(err)
		}
		if want := s.Dialect() == store.Postgres; copied != want {
			t.Fatalf("copied %v on %s", copied, s.Dialect())
		}
		if !copied {
			return
		}
		for i, c := range cs {
			st, err := s.CustomerStats(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			first := time.Date(2025, 2, 1, 8, 0, 0, 1000, time.UTC)
			lastOK := st.LastSeen == nil
			if i%2 == 1 {
				lastOK = st.LastSeen != nil && st.LastSeen.Equal(time.Date(2025, 3, 1, 9, 0, 0, 123456000, time.UTC))
			}
			if st.Orders != int64(i) || st.Revenue != float64(i)+0.5 || st.FirstSeen == nil || !st.FirstSeen.Equal(first) || !lastOK {
				t.Fatalf("row %d read back as %+v", i, st)
			}
		}
	})
}

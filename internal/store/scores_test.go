package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/storetest"
)

// A refit and a refresh write scores for overlapping customers at the same
// time; neither may fail (on PostgreSQL, rows locked in different orders
// deadlock).
func TestConcurrentScoreUpsertsDoNotDeadlock(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var cs []*customer.Customer
		for i := range 400 {
			cs = append(cs, newCustomer(t, fmt.Sprintf("评分%03d", i)))
		}
		if err := s.CreateCustomers(ctx, actor, cs); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errc := make(chan error, 8)
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for round := range 5 {
					scores := map[string]customer.Scores{}
					for _, c := range cs {
						scores[c.ID] = customer.Scores{Tier: []string{"gold", "silver"}[(w+round)%2], UpdatedAt: time.Now()}
					}
					if err := s.UpsertScores(ctx, scores); err != nil {
						errc <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
	})
}

// BenchmarkUpsertScores writes the scores of 2,000 customers a call, the
// analytics service's batch, over customers already scored (a refit
// rewrites every one of them).
func BenchmarkUpsertScores(b *testing.B) {
	for _, e := range storetest.Engines(b) {
		b.Run(e.Name, func(b *testing.B) {
			s, ctx := e.Store, context.Background()
			var cs []*customer.Customer
			for i := range 2000 {
				cs = append(cs, newCustomer(b, fmt.Sprintf("分数%04d", i)))
			}
			if err := s.CreateCustomers(ctx, actor, cs); err != nil {
				b.Fatal(err)
			}
			clv := 12.5
			n := 0
			for b.Loop() {
				scores := make(map[string]customer.Scores, len(cs))
				for i, c := range cs {
					scores[c.ID] = customer.Scores{Tier: "gold", RFMSegment: "champions", R: 1 + i%5, F: 1 + n%5, M: 3, CLV: &clv, PAlive: &clv, UpdatedAt: time.Now()}
				}
				if err := s.UpsertScores(ctx, scores); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n*len(cs))/b.Elapsed().Seconds(), "scores/s")
		})
	}
}

// TestUpsertScoresRoundTripsEveryFieldAndClearsTheQueue: scores come back
// as written (absent numbers stay absent), an upsert replaces them, and
// the customers leave the stale queue.
func TestUpsertScoresRoundTripsEveryFieldAndClearsTheQueue(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var cs []*customer.Customer
		for i := range 150 { // more than one multi-row statement
			cs = append(cs, newCustomer(t, fmt.Sprintf("回写%03d", i)))
		}
		if err := s.CreateCustomers(ctx, actor, cs); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 5, 1, 8, 30, 0, 0, time.UTC)
		next := at.AddDate(0, 1, 0)
		want := map[string]customer.Scores{}
		for i, c := range cs {
			sc := customer.Scores{Tier: []string{"gold", "silver", "bronze"}[i%3], RFMSegment: "loyal", R: 1 + i%5, F: 1 + (i/5)%5, M: 5 - i%5, UpdatedAt: at}
			if i%2 == 0 {
				clv, p, churn := float64(i)+0.25, 0.5, 0.125
				sc.CLV, sc.PAlive, sc.ChurnRisk, sc.ExpectedNextPurchase = &clv, &p, &churn, &next
			}
			want[c.ID] = sc
		}
		for _, c := range cs {
			if _, err := s.Exec(ctx, `INSERT INTO score_queue (customer_id, queued_at) VALUES ($1, $2)`, c.ID, "2026-05-01T08:00:00.000000Z"); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.UpsertScores(ctx, map[string]customer.Scores{cs[0].ID: {Tier: "low", UpdatedAt: at}}); err != nil {
			t.Fatal(err)
		}
		if err := s.UpsertScores(ctx, want); err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			got, err := s.Customer(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			w := want[c.ID]
			if got.Scores == nil {
				t.Fatalf("%s has no scores", c.Name)
			}
			g := *got.Scores
			same := func(a, b *float64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
			if g.Tier != w.Tier || g.RFMSegment != w.RFMSegment || g.R != w.R || g.F != w.F || g.M != w.M ||
				!same(g.CLV, w.CLV) || !same(g.PAlive, w.PAlive) || !same(g.ChurnRisk, w.ChurnRisk) ||
				(g.ExpectedNextPurchase == nil) != (w.ExpectedNextPurchase == nil) || !g.UpdatedAt.Equal(at) {
				t.Fatalf("%s: scores read back as %+v, want %+v", c.Name, g, w)
			}
			if w.ExpectedNextPurchase != nil && !g.ExpectedNextPurchase.Equal(next) {
				t.Fatalf("%s: next purchase %v, want %v", c.Name, g.ExpectedNextPurchase, next)
			}
		}
		queued, err := s.StaleScores(ctx, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(queued) != 0 {
			t.Fatalf("%d customers still queued after their scores were written", len(queued))
		}
	})
}

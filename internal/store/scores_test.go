package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/store"
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

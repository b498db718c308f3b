package store_test

import (
	"context"
	"testing"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/store"
)

func TestDismissedDuplicatePairsArePersistedEitherWayRound(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a, b, c := newCustomer(t, "王伟"), newCustomer(t, "王 伟"), newCustomer(t, "李娜")
		if err := s.CreateCustomers(ctx, actor, []*customer.Customer{a, b, c}); err != nil {
			t.Fatal(err)
		}
		if err := s.DismissDuplicate(ctx, actor, b.ID, a.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DismissDuplicate(ctx, actor, a.ID, b.ID); err != nil {
			t.Fatalf("dismissing a pair again: %v", err)
		}
		got, err := s.DismissedDuplicates(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || !got[store.PairOf(a.ID, b.ID)] || !got[store.PairOf(b.ID, a.ID)] || got[store.PairOf(a.ID, c.ID)] {
			t.Fatalf("dismissed = %v, want only the pair of %s and %s", got, a.ID, b.ID)
		}
	})
}

func TestDismissingABadPairIsRefusedAndWritesNothing(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newCustomer(t, "张伟")
		if err := s.CreateCustomers(ctx, actor, []*customer.Customer{a}); err != nil {
			t.Fatal(err)
		}
		if err := s.DismissDuplicate(ctx, actor, a.ID, a.ID); errs.KindOf(err) != errs.Invalid {
			t.Errorf("a customer with itself: %v, want invalid", err)
		}
		if err := s.DismissDuplicate(ctx, actor, a.ID, "no-such-id"); errs.KindOf(err) != errs.NotFound {
			t.Errorf("an unknown customer: %v, want not found", err)
		}
		if got, err := s.DismissedDuplicates(ctx); err != nil || len(got) != 0 {
			t.Fatalf("dismissed = %v, %v; want none", got, err)
		}
	})
}

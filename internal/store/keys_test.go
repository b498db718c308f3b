package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/store"
)

// TestKeyLookupsProbeTheIndexOnAYoungTable checks that ingestion's
// duplicate check and identity lookup stay index probes per key on tables
// the engine has not analyzed yet. On PostgreSQL the planner used to
// flatten the probe into a hash join over every stored row of the source,
// so each check of 5,000 messageIds read the source's whole event log.
func TestKeyLookupsProbeTheIndexOnAYoungTable(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		source := customer.NewID()
		owner := customer.NewID()
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Format("2006-01-02T15:04:05.000000Z")
		const n = 20_000
		events := make([][]any, n)
		idents := make([][]any, n)
		for i := range events {
			events[i] = []any{source, fmt.Sprintf("m-%06d", i), owner, "track", "Viewed", at, at, "{}"}
			idents[i] = []any{"email", "", fmt.Sprintf("v%06d@example.com", i), owner, at}
		}
		if err := s.InsertRows(ctx, "events", []string{"source_id", "message_id", "customer_id", "type", "name", "at", "received_at", "payload"}, events); err != nil {
			t.Fatal(err)
		}
		if err := s.InsertRows(ctx, "identities", []string{"type", "source", "value", "customer_id", "created_at"}, idents); err != nil {
			t.Fatal(err)
		}
		keys := make([]string, 5000)
		for i := range keys {
			keys[i] = fmt.Sprintf("m-%06d", n+i)
		}
		messages, owners, err := s.ExplainKeyLookups(ctx, source, keys)
		if err != nil {
			t.Fatal(err)
		}
		for name, plan := range map[string]string{"stored messages": messages, "identity owners": owners} {
			if !strings.Contains(plan, "Index") && !strings.Contains(plan, "SEARCH") {
				t.Errorf("%s: the plan does not use an index:\n%s", name, plan)
			}
			for _, bad := range []string{"Hash Join", "Seq Scan", "Merge Join", "SCAN"} {
				if strings.Contains(plan, bad) {
					t.Errorf("%s: the plan has a %s, not a probe per key:\n%s", name, bad, plan)
				}
			}
		}
	})
}

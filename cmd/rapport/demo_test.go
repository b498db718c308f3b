package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/targeting"
)

func TestDemoLoadsOnceAndPrintsAWorkingLogin(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out bytes.Buffer
	first, err := prepareDemo(ctx, s, 600, 1, &out)
	if err != nil {
		t.Fatal(err)
	}
	svc := &auth.Service{Store: s}
	if _, _, err := svc.Login(ctx, demoAdmin, first); err != nil {
		t.Fatalf("printed password does not log in: %v", err)
	}
	everyone := store.Condition{Where: "TRUE"}
	n, err := s.CountMatching(ctx, everyone, "")
	if err != nil || n != 600 {
		t.Fatalf("customers after the first start: %d (%v)", n, err)
	}
	browsed, err := s.CountMatching(ctx, store.Condition{Where: "EXISTS (SELECT 1 FROM events e WHERE e.customer_id = c.id AND e.name = 'Product Viewed')"}, "")
	if err != nil || browsed < 30 {
		t.Fatalf("customers with Product Viewed events: %d (%v)", browsed, err)
	}
	if !strings.Contains(out.String(), "600 customers") {
		t.Fatalf("output %q", out.String())
	}
	reps := 0
	users, _ := s.ListUsers(ctx)
	for _, u := range users {
		if u.Role == string(auth.Rep) {
			reps++
		}
	}
	if reps != len(demoReps) {
		t.Fatalf("%d reps, want %d", reps, len(demoReps))
	}
	// Segments, a worked list with a control group and an initiative, so
	// those pages have something to show.
	segs, _ := s.Segments(ctx)
	lists, _ := s.Lists(ctx, "")
	ins, _ := s.Initiatives(ctx)
	if len(segs) != 2 || len(lists) != 1 || len(ins) != 1 || segs[0].MemberCount == 0 {
		t.Fatalf("demo targeting: %d segments (%+v), %d lists, %d initiatives", len(segs), segs, len(lists), len(ins))
	}
	tg := &targeting.Service{Store: s}
	row, err := tg.BoardRow(ctx, lists[0].ID)
	if err != nil || row.Baseline.Kind != "control" || row.Contacted == 0 || row.Contacted >= row.Treated || row.Cost <= 0 {
		t.Fatalf("demo list on the board: %+v %v", row, err)
	}

	out.Reset()
	second, err := prepareDemo(ctx, s, 600, 1, &out)
	if err != nil {
		t.Fatal(err)
	}
	if n2, _ := s.CountMatching(ctx, everyone, ""); n2 != n || !strings.Contains(out.String(), "reusing") {
		t.Fatalf("second start: %d customers, output %q", n2, out.String())
	}
	if _, _, err := svc.Login(ctx, demoAdmin, second); err != nil {
		t.Fatalf("new password does not log in: %v", err)
	}
	if _, _, err := svc.Login(ctx, demoAdmin, first); err == nil {
		t.Fatal("the previous start's password still works")
	}
}

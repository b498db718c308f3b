package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/targeting"
)

// loadDemoTargeting gives the demo's segment, list, board and initiative
// pages something to show: two saved segments, an initiative, and a list
// frozen from one of them 45 days ago with a 20% control group, worked by
// the reps (their outcomes drawn from the seed). Purchases in the window
// are the generated orders, which know nothing of the list, so the board
// honestly reads "no measured effect" for it: the point is the reading,
// not a made-up success.
func loadDemoTargeting(ctx context.Context, s *store.Store, actor store.Actor, reps []string, now time.Time, seed int64) error {
	listDay := now.AddDate(0, 0, -45)
	tg := &targeting.Service{Store: s, Region: "CN", Now: func() time.Time { return listDay }}
	repeat, err := tg.CreateSegment(ctx, actor, "上海回头客 / Repeat buyers in Shanghai", `city = "上海" and orders >= 2`)
	if err != nil {
		return fmt.Errorf("demo segment: %w", err)
	}
	if _, err := tg.CreateSegment(ctx, actor, "沉睡的老客户 / Sleeping regulars", `orders >= 3 and not seen for 120 days`); err != nil {
		return fmt.Errorf("demo segment: %w", err)
	}
	in, err := tg.CreateInitiative(ctx, actor, targeting.InitiativeSpec{Name: "上海回头客回访 / Call back Shanghai regulars",
		Hypothesis: "A personal call brings regulars back sooner / 一通电话能让老客户更快回购", SegmentID: repeat.ID, Budget: 5000, Stage: "pilot"})
	if err != nil {
		return fmt.Errorf("demo initiative: %w", err)
	}
	l, err := tg.CreateList(ctx, actor, targeting.ListSpec{Name: "回访：上海回头客 / Call back: Shanghai regulars", SegmentID: repeat.ID,
		InitiativeID: in.ID, Holdout: 0.2, Assign: targeting.AssignRoundRobin, Reps: reps, DueDays: 7,
		Script: "问候近况，介绍本季新品，邀请到店品鉴。/ Ask how they are, mention the new season's range, invite them to a tasting."})
	if err != nil {
		return fmt.Errorf("demo list: %w", err)
	}
	if _, err := tg.AddCost(ctx, actor, store.Cost{ListID: l.ID, Hours: float64(l.Tasks) * 0.25, HourlyRate: 80,
		Note: "15 minutes a call / 每通电话 15 分钟"}); err != nil {
		return fmt.Errorf("demo cost: %w", err)
	}
	// The reps worked most of the list; a few tasks are still open.
	tasks, err := s.Tasks(ctx, store.TaskFilter{ListID: l.ID, Limit: 10_000})
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 5))
	outcomes := []string{"reached", "interested", "bought", "declined", "not_reachable"}
	weights := []float64{0.35, 0.2, 0.1, 0.15, 0.2}
	for _, t := range tasks {
		if rng.Float64() < 0.15 {
			continue
		}
		x, pick := rng.Float64(), outcomes[len(outcomes)-1]
		for i, w := range weights {
			if x < w {
				pick = outcomes[i]
				break
			}
			x -= w
		}
		tg.Now = func() time.Time { return listDay.Add(time.Duration(1+rng.IntN(6*24)) * time.Hour) }
		if _, err := tg.RecordOutcome(ctx, store.Actor{ID: t.AssigneeID, Kind: "user"}, t.AssigneeID, false, t.ID, pick, ""); err != nil {
			return fmt.Errorf("demo outcome: %w", err)
		}
	}
	return nil
}

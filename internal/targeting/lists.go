package targeting

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/experiment"
	"github.com/rapportcrm/rapport/internal/store"
)

// Assignment modes for handing list entries to reps.
const (
	AssignRoundRobin = "round_robin"
	AssignOwner      = "owner"
	AssignNone       = "none"
)

// Outcomes a rep can record on a task.
var Outcomes = []string{"reached", "interested", "bought", "declined", "not_reachable"}

// Responded reports whether an outcome counts as a response.
func Responded(outcome string) bool { return outcome == "interested" || outcome == "bought" }

// MaxListSize bounds a frozen list.
const MaxListSize = 200_000

// DefaultAttributionDays is the purchase-attribution window when none is given.
const DefaultAttributionDays = 30

// ListSpec describes a list to freeze: the members of a segment, or the
// top N by a score (within a segment when one is named); who works it; and
// optionally an experiment over it.
type ListSpec struct {
	Name            string
	SegmentID       string
	Score           string // clv, p_alive or churn_risk
	TopN            int
	InitiativeID    string
	Script          string
	DueAt           *time.Time
	DueDays         int
	AttributionDays int
	Assign          string
	Reps            []string
	// Holdout, when positive, keeps that share of the list as a control
	// group nobody contacts (arms control and treatment).
	Holdout float64
	// Arms, when set, splits the list into these arms instead (e.g. two
	// message variants and a control); Control names the control arm.
	Arms       []store.ExperimentArm
	Control    string
	StratifyBy string // tier (default) or none
	// ExperimentName names the experiment; default the list's name.
	ExperimentName string
}

// ListView is a frozen list with its experiment, if any.
type ListView struct {
	store.TargetList
	Experiment *store.Experiment `json:"experiment,omitempty"`
}

func (s *Service) validateSpec(sp *ListSpec) error {
	var fe []errs.FieldError
	bad := func(field, msg string, v any) {
		fe = append(fe, errs.FieldError{Field: "body." + field, Message: msg, Value: v})
	}
	sp.Name = customer.NormalizeText(sp.Name)
	if sp.Name == "" || len(sp.Name) > 200 {
		bad("name", "must be 1–200 bytes / 名称须为 1–200 字节", sp.Name)
	}
	if sp.SegmentID == "" && sp.Score == "" {
		bad("segment_id", "name a segment, or a score with top_n / 请指定分群，或指定评分与 top_n", nil)
	}
	if sp.Score != "" && (sp.TopN < 1 || sp.TopN > MaxListSize) {
		bad("top_n", "must be 1–200000 with a score / 使用评分时须为 1–200000", sp.TopN)
	}
	if sp.AttributionDays == 0 {
		sp.AttributionDays = DefaultAttributionDays
	}
	if sp.AttributionDays < 1 || sp.AttributionDays > 365 {
		bad("attribution_days", "must be 1–365 / 须为 1–365", sp.AttributionDays)
	}
	if sp.Assign == "" {
		sp.Assign = AssignNone
		if len(sp.Reps) > 0 {
			sp.Assign = AssignRoundRobin
		}
	}
	switch sp.Assign {
	case AssignRoundRobin:
		if len(sp.Reps) == 0 {
			bad("reps", "round-robin assignment needs at least one rep / 轮流分配至少需要一名销售", nil)
		}
	case AssignOwner, AssignNone:
	default:
		bad("assign", "must be round_robin, owner or none / 须为 round_robin、owner 或 none", sp.Assign)
	}
	if sp.Holdout < 0 || sp.Holdout >= 1 || math.IsNaN(sp.Holdout) {
		bad("holdout", "must be in [0, 1) / 须在 [0, 1) 之间", sp.Holdout)
	}
	if sp.DueDays < 0 || sp.DueDays > 365 {
		bad("due_days", "must be 0–365 / 须为 0–365", sp.DueDays)
	}
	if len(sp.Arms) > 0 {
		if sp.Control == "" {
			sp.Control = "control"
		}
		arms := make([]experiment.Arm, len(sp.Arms))
		for i, a := range sp.Arms {
			arms[i] = experiment.Arm{Name: a.Name, Weight: a.Weight}
		}
		if err := experiment.ValidateArms(arms); err != nil {
			bad("arms", err.Error(), nil)
		} else if !slices.ContainsFunc(sp.Arms, func(a store.ExperimentArm) bool { return a.Name == sp.Control }) {
			bad("control", "must name one of the arms / 须为其中一个分组", sp.Control)
		}
	} else if sp.Holdout > 0 {
		if sp.Control == "" {
			sp.Control = "control"
		}
		sp.Arms = []store.ExperimentArm{{Name: sp.Control, Weight: sp.Holdout}, {Name: "treatment", Weight: 1 - sp.Holdout}}
	}
	if sp.StratifyBy == "" {
		sp.StratifyBy = "tier"
	}
	if sp.StratifyBy != "tier" && sp.StratifyBy != "none" {
		bad("stratify_by", "must be tier or none / 须为 tier 或 none", sp.StratifyBy)
	}
	if len(fe) > 0 {
		return errs.Validation(fe...)
	}
	return nil
}

// CreateList freezes a list, assigns its entries to reps as tasks and,
// when the spec asks for one, splits it into experiment arms first (the
// control arm gets no tasks).
func (s *Service) CreateList(ctx context.Context, a store.Actor, sp ListSpec) (ListView, error) {
	if err := s.validateSpec(&sp); err != nil {
		return ListView{}, err
	}
	now := s.now()
	refs, scores, err := s.listMembers(ctx, sp, now)
	if err != nil {
		return ListView{}, err
	}
	return s.freeze(ctx, a, sp, "", refs, scores, nil, nil, now)
}

// listMembers finds who goes on a list.
func (s *Service) listMembers(ctx context.Context, sp ListSpec, now time.Time) ([]store.MatchRef, []float64, error) {
	var cond *store.Condition
	if sp.SegmentID != "" {
		_, c, err := s.segmentCondition(ctx, sp.SegmentID, now)
		if err != nil {
			return nil, nil, err
		}
		cond = &c.cond
	}
	if sp.Score != "" {
		return s.Store.TopByScore(ctx, sp.Score, sp.TopN, cond)
	}
	refs, err := s.Store.MatchingIDs(ctx, *cond)
	if err != nil {
		return nil, nil, err
	}
	if len(refs) > MaxListSize {
		return nil, nil, errs.E(errs.Invalid, "the segment has %d members; a list holds at most %d (use a score with top_n) / 分群有 %d 人，名单最多 %d 人", len(refs), MaxListSize, len(refs), MaxListSize)
	}
	return refs, nil, nil
}

// freeze stores a list. arms, when given, are the entries' arms decided by
// the caller (the predictive loop); otherwise sp.Arms are assigned by
// stratified hashing.
func (s *Service) freeze(ctx context.Context, a store.Actor, sp ListSpec, source string, refs []store.MatchRef, scores []float64,
	arms []string, model []byte, now time.Time) (ListView, error) {
	if len(refs) == 0 {
		return ListView{}, errs.E(errs.Invalid, "nobody matches; the list would be empty / 没有符合条件的客户，名单为空")
	}
	l := store.TargetList{ID: customer.NewID(), Name: sp.Name, SegmentID: sp.SegmentID, Score: sp.Score, InitiativeID: sp.InitiativeID,
		Script: sp.Script, DueAt: sp.DueAt, AttributionDays: sp.AttributionDays, Assignment: sp.Assign, Model: model, CreatedAt: now}
	l.Source = source
	if l.Source == "" {
		l.Source = "segment"
		if sp.Score != "" {
			l.Source = "score"
		}
	}
	if l.DueAt == nil && sp.DueDays > 0 {
		d := now.Add(time.Duration(sp.DueDays) * 24 * time.Hour)
		l.DueAt = &d
	}
	var exp *store.Experiment
	if len(sp.Arms) > 0 {
		exp = &store.Experiment{ID: customer.NewID(), Name: sp.ExperimentName, Salt: customer.NewID(), Arms: sp.Arms,
			Control: sp.Control, StratifyBy: sp.StratifyBy, CreatedAt: now}
		if exp.Name == "" {
			exp.Name = sp.Name
		}
		if arms == nil {
			var err error
			if arms, err = assignArms(exp, refs); err != nil {
				return ListView{}, err
			}
		}
	}
	ids := make([]string, len(refs))
	for i, r := range refs {
		ids[i] = r.ID
	}
	facts, err := s.Store.LoadFacts(ctx, ids, store.FactNeeds{})
	if err != nil {
		return ListView{}, err
	}
	entries := make([]store.ListEntry, len(refs))
	var tasks []store.Task
	scriptOf := map[string]string{}
	for _, arm := range sp.Arms {
		scriptOf[arm.Name] = arm.Script
	}
	rr := 0
	for i, r := range refs {
		e := store.ListEntry{CustomerID: r.ID, Position: i + 1, Stratum: r.Tier}
		if f := facts[r.ID]; f != nil {
			e.Features = Features(&f.Customer, now)
		}
		if scores != nil {
			v := scores[i]
			e.Score = &v
		}
		if arms != nil {
			e.Arm = arms[i]
		}
		entries[i] = e
		if exp != nil && e.Arm == exp.Control {
			continue
		}
		t := store.Task{ID: customer.NewID(), CustomerID: r.ID, DueAt: l.DueAt, Script: l.Script, CreatedAt: now}
		if sc := scriptOf[e.Arm]; sc != "" {
			t.Script = sc
		}
		switch {
		case sp.Assign == AssignOwner && r.OwnerID != "":
			t.AssigneeID = r.OwnerID
		case sp.Assign == AssignRoundRobin || (sp.Assign == AssignOwner && len(sp.Reps) > 0):
			t.AssigneeID = sp.Reps[rr%len(sp.Reps)]
			rr++
		}
		tasks = append(tasks, t)
	}
	if err := s.Store.CreateList(ctx, a, &l, entries, tasks, exp); err != nil {
		return ListView{}, err
	}
	return ListView{TargetList: l, Experiment: exp}, nil
}

// assignArms splits refs into the experiment's arms, stratified by tier
// (or not at all), by deterministic hashing with the experiment's salt.
func assignArms(exp *store.Experiment, refs []store.MatchRef) ([]string, error) {
	arms := make([]experiment.Arm, len(exp.Arms))
	for i, a := range exp.Arms {
		arms[i] = experiment.Arm{Name: a.Name, Weight: a.Weight}
	}
	units := make([]experiment.Unit, len(refs))
	for i, r := range refs {
		units[i] = experiment.Unit{CustomerID: r.ID}
		if exp.StratifyBy == "tier" {
			units[i].Stratum = r.Tier
		}
	}
	as, err := experiment.AssignStratified(exp.Salt, units, arms)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Arm
	}
	return out, nil
}

// FeatureNames are the profile features snapshotted on every list entry
// when the list is frozen; the predictive loop learns from them.
var FeatureNames = []string{"recency_days", "orders", "log_revenue", "interactions", "tenure_days", "p_alive", "churn_risk", "log_clv"}

// Features is a customer's profile as model inputs at now. Missing scores
// take neutral values (0.5 for probabilities, 0 for CLV); a customer who
// never ordered has recency 3650 days.
func Features(c *customer.Customer, now time.Time) map[string]float64 {
	f := map[string]float64{
		"recency_days": 3650,
		"orders":       float64(c.Stats.Orders),
		"log_revenue":  math.Log1p(math.Max(c.Stats.Revenue, 0)),
		"interactions": float64(c.Stats.Interactions),
		"tenure_days":  math.Max(now.Sub(c.CreatedAt).Hours()/24, 0),
		"p_alive":      0.5,
		"churn_risk":   0.5,
		"log_clv":      0,
	}
	if c.Stats.LastOrderAt != nil {
		f["recency_days"] = math.Max(now.Sub(*c.Stats.LastOrderAt).Hours()/24, 0)
	}
	if sc := c.Scores; sc != nil {
		if sc.PAlive != nil {
			f["p_alive"] = *sc.PAlive
		}
		if sc.ChurnRisk != nil {
			f["churn_risk"] = *sc.ChurnRisk
		}
		if sc.CLV != nil {
			f["log_clv"] = math.Log1p(math.Max(*sc.CLV, 0))
		}
	}
	return f
}

// RecordOutcome records a rep's outcome on a task. Reps may only record on
// their own tasks (repOnly true).
func (s *Service) RecordOutcome(ctx context.Context, a store.Actor, userID string, repOnly bool, taskID, outcome, notes string) (store.Task, error) {
	if !slices.Contains(Outcomes, outcome) {
		return store.Task{}, errs.Validation(errs.FieldError{Field: "body.outcome",
			Message: "must be one of reached, interested, bought, declined, not_reachable / 须为 reached、interested、bought、declined、not_reachable 之一", Value: outcome})
	}
	t, err := s.Store.Task(ctx, taskID)
	if err != nil {
		return t, err
	}
	if repOnly && t.AssigneeID != "" && t.AssigneeID != userID {
		return t, errs.E(errs.Forbidden, "task %s is assigned to someone else / 该任务已分配给他人", taskID)
	}
	return s.Store.RecordOutcome(ctx, a, taskID, outcome, notes, s.now())
}

// RecordCustomerOutcome records an outcome from the customer page: on the
// customer's open task (in listID when given; else the one due first).
func (s *Service) RecordCustomerOutcome(ctx context.Context, a store.Actor, userID string, repOnly bool, customerID, listID, outcome, notes string) (store.Task, error) {
	tasks, err := s.Store.Tasks(ctx, store.TaskFilter{CustomerID: customerID, ListID: listID, Status: store.TaskOpen, Limit: 100})
	if err != nil {
		return store.Task{}, err
	}
	for _, t := range tasks {
		if !repOnly || t.AssigneeID == userID || t.AssigneeID == "" {
			return s.RecordOutcome(ctx, a, userID, false, t.ID, outcome, notes)
		}
	}
	return store.Task{}, errs.E(errs.NotFound, "customer %s has no open task for you / 该客户没有您的待办任务", customerID)
}

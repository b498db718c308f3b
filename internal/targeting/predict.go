package targeting

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/rapportcrm/rapport/internal/analytics/churn"
	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/experiment"
	"github.com/rapportcrm/rapport/internal/store"
)

// The arms of a predictive round: the model's picks (contacted), a random
// hold-out of the model's picks (not contacted) and random customers from
// the rest of the segment (contacted).
const (
	ArmModel   = "model"
	ArmControl = "control"
	ArmRandom  = "random"
)

// MinTrainingRows is the fewest contacted past list entries a response
// model is fitted on.
const MinTrainingRows = 30

// RoundSpec describes the next round of the predictive targeting loop.
type RoundSpec struct {
	Name            string
	SegmentID       string
	InitiativeID    string
	Script          string
	Size            int     // customers the model picks (its control share included)
	RandomSize      int     // random customers from the rest of the segment
	ControlFraction float64 // share of the model's picks held out; default 0.2
	AttributionDays int
	DueDays         int
	Assign          string
	Reps            []string
	// TrainLists are the lists to learn from; empty means every list whose
	// attribution window has closed.
	TrainLists []string
}

// ResponseModel is a logistic response model on the standardized profile
// features snapshotted when lists were frozen.
type ResponseModel struct {
	Features  []string  `json:"features"`
	Mean      []float64 `json:"mean"`
	SD        []float64 `json:"sd"`
	Beta      []float64 `json:"beta"` // intercept, then one per feature
	TrainRows int       `json:"train_rows"`
	Positives int       `json:"positives"`
	AUC       float64   `json:"train_auc"`
	Lists     []string  `json:"lists"`
}

// Score is the modelled probability of responding.
func (m *ResponseModel) Score(f map[string]float64) float64 {
	eta := m.Beta[0]
	for j, name := range m.Features {
		eta += m.Beta[j+1] * (f[name] - m.Mean[j]) / m.SD[j]
	}
	return 1 / (1 + math.Exp(-eta))
}

// ArmStat is an arm's size and conversion.
type ArmStat struct {
	N         int     `json:"n"`
	Converted int     `json:"converted"`
	Rate      float64 `json:"rate"`
}

func armStat(rows []store.EntryResult) ArmStat {
	s := ArmStat{N: len(rows)}
	for _, r := range rows {
		if r.Orders > 0 {
			s.Converted++
		}
	}
	if s.N > 0 {
		s.Rate = float64(s.Converted) / float64(s.N)
	}
	return s
}

// RoundReport says how a predictive round performed: the model's top
// decile against random customers, the model's picks against random ones,
// and contacting the picks against not contacting them.
type RoundReport struct {
	ListID         string  `json:"list_id"`
	WindowComplete bool    `json:"window_complete"`
	Model          ArmStat `json:"model"`
	Random         ArmStat `json:"random"`
	Control        ArmStat `json:"control"`
	// TopDecile is the random arm's customers in the top tenth of model
	// scores: a fair test of the ranking, as all were drawn at random.
	TopDecile     ArmStat                    `json:"top_decile"`
	TopDecileLift float64                    `json:"top_decile_lift"`
	ModelVsRandom *experiment.ProportionTest `json:"model_vs_random,omitempty"`
	ContactEffect *experiment.ProportionTest `json:"contact_effect,omitempty"`
	ReadingEN     string                     `json:"reading_en"`
	ReadingZH     string                     `json:"reading_zh"`
}

// Round is a new predictive list with the model it was scored by and the
// report of the round before it.
type Round struct {
	List      ListView      `json:"list"`
	Model     ResponseModel `json:"model"`
	LastRound *RoundReport  `json:"last_round,omitempty"`
}

// PredictiveRound fits a response model ("bought within the attribution
// window after the list") on past lists' contacted customers, scores the
// segment's current members, and freezes the next list: the top Size by
// score (a random ControlFraction of them held out) plus RandomSize random
// customers from the rest, so the next round measures both the contact's
// lift and the model's ranking.
func (s *Service) PredictiveRound(ctx context.Context, a store.Actor, sp RoundSpec) (Round, error) {
	var fe []errs.FieldError
	if sp.SegmentID == "" {
		fe = append(fe, errs.FieldError{Field: "body.segment_id", Message: "is required / 必须指定分群"})
	}
	if sp.Size < 1 || sp.Size > MaxListSize {
		fe = append(fe, errs.FieldError{Field: "body.size", Message: "must be 1–200000 / 须为 1–200000", Value: sp.Size})
	}
	if sp.RandomSize < 0 || sp.RandomSize > MaxListSize {
		fe = append(fe, errs.FieldError{Field: "body.random_size", Message: "must be 0–200000 / 须为 0–200000", Value: sp.RandomSize})
	}
	if sp.ControlFraction == 0 {
		sp.ControlFraction = 0.2
	}
	if sp.ControlFraction <= 0 || sp.ControlFraction >= 1 {
		fe = append(fe, errs.FieldError{Field: "body.control_fraction", Message: "must be in (0, 1) / 须在 (0, 1) 之间", Value: sp.ControlFraction})
	}
	if len(fe) > 0 {
		return Round{}, errs.Validation(fe...)
	}
	now := s.now()
	model, err := s.fitResponse(ctx, sp.TrainLists)
	if err != nil {
		return Round{}, err
	}
	_, c, err := s.segmentCondition(ctx, sp.SegmentID, now)
	if err != nil {
		return Round{}, err
	}
	refs, err := s.Store.MatchingIDs(ctx, c.cond)
	if err != nil {
		return Round{}, err
	}
	if len(refs) > MaxListSize {
		return Round{}, errs.E(errs.Invalid, "the segment has %d members; score at most %d / 分群有 %d 人，最多评分 %d 人", len(refs), MaxListSize, len(refs), MaxListSize)
	}
	ids := make([]string, len(refs))
	for i, r := range refs {
		ids[i] = r.ID
	}
	facts, err := s.Store.LoadFacts(ctx, ids, store.FactNeeds{})
	if err != nil {
		return Round{}, err
	}
	scored := make([]scoredRef, 0, len(refs))
	for _, r := range refs {
		if f := facts[r.ID]; f != nil {
			scored = append(scored, scoredRef{r, model.Score(Features(&f.Customer, now))})
		}
	}
	slices.SortStableFunc(scored, func(a, b scoredRef) int { return cmp.Compare(b.score, a.score) })
	salt := customer.NewID()
	top := scored[:min(sp.Size, len(scored))]
	rest := slices.Clone(scored[len(top):])
	slices.SortFunc(rest, func(a, b scoredRef) int {
		return cmp.Compare(experiment.HashPoint(salt, a.ref.ID), experiment.HashPoint(salt, b.ref.ID))
	})
	random := rest[:min(sp.RandomSize, len(rest))]

	units := make([]experiment.Unit, len(top))
	for i, t := range top {
		units[i] = experiment.Unit{CustomerID: t.ref.ID, Stratum: t.ref.Tier}
	}
	split, err := experiment.AssignStratified(salt, units, []experiment.Arm{{Name: ArmControl, Weight: sp.ControlFraction}, {Name: ArmModel, Weight: 1 - sp.ControlFraction}})
	if err != nil {
		return Round{}, err
	}
	var chosen []store.MatchRef
	var scores []float64
	var arms []string
	counts := map[string]float64{}
	for i, t := range top {
		chosen, scores, arms = append(chosen, t.ref), append(scores, t.score), append(arms, split[i].Arm)
		counts[split[i].Arm]++
	}
	for _, r := range random {
		chosen, scores, arms = append(chosen, r.ref), append(scores, r.score), append(arms, ArmRandom)
		counts[ArmRandom]++
	}
	ls := ListSpec{Name: sp.Name, SegmentID: sp.SegmentID, InitiativeID: sp.InitiativeID, Script: sp.Script, AttributionDays: sp.AttributionDays,
		DueDays: sp.DueDays, Assign: sp.Assign, Reps: sp.Reps, Control: ArmControl, StratifyBy: "tier"}
	for _, arm := range []string{ArmModel, ArmRandom, ArmControl} {
		if counts[arm] > 0 {
			ls.Arms = append(ls.Arms, store.ExperimentArm{Name: arm, Weight: counts[arm]})
		}
	}
	if err := s.validateSpec(&ls); err != nil {
		return Round{}, err
	}
	last, err := s.lastRound(ctx)
	if err != nil {
		return Round{}, err
	}
	mj, err := json.Marshal(model)
	if err != nil {
		return Round{}, err
	}
	view, err := s.freeze(ctx, a, ls, "predictive", chosen, scores, arms, mj, now)
	if err != nil {
		return Round{}, err
	}
	return Round{List: view, Model: *model, LastRound: last}, nil
}

type scoredRef struct {
	ref   store.MatchRef
	score float64
}

// fitResponse fits the response model on past lists' contacted entries.
func (s *Service) fitResponse(ctx context.Context, listIDs []string) (*ResponseModel, error) {
	now := s.now()
	var lists []store.TargetList
	if len(listIDs) == 0 {
		all, err := s.Store.Lists(ctx, "")
		if err != nil {
			return nil, err
		}
		for _, l := range all {
			if _, to := window(l); !now.Before(to) {
				lists = append(lists, l)
			}
		}
	} else {
		for _, id := range listIDs {
			l, err := s.Store.List(ctx, id)
			if err != nil {
				return nil, err
			}
			lists = append(lists, l)
		}
	}
	m := &ResponseModel{Features: FeatureNames}
	d := len(FeatureNames)
	var raw [][]float64
	var y []float64
	for _, l := range lists {
		exp, err := s.Store.ExperimentOfList(ctx, l.ID)
		if err != nil {
			return nil, err
		}
		from, to := window(l)
		rows, err := s.Store.ListResults(ctx, l.ID, from, to)
		if err != nil {
			return nil, err
		}
		used := false
		for _, r := range rows {
			if len(r.Features) == 0 || (exp != nil && r.Arm == exp.Control) {
				continue
			}
			x := make([]float64, d)
			for j, f := range FeatureNames {
				x[j] = r.Features[f]
			}
			raw = append(raw, x)
			label := 0.0
			if r.Orders > 0 {
				label = 1
				m.Positives++
			}
			y = append(y, label)
			used = true
		}
		if used {
			m.Lists = append(m.Lists, l.ID)
		}
	}
	m.TrainRows = len(y)
	if m.TrainRows < MinTrainingRows || m.Positives == 0 || m.Positives == m.TrainRows {
		return nil, errs.E(errs.Invalid, "not enough past results to fit a response model: %d contacted customers from closed lists, %d of them bought; need at least %d and both outcomes. Run a first round as a plain experiment (POST /api/v1/experiments) and wait for its attribution window to close / 历史结果不足以拟合响应模型：已结束名单中接触客户 %d 人，其中购买 %d 人；至少需要 %d 人且两种结果都有。请先用普通实验跑第一轮，并等待归因窗口结束",
			m.TrainRows, m.Positives, MinTrainingRows, m.TrainRows, m.Positives, MinTrainingRows)
	}
	m.Mean, m.SD = make([]float64, d), make([]float64, d)
	for j := range d {
		col := make([]float64, len(raw))
		for i := range raw {
			col[i] = raw[i][j]
		}
		mo := experiment.Summarize(col)
		m.Mean[j], m.SD[j] = mo.Mean, math.Sqrt(mo.Variance)
		if !(m.SD[j] > 0) {
			m.SD[j] = 1 // a constant feature carries no information; keep it harmless
		}
	}
	X := make([]float64, 0, len(raw)*(d+1))
	for _, x := range raw {
		X = append(X, 1)
		for j := range d {
			X = append(X, (x[j]-m.Mean[j])/m.SD[j])
		}
	}
	fit, err := churn.FitLogistic(X, y, d+1, churn.FitOptions{})
	if err != nil {
		return nil, fmt.Errorf("targeting: fit response model: %w", err)
	}
	m.Beta = fit.Beta
	p := make([]float64, len(raw))
	for i, x := range raw {
		f := map[string]float64{}
		for j, name := range FeatureNames {
			f[name] = x[j]
		}
		p[i] = m.Score(f)
	}
	m.AUC = churn.AUC(p, y)
	return m, nil
}

// lastRound reports on the most recent predictive list, if any.
func (s *Service) lastRound(ctx context.Context) (*RoundReport, error) {
	lists, err := s.Store.Lists(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, l := range lists { // newest first
		if l.Source == "predictive" {
			r, err := s.RoundReport(ctx, l.ID)
			if err != nil {
				return nil, err
			}
			return &r, nil
		}
	}
	return nil, nil
}

// RoundReport reads a predictive list's round.
func (s *Service) RoundReport(ctx context.Context, listID string) (RoundReport, error) {
	l, err := s.Store.List(ctx, listID)
	if err != nil {
		return RoundReport{}, err
	}
	if l.Source != "predictive" {
		return RoundReport{}, errs.E(errs.Invalid, "list %s is not a predictive round / 名单 %s 不是预测轮次", listID, listID)
	}
	from, to := window(l)
	rows, err := s.Store.ListResults(ctx, l.ID, from, to)
	if err != nil {
		return RoundReport{}, err
	}
	byArm := map[string][]store.EntryResult{}
	for _, r := range rows {
		byArm[r.Arm] = append(byArm[r.Arm], r)
	}
	rep := RoundReport{ListID: l.ID, WindowComplete: !s.now().Before(to),
		Model: armStat(byArm[ArmModel]), Random: armStat(byArm[ArmRandom]), Control: armStat(byArm[ArmControl])}
	random := slices.Clone(byArm[ArmRandom])
	slices.SortStableFunc(random, func(a, b store.EntryResult) int { return cmp.Compare(scoreOf(b), scoreOf(a)) })
	rep.TopDecile = armStat(random[:int(math.Ceil(float64(len(random))/10))])
	rep.TopDecileLift = rep.TopDecile.Rate - rep.Random.Rate
	prop := func(c, t ArmStat) *experiment.ProportionTest {
		pt, err := experiment.CompareProportions(experiment.Proportion{Successes: c.Converted, N: c.N},
			experiment.Proportion{Successes: t.Converted, N: t.N}, experiment.DefaultConfidence)
		if err != nil {
			return nil
		}
		return &pt
	}
	rep.ModelVsRandom = prop(rep.Random, rep.Model)
	rep.ContactEffect = prop(rep.Control, rep.Model)
	rep.ReadingEN = fmt.Sprintf("The model's top decile bought at %.1f%% against %.1f%% for random customers (%+.1f points, %d of %d vs %d of %d)",
		100*rep.TopDecile.Rate, 100*rep.Random.Rate, 100*rep.TopDecileLift, rep.TopDecile.Converted, rep.TopDecile.N, rep.Random.Converted, rep.Random.N)
	rep.ReadingZH = fmt.Sprintf("模型前 10%% 的客户购买率 %.1f%%，随机客户 %.1f%%（%+.1f 个百分点，%d/%d 对 %d/%d）",
		100*rep.TopDecile.Rate, 100*rep.Random.Rate, 100*rep.TopDecileLift, rep.TopDecile.Converted, rep.TopDecile.N, rep.Random.Converted, rep.Random.N)
	if pt := rep.ModelVsRandom; pt != nil {
		rep.ReadingEN += fmt.Sprintf("; the model's picks against random: %+.1f points (95%% CI %+.1f to %+.1f, p = %.3g)", 100*pt.Uplift, 100*pt.CILow, 100*pt.CIHigh, pt.PValue)
		rep.ReadingZH += fmt.Sprintf("；模型选中对随机：%+.1f 个百分点（95%% 置信区间 %+.1f 至 %+.1f，p = %.3g）", 100*pt.Uplift, 100*pt.CILow, 100*pt.CIHigh, pt.PValue)
	}
	if !rep.WindowComplete {
		rep.ReadingEN += "; the attribution window is still open"
		rep.ReadingZH += "；归因窗口尚未结束"
	}
	rep.ReadingEN += "."
	rep.ReadingZH += "。"
	return rep, nil
}

func scoreOf(r store.EntryResult) float64 {
	if r.Score == nil {
		return math.Inf(-1)
	}
	return *r.Score
}

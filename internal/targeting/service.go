// Package targeting takes analysis to the front line and back: segments
// (rules compiled by internal/segment) with real-time membership, target
// lists frozen from a segment or a score, tasks for reps and their
// outcomes, purchase attribution, experiments with control groups (read
// with internal/experiment), the success board, the initiative portfolio
// and the predictive targeting loop.
//
// It holds the business rules; SQL stays in internal/store and HTTP in
// internal/api.
package targeting

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/segment"
	"github.com/rapportcrm/rapport/internal/store"
)

// Service runs segments, lists, experiments and initiatives on a store.
type Service struct {
	Store *store.Store
	// Live keeps segment membership current; nil means no real-time
	// membership (counts and lists still work).
	Live *Live
	// Region is the default phone region for phone literals in rules.
	Region string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Catalogue returns what rules may refer to in this workspace now.
func (s *Service) Catalogue(ctx context.Context) (segment.Catalogue, error) {
	return catalogue(ctx, s.Store, s.Region)
}

func catalogue(ctx context.Context, st *store.Store, region string) (segment.Catalogue, error) {
	fields, err := st.FieldMap(ctx)
	if err != nil {
		return segment.Catalogue{}, err
	}
	ev, err := st.EventTable(ctx)
	if err != nil {
		return segment.Catalogue{}, err
	}
	return segment.Catalogue{Fields: fields, Region: region, Events: eventSchema(ev)}, nil
}

func eventSchema(t *store.EventTable) *segment.EventSchema {
	if t == nil {
		return nil
	}
	return &segment.EventSchema{Table: t.Table, CustomerColumn: t.CustomerColumn, NameColumn: t.NameColumn, TimeColumn: t.TimeColumn}
}

// compiled is a rule ready to run.
type compiled struct {
	rule *segment.Rule
	cond store.Condition
}

// compile parses and checks a rule and compiles it to SQL at now. Rule
// errors come back as a validation error on field (e.g. "body.rule").
func (s *Service) compile(ctx context.Context, field, src string, now time.Time) (compiled, error) {
	cat, err := s.Catalogue(ctx)
	if err != nil {
		return compiled{}, err
	}
	return compileWith(cat, s.Store.Dialect(), field, src, now)
}

func compileWith(cat segment.Catalogue, d store.Dialect, field, src string, now time.Time) (compiled, error) {
	r, err := segment.Compile(src, cat)
	if err != nil {
		return compiled{}, RuleError(field, err)
	}
	q, err := r.SQL(segment.Dialect(d), now, 1, cat.Events)
	if err != nil {
		return compiled{}, err
	}
	return compiled{rule: r, cond: store.Condition{Where: q.Where, Args: q.Args, Stats: q.Stats, Scores: q.Scores}}, nil
}

// RuleError turns rule errors into a validation error on field, one field
// error per problem, each with its position.
func RuleError(field string, err error) error {
	var list segment.Errors
	var one *segment.Error
	switch {
	case errors.As(err, &list):
	case errors.As(err, &one):
		list = segment.Errors{one}
	default:
		return err
	}
	fe := make([]errs.FieldError, len(list))
	for i, e := range list {
		fe[i] = errs.FieldError{Field: field, Message: fmt.Sprintf("%s: %s / 第 %d 行第 %d 列：%s", e.Pos, e.En, e.Pos.Line, e.Pos.Column, e.Zh),
			Value: map[string]int{"offset": e.Pos.Offset, "line": e.Pos.Line, "column": e.Pos.Column}}
	}
	return &errs.Error{Kind: errs.Invalid, Message: "the rule has errors / 规则有误", Fields: fe}
}

// PreviewSize is how many members a preview shows.
const PreviewSize = 20

// Preview is a rule's current member count and first members.
type Preview struct {
	Count   int64               `json:"count"`
	Preview []customer.Customer `json:"preview"`
}

// PreviewRule counts and lists the first members of a rule without saving
// it; ownerID restricts both to one owner's customers when set.
func (s *Service) PreviewRule(ctx context.Context, rule, ownerID string) (Preview, error) {
	c, err := s.compile(ctx, "body.rule", rule, s.now())
	if err != nil {
		return Preview{}, err
	}
	return s.preview(ctx, c.cond, ownerID)
}

func (s *Service) preview(ctx context.Context, cond store.Condition, ownerID string) (Preview, error) {
	n, err := s.Store.CountMatching(ctx, cond, ownerID)
	if err != nil {
		return Preview{}, err
	}
	page, err := s.Store.ListMatching(ctx, cond, ownerID, "", PreviewSize)
	if err != nil {
		return Preview{}, err
	}
	return Preview{Count: n, Preview: page.Items}, nil
}

// SegmentView is a segment with its current count and first members.
type SegmentView struct {
	store.Segment
	Preview
}

// CreateSegment checks and saves a segment, materializes its members and
// starts tracking membership in real time.
func (s *Service) CreateSegment(ctx context.Context, a store.Actor, name, rule string) (SegmentView, error) {
	name = customer.NormalizeText(name)
	var fe []errs.FieldError
	if name == "" || len(name) > 200 {
		fe = append(fe, errs.FieldError{Field: "body.name", Message: "must be 1–200 bytes / 名称须为 1–200 字节", Value: name})
	}
	if strings.TrimSpace(rule) == "" {
		fe = append(fe, errs.FieldError{Field: "body.rule", Message: "is required / 规则不能为空"})
	}
	if len(fe) > 0 {
		return SegmentView{}, errs.Validation(fe...)
	}
	now := s.now()
	c, err := s.compile(ctx, "body.rule", rule, now)
	if err != nil {
		return SegmentView{}, err
	}
	seg := store.Segment{ID: customer.NewID(), Name: name, Rule: rule, CreatedAt: now}
	// Track before the snapshot so no change falls between the two; a
	// change seen before the segment row exists is dropped by the store
	// and covered by the snapshot.
	if s.Live != nil {
		s.Live.Set(seg.ID, c.rule)
	}
	if err := s.Store.CreateSegment(ctx, a, &seg, c.cond); err != nil {
		if s.Live != nil {
			s.Live.Remove(seg.ID)
		}
		return SegmentView{}, err
	}
	p, err := s.preview(ctx, c.cond, "")
	if err != nil {
		return SegmentView{}, err
	}
	return SegmentView{Segment: seg, Preview: p}, nil
}

// DeleteSegment removes a segment and stops tracking it.
func (s *Service) DeleteSegment(ctx context.Context, a store.Actor, id string) error {
	if err := s.Store.DeleteSegment(ctx, a, id); err != nil {
		return err
	}
	if s.Live != nil {
		s.Live.Remove(id)
	}
	return nil
}

// segmentCondition compiles a stored segment's rule at now.
func (s *Service) segmentCondition(ctx context.Context, id string, now time.Time) (store.Segment, compiled, error) {
	seg, err := s.Store.Segment(ctx, id)
	if err != nil {
		return seg, compiled{}, err
	}
	c, err := s.compile(ctx, "segment.rule", seg.Rule, now)
	if err != nil {
		return seg, compiled{}, fmt.Errorf("segment %s no longer compiles (a field it uses may have changed): %w", id, err)
	}
	return seg, c, nil
}

// Members lists a segment's current members (the rule evaluated now).
func (s *Service) Members(ctx context.Context, id, ownerID, cursor string, limit int) (store.Page, error) {
	_, c, err := s.segmentCondition(ctx, id, s.now())
	if err != nil {
		return store.Page{}, err
	}
	return s.Store.ListMatching(ctx, c.cond, ownerID, cursor, limit)
}

// MaterializedMembers lists a segment's recorded members: those the
// real-time matcher and the periodic refresh keep in segment_members. It
// reads only the segment's own index, so it stays fast on any workspace;
// Members evaluates the rule instead and is exact to the moment.
func (s *Service) MaterializedMembers(ctx context.Context, id, ownerID, cursor string, limit int) (store.Page, error) {
	if _, err := s.Store.Segment(ctx, id); err != nil {
		return store.Page{}, err
	}
	return s.Store.MaterializedMembers(ctx, id, ownerID, cursor, limit)
}

// CountMembers counts a segment's current members.
func (s *Service) CountMembers(ctx context.Context, id, ownerID string) (int64, error) {
	_, c, err := s.segmentCondition(ctx, id, s.now())
	if err != nil {
		return 0, err
	}
	return s.Store.CountMatching(ctx, c.cond, ownerID)
}

// Refresh re-evaluates a segment over every customer and logs who entered
// and left (time alone moves customers across look-back windows). The
// evaluation reads through the reader pool; only the changes are written,
// in short transactions, so a refresh never holds writers up for long.
func (s *Service) Refresh(ctx context.Context, id string) (entered, left int64, err error) {
	now := s.now()
	_, c, err := s.segmentCondition(ctx, id, now)
	if err != nil {
		return 0, 0, err
	}
	matching, err := s.Store.MatchingIDs(ctx, c.cond)
	if err != nil {
		return 0, 0, err
	}
	recorded, err := s.Store.RecordedMembers(ctx, id)
	if err != nil {
		return 0, 0, err
	}
	in := make(map[string]bool, len(matching))
	for _, m := range matching {
		in[m.ID] = true
	}
	var changes []store.MembershipChange
	for _, r := range recorded {
		if !in[r] {
			changes = append(changes, store.MembershipChange{SegmentID: id, CustomerID: r})
			left++
		}
		delete(in, r)
	}
	for _, m := range matching {
		if in[m.ID] {
			changes = append(changes, store.MembershipChange{SegmentID: id, CustomerID: m.ID, Enter: true})
			entered++
		}
	}
	for start := 0; start < len(changes); start += 1000 {
		if err := s.Store.ApplyMembershipChanges(ctx, now, changes[start:min(start+1000, len(changes))]); err != nil {
			return 0, 0, err
		}
	}
	return entered, left, s.Store.MarkSegmentRefreshed(ctx, id, now)
}

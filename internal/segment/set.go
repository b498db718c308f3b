package segment

import (
	"slices"
	"time"
)

// Set is the rules of every active segment, evaluated together against
// one customer at a time by the real-time matcher. A Set is immutable once
// built; build a new one to add or remove a segment.
type Set struct {
	ids   []string
	rules []*Rule
	needs Needs
}

// NewSet builds a set from segment ids and their rules.
func NewSet(ids []string, rules []*Rule) *Set {
	s := &Set{ids: slices.Clone(ids), rules: slices.Clone(rules)}
	for _, r := range rules {
		s.needs.Merge(r.needs)
	}
	return s
}

// With returns a copy of s with the segment id set to rule (added or
// replaced); a nil rule removes it.
func (s *Set) With(id string, rule *Rule) *Set {
	var ids []string
	var rules []*Rule
	if s != nil {
		for i, x := range s.ids {
			if x != id {
				ids, rules = append(ids, x), append(rules, s.rules[i])
			}
		}
	}
	if rule != nil {
		ids, rules = append(ids, id), append(rules, rule)
	}
	return NewSet(ids, rules)
}

// Len is the number of segments.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.ids)
}

// IDs lists the segment ids.
func (s *Set) IDs() []string {
	if s == nil {
		return nil
	}
	return slices.Clone(s.ids)
}

// Needs is the union of the rules' needs.
func (s *Set) Needs() Needs {
	if s == nil {
		return Needs{}
	}
	return s.needs
}

// Matching appends to dst the ids of the segments f is in at now.
func (s *Set) Matching(f *Facts, now time.Time, dst []string) []string {
	if s == nil {
		return dst
	}
	for i, r := range s.rules {
		if r.Match(f, now) {
			dst = append(dst, s.ids[i])
		}
	}
	return dst
}

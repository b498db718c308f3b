package targeting

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/rapportcrm/rapport/internal/segment"
	"github.com/rapportcrm/rapport/internal/store"
)

// Live keeps segment membership current: every committed write that
// touches customers (store.OnChange) queues their ids; a worker reads
// their facts in batches, evaluates every active segment's rule in memory
// and records who entered and who left, each change an event in
// segment_membership_events. Time alone also moves customers across
// look-back windows, so the worker refreshes every segment set-wise once
// per RefreshEvery.
type Live struct {
	store  *store.Store
	log    *slog.Logger
	region string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// RefreshEvery is the period of the full refresh; zero means hourly,
	// negative never.
	RefreshEvery time.Duration

	mu     sync.RWMutex
	set    *segment.Set
	events *store.EventTable

	qmu     sync.Mutex
	pending []string
	queued  map[string]bool
	enq     uint64        // Notify calls so far
	done    uint64        // Notify calls fully processed
	wake    chan struct{} // a buffered signal to the worker
	advance chan struct{} // closed and replaced when done moves
}

// NewLive returns a matcher over st; call Load, then register Notify with
// store.OnChange and start Run.
func NewLive(st *store.Store, log *slog.Logger, region string) *Live {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Live{store: st, log: log, region: region, queued: map[string]bool{},
		wake: make(chan struct{}, 1), advance: make(chan struct{})}
}

func (l *Live) now() time.Time {
	if l.Now != nil {
		return l.Now().UTC()
	}
	return time.Now().UTC()
}

// Load compiles every stored segment. A segment whose rule no longer
// checks (a field it used was removed) is logged and skipped.
func (l *Live) Load(ctx context.Context) error {
	cat, err := catalogue(ctx, l.store, l.region)
	if err != nil {
		return err
	}
	segs, err := l.store.Segments(ctx)
	if err != nil {
		return err
	}
	var ids []string
	var rules []*segment.Rule
	for _, g := range segs {
		r, err := segment.Compile(g.Rule, cat)
		if err != nil {
			l.log.Warn("segment rule no longer compiles; not tracked", "segment", g.ID, "err", err)
			continue
		}
		ids, rules = append(ids, g.ID), append(rules, r)
	}
	ev, err := l.store.EventTable(ctx)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.set, l.events = segment.NewSet(ids, rules), ev
	l.mu.Unlock()
	return nil
}

// Set starts tracking a segment (or replaces its rule).
func (l *Live) Set(id string, r *segment.Rule) {
	l.mu.Lock()
	l.set = l.set.With(id, r)
	l.mu.Unlock()
}

// Remove stops tracking a segment.
func (l *Live) Remove(id string) {
	l.mu.Lock()
	l.set = l.set.With(id, nil)
	l.mu.Unlock()
}

// Segments is the number of tracked segments.
func (l *Live) Segments() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.set.Len()
}

// Notify queues customers for re-evaluation. It is the store.OnChange hook:
// it only records the ids and wakes the worker, never touching the store.
func (l *Live) Notify(_ context.Context, ids []string) {
	l.qmu.Lock()
	for _, id := range ids {
		if !l.queued[id] {
			l.queued[id] = true
			l.pending = append(l.pending, id)
		}
	}
	l.enq++
	l.qmu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Flush waits until every id queued before the call has been processed.
func (l *Live) Flush(ctx context.Context) error {
	l.qmu.Lock()
	target := l.enq
	l.qmu.Unlock()
	for {
		l.qmu.Lock()
		done, ch := l.done, l.advance
		l.qmu.Unlock()
		if done >= target {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Run processes queued customers until ctx ends (Load first).
func (l *Live) Run(ctx context.Context) {
	every := l.RefreshEvery
	if every == 0 {
		every = time.Hour
	}
	var tick <-chan time.Time
	if every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.wake:
			l.drain(ctx)
		case <-tick:
			l.refreshAll(ctx)
		}
	}
}

// drain processes everything queued so far.
func (l *Live) drain(ctx context.Context) {
	l.qmu.Lock()
	ids, upto := l.pending, l.enq
	l.pending, l.queued = nil, map[string]bool{}
	l.qmu.Unlock()
	for start := 0; start < len(ids); start += 500 {
		if err := l.Process(ctx, ids[start:min(start+500, len(ids))]); err != nil && ctx.Err() == nil {
			// The hourly refresh repairs what a failed batch missed.
			l.log.Error("segment membership update failed", "customers", len(ids), "err", err)
		}
	}
	l.qmu.Lock()
	l.done = upto
	close(l.advance)
	l.advance = make(chan struct{})
	l.qmu.Unlock()
}

func (l *Live) refreshAll(ctx context.Context) {
	svc := &Service{Store: l.store, Region: l.region, Now: l.Now}
	l.mu.RLock()
	ids := l.set.IDs()
	l.mu.RUnlock()
	for _, id := range ids {
		if _, _, err := svc.Refresh(ctx, id); err != nil && ctx.Err() == nil {
			l.log.Error("segment refresh failed", "segment", id, "err", err)
		}
	}
}

// factNeeds translates what the rules need into what the store loads.
func factNeeds(n segment.Needs, now time.Time, ev *store.EventTable) store.FactNeeds {
	f := store.FactNeeds{Orders: n.Orders(), Categories: n.Categories, Table: ev}
	if !n.AllOrders && n.OrderDays > 0 {
		f.OrderSince = now.Add(-time.Duration(n.OrderDays) * 24 * time.Hour)
	}
	if len(n.Events) > 0 && ev != nil {
		f.Events = make(map[string]time.Time, len(n.Events))
		for name, d := range n.Events {
			var since time.Time
			if d > 0 {
				since = now.Add(-time.Duration(d) * 24 * time.Hour)
			}
			f.Events[name] = since
		}
	}
	return f
}

// Process re-evaluates the given customers against every tracked segment
// and records the changes.
func (l *Live) Process(ctx context.Context, ids []string) error {
	l.mu.RLock()
	set, ev := l.set, l.events
	l.mu.RUnlock()
	if set.Len() == 0 || len(ids) == 0 {
		return nil
	}
	now := l.now()
	facts, err := l.store.LoadFacts(ctx, ids, factNeeds(set.Needs(), now, ev))
	if err != nil {
		return err
	}
	current, err := l.store.MembershipsOf(ctx, ids)
	if err != nil {
		return err
	}
	changes := Decide(set, ids, facts, current, now)
	return l.store.ApplyMembershipChanges(ctx, now, changes)
}

// Decide compares each customer's segments now with its recorded ones and
// returns the entries and exits. Customers without facts (purged) leave
// every segment.
func Decide(set *segment.Set, ids []string, facts map[string]*store.CustomerFacts, current map[string][]string, now time.Time) []store.MembershipChange {
	var changes []store.MembershipChange
	tracked := map[string]bool{}
	for _, id := range set.IDs() {
		tracked[id] = true
	}
	var in []string
	var sf segment.Facts
	for _, id := range ids {
		in = in[:0]
		if f := facts[id]; f != nil {
			toSegmentFacts(f, &sf)
			in = set.Matching(&sf, now, in)
		}
		was := current[id]
		for _, g := range in {
			if !contains(was, g) {
				changes = append(changes, store.MembershipChange{SegmentID: g, CustomerID: id, Enter: true})
			}
		}
		for _, g := range was {
			if tracked[g] && !contains(in, g) {
				changes = append(changes, store.MembershipChange{SegmentID: g, CustomerID: id})
			}
		}
	}
	return changes
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// toSegmentFacts fills dst from a store record, reusing dst's slices.
func toSegmentFacts(f *store.CustomerFacts, dst *segment.Facts) {
	dst.Customer = &f.Customer
	dst.Orders = dst.Orders[:0]
	for _, o := range f.Orders {
		dst.Orders = append(dst.Orders, segment.Order{At: o.At, Total: o.Total, Categories: o.Categories})
	}
	dst.Events = dst.Events[:0]
	for _, e := range f.Events {
		dst.Events = append(dst.Events, segment.Event{Name: e.Name, At: e.At})
	}
}

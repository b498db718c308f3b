// Package insight brings Rapport's customer models into the product: it reads
// the store's maintained aggregates, fits the lifetime-value and churn models
// (internal/analytics/clv, churn), ranks customers into RFM segments and value
// tiers (internal/analytics/value), writes each customer's scores back with
// store.UpsertScores and keeps them fresh, and answers the analytics reports
// (RFM, tiers, Pareto, CLV, cohorts, associations, profitability, pivots) as
// typed Go values for the API and the web UI.
//
// It holds one in-memory snapshot of per-customer aggregates and model
// outputs. A full refit rebuilds it from the store in the background; a
// refresh re-reads only the customers whose data changed (the store's stale
// queue and in-process change notifications) and re-ranks everyone in memory.
// Report results are cached by the snapshot's data version. The package does
// no HTTP and holds no SQL: every query lives in internal/store.
package insight

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rapportcrm/rapport/internal/analytics/churn"
	"github.com/rapportcrm/rapport/internal/analytics/clv"
	"github.com/rapportcrm/rapport/internal/analytics/value"
	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/store"
)

// Options tune a Service; the zero value is usable.
type Options struct {
	// Log receives refit and refresh messages; nil discards them.
	Log *slog.Logger
	// Now is the clock (tests fix it); nil means time.Now.
	Now func() time.Time
	// RefreshEvery is how often the stale queue is drained; zero means 5s.
	RefreshEvery time.Duration
	// AfterRefresh, when set, is called after every refresh or refit that
	// wrote scores, with the ids it wrote (all live customers for a refit).
	AfterRefresh func(ids []string)
}

// Service is the analytics service. It is safe for concurrent use.
type Service struct {
	store *store.Store
	opts  Options
	log   *slog.Logger

	mu   sync.RWMutex // guards snap and the rows it holds
	snap *snapshot

	version atomic.Uint64 // data version: bumped whenever the snapshot changes

	refitMu    sync.Mutex // one refit at a time
	sinceMu    sync.Mutex
	refitting  bool
	sinceRefit map[string]struct{} // changed while a refit was reading

	dirtyMu sync.Mutex
	dirty   map[string]struct{} // changed in this process, not yet refreshed
	wake    chan struct{}
	refitCh chan struct{}
	running atomic.Bool // Run is active

	cacheMu sync.Mutex
	cache   map[string]cached

	ids *idTable // customer ids ↔ row keys, for every snapshot

	lastRank atomic.Int64 // how long the last refresh's re-rank took (ns)
}

type cached struct {
	version uint64
	val     any
}

// New makes a Service on st and subscribes it to the store's change
// notifications. Call Run to keep scores fresh in the background.
func New(st *store.Store, opts Options) *Service {
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RefreshEvery <= 0 {
		opts.RefreshEvery = 5 * time.Second
	}
	s := &Service{store: st, opts: opts, log: opts.Log, dirty: map[string]struct{}{},
		wake: make(chan struct{}, 1), refitCh: make(chan struct{}, 1), cache: map[string]cached{}, ids: newIDTable()}
	st.OnChange(s.markDirty)
	return s
}

// Version is the current data version; it changes whenever scores or the
// data behind the reports change, so callers can cache on it.
func (s *Service) Version() uint64 { return s.version.Load() }

// Fitted reports whether the models have been fitted, so callers that must
// not wait for a first refit (a customer page) can skip the analytics.
func (s *Service) Fitted() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.snap != nil
}

// markDirty is the store's change hook: it must be fast and not write.
func (s *Service) markDirty(_ context.Context, ids []string) {
	s.dirtyMu.Lock()
	for _, id := range ids {
		s.dirty[id] = struct{}{}
	}
	s.dirtyMu.Unlock()
	s.noteSinceRefit(ids)
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Service) noteSinceRefit(ids []string) {
	s.sinceMu.Lock()
	if s.refitting {
		for _, id := range ids {
			s.sinceRefit[id] = struct{}{}
		}
	}
	s.sinceMu.Unlock()
}

// RequestRefit asks for a full refit in the background and returns at
// once: Run starts it; without Run, a goroutine does (unless one is already
// refitting).
func (s *Service) RequestRefit() {
	if s.running.Load() {
		select {
		case s.refitCh <- struct{}{}:
		default:
		}
		return
	}
	if s.refitMu.TryLock() {
		go func() {
			defer s.refitMu.Unlock()
			if _, err := s.refitLocked(context.Background()); err != nil {
				s.log.Error("analytics refit", "err", err)
			}
		}()
	}
}

// Run keeps scores fresh until ctx ends: it fits the models once at start,
// drains the stale queue every RefreshEvery (at once after a write in this
// process), and refits in full every profile.RefitEveryHours. Refits run
// beside refreshes and never hold the store's writer for more than one
// small batch.
func (s *Service) Run(ctx context.Context) {
	s.running.Store(true)
	defer s.running.Store(false)
	refitDone := make(chan error, 1)
	startRefit := func() bool {
		if !s.refitMu.TryLock() {
			return false
		}
		go func() {
			defer s.refitMu.Unlock()
			_, err := s.refitLocked(ctx)
			refitDone <- err
		}()
		return true
	}
	startRefit()
	tick := time.NewTicker(s.opts.RefreshEvery)
	defer tick.Stop()
	next := time.Time{} // set once the first refit ends
	pending := false    // a refit was asked for while one ran
	for {
		select {
		case <-ctx.Done():
			return
		case err := <-refitDone:
			if err != nil && ctx.Err() == nil {
				s.log.Error("analytics refit", "err", err)
			}
			p, perr := s.Profile(ctx)
			if perr != nil {
				p = DefaultProfile()
			}
			next = s.opts.Now().Add(time.Duration(p.RefitEveryHours * float64(time.Hour)))
			if pending && startRefit() {
				pending = false
			}
		case <-s.refitCh:
			pending = !startRefit()
		case <-s.wake:
		case <-tick.C:
			if !next.IsZero() && !s.opts.Now().Before(next) && startRefit() {
				next = time.Time{}
			}
		}
		n, err := s.Refresh(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Error("analytics refresh", "err", err)
		}
		if n >= bigRefresh {
			debug.FreeOSMemory() // as after a refit: a big batch leaves its garbage behind
		}
		// A refresh re-ranks every customer, whatever changed: under a
		// steady stream of writes, back-to-back refreshes of a million
		// customers would keep a core busy re-ranking. Rest three times as
		// long as the re-rank took, so re-ranking uses a quarter of a core
		// at most (small stores never wait; the changed customers' own
		// work is not paced).
		if d := time.Duration(s.lastRank.Swap(0)); n > 0 && d > 20*time.Millisecond {
			select {
			case <-ctx.Done():
				return
			case <-time.After(3 * d):
			}
		}
	}
}

// RefitReport says what a full refit did.
type RefitReport struct {
	AsOf        time.Time          `json:"as_of"`
	Customers   int                `json:"customers"`
	Buyers      int                `json:"buyers"`
	Orders      int                `json:"orders"`
	ScoresWrote int                `json:"scores_written"`
	Seconds     map[string]float64 `json:"seconds"`
	Model       *CLVReport         `json:"model,omitempty"`
}

// Refit rebuilds the snapshot from the store, fits every model, re-ranks all
// customers and writes everyone's scores. It waits for a refit in progress.
func (s *Service) Refit(ctx context.Context) (RefitReport, error) {
	s.refitMu.Lock()
	defer s.refitMu.Unlock()
	return s.refitLocked(ctx)
}

func (s *Service) refitLocked(ctx context.Context) (RefitReport, error) {
	s.sinceMu.Lock()
	s.refitting, s.sinceRefit = true, map[string]struct{}{}
	s.sinceMu.Unlock()
	defer func() {
		s.sinceMu.Lock()
		again := s.sinceRefit
		s.refitting, s.sinceRefit = false, nil
		s.sinceMu.Unlock()
		if len(again) > 0 { // changed while we read: refresh them on the new snapshot
			s.dirtyMu.Lock()
			for id := range again {
				s.dirty[id] = struct{}{}
			}
			s.dirtyMu.Unlock()
			select {
			case s.wake <- struct{}{}:
			default:
			}
		}
	}()

	rep := RefitReport{Seconds: map[string]float64{}}
	lap := func(name string, start time.Time) { rep.Seconds[name] = time.Since(start).Seconds() }
	t0 := time.Now()
	p, err := s.Profile(ctx)
	if err != nil {
		return rep, err
	}
	asOf := s.opts.Now().UTC()
	rep.AsOf = asOf
	snap := &snapshot{profile: p, ids: s.ids, index: map[rowID]int32{}}
	// Size the rows and the index once: growing them by appending would
	// leave up to half the capacity unused for good.
	if n, err := s.store.CountMatching(ctx, store.Condition{Where: "TRUE"}, ""); err == nil && n > 0 {
		n += n/64 + 16 // customers created while loading
		snap.rows = make([]row, 0, n)
	}
	start := time.Now()
	if err := s.load(ctx, snap, nil, asOf); err != nil {
		return rep, fmt.Errorf("insight: refit: %w", err)
	}
	lap("load", start)
	start = time.Now()
	snap.models = fitModels(snap, p, asOf, s.log)
	lap("fit", start)
	start = time.Now()
	live := make([]int32, 0, len(snap.rows))
	for i := range snap.rows {
		live = append(live, int32(i))
	}
	snap.models.scoreRows(snap.rows, live, asOf, p)
	lap("score", start)
	start = time.Now()
	snap.rank, err = rank(snap, asOf)
	if err != nil {
		return rep, fmt.Errorf("insight: refit: %w", err)
	}
	lap("rank", start)
	rep.Customers = len(snap.rank.live)
	rep.Buyers = len(snap.rank.buyers)
	rep.Orders = snap.orderCount
	m := snap.models.report
	rep.Model = &m

	s.mu.Lock()
	s.snap = snap
	s.mu.Unlock()
	s.version.Add(1)

	start = time.Now()
	wrote, ids, err := s.writeScores(ctx, snap, live)
	if err != nil {
		return rep, fmt.Errorf("insight: refit: %w", err)
	}
	rep.ScoresWrote = wrote
	lap("write", start)
	// A refit reads every customer and leaves gigabytes of garbage over a
	// million of them; hand the freed pages back now rather than holding
	// the high-water mark until the scavenger gets to it.
	debug.FreeOSMemory()
	rep.Seconds["total"] = time.Since(t0).Seconds()
	s.log.Info("analytics refit", "customers", rep.Customers, "buyers", rep.Buyers, "seconds", rep.Seconds["total"])
	if s.opts.AfterRefresh != nil {
		s.opts.AfterRefresh(ids)
	}
	return rep, nil
}

// scoreBatch bounds the scores written in one transaction, so a refit
// never holds the single writer long enough to stall user writes.
const scoreBatch = 2000

// writeScores stores the scores of the given rows, in batches. Each batch
// is read under the lock and written without it, so a refit of a million
// customers never holds a million stored scores at once.
// It returns how many it wrote, and their ids when AfterRefresh wants them.
func (s *Service) writeScores(ctx context.Context, snap *snapshot, rows []int32) (int, []string, error) {
	var ids []string
	if s.opts.AfterRefresh != nil {
		ids = make([]string, 0, len(rows))
	}
	n := len(rows)
	batch := make(map[string]customer.Scores, scoreBatch)
	for len(rows) > 0 {
		chunk := rows[:min(scoreBatch, len(rows))]
		rows = rows[len(chunk):]
		s.mu.RLock()
		now := s.opts.Now().UTC()
		for _, i := range chunk {
			id := snap.id(i)
			batch[id] = snap.scoresOf(i, now)
			if ids != nil {
				ids = append(ids, id)
			}
		}
		s.mu.RUnlock()
		err := s.store.UpsertScores(ctx, batch)
		clear(batch)
		if err != nil {
			return 0, nil, err
		}
	}
	return n, ids, nil
}

// current returns the snapshot, fitting it first when there is none yet.
func (s *Service) current(ctx context.Context) (*snapshot, error) {
	s.mu.RLock()
	snap := s.snap
	s.mu.RUnlock()
	if snap != nil {
		return snap, nil
	}
	s.refitMu.Lock()
	defer s.refitMu.Unlock()
	s.mu.RLock()
	snap = s.snap
	s.mu.RUnlock()
	if snap != nil {
		return snap, nil
	}
	if _, err := s.refitLocked(ctx); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.snap, nil
}

// staleBatch is the fewest customers one refresh re-reads.
const staleBatch = 5000

// bigRefresh is a refresh after which the freed memory goes back to the
// system at once.
const bigRefresh = 50_000

// refreshBatch bounds the customers one refresh re-reads: staleBatch, or
// a tenth of the snapshot when that is more. Every refresh re-ranks
// everyone, so absorbing a million new customers 5,000 at a time would
// re-rank a million customers 200 times.
func (s *Service) refreshBatch() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.snap == nil {
		return staleBatch
	}
	return max(staleBatch, len(s.snap.rows)/10)
}

// Refresh recomputes the scores of the customers whose data changed (the
// store's stale queue and writes seen in this process) with the current
// fitted models, re-ranks everyone in memory and writes those customers'
// scores. It returns how many customers it refreshed.
func (s *Service) Refresh(ctx context.Context) (int, error) {
	s.mu.RLock()
	ready := s.snap != nil
	s.mu.RUnlock()
	if !ready {
		return 0, nil // the first refit scores everyone
	}
	batch := s.refreshBatch()
	queued, err := s.store.StaleScores(ctx, batch)
	if err != nil {
		return 0, err
	}
	seen := make(map[string]struct{}, len(queued))
	var ids []string
	for _, id := range queued {
		if _, ok := seen[id]; !ok {
			seen[id] = struct{}{}
			ids = append(ids, id)
		}
	}
	s.dirtyMu.Lock()
	for id := range s.dirty {
		if len(ids) >= batch {
			break
		}
		delete(s.dirty, id)
		if _, ok := seen[id]; !ok {
			seen[id] = struct{}{}
			ids = append(ids, id)
		}
	}
	more := len(s.dirty) > 0
	s.dirtyMu.Unlock()
	if len(ids) == 0 {
		return 0, nil
	}
	s.noteSinceRefit(ids)
	n, err := s.refreshIDs(ctx, ids)
	if more || len(queued) == batch {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	return n, err
}

func (s *Service) refreshIDs(ctx context.Context, ids []string) (int, error) {
	s.mu.RLock()
	snap := s.snap
	s.mu.RUnlock()
	asOf := s.opts.Now().UTC()
	// Read the changed customers into a scratch snapshot without holding
	// the lock, then fold them in.
	fresh := &snapshot{profile: snap.profile, ids: s.ids, index: map[rowID]int32{}}
	if err := s.load(ctx, fresh, ids, asOf); err != nil {
		return 0, fmt.Errorf("insight: refresh: %w", err)
	}
	s.mu.Lock()
	if s.snap != snap { // a refit swapped the snapshot meanwhile; it re-queues its changes
		snap = s.snap
	}
	touched := make([]int32, 0, len(ids))
	gone := map[string]bool{}
	for _, id := range ids {
		k := s.ids.key(id)
		j, ok := fresh.find(k)
		i, known := snap.find(k)
		switch {
		case ok && known:
			if snap.rows[i].dead {
				snap.dead-- // restored
			}
			snap.rows[i] = fresh.rows[j]
		case ok:
			i = int32(len(snap.rows))
			snap.rows = append(snap.rows, fresh.rows[j])
			snap.index[k] = i
		case known:
			if !snap.rows[i].dead {
				snap.dead++
			}
			snap.rows[i] = row{id: k, dead: true}
		default:
			gone[id] = true
			continue
		}
		if !snap.rows[i].dead {
			touched = append(touched, i)
		} else {
			gone[id] = true
		}
	}
	snap.compactIndex()
	snap.models.scoreRows(snap.rows, touched, asOf, snap.profile)
	rankStart := time.Now()
	r, err := rank(snap, asOf)
	s.lastRank.Store(int64(time.Since(rankStart)))
	if err == nil {
		snap.rank = r
	}
	s.mu.Unlock()
	if err != nil {
		return 0, fmt.Errorf("insight: refresh: %w", err)
	}
	s.version.Add(1)
	_, written, err := s.writeScores(ctx, snap, touched)
	if err != nil {
		return 0, fmt.Errorf("insight: refresh: %w", err)
	}
	if len(gone) > 0 {
		// Deleted or unknown customers leave the queue with empty scores.
		blank := make(map[string]customer.Scores, len(gone))
		for id := range gone {
			blank[id] = customer.Scores{UpdatedAt: asOf}
		}
		if err := s.store.UpsertScores(ctx, blank); err != nil {
			return 0, fmt.Errorf("insight: refresh: %w", err)
		}
	}
	if s.opts.AfterRefresh != nil {
		s.opts.AfterRefresh(written)
	}
	return len(ids), nil
}

// row is one customer in the snapshot. The snapshot holds every customer,
// so a row is kept small and nearly pointer-free: the id packed into 16
// bytes, narrow day numbers, and everything many customers lack (owner,
// city, tags, attributes, interactions, churn reasons) behind one pointer
// that stays nil for a bare record.
type row struct {
	id           rowID
	name         string
	ext          *rowExt
	buy          *purchases // nil for a customer who never bought
	created      int64
	interactions int32
	dead         bool
}

// purchases is a buyer's order history and lifetime-value outputs.
type purchases struct {
	first, last int64 // unix seconds of the first and last completed order; 0 without
	next        int64 // expected next purchase (unix seconds); 0 when unknown
	revenue     float64
	// From the order log: the value of the repeat days (every day but the
	// first), and the calibration split.
	repeatValue float64
	goods       float64
	// Model outputs.
	clv, pAlive float64
	cal         calSplit
	orders      int32
	// From the order log: distinct purchase days and their span.
	days              int32
	firstDay, lastDay int32 // civil days since 1970
	hasModel          bool
}

// none is what p returns for a row without purchases; never written.
var none purchases

// p is the row's purchases for reading (zero for a non-buyer).
func (r *row) p() *purchases {
	if r.buy == nil {
		return &none
	}
	return r.buy
}

// buying is the row's purchases for writing, made on first use.
func (r *row) buying() *purchases {
	if r.buy == nil {
		r.buy = &purchases{}
	}
	return r.buy
}

// rowExt is the part of a row that bare customer records do without.
type rowExt struct {
	owner, city, channel string
	tags                 []string
	attrs                attrList       // scalar attributes as text
	kinds                map[string]int // interactions by kind
	marketing            float64        // the customer's own marketing cost, when hasMarketing
	hasMarketing         bool
	// The churn model's output, for customers it scores.
	hasChurn bool
	churn    float64
	reasons  []churn.Contribution
}

// churnRisk is the row's churn risk: the churn model's when it scored the
// customer, else 1 − P(alive) from the lifetime-value model.
func (r *row) churnRisk() (float64, bool) {
	if r.ext != nil && r.ext.hasChurn {
		return r.ext.churn, true
	}
	if b := r.buy; b != nil && b.hasModel {
		return 1 - b.pAlive, true
	}
	return 0, false
}

// marketing is the row's marketing cost: its own, or the profile's.
func (snap *snapshot) marketing(r *row) float64 {
	if r.ext != nil && r.ext.hasMarketing {
		return r.ext.marketing
	}
	return snap.profile.MarketingCostPerCustomer
}

// noExt is what x returns for a row without an extension; never written.
var noExt rowExt

// x is the row's extension for reading (empty for a bare record).
func (r *row) x() *rowExt {
	if r.ext == nil {
		return &noExt
	}
	return r.ext
}

// extra is the row's extension for writing, made on first use.
func (r *row) extra() *rowExt {
	if r.ext == nil {
		r.ext = &rowExt{}
	}
	return r.ext
}

// calSplit is a customer's history cut at the calibration end.
type calSplit struct {
	repeatV  float64
	days     int32 // distinct purchase days up to the calibration end
	lastDay  int32
	holdout  int32 // distinct purchase days after it
	eligible bool  // first purchase on or before the calibration end
}

// snapshot is the in-memory state the reports and scores come from.
type snapshot struct {
	profile    Profile
	ids        *idTable
	rows       []row
	sorted     []int32         // the loaded rows in id order (4 bytes a customer; a map costs ~40)
	index      map[rowID]int32 // rows added after the load
	models     models
	rank       *ranking
	orderCount int
	identity   []int32 // 0, 1, 2, …: live positions when no row is dead
	dead       int     // rows deleted since the refit
}

// id is row i's customer id.
func (snap *snapshot) id(i int32) string { return snap.ids.str(snap.rows[i].id) }

// lookup is the row of a customer id.
func (snap *snapshot) lookup(id string) (int32, bool) {
	k, ok := snap.ids.find(id)
	if !ok {
		return 0, false
	}
	return snap.find(k)
}

func (snap *snapshot) find(k rowID) (int32, bool) {
	i, _, ok := snap.search(k)
	return i, ok
}

// search finds k's row; it also returns k's position in sorted (-1 for a
// row added after the load).
func (snap *snapshot) search(k rowID) (int32, int, bool) {
	if i, ok := snap.index[k]; ok {
		return i, -1, true
	}
	rows := snap.rows
	j, ok := slices.BinarySearchFunc(snap.sorted, k, func(i int32, k rowID) int { return bytes.Compare(rows[i].id[:], k[:]) })
	if !ok {
		return 0, -1, false
	}
	return snap.sorted[j], j, true
}

// sortRows builds sorted once the rows are loaded.
func (snap *snapshot) sortRows() {
	sorted := make([]int32, len(snap.rows))
	for i := range sorted {
		sorted[i] = int32(i)
	}
	rows := snap.rows
	slices.SortFunc(sorted, func(a, b int32) int { return bytes.Compare(rows[a].id[:], rows[b].id[:]) })
	snap.sorted = sorted
}

// compactIndex folds the rows added since the load into sorted once they
// outgrow it by an eighth, so a snapshot that grew by a million customers
// after an empty start does not keep a million map entries.
func (snap *snapshot) compactIndex() {
	if len(snap.index) > 4096+len(snap.sorted)/8 {
		snap.sortRows()
		snap.index = map[rowID]int32{}
	}
}

// finder looks ids up one after another. The store's scans return
// customers in id order, so it tries the customer it found last and the
// one after it before searching: a scan of ten million orders then costs a
// comparison or two an order.
type finder struct {
	snap *snapshot
	pos  int // position in sorted of the last match; -1 before one
}

func (snap *snapshot) finder() *finder { return &finder{snap: snap, pos: -1} }

func (f *finder) lookup(id string) (int32, bool) {
	k, ok := f.snap.ids.find(id)
	if !ok {
		return 0, false
	}
	sorted, rows := f.snap.sorted, f.snap.rows
	for _, p := range [2]int{f.pos, f.pos + 1} {
		if p >= 0 && p < len(sorted) && rows[sorted[p]].id == k {
			f.pos = p
			return sorted[p], true
		}
	}
	i, pos, ok := f.snap.search(k)
	if pos >= 0 {
		f.pos = pos
	}
	return i, ok
}

// civilDay numbers a UTC calendar date as days since 1970-01-01.
func civilDay(unix int64) int64 {
	if unix >= 0 {
		return unix / 86400
	}
	return -((-unix + 86399) / 86400)
}

// load reads customers (all when ids is nil) with their order history,
// cost of goods and interactions into snap.
func (s *Service) load(ctx context.Context, snap *snapshot, ids []string, asOf time.Time) error {
	p := snap.profile
	in := newInterner()
	err := s.store.ScanAnalyticsCustomers(ctx, ids, true, func(c *store.AnalyticsCustomer) error {
		k := snap.ids.key(c.ID)
		r := row{id: k, name: c.Name, created: c.CreatedAt.Unix(), interactions: int32(c.Interactions)}
		if c.Orders != 0 || c.Revenue != 0 || !c.FirstOrderAt.IsZero() {
			b := r.buying()
			b.orders, b.revenue = int32(c.Orders), c.Revenue
			if !c.FirstOrderAt.IsZero() {
				b.first, b.last = c.FirstOrderAt.Unix(), c.LastOrderAt.Unix()
			}
		}
		if c.OwnerID != "" {
			r.extra().owner = in.of(c.OwnerID)
		}
		if len(c.Tags) > 0 {
			r.extra().tags = slices.Clip(in.all(c.Tags))
		}
		if len(c.Attributes) > 0 {
			attrs := make(attrList, 0, len(c.Attributes))
			for k, v := range c.Attributes {
				if t, ok := attrText(v); ok {
					attrs = append(attrs, attrKV{in.of(k), in.of(t)})
				}
			}
			if len(attrs) > 0 {
				x := r.extra()
				x.attrs = attrs
				x.city = attrs.get(p.CityAttribute)
				x.channel = attrs.get(p.ChannelAttribute)
			}
			if m, ok := c.Attributes["marketing_cost"].(float64); ok && m >= 0 && !math.IsInf(m, 0) {
				x := r.extra()
				x.marketing, x.hasMarketing = m, true
			}
		}
		snap.rows = append(snap.rows, r)
		return nil
	})
	if err != nil {
		return err
	}
	snap.sortRows()
	fd := snap.finder()
	calEnd := int32(civilDay(asOf.Unix()) - int64(p.HoldoutDays))
	var cur *purchases
	var curRow *row
	var curID string
	lastOrderDay := int32(math.MinInt32)
	var dayValue float64
	closeDay := func() {
		if cur == nil || lastOrderDay == math.MinInt32 {
			return
		}
		if lastOrderDay != cur.firstDay {
			cur.repeatValue += dayValue
			if lastOrderDay <= calEnd {
				cur.cal.repeatV += dayValue
			}
		}
	}
	err = s.store.ScanCompletedOrders(ctx, ids, func(o *store.AnalyticsOrder) error {
		snap.orderCount++
		if o.CustomerID != curID {
			closeDay()
			curID, cur, curRow, lastOrderDay = o.CustomerID, nil, nil, math.MinInt32
			if i, ok := fd.lookup(o.CustomerID); ok {
				curRow = &snap.rows[i]
				cur = curRow.buying()
				cur.days, cur.repeatValue, cur.cal = 0, 0, calSplit{}
			}
		}
		if cur == nil {
			return nil // a deleted customer's order
		}
		d := int32(civilDay(o.PlacedAt.Unix()))
		if d == lastOrderDay {
			dayValue += o.Total
			return nil
		}
		closeDay()
		if cur.days == 0 {
			cur.firstDay = d
			if curRow.x().channel == "" && o.Source != "" {
				curRow.extra().channel = in.of(o.Source)
			}
			cur.cal.eligible = d <= calEnd
		}
		cur.days++
		cur.lastDay = d
		if d <= calEnd {
			cur.cal.days++
			cur.cal.lastDay = d
		} else if cur.cal.eligible {
			cur.cal.holdout++
		}
		lastOrderDay, dayValue = d, o.Total
		return nil
	})
	closeDay()
	if err != nil {
		return err
	}
	fd = snap.finder()
	err = s.store.ScanGoodsCosts(ctx, ids, func(id string, cost float64) error {
		if i, ok := fd.lookup(id); ok {
			if cost != 0 || snap.rows[i].buy != nil {
				snap.rows[i].buying().goods = cost
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	fd = snap.finder()
	return s.store.ScanInteractionCounts(ctx, ids, func(id, kind string, n int64) error {
		if i, ok := fd.lookup(id); ok {
			x := snap.rows[i].extra()
			if x.kinds == nil {
				x.kinds = map[string]int{}
			}
			x.kinds[in.of(kind)] = int(n)
		}
		return nil
	})
}

// attrText is the text of a scalar attribute value.
func attrText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		if x {
			return "true", true
		}
		return "false", true
	case float64:
		return fmt.Sprint(x), true
	}
	return "", false
}

// summary is the customer's CLV summary as of day asOf, in unit days.
func (r *purchases) summary(asOfDay int64, unitDays float64) clv.Summary {
	s := clv.Summary{X: int(r.days) - 1}
	s.T = float64(asOfDay-int64(r.firstDay)) / unitDays
	if s.X > 0 {
		s.TX = float64(r.lastDay-r.firstDay) / unitDays
		s.Zbar = r.repeatValue / float64(s.X)
	}
	if s.T < s.TX {
		s.T = s.TX
	}
	return s
}

// calSummary is the customer's summary at the calibration end.
func (r *purchases) calSummary(calDay int64, unitDays float64) clv.Summary {
	s := clv.Summary{X: int(r.cal.days) - 1, HoldoutX: int(r.cal.holdout)}
	s.T = float64(calDay-int64(r.firstDay)) / unitDays
	if s.X > 0 {
		s.TX = float64(r.cal.lastDay-r.firstDay) / unitDays
		s.Zbar = r.cal.repeatV / float64(s.X)
	}
	return s
}

// models are the fitted models of one refit.
type models struct {
	fitted time.Time
	tm     clv.TransactionModel
	r      float64 // shape and scale of the purchase-rate prior (both models)
	alpha  float64
	gg     *clv.GammaGamma
	spend  float64 // mean spend when Gamma-Gamma could not be fitted
	hor    clv.Horizon
	unit   clv.Unit
	churn  *churn.Model
	churnF []string // feature columns of the churn model
	report CLVReport
}

// minFitCustomers is the fewest buyers a CLV model is fitted on.
const minFitCustomers = 20

// fitModels fits the transaction, spend and churn models on the snapshot.
func fitModels(snap *snapshot, p Profile, asOf time.Time, log *slog.Logger) models {
	m := models{fitted: asOf, hor: p.horizon(), unit: p.unit()}
	rep := &m.report
	rep.FittedAt, rep.Unit, rep.Model = asOf, string(m.unit), p.Model
	rep.HorizonDays, rep.DiscountRate = p.HorizonDays, p.DiscountRate
	u := m.unit.Days()
	asOfDay := civilDay(asOf.Unix())
	calDay := asOfDay - int64(p.HoldoutDays)
	var full, cal []clv.Summary
	var spendSum float64
	var spendN int
	for i := range snap.rows {
		if snap.rows[i].dead {
			continue
		}
		r := snap.rows[i].p()
		if r.days == 0 || int64(r.firstDay) > asOfDay {
			continue
		}
		s := r.summary(asOfDay, u)
		full = append(full, s)
		if r.cal.eligible {
			cal = append(cal, r.calSummary(calDay, u))
		}
		if r.orders > 0 {
			spendSum += r.revenue / float64(r.orders)
			spendN++
		}
	}
	if spendN > 0 {
		m.spend = spendSum / float64(spendN)
	}
	rep.Customers = len(full)
	for _, c := range full {
		if c.X > 0 {
			rep.Repeaters++
		}
	}
	fit := func(cs []clv.Summary) (clv.TransactionModel, *Params, error) {
		if p.Model == "paretonbd" {
			pm, err := clv.FitParetoNBD(cs)
			if err != nil {
				return nil, nil, err
			}
			return pm, &Params{R: pm.R, Alpha: pm.Alpha, S: pm.S, Beta: pm.Beta, LogLik: pm.LogLik}, nil
		}
		bm, err := clv.FitBGNBD(cs)
		if err != nil {
			// The analytic line search can stall a hair from the optimum on
			// regular, clumped histories; the finite-difference path is slower
			// but gets there.
			log.Warn("insight: bgnbd fit, retrying with a numerical gradient", "err", err)
			if bm, err = clv.FitBGNBD(cs, clv.NumericalGradient()); err != nil {
				return nil, nil, err
			}
		}
		return bm, &Params{R: bm.R, Alpha: bm.Alpha, A: bm.A, B: bm.B, LogLik: bm.LogLik}, nil
	}
	switch {
	case len(full) < minFitCustomers || rep.Repeaters == 0:
		rep.Note = fmt.Sprintf("not enough purchase history to fit a model: %d buyers, %d repeat buyers (need %d buyers and some repeat purchases) / 购买记录不足，无法拟合模型",
			len(full), rep.Repeaters, minFitCustomers)
	default:
		tm, params, err := fit(full)
		if err != nil {
			rep.Note = "model fit failed / 模型拟合失败: " + err.Error()
			log.Warn("insight: fit", "err", err)
			break
		}
		m.tm, rep.Params = tm, params
		m.r, m.alpha = params.R, params.Alpha
	}
	if sp := clv.SpendCustomers(full); len(sp) >= minFitCustomers {
		if g, err := clv.FitGammaGamma(sp); err == nil && g.Q > 1 {
			m.gg = &g
			rep.Spend = &SpendParams{P: g.P, Q: g.Q, Gamma: g.Gamma, LogLik: g.LogLik, MeanSpend: g.P * g.Gamma / (g.Q - 1)}
		} else if err != nil {
			log.Warn("insight: fit gamma-gamma", "err", err)
		}
	}
	if m.tm != nil && len(cal) >= minFitCustomers && p.HoldoutDays > 0 {
		if tm, params, err := fit(cal); err == nil {
			if h, err := clv.ValidateHoldout(tm, cal, float64(p.HoldoutDays)/u); err == nil {
				rep.Holdout = &HoldoutCheck{Days: p.HoldoutDays, CalibrationEnd: time.Unix(calDay*86400, 0).UTC(),
					Customers: h.Customers, Actual: h.Actual, Predicted: h.Predicted, ErrorPct: h.TotalErrorPct, MAE: h.MAE, RMSE: h.RMSE, Params: params}
			}
		}
	}
	m.fitChurn(snap, p, asOf, log)
	return m
}

// scoreRows computes the model outputs of the given rows in parallel.
func (m *models) scoreRows(rows []row, which []int32, asOf time.Time, p Profile) {
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := len(which)*w/workers, len(which)*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, i := range which[lo:hi] {
				m.score(&rows[i], asOf, p)
			}
		}()
	}
	wg.Wait()
}

// score fills one row's model outputs.
func (m *models) score(r *row, asOf time.Time, p Profile) {
	if r.ext != nil {
		r.ext.hasChurn, r.ext.churn, r.ext.reasons = false, 0, nil
	}
	if b := r.buy; b != nil {
		b.hasModel, b.clv, b.pAlive, b.next = false, 0, 0, 0
	}
	if b := r.p(); b.days > 0 {
		u := m.unit.Days()
		s := b.summary(civilDay(asOf.Unix()), u)
		gap := p.PurchaseCycleDays * 86400 // fallback: the business's cycle
		if s.X > 0 {
			gap = (s.TX / float64(s.X)) * u * 86400
		}
		if m.tm != nil {
			spend := m.spend
			if m.gg != nil {
				spend = m.gg.ExpectedSpend(s.X, s.Zbar)
			}
			if v, err := clv.CLV(m.tm, s, spend, m.hor); err == nil && !math.IsNaN(v) && !math.IsInf(v, 0) {
				b.clv, b.hasModel = v, true
				b.pAlive = m.tm.PAlive(s.X, s.TX, s.T)
				// Posterior mean purchase rate of a live customer: (r+x)/(α+T).
				gap = (m.alpha + s.T) / (m.r + float64(s.X)) * u * 86400
			}
		}
		b.next = int64(b.lastDay)*86400 + int64(gap)
	}
	if m.churn != nil && r.ext != nil {
		if v := r.ext.attrs.get(p.ChurnAttribute); v != "" {
			pr, top := m.churn.Score(churnRow(r, m.churnF, asOf))
			r.ext.churn, r.ext.hasChurn, r.ext.reasons = pr, true, top
		}
	}
}

// scoresOf is the stored form of row i's scores.
func (snap *snapshot) scoresOf(i int32, now time.Time) customer.Scores {
	r := &snap.rows[i]
	sc := customer.Scores{UpdatedAt: now}
	if k := snap.rank.at(i); k >= 0 {
		sc.Tier = tierID(snap.rank.tier[k])
		rs := snap.rank.rfm.Scores[k]
		if rs.Segment != value.SegmentNone {
			sc.RFMSegment = rs.Segment.String()
		}
		sc.R, sc.F, sc.M = int(rs.R), int(rs.F), int(rs.M)
	}
	if b := r.p(); b.hasModel {
		c, pa := round(b.clv, 2), round(b.pAlive, 4)
		sc.CLV, sc.PAlive = &c, &pa
	}
	if b := r.p(); b.next != 0 {
		t := time.Unix(b.next, 0).UTC()
		sc.ExpectedNextPurchase = &t
	}
	if v, ok := r.churnRisk(); ok {
		c := round(v, 4)
		sc.ChurnRisk = &c
	}
	return sc
}

func tierID(t value.Tier) string {
	if t == value.TierNone {
		return ""
	}
	return t.String()
}

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

// ranking is everyone's RFM scores and tiers at one moment.
type ranking struct {
	asOf   time.Time
	live   []int32         // row index of each live customer
	pos    []int           // row index → position in live, -1 when dead; nil when every row is live
	rfm    value.RFMResult // aligned with live
	buyers []int           // positions in live of customers with a purchase
	hist   value.TierResult
	pred   value.TierResult
	tier   []value.Tier // historical tier per live position
	ptier  []value.Tier // predicted tier per live position
	lapsed int
}

// at is the position in live of row i, or -1 when the row is dead.
func (rk *ranking) at(i int32) int {
	if rk.pos == nil {
		if int(i) < len(rk.live) {
			return int(i)
		}
		return -1
	}
	if int(i) >= len(rk.pos) {
		return -1
	}
	return rk.pos[i]
}

// rank scores RFM and tiers over every live customer in the snapshot, from
// the aggregates its rows keep current (no per-customer rebuild).
func rank(snap *snapshot, asOf time.Time) (*ranking, error) {
	p := snap.profile
	rk := &ranking{asOf: asOf}
	if snap.dead == 0 {
		for len(snap.identity) < len(snap.rows) {
			snap.identity = append(snap.identity, int32(len(snap.identity)))
		}
		rk.live = snap.identity[:len(snap.rows)]
	} else {
		rk.pos = make([]int, len(snap.rows))
		for i := range snap.rows {
			rk.pos[i] = -1
			if snap.rows[i].dead {
				continue
			}
			rk.pos[i] = len(rk.live)
			rk.live = append(rk.live, int32(i))
		}
	}
	lapsedBefore := asOf.Unix() - int64(p.LapsedAfterDays)*86400
	for _, i := range rk.live {
		if r := snap.rows[i].p(); r.orders > 0 && r.last < lapsedBefore {
			rk.lapsed++
		}
	}
	var err error
	rk.rfm, err = value.ScoreRFMFunc(len(rk.live), func(k int) value.Purchases {
		r := snap.rows[rk.live[k]].p()
		if r.orders <= 0 {
			return value.Purchases{}
		}
		return value.Purchases{Orders: int(r.orders), Revenue: r.revenue, LastOrder: time.Unix(r.last, 0).UTC()}
	}, value.RFMOptions{AsOf: asOf, Window: time.Duration(p.RFMWindowDays) * 24 * time.Hour})
	if err != nil {
		return nil, err
	}
	var hv, pv []float64
	for k, i := range rk.live {
		if r := snap.rows[i].p(); r.orders > 0 {
			rk.buyers = append(rk.buyers, k)
			hv = append(hv, r.revenue)
			pv = append(pv, r.clv)
		}
	}
	if rk.hist, err = value.AssignTiers(hv, p.TierCuts); err != nil {
		return nil, err
	}
	if rk.pred, err = value.AssignTiers(pv, p.TierCuts); err != nil {
		return nil, err
	}
	rk.tier, rk.ptier = make([]value.Tier, len(rk.live)), make([]value.Tier, len(rk.live))
	for j, k := range rk.buyers {
		rk.tier[k], rk.ptier[k] = rk.hist.Tiers[j], rk.pred.Tiers[j]
	}
	return rk, nil
}

package ingest

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/store"
)

// backlog tracks the requests this server accepted that are not applied
// yet: Flush waits on them, and the events they hold keep senders waiting
// when the applier falls behind, so the queue cannot grow without bound.
type backlog struct {
	mu      sync.Mutex // held across an accept commit and its registration
	pending map[int64]pendingRequest
	limit   int64
	room    *semaphore.Weighted // events that may still be accepted
}

type pendingRequest struct {
	done   chan struct{}
	events int64
}

func newBacklog(maxEvents int) *backlog {
	return &backlog{pending: map[int64]pendingRequest{}, limit: int64(maxEvents), room: semaphore.NewWeighted(int64(maxEvents))}
}

// weight is what a request of n events takes of the backlog: a request
// larger than the whole backlog takes all of it rather than never fitting.
func (b *backlog) weight(n int) int64 { return min(int64(n), b.limit) }

// reserve makes room for a request of n events, waiting while the backlog
// is full.
func (b *backlog) reserve(ctx context.Context, n int) error { return b.room.Acquire(ctx, b.weight(n)) }

func (b *backlog) unreserve(n int) { b.room.Release(b.weight(n)) }

// add registers an accepted request of n events; the caller holds b.mu.
func (b *backlog) add(seq int64, n int) {
	b.pending[seq] = pendingRequest{done: make(chan struct{}), events: b.weight(n)}
}

// finish marks requests applied or failed (seqs not accepted here are
// ignored: another server's, or a previous run's).
func (b *backlog) finish(seqs ...int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, seq := range seqs {
		if p, ok := b.pending[seq]; ok {
			close(p.done)
			delete(b.pending, seq)
			b.room.Release(p.events)
		}
	}
}

// snapshot returns the pending requests' seqs and done channels.
func (b *backlog) snapshot() ([]int64, []chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	seqs := make([]int64, 0, len(b.pending))
	chs := make([]chan struct{}, 0, len(b.pending))
	for seq, p := range b.pending {
		seqs = append(seqs, seq)
		chs = append(chs, p.done)
	}
	return seqs, chs
}

// applier resolves and stores queued requests, many per transaction.
type applier struct {
	store   *store.Store
	log     *slog.Logger
	max     int // events per transaction
	backlog *backlog
	wake    chan struct{}
	stopped chan struct{}
	next    chan fetched // the batch being read ahead, if any
}

const (
	// pollEvery is how often an idle applier looks for requests it was not
	// told about (accepted by another server sharing the database, or
	// left by a previous run).
	pollEvery = time.Second
	// maxAttempts is how often a request that keeps failing for reasons
	// that may pass is tried before it is set aside as failed.
	maxAttempts = 10
	// drainOnStop is how long a stopping server goes on applying what it
	// accepted; what is left stays queued for the next start.
	drainOnStop = 10 * time.Second
)

func (ap *applier) notify() {
	select {
	case ap.wake <- struct{}{}:
	default:
	}
}

// run applies queued requests until ctx is done, then drains for up to
// drainOnStop.
func (ap *applier) run(ctx context.Context) {
	defer close(ap.stopped)
	var backoff time.Duration
	var stopBy time.Time
	for {
		if stopBy.IsZero() && ctx.Err() != nil {
			stopBy = time.Now().Add(drainOnStop)
		}
		if !stopBy.IsZero() && time.Now().After(stopBy) {
			return
		}
		n, err := ap.applyOnce()
		switch {
		case err != nil:
			backoff = min(max(2*backoff, 100*time.Millisecond), 30*time.Second)
			ap.log.Error("applying queued tracking events failed; retrying", "err", err, "retry_in", backoff)
			if !stopBy.IsZero() {
				return
			}
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
			}
		case n == 0:
			backoff = 0
			if !stopBy.IsZero() {
				return
			}
			select {
			case <-ap.wake:
			case <-time.After(pollEvery):
			case <-ctx.Done():
			}
		default:
			backoff = 0
		}
	}
}

// fetched is a batch read ahead while the one before it was applied.
type fetched struct {
	qs  []store.QueuedBatch
	err error
}

// applyOnce applies the oldest queued requests in one transaction and
// reports how many requests it settled. While it applies them, it reads
// the batch after them on the queue's own connection (the next call takes
// it), so reading and decoding the queue overlaps with applying.
//
// When the group fails, each request is tried alone, so one bad request
// cannot hold up the others: a request that fails for good (invalid,
// conflicting, undecodable) is set aside as failed, with the reason, for
// an operator to see and retry.
func (ap *applier) applyOnce() (int, error) {
	ctx := context.Background() // a started transaction finishes even when stopping
	var qs []store.QueuedBatch
	if ap.next != nil {
		f := <-ap.next
		ap.next = nil
		if f.err != nil {
			return 0, f.err
		}
		qs = f.qs
	}
	if len(qs) == 0 {
		pending, _ := ap.backlog.snapshot()
		var err error
		if qs, err = ap.store.QueuedEvents(ctx, ap.max); err != nil {
			return 0, err
		}
		if len(qs) == 0 {
			// Whatever was pending before the read is settled: applied or
			// failed by another server sharing the database.
			ap.backlog.finish(pending...)
			return 0, nil
		}
	}
	seqs := make([]int64, len(qs))
	for i, q := range qs {
		seqs[i] = q.Seq
	}
	next := make(chan fetched, 1)
	go func() {
		qs, err := ap.store.QueuedEvents(ctx, ap.max, seqs...)
		next <- fetched{qs, err}
	}()
	n, err := ap.settle(ctx, qs)
	if err != nil {
		<-next // read before the failure: keep acceptance order, read again
		return n, err
	}
	ap.next = next
	return n, nil
}

// settle applies qs in one transaction, or one by one when that fails.
func (ap *applier) settle(ctx context.Context, qs []store.QueuedBatch) (int, error) {
	if _, err := ap.store.ApplyQueued(ctx, qs); err == nil {
		for _, q := range qs {
			ap.backlog.finish(q.Seq)
		}
		return len(qs), nil
	} else if len(qs) > 1 {
		ap.log.Warn("applying a group of queued requests failed; applying them one by one", "requests", len(qs), "err", err)
	}
	for _, q := range qs {
		_, err := ap.store.ApplyQueued(ctx, []store.QueuedBatch{q})
		if err == nil {
			ap.backlog.finish(q.Seq)
			continue
		}
		if permanent(err) || q.Attempts+1 >= maxAttempts {
			ap.log.Error("a queued tracking request cannot be applied; set aside as failed", "seq", q.Seq, "source", q.SourceID,
				"events", len(q.Events), "err", err)
			if ferr := ap.store.FailQueued(ctx, q.Seq, err.Error()); ferr != nil {
				return 0, ferr
			}
			ap.backlog.finish(q.Seq)
			continue
		}
		if nerr := ap.store.NoteQueuedAttempt(ctx, q.Seq, err.Error()); nerr != nil {
			ap.log.Error("count a failed attempt", "seq", q.Seq, "err", nerr)
		}
		return 0, err
	}
	return len(qs), nil
}

// Drain applies everything queued in s, as a starting server's applier
// would, and returns when the queue holds only failed requests. A nil log
// discards messages.
func Drain(ctx context.Context, s *store.Store, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ap := &applier{store: s, log: log, max: DefaultMaxGroup, backlog: newBacklog(1)}
	for ctx.Err() == nil {
		n, err := ap.applyOnce()
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
	}
	return ctx.Err()
}

// permanent reports whether retrying cannot help.
func permanent(err error) bool {
	if store.IsCorruptQueued(err) {
		return true
	}
	switch errs.KindOf(err) {
	case errs.Invalid, errs.Conflict, errs.NotFound:
		return true
	}
	return false
}

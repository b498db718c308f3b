package ingest

import (
	"context"
	"errors"
	"log/slog"

	"github.com/rapportcrm/rapport/internal/store"
)

// errStopped answers requests the writer will not commit.
var errStopped = errors.New("ingest: writer stopped")

// writer is a group commit: requests queue up while a transaction runs,
// and the next transaction takes all of them (up to max events), so many
// concurrent requests share one commit. Each request learns the outcome
// of its own commit; only then is it answered.
type writer struct {
	store   *store.Store
	log     *slog.Logger
	max     int
	in      chan *request
	stopped chan struct{}
}

type request struct {
	events []store.Event
	done   chan error
}

func newWriter(s *store.Store, log *slog.Logger, max int) *writer {
	return &writer{store: s, log: log, max: max, in: make(chan *request, 256), stopped: make(chan struct{})}
}

// submit queues events and waits until they are committed or failed.
func (w *writer) submit(ctx context.Context, events []store.Event) error {
	r := &request{events: events, done: make(chan error, 1)}
	select {
	case w.in <- r:
	case <-w.stopped:
		return errStopped
	}
	// The commit goes ahead even if the client leaves: it was queued.
	select {
	case err := <-r.done:
		return err
	case <-w.stopped:
		select {
		case err := <-r.done:
			return err
		default:
			return errStopped
		}
	}
}

// run commits groups until ctx is done, then commits what is already
// queued and stops.
func (w *writer) run(ctx context.Context) {
	defer close(w.stopped)
	for {
		select {
		case r := <-w.in:
			w.commit(w.gather(r))
		case <-ctx.Done():
			for {
				select {
				case r := <-w.in:
					w.commit(w.gather(r))
				default:
					return
				}
			}
		}
	}
}

// gather takes r and whatever else is queued, up to max events.
func (w *writer) gather(r *request) []*request {
	group := []*request{r}
	n := len(r.events)
	for n < w.max {
		select {
		case more := <-w.in:
			group = append(group, more)
			n += len(more.events)
		default:
			return group
		}
	}
	return group
}

// commit stores a group in one transaction. If it fails, each request is
// retried alone, so one request's problem (or a race with another writer
// on the same identities) fails only that request.
func (w *writer) commit(group []*request) {
	ctx := context.Background() // a queued request is committed even if its client left
	if len(group) == 1 {
		group[0].done <- w.store1(ctx, group[0].events)
		return
	}
	var all []store.Event
	for _, r := range group {
		all = append(all, r.events...)
	}
	if _, err := w.store.IngestEvents(ctx, all); err == nil {
		for _, r := range group {
			r.done <- nil
		}
		return
	} else {
		w.log.Warn("group commit failed; retrying its requests one by one", "requests", len(group), "err", err)
	}
	for _, r := range group {
		r.done <- w.store1(ctx, r.events)
	}
}

// store1 commits one request, retrying once: a concurrent writer (an API
// call creating the same identity) can make the first attempt conflict.
func (w *writer) store1(ctx context.Context, events []store.Event) error {
	_, err := w.store.IngestEvents(ctx, events)
	if err != nil {
		_, err = w.store.IngestEvents(ctx, events)
	}
	return err
}

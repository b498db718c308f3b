package ingest

import (
	"context"
	"errors"
	"log/slog"

	"github.com/rapportcrm/rapport/internal/store"
)

// errStopped answers requests the server will not accept any more.
var errStopped = errors.New("ingest: writer stopped")

// acceptor is a group commit into the ingest queue: requests queue up
// while a transaction runs, and the next transaction takes all of them, so
// many concurrent requests share one commit. Each request learns the
// outcome of its own commit; only then is it answered.
type acceptor struct {
	store   *store.Store
	log     *slog.Logger
	backlog *backlog
	in      chan *request
	stopped chan struct{}
}

type request struct {
	q    store.QueuedRequest
	seq  int64
	done chan error
}

// maxAcceptGroup caps the requests accepted in one transaction.
const maxAcceptGroup = 256

func newAcceptor(s *store.Store, log *slog.Logger, b *backlog) *acceptor {
	return &acceptor{store: s, log: log, backlog: b, in: make(chan *request, maxAcceptGroup), stopped: make(chan struct{})}
}

// submit queues a request and waits until it is committed or failed; it
// returns the request's sequence number in the ingest queue.
func (a *acceptor) submit(q store.QueuedRequest) (int64, error) {
	r := &request{q: q, done: make(chan error, 1)}
	select {
	case a.in <- r:
	case <-a.stopped:
		return 0, errStopped
	}
	// The commit goes ahead even if the client leaves: it was queued.
	select {
	case err := <-r.done:
		return r.seq, err
	case <-a.stopped:
		select {
		case err := <-r.done:
			return r.seq, err
		default:
			return 0, errStopped
		}
	}
}

// run commits groups until ctx is done, then commits what is already
// queued and stops.
func (a *acceptor) run(ctx context.Context) {
	defer close(a.stopped)
	for {
		select {
		case r := <-a.in:
			a.commit(a.gather(r))
		case <-ctx.Done():
			for {
				select {
				case r := <-a.in:
					a.commit(a.gather(r))
				default:
					return
				}
			}
		}
	}
}

// gather takes r and whatever else is queued, up to maxAcceptGroup.
func (a *acceptor) gather(r *request) []*request {
	group := []*request{r}
	for len(group) < maxAcceptGroup {
		select {
		case more := <-a.in:
			group = append(group, more)
		default:
			return group
		}
	}
	return group
}

// commit accepts a group in one transaction. If that fails, each request
// is tried alone, so one request's problem fails only that request.
func (a *acceptor) commit(group []*request) {
	ctx := context.Background() // a queued request is committed even if its client left
	qs := make([]store.QueuedRequest, len(group))
	for i, r := range group {
		qs[i] = r.q
	}
	// Registered under the backlog's lock before the applier can settle
	// them: it must find them pending.
	a.backlog.mu.Lock()
	seqs, err := a.store.EnqueueRequests(ctx, qs)
	if err == nil {
		for i, r := range group {
			a.backlog.add(seqs[i], r.q.Events)
		}
	}
	a.backlog.mu.Unlock()
	if err == nil {
		for i, r := range group {
			r.seq = seqs[i]
			r.done <- nil
		}
		return
	}
	if len(group) > 1 {
		a.log.Warn("accepting a group failed; trying its requests one by one", "requests", len(group), "err", err)
	}
	for _, r := range group {
		a.backlog.mu.Lock()
		seqs, err := a.store.EnqueueRequests(ctx, []store.QueuedRequest{r.q})
		if err == nil {
			r.seq = seqs[0]
			a.backlog.add(r.seq, r.q.Events)
		}
		a.backlog.mu.Unlock()
		r.done <- err
	}
}

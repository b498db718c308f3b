package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// ReleaseMemory gives back what SQLite's idle connections hold in their
// page caches (PRAGMA shrink_memory on each), for a server that has turned
// idle after a burst. The caches cost about twice their configured size:
// the SQLite driver's allocator rounds each ~4.4 KB cache line up to an
// 8 KiB slot, and keeps a slot page mapped while any slot on it is used,
// so a full set of caches (32 MB writer, 8 MB per reader) held ~130 MB
// after a million creates and never shrank. The caches refill from the
// operating system's file cache on the next reads. A connection still
// busy after wait is left as it is; any other failure is returned. It
// does nothing on PostgreSQL.
func (s *Store) ReleaseMemory(ctx context.Context, wait time.Duration) error {
	if s.dialect != SQLite {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var failed []error
	for _, d := range []*db{s.write, s.read, s.queue, s.queueRead} {
		if err := shrinkIdle(ctx, d.DB); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			failed = append(failed, err)
		}
	}
	return wrap("release memory", errors.Join(failed...))
}

// shrinkIdle runs PRAGMA shrink_memory on each idle connection of pool,
// holding them all until done so that each is a different connection.
func shrinkIdle(ctx context.Context, pool *sql.DB) error {
	n := pool.Stats().Idle
	conns := make([]*sql.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := pool.Conn(ctx)
		if err != nil {
			return err
		}
		conns = append(conns, c)
		if _, err := c.ExecContext(ctx, "PRAGMA shrink_memory"); err != nil {
			return err
		}
	}
	return nil
}

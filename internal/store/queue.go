package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The ingest queue decouples acknowledging tracking requests from applying
// them. Accepting is one small append, so a 200 comes back at once and is
// durable; the applier then resolves and stores the events of many
// requests in one transaction. Large transactions are what make ingestion
// fast: a commit writes each touched page once however many of its rows
// changed, and the profiles, stats and index pages of a busy site are
// touched by most batches.

// queueFile is the SQLite ingest queue's file, beside rapport.db.
const queueFile = "ingest-queue.db"

// queueSchema is the SQLite queue's schema; on PostgreSQL the table comes
// with the migrations (0014_ingest_queue.sql).
// AUTOINCREMENT, because a sequence number must never come back: after
// the applier empties the table, a plain rowid would start again at 1.
const queueSchema = `CREATE TABLE IF NOT EXISTS ingest_queue (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id   TEXT NOT NULL,
    events      INTEGER NOT NULL,
    body        BLOB NOT NULL,
    accepted_at TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    failed_at   TEXT,
    error       TEXT NOT NULL DEFAULT ''
)`

// openQueue opens (creating) the SQLite queue file: one connection that
// writes, one that reads, so the applier's reads and an accept commit do
// not wait for each other.
func (s *Store) openQueue(path, pragmas string) error {
	w, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_pragma=cache_size(-4000)&_txlock=immediate")
	if err != nil {
		return fmt.Errorf("store: open ingest queue: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	s.queue = &db{DB: w, rewrite: true}
	r, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_pragma=cache_size(-4000)&_pragma=query_only(1)")
	if err != nil {
		return fmt.Errorf("store: open ingest queue: %w", err)
	}
	r.SetMaxOpenConns(1)
	s.queueRead = &db{DB: r, rewrite: true}
	if _, err := w.Exec(queueSchema); err != nil {
		return fmt.Errorf("store: create ingest queue: %w", err)
	}
	return nil
}

// QueuedRequest is one tracking request, validated and encoded, ready to
// be accepted into the queue.
type QueuedRequest struct {
	SourceID string
	Events   int
	body     []byte
}

// NewQueuedRequest encodes the events of one request (all from one
// source). It is pure, so request handlers run it in parallel.
func NewQueuedRequest(sourceID string, evs []Event) (QueuedRequest, error) {
	body, err := encodeEvents(evs)
	if err != nil {
		return QueuedRequest{}, err
	}
	return QueuedRequest{SourceID: sourceID, Events: len(evs), body: body}, nil
}

// EnqueueRequests durably accepts requests in one transaction and returns
// their sequence numbers, in order.
func (s *Store) EnqueueRequests(ctx context.Context, reqs []QueuedRequest) ([]int64, error) {
	seqs := make([]int64, len(reqs))
	now := ts(time.Now())
	err := s.txOn(ctx, s.queue, func(tx *Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO ingest_queue (source_id, events, body, accepted_at) VALUES ($1, $2, $3, $4) RETURNING seq`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i, r := range reqs {
			if err := stmt.QueryRowContext(ctx, r.SourceID, r.Events, r.body, now).Scan(&seqs[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, wrap("enqueue events", err)
	}
	return seqs, nil
}

// QueuedBatch is an accepted request waiting to be applied.
type QueuedBatch struct {
	Seq      int64
	SourceID string
	Attempts int // failed attempts so far
	Events   []Event
	// Err is set when the stored request cannot be decoded; it can only
	// be marked failed.
	Err error
}

// QueuedEvents returns the oldest requests waiting to be applied, in
// acceptance order, up to about maxEvents events (always at least one
// request when any waits). Requests marked failed are left out, and so are
// those in skip (a batch being applied while the next one is read).
func (s *Store) QueuedEvents(ctx context.Context, maxEvents int, skip ...int64) ([]QueuedBatch, error) {
	args := []any{max(1, maxEvents)}
	notIn := ""
	if len(skip) > 0 {
		for _, seq := range skip {
			args = append(args, seq)
		}
		notIn = ` AND seq NOT IN (` + placeholders(2, len(skip)) + `)`
	}
	// The rows are chosen by their running count of events, not with a
	// LIMIT on rows: the reader stops after maxEvents events, but
	// PostgreSQL goes on producing the rows "LIMIT 40000" selects, bodies
	// decompressed, until the result is drained on close (the applier's
	// queue reads took 505 ms of server time per 200,000 events, 375 ms
	// this way). The running sum reads only seq and events, never a body.
	rows, err := s.queueRead.QueryContext(ctx, `SELECT seq, source_id, attempts, body FROM ingest_queue WHERE seq IN (
		SELECT seq FROM (SELECT seq, sum(events) OVER (ORDER BY seq) - events AS before FROM ingest_queue WHERE failed_at IS NULL`+notIn+`) w
		WHERE before < $1) ORDER BY seq`, args...)
	if err != nil {
		return nil, wrap("queued events", err)
	}
	defer rows.Close()
	var out []QueuedBatch
	for rows.Next() {
		var q QueuedBatch
		var body []byte
		if err := rows.Scan(&q.Seq, &q.SourceID, &q.Attempts, &body); err != nil {
			return nil, wrap("queued events", err)
		}
		q.Events, q.Err = decodeEvents(body)
		out = append(out, q)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("queued events", err)
	}
	return out, nil
}

// ApplyQueued stores the events of queued requests in one transaction, as
// IngestEvents does, and removes the requests from the queue. Requests no
// longer queued (another server applied them) are skipped. When it returns
// nil, everything is committed.
//
// On PostgreSQL the removal is part of the transaction. On SQLite the
// queue is another file, so the requests are removed right after the
// commit; a crash in between leaves them queued, and applying them again
// changes nothing, because every event whose messageId is stored is
// skipped.
func (s *Store) ApplyQueued(ctx context.Context, qs []QueuedBatch) (IngestResult, error) {
	var in *ingestion
	seqs := make([]any, len(qs))
	for i, q := range qs {
		seqs[i] = q.Seq
	}
	err := s.tx(ctx, func(tx *Tx) error {
		present := map[int64]bool{}
		if s.dialect == Postgres {
			// One applier at a time per schema, so servers sharing a
			// database do not race each other's merges.
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('rapport ingest ' || current_schema()))`); err != nil {
				return err
			}
			if err := deleteQueued(ctx, tx, seqs, present); err != nil {
				return err
			}
		} else {
			for _, q := range qs {
				present[q.Seq] = true
			}
		}
		var evs []Event
		for _, q := range qs {
			if !present[q.Seq] {
				continue
			}
			if q.Err != nil {
				return fmt.Errorf("request %d: %w", q.Seq, q.Err)
			}
			evs = append(evs, q.Events...)
		}
		in = &ingestion{s: s, tx: tx}
		return in.run(ctx, evs)
	})
	if err == nil && s.dialect == SQLite {
		err = s.txOn(ctx, s.queue, func(tx *Tx) error { return deleteQueued(ctx, tx, seqs, map[int64]bool{}) })
	}
	if err != nil {
		return IngestResult{}, wrap("apply queued events", err)
	}
	s.changed(ctx, sortedKeys(in.touched)...)
	return in.res, nil
}

// deleteQueued removes queued requests, noting which were there.
func deleteQueued(ctx context.Context, tx *Tx, seqs []any, present map[int64]bool) error {
	for start := 0; start < len(seqs); start += 5000 {
		chunk := seqs[start:min(start+5000, len(seqs))]
		rows, err := tx.QueryContext(ctx, `DELETE FROM ingest_queue WHERE failed_at IS NULL AND seq IN (`+placeholders(1, len(chunk))+`) RETURNING seq`, chunk...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var seq int64
			if err := rows.Scan(&seq); err != nil {
				rows.Close()
				return err
			}
			present[seq] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// FailQueued marks a queued request that cannot be applied: it stays in
// the queue with the reason, out of the applier's way, until someone
// retries it (RetryFailedQueued).
func (s *Store) FailQueued(ctx context.Context, seq int64, reason string) error {
	_, err := s.queue.ExecContext(ctx, `UPDATE ingest_queue SET failed_at = $1, error = $2, attempts = attempts + 1 WHERE seq = $3`,
		ts(time.Now()), reason, seq)
	return wrap("fail queued request", err)
}

// NoteQueuedAttempt counts a failed attempt to apply a queued request
// that stays queued (the failure may pass: a lock, a full disk).
func (s *Store) NoteQueuedAttempt(ctx context.Context, seq int64, reason string) error {
	_, err := s.queue.ExecContext(ctx, `UPDATE ingest_queue SET attempts = attempts + 1, error = $1 WHERE seq = $2`, reason, seq)
	return wrap("note queued attempt", err)
}

// RetryFailedQueued puts every failed request back in line and reports
// how many there were.
func (s *Store) RetryFailedQueued(ctx context.Context) (int, error) {
	res, err := s.queue.ExecContext(ctx, `UPDATE ingest_queue SET failed_at = NULL, attempts = 0 WHERE failed_at IS NOT NULL`)
	if err != nil {
		return 0, wrap("retry failed requests", err)
	}
	n, err := res.RowsAffected()
	return int(n), wrap("retry failed requests", err)
}

// QueueStatus describes the ingest queue.
type QueueStatus struct {
	Requests int `json:"requests"` // waiting to be applied
	Events   int `json:"events"`
	// Oldest is when the oldest waiting request was accepted.
	Oldest *time.Time      `json:"oldest,omitempty"`
	Failed []FailedRequest `json:"failed"`
}

// FailedRequest is a queued request that could not be applied.
type FailedRequest struct {
	Seq      int64     `json:"seq"`
	SourceID string    `json:"source_id"`
	Events   int       `json:"events"`
	Accepted time.Time `json:"accepted_at"`
	FailedAt time.Time `json:"failed_at"`
	Attempts int       `json:"attempts"`
	Error    string    `json:"error"`
}

// IngestQueueStatus reports what waits in the queue and the (at most 100
// newest) failed requests.
func (s *Store) IngestQueueStatus(ctx context.Context) (QueueStatus, error) {
	var st QueueStatus
	var oldest dbTime
	if err := s.queueRead.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(events), 0), min(accepted_at) FROM ingest_queue WHERE failed_at IS NULL`).
		Scan(&st.Requests, &st.Events, &oldest); err != nil {
		return st, wrap("ingest queue status", err)
	}
	if oldest.Valid {
		st.Oldest = &oldest.Time
	}
	rows, err := s.queueRead.QueryContext(ctx, `SELECT seq, source_id, events, accepted_at, failed_at, attempts, error FROM ingest_queue
		WHERE failed_at IS NOT NULL ORDER BY seq DESC LIMIT 100`)
	if err != nil {
		return st, wrap("ingest queue status", err)
	}
	defer rows.Close()
	st.Failed = []FailedRequest{}
	for rows.Next() {
		var f FailedRequest
		var acc, failed dbTime
		if err := rows.Scan(&f.Seq, &f.SourceID, &f.Events, &acc, &failed, &f.Attempts, &f.Error); err != nil {
			return st, wrap("ingest queue status", err)
		}
		f.Accepted, f.FailedAt = acc.Time, failed.Time
		st.Failed = append(st.Failed, f)
	}
	return st, wrap("ingest queue status", rows.Err())
}

// IsCorruptQueued reports whether err says a queued request cannot be
// decoded (so retrying it is pointless).
func IsCorruptQueued(err error) bool { return errors.Is(err, errCorruptBatch) }

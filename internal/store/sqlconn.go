package store

import (
	"context"
	"database/sql"
	"strconv"
	"sync"
	"sync/atomic"
)

// db is a connection pool that speaks PostgreSQL-style $N placeholders on
// both engines. On SQLite it rewrites them to plain ? and reorders the
// arguments, because the SQLite driver resolves named and numbered
// parameters by a linear search per parameter: a 3,000-parameter
// multi-row INSERT binds 4–6× faster with plain ?.
type db struct {
	*sql.DB
	rewrite bool
	stmts   stmtCache
}

// stmtCache keeps prepared statements for the queries a pool runs again
// and again. On SQLite, parsing and planning a statement cost about a
// third of a simple read; a *sql.Stmt is prepared once per connection
// and reused. (pgx caches statements itself, so PostgreSQL does not use
// this.) The cache is bounded: queries whose text varies with their
// arguments (IN lists, multi-row inserts) stop being cached once it is
// full.
type stmtCache struct {
	m sync.Map // rewritten query → *sql.Stmt
	n atomic.Int32
}

const maxCachedStmts = 512

func (d *db) stmt(ctx context.Context, query string) *sql.Stmt {
	if !d.rewrite || len(query) >= 4096 {
		return nil
	}
	if st, ok := d.stmts.m.Load(query); ok {
		return st.(*sql.Stmt)
	}
	if d.stmts.n.Load() >= maxCachedStmts {
		return nil
	}
	st, err := d.DB.PrepareContext(ctx, query)
	if err != nil {
		return nil // the unprepared path reports the error
	}
	if prev, loaded := d.stmts.m.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt)
	}
	d.stmts.n.Add(1)
	return st
}

// Tx is a write transaction with the same placeholder handling.
type Tx struct {
	*sql.Tx
	rewrite bool
	conn    *sql.Conn // PostgreSQL: the transaction's connection, for COPY
}

type rewritten struct {
	query string
	order []int // order[i] is the 0-based argument the i-th ? takes
}

var rewrites sync.Map // query → rewritten

// toPositional rewrites $N placeholders (outside quoted strings) to ?.
func toPositional(query string) rewritten {
	if r, ok := rewrites.Load(query); ok {
		return r.(rewritten)
	}
	out := make([]byte, 0, len(query))
	var order []int
	inString := false
	for i := 0; i < len(query); i++ {
		c := query[i]
		if c == '\'' {
			inString = !inString
		}
		if c == '$' && !inString && i+1 < len(query) && query[i+1] >= '0' && query[i+1] <= '9' {
			j := i + 1
			for j < len(query) && query[j] >= '0' && query[j] <= '9' {
				j++
			}
			n, _ := strconv.Atoi(query[i+1 : j])
			order = append(order, n-1)
			out = append(out, '?')
			i = j - 1
			continue
		}
		out = append(out, c)
	}
	r := rewritten{query: string(out), order: order}
	if len(query) < 4096 { // multi-row statements vary in size; cache the common ones
		rewrites.Store(query, r)
	}
	return r
}

func adapt(rewrite bool, query string, args []any) (string, []any) {
	if !rewrite {
		return query, args
	}
	r := toPositional(query)
	if len(r.order) == 0 {
		return r.query, args
	}
	out := make([]any, len(r.order))
	for i, n := range r.order {
		if n >= 0 && n < len(args) {
			out[i] = args[n]
		}
	}
	return r.query, out
}

func (d *db) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	q, a := adapt(d.rewrite, query, args)
	return d.DB.ExecContext(ctx, q, a...)
}

func (d *db) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	q, a := adapt(d.rewrite, query, args)
	if st := d.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, a...)
	}
	return d.DB.QueryContext(ctx, q, a...)
}

func (d *db) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	q, a := adapt(d.rewrite, query, args)
	if st := d.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, a...)
	}
	return d.DB.QueryRowContext(ctx, q, a...)
}

// BeginTx starts a transaction.
func (d *db) BeginTx(ctx context.Context, opts *sql.TxOptions) (*Tx, error) {
	if d.rewrite {
		tx, err := d.DB.BeginTx(ctx, opts)
		if err != nil {
			return nil, err
		}
		return &Tx{Tx: tx, rewrite: true}, nil
	}
	// PostgreSQL transactions hold their connection, so that bulk writes
	// can COPY on it inside the transaction (copyRows).
	conn, err := d.DB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := conn.BeginTx(ctx, opts)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return &Tx{Tx: tx, conn: conn}, nil
}

// Commit commits the transaction and releases its connection.
func (t *Tx) Commit() error {
	err := t.Tx.Commit()
	t.release()
	return err
}

// Rollback aborts the transaction and releases its connection.
func (t *Tx) Rollback() error {
	err := t.Tx.Rollback()
	t.release()
	return err
}

func (t *Tx) release() {
	if t.conn != nil {
		t.conn.Close()
		t.conn = nil
	}
}

// ExecContext runs a statement in the transaction.
func (t *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	q, a := adapt(t.rewrite, query, args)
	return t.Tx.ExecContext(ctx, q, a...)
}

// QueryContext runs a query in the transaction.
func (t *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	q, a := adapt(t.rewrite, query, args)
	return t.Tx.QueryContext(ctx, q, a...)
}

// QueryRowContext runs a single-row query in the transaction.
func (t *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	q, a := adapt(t.rewrite, query, args)
	return t.Tx.QueryRowContext(ctx, q, a...)
}

// inOrder reports whether the i-th ? takes the i-th argument throughout.
func inOrder(order []int) bool {
	for i, n := range order {
		if n != i {
			return false
		}
	}
	return true
}

// Stmt is a prepared statement with the same placeholder handling.
type Stmt struct {
	*sql.Stmt
	order []int
}

// PrepareContext prepares a statement in the transaction.
func (t *Tx) PrepareContext(ctx context.Context, query string) (*Stmt, error) {
	var order []int
	if t.rewrite {
		r := toPositional(query)
		query, order = r.query, r.order
		if inOrder(order) {
			order = nil // $1, $2, … already bind as the ?s do
		}
	}
	st, err := t.Tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &Stmt{Stmt: st, order: order}, nil
}

// ExecContext runs the prepared statement.
func (s *Stmt) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	if s.order != nil {
		out := make([]any, len(s.order))
		for i, n := range s.order {
			if n >= 0 && n < len(args) {
				out[i] = args[n]
			}
		}
		args = out
	}
	return s.Stmt.ExecContext(ctx, args...)
}

// Package storetest opens fresh, isolated databases for tests: a SQLite
// file in a temporary directory always, and a PostgreSQL schema of its own
// when RAPPORT_TEST_POSTGRES holds a URL. Each is removed when the test ends.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/store"
)

// Engine is one database a test runs against.
type Engine struct {
	Name  string
	Store *store.Store
	// Config reopens the same database (for tests that restart a server).
	Config store.Config
}

// Engines opens one fresh store per available engine.
func Engines(t testing.TB) []Engine {
	t.Helper()
	out := []Engine{SQLite(t)}
	if pg, ok := Postgres(t); ok {
		out = append(out, pg)
	}
	return out
}

// SQLite opens a fresh SQLite store in a temporary directory.
func SQLite(t testing.TB) Engine {
	t.Helper()
	cfg := store.Config{DataDir: t.TempDir()}
	s, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return Engine{Name: "sqlite", Store: s, Config: cfg}
}

// PostgresURL returns a URL for a fresh schema of its own on the test
// PostgreSQL server, dropped when the test ends; ok is false when
// RAPPORT_TEST_POSTGRES is unset.
func PostgresURL(t testing.TB) (string, bool) {
	t.Helper()
	base := os.Getenv("RAPPORT_TEST_POSTGRES")
	if base == "" {
		return "", false
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Extensions are database-wide; create it once, outside any test schema,
	// tolerating a concurrent test package doing the same.
	for i := 0; i < 5; i++ {
		if _, err = admin.ExecContext(ctx, `CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public`); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("create pg_trgm: %v", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "rapport_test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse RAPPORT_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema+",public")
	u.RawQuery = q.Encode()
	return u.String(), true
}

// Postgres opens a fresh PostgreSQL store in a schema of its own.
func Postgres(t testing.TB) (Engine, bool) {
	t.Helper()
	u, ok := PostgresURL(t)
	if !ok {
		return Engine{}, false
	}
	cfg := store.Config{URL: u}
	s, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return Engine{Name: "postgres", Store: s, Config: cfg}, true
}

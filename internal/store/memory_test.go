package store_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/store"
)

// rssAnon reads the process's resident anonymous memory (Linux).
func rssAnon(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status:", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "RssAnon:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Skip("no RssAnon in /proc/self/status")
	return 0
}

// TestReleaseMemoryEmptiesSQLitePageCaches fills the writer's page cache
// (32 MB configured, about twice that resident) and checks that
// ReleaseMemory gives most of it back to the system while the data stays
// readable.
func TestReleaseMemoryEmptiesSQLitePageCaches(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, store.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// 7,000 rows of 3 KB: about 28 MB of pages through the writer's cache.
	if _, err := s.Exec(ctx, `CREATE TABLE fill AS WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 7000)
		SELECT i, randomblob(3000) AS b FROM r`); err != nil {
		t.Fatal(err)
	}
	before := rssAnon(t)
	if err := s.ReleaseMemory(ctx, time.Second); err != nil {
		t.Fatal(err)
	}
	after := rssAnon(t)
	if before-after < 20<<20 {
		t.Fatalf("resident anonymous memory %d MB before ReleaseMemory, %d MB after: want at least 20 MB back", before>>20, after>>20)
	}
	n, err := s.QueryString(ctx, `SELECT CAST(count(*) AS TEXT) FROM fill`)
	if err != nil || n != "7000" {
		t.Fatalf("after the release the table reads %q rows, %v", n, err)
	}
}

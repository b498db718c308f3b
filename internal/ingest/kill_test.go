package ingest_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/ingest"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/storetest"
)

// repoRoot walks up from the package directory to the module root.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// TestAcknowledgedEventsSurviveKill9 builds rapport from ./cmd/rapport,
// starts `rapport serve` as a subprocess, sends events from concurrent
// clients, kills the server with SIGKILL while they are sending, reopens
// the database and checks that every messageId answered 200 is there.
func TestAcknowledgedEventsSurviveKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "rapport")
	build := exec.Command("go", "build", "-o", bin, "./cmd/rapport")
	build.Dir = repoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/rapport: %v\n%s", err, out)
	}
	type engine struct {
		name string
		args []string
		cfg  store.Config
	}
	dir := t.TempDir()
	engines := []engine{{"sqlite", []string{"--data", dir}, store.Config{DataDir: dir}}}
	if u, ok := storetest.PostgresURL(t); ok {
		engines = append(engines, engine{"postgres", []string{"--db", u}, store.Config{URL: u}})
	}
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) { killAndCheck(t, bin, e.args, e.cfg) })
	}
}

func killAndCheck(t *testing.T, bin string, dbArgs []string, cfg store.Config) {
	out, err := exec.Command(bin, append([]string{"source", "create", "--name", "web"}, dbArgs...)...).Output()
	if err != nil {
		t.Fatalf("source create: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	key := lines[len(lines)-1]
	if !strings.HasPrefix(key, "rwk_") {
		t.Fatalf("source create's last line is %q, want the write key", key)
	}

	srv := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, dbArgs...)...)
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	srv.Stderr = nil
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			srv.Process.Kill()
			srv.Wait()
		}
	})
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if i := strings.Index(sc.Text(), "http://"); i >= 0 {
				urlc <- strings.Fields(sc.Text()[i:])[0]
			}
		}
	}()
	var base string
	select {
	case base = <-urlc:
	case <-time.After(60 * time.Second):
		t.Fatal("server did not start")
	}

	var mu sync.Mutex
	var acked []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for n := 0; n < 10000; n++ { // bounded; the kill ends it much sooner
				select {
				case <-stop:
					return
				default:
				}
				var batch []map[string]any
				var ids []string
				for i := 0; i < 25; i++ {
					id := fmt.Sprintf("k-%d-%d-%d", w, n, i)
					ids = append(ids, id)
					batch = append(batch, map[string]any{"type": "track", "messageId": id, "userId": fmt.Sprintf("user-%d", (w*7+n+i)%300),
						"anonymousId": fmt.Sprintf("anon-%d", (w*7+n+i)%300), "event": "Viewed", "properties": map[string]any{"n": n}})
				}
				body, _ := json.Marshal(map[string]any{"batch": batch})
				req, _ := http.NewRequest(http.MethodPost, base+"/v1/batch", bytes.NewReader(body))
				req.SetBasicAuth(key, "")
				res, err := client.Do(req)
				if err != nil {
					return // the server is gone
				}
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					mu.Lock()
					acked = append(acked, ids...)
					mu.Unlock()
				}
			}
		}(w)
	}
	// Kill while requests are in flight, once a good number were answered.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 3000 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := srv.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed = true
	srv.Wait()
	close(stop)
	wg.Wait()
	if len(acked) < 1000 {
		t.Fatalf("only %d events were acknowledged before the kill", len(acked))
	}

	s, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("reopen after kill -9: %v", err)
	}
	defer s.Close()
	// What was acknowledged is in the queue or already applied; apply the
	// rest as the next start would.
	if err := ingest.Drain(context.Background(), s, nil); err != nil {
		t.Fatalf("drain the queue after kill -9: %v", err)
	}
	srcs, err := s.Sources(context.Background())
	if err != nil || len(srcs) != 1 {
		t.Fatalf("sources %v %v", srcs, err)
	}
	found, err := s.StoredMessages(context.Background(), srcs[0].ID, acked)
	if err != nil {
		t.Fatal(err)
	}
	var lost []string
	for _, id := range acked {
		if !found[id] {
			lost = append(lost, id)
		}
	}
	if len(lost) > 0 {
		t.Fatalf("%d of %d acknowledged events lost after kill -9, e.g. %v", len(lost), len(acked), lost[:min(5, len(lost))])
	}
	t.Logf("%d acknowledged events, all present after kill -9", len(acked))
}

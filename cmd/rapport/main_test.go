package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/store"
)

func TestAPIKeyCreatePrintsTheKeyAloneOnItsLastLine(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run([]string{"apikey", "create", "--data", dir, "--name", "etl", "--role", "rep"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	key := lines[len(lines)-1]
	s, err := store.Open(context.Background(), store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := (&auth.Service{Store: s}).APIKey(context.Background(), key)
	if err != nil || p.Role != auth.Rep {
		t.Fatalf("printed key %q does not authenticate: %v %+v", key, err, p)
	}
	if err := run([]string{"apikey", "create", "--data", dir, "--name", "x", "--role", "root"}, io.Discard, io.Discard); err == nil {
		t.Fatal("unknown role accepted")
	}
}

func TestUserCreateWithGeneratedOrPipedPassword(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run([]string{"user", "create", "--data", dir, "--email", "A@Example.com", "--role", "manager"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	_, password, ok := strings.Cut(out.String(), "password / 密码: ")
	if !ok {
		t.Fatalf("no password printed: %s", out.String())
	}
	s, err := store.Open(context.Background(), store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, _, err := (&auth.Service{Store: s}).Login(context.Background(), "a@example.com", strings.TrimSpace(password)); err != nil {
		t.Fatalf("printed password does not log in: %v", err)
	}
	if err := runUser([]string{"create", "--data", dir, "--email", "b@example.com", "--role", "rep", "--password-stdin"},
		strings.NewReader("a-long-password\n"), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, _, err := (&auth.Service{Store: s}).Login(context.Background(), "b@example.com", "a-long-password"); err != nil {
		t.Fatalf("piped password does not log in: %v", err)
	}
}

func TestFlagsFallBackToEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("RAPPORT_DATA", dir)
	t.Setenv("RAPPORT_ROLE", "viewer")
	var out bytes.Buffer
	if err := run([]string{"apikey", "create", "--name", "env"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "(viewer)") {
		t.Fatalf("RAPPORT_ROLE ignored: %s", out.String())
	}
	if err := run([]string{"migrate"}, &out, io.Discard); err != nil {
		t.Fatalf("migrate with RAPPORT_DATA: %v", err)
	}
	t.Setenv("RAPPORT_DB", "mysql://nope")
	if err := run([]string{"migrate"}, io.Discard, io.Discard); err == nil {
		t.Fatal("a non-postgres URL must be refused")
	}
}

func TestServeAnswersAndShutsDownGracefully(t *testing.T) {
	s, err := store.Open(context.Background(), store.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, s, serveConfig{addr: "127.0.0.1:0", region: "CN", log: newLogger(io.Discard), ready: func(u string) { urls <- u }})
	}()
	u := <-urls
	for _, path := range []string{"/healthz", "/readyz", "/api/v1/openapi.json"} {
		res, err := http.Get(u + path)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("GET %s: %v %v", path, err, res)
		}
		res.Body.Close()
	}
	if res, _ := http.Get(u + "/api/v1/customers"); res.StatusCode != 401 {
		t.Fatalf("unauthenticated API call: %d", res.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("graceful shutdown: %v", err)
	}
}

func TestUnknownCommandIsAnError(t *testing.T) {
	if err := run([]string{"frobnicate"}, io.Discard, io.Discard); err == nil {
		t.Fatal("unknown command accepted")
	}
	var out bytes.Buffer
	if err := run([]string{"version"}, &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "rapport ") {
		t.Fatalf("version: %v %q", err, out.String())
	}
}

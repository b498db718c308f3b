package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/rapportcrm/rapport/internal/api"
	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/importer"
	"github.com/rapportcrm/rapport/internal/ingest"
	"github.com/rapportcrm/rapport/internal/insight"
	"github.com/rapportcrm/rapport/internal/memtrim"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/targeting"
	"github.com/rapportcrm/rapport/internal/web"
	"github.com/rapportcrm/rapport/internal/webhook"
)

// serveConfig is what the HTTP server needs beyond the store.
type serveConfig struct {
	addr   string
	region string
	log    *slog.Logger
	// ready is called with the base URL once the listener is open.
	ready func(url string)
}

func runServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	var db dbFlags
	db.register(fs, "./rapport-data")
	cfg := serveConfig{log: newLogger(stderr)}
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "listen address HOST:PORT / 监听地址 (RAPPORT_ADDR)")
	fs.StringVar(&cfg.region, "region", "CN", "default phone region / 默认电话区域 (RAPPORT_REGION)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	s, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	cfg.ready = func(url string) { fmt.Fprintf(stdout, "Rapport is serving at %s / Rapport 已启动: %s\n", url, url) }
	return serve(ctx, s, cfg)
}

func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// serve runs the HTTP server until ctx is cancelled, then shuts down
// gracefully, letting requests in flight finish.
func serve(ctx context.Context, s *store.Store, cfg serveConfig) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	analytics := insight.New(s, insight.Options{Log: cfg.log})
	go analytics.Run(ctx) // fits at start, keeps scores fresh, refits on the profile's schedule
	a := &api.Server{Store: s, Auth: &auth.Service{Store: s}, Log: cfg.log, Region: cfg.region, Metrics: api.NewMetrics(reg), Insight: analytics,
		Imports: importer.NewJobs(ctx, cfg.log)}
	live := targeting.NewLive(s, cfg.log, cfg.region) // segment membership kept current on every committed write
	if err := live.Load(ctx); err != nil {
		return err
	}
	s.OnChange(live.Notify)
	go live.Run(ctx)
	a.Targeting = &targeting.Service{Store: s, Live: live, Region: cfg.region}
	go (&webhook.Worker{Store: s, Log: cfg.log}).Run(ctx) // segment entries and exits to subscribers' URLs
	a.Register(mux)
	tracking := ingest.New(ctx, s, ingest.Options{Log: cfg.log, Region: cfg.region})
	tracking.Register(mux) // /v1/* tracking API and /t.js
	reg.MustRegister(ingest.QueueCollector(s, cfg.log))
	a.MountOps(mux, reg)
	ui, err := web.New(s, a.Auth, cfg.log, cfg.region)
	if err != nil {
		return err
	}
	ui.Insight = analytics
	ui.Targeting = a.Targeting
	ui.Imports = a.Imports // one job runner: shutdown waits for UI and API imports alike
	ui.Register(mux)       // the browser UI: /, /login, /customers…, /settings…, /static/

	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(cfg.log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}
	go purgeLoop(ctx, s, cfg.log)
	go statisticsLoop(ctx, s, cfg.log)
	go searchIndexLoop(ctx, s, cfg.log)
	go memtrim.Run(ctx, memtrim.Options{ // after a burst, give its memory back
		Trimmed: func(spare uint64) {
			cfg.log.Info("returned spare heap memory to the system", "mib", spare>>20)
		},
		Release: func() {
			if err := s.ReleaseMemory(ctx, time.Second); err != nil && ctx.Err() == nil {
				cfg.log.Warn("release SQLite cache memory", "err", err)
			}
		},
	})
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	cfg.log.Info("serving", "url", url, "database", s.Dialect())
	if cfg.ready != nil {
		cfg.ready(url)
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	cfg.log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	<-tracking.Stopped() // the applier finishes its batch (and drains a few seconds) before the store closes
	return nil
}

// statisticsLoop keeps the planner's statistics current every minute (the
// database's own autovacuum may be off; see store.RefreshStatistics).
func statisticsLoop(ctx context.Context, s *store.Store, log *slog.Logger) {
	every(ctx, time.Minute, func() {
		if tables, err := s.RefreshStatistics(ctx); err != nil && ctx.Err() == nil {
			log.Error("refresh planner statistics", "err", err)
		} else if len(tables) > 0 {
			log.Info("refreshed planner statistics", "tables", tables)
		}
	})
}

// searchIndexLoop merges new search entries into PostgreSQL's search
// indexes every 10 s, so searches soon after a burst of new customers do
// not read them from the indexes' pending lists (store.MergeSearchIndexes).
// An empty list costs a lookup of its metapage.
func searchIndexLoop(ctx context.Context, s *store.Store, log *slog.Logger) {
	every(ctx, 10*time.Second, func() {
		if pages, err := s.MergeSearchIndexes(ctx); err != nil && ctx.Err() == nil {
			log.Error("merge pending search index entries", "err", err)
		} else if pages > 0 {
			log.Debug("merged pending search index entries", "pages", pages)
		}
	})
}

// purgeLoop removes customers whose restore window has passed, at start
// and hourly.
func purgeLoop(ctx context.Context, s *store.Store, log *slog.Logger) {
	purge := func() {
		if n, err := s.PurgeDeleted(ctx, time.Now()); err != nil && ctx.Err() == nil {
			log.Error("purge deleted customers", "err", err)
		} else if n > 0 {
			log.Info("purged deleted customers", "count", n)
		}
	}
	purge()
	every(ctx, time.Hour, purge)
}

// every calls fn once each period until ctx is done.
func every(ctx context.Context, period time.Duration, fn func()) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}

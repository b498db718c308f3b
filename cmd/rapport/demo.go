package main

import (
	"context"
	"fmt"
	"io"
	"os/signal"
	"syscall"
	"time"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/demo"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/store"
)

// demoAdmin is the login the demo prints; its password is reset on every
// start so the printed one always works.
const demoAdmin = "admin@rapport.demo"

// demoReps own the demo customers and write their interactions and notes.
var demoReps = []struct{ email, name string }{
	{"li.na@rapport.demo", "李娜"},
	{"wang.qiang@rapport.demo", "王强"},
	{"emma.clark@rapport.demo", "Emma Clark"},
}

// demoLoadedKey is the setting that records that the demo data is in, so
// a second start reuses the database instead of loading twice.
const demoLoadedKey = "demo_loaded"

func runDemo(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", stderr)
	var db dbFlags
	db.register(fs, "./rapport-demo")
	cfg := serveConfig{log: newLogger(stderr)}
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "listen address HOST:PORT / 监听地址 (RAPPORT_ADDR)")
	fs.StringVar(&cfg.region, "region", "CN", "default phone region / 默认电话区域 (RAPPORT_REGION)")
	customers := fs.Int("customers", demo.DefaultCustomers, "how many demo customers to generate / 生成的演示客户数")
	seed := fs.Int64("seed", 1, "generator seed; the same seed gives the same data / 随机种子")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	start := time.Now()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	s, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	password, err := prepareDemo(ctx, s, *customers, *seed, stdout)
	if err != nil {
		return err
	}
	cfg.ready = func(url string) {
		fmt.Fprintf(stdout, "\nRapport demo is ready in %.1fs / 演示实例已就绪\n", time.Since(start).Seconds())
		fmt.Fprintf(stdout, "  open / 打开:      %s\n", url)
		fmt.Fprintf(stdout, "  email / 邮箱:     %s\n", demoAdmin)
		fmt.Fprintf(stdout, "  password / 密码:  %s\n", password)
		fmt.Fprintf(stdout, "Press Ctrl+C to stop / 按 Ctrl+C 停止\n")
	}
	return serve(ctx, s, cfg)
}

// prepareDemo makes sure the demo users and data exist and returns the
// admin's fresh password.
func prepareDemo(ctx context.Context, s *store.Store, customers int, seed int64, stdout io.Writer) (string, error) {
	svc := &auth.Service{Store: s}
	password := auth.GeneratePassword()
	admin, err := ensureUser(ctx, svc, demoAdmin, "Demo Admin / 演示管理员", auth.Admin, password)
	if err != nil {
		return "", err
	}
	var owners []string
	for _, r := range demoReps {
		u, err := ensureUser(ctx, svc, r.email, r.name, auth.Rep, "")
		if err != nil {
			return "", err
		}
		owners = append(owners, u.ID)
	}
	var loaded bool
	if _, err := s.Setting(ctx, demoLoadedKey, &loaded); err != nil {
		return "", err
	}
	if loaded {
		fmt.Fprintln(stdout, "reusing the demo data already in the database / 复用已有的演示数据")
		return password, nil
	}
	t := time.Now()
	now := time.Now().UTC().Truncate(24 * time.Hour)
	d := demo.Generate(demo.Options{Seed: seed, Customers: customers, Now: now, Users: owners})
	fmt.Fprintf(stdout, "generated %d customers, %d orders, %d interactions, %d notes in %.1fs / 已生成演示数据\n",
		len(d.Customers), len(d.Orders), len(d.Interactions), len(d.Notes), time.Since(t).Seconds())
	t = time.Now()
	err = s.Load(ctx, store.Actor{ID: admin.ID, Kind: "user"}, store.Dataset{
		Customers: d.Customers, Orders: d.Orders, Interactions: d.Interactions, Notes: d.Notes, Fields: d.Fields})
	if err != nil {
		return "", fmt.Errorf("load demo data: %w", err)
	}
	events, err := loadDemoEvents(ctx, s, d, now, seed)
	if err != nil {
		return "", err
	}
	if err := loadDemoTargeting(ctx, s, store.Actor{ID: admin.ID, Kind: "user"}, owners, now, seed); err != nil {
		return "", err
	}
	if err := s.SetSetting(ctx, demoLoadedKey, true); err != nil {
		return "", err
	}
	fmt.Fprintf(stdout, "loaded into %s with %d web events in %.1fs / 已写入数据库\n", s.Dialect(), events, time.Since(t).Seconds())
	return password, nil
}

// ensureUser creates the user, or finds the existing one. A non-empty
// password is set either way.
func ensureUser(ctx context.Context, svc *auth.Service, email, name string, role auth.Role, password string) (store.User, error) {
	u, err := svc.Store.UserByEmail(ctx, email)
	switch {
	case errs.Is(err, errs.NotFound):
		if password == "" {
			password = auth.GeneratePassword()
		}
		return svc.CreateUser(ctx, email, name, role, password)
	case err != nil:
		return u, err
	case password != "":
		return u, svc.Store.SetUserPassword(ctx, u.ID, auth.HashPassword(password))
	}
	return u, nil
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/signal"
	"syscall"

	"github.com/rapportcrm/rapport/internal/insight"
)

const analyticsUsage = `rapport analytics refit [--data DIR | --db postgres://…]
  Refit the lifetime-value and churn models and rescore every customer now,
  printing a JSON report. / 立即重新拟合客户价值与流失模型并为所有客户重新评分，输出 JSON 报告。
`

// runAnalytics runs the in-database analytics commands.
func runAnalytics(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "refit" {
		fmt.Fprint(stderr, analyticsUsage)
		return fmt.Errorf("usage: rapport analytics refit / 用法: rapport analytics refit")
	}
	fs := newFlags("analytics refit", stderr)
	var db dbFlags
	db.register(fs, "./rapport-data")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	s, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	rep, err := insight.New(s, insight.Options{Log: newLogger(stderr)}).Refit(ctx)
	if err != nil {
		return fmt.Errorf("refit / 重新拟合: %w", err)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

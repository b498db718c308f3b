package main

import (
	"context"
	"fmt"
	"io"
	"time"
)

// runRecompute rebuilds every customer's stats from the log (events,
// orders, interactions, notes): the repair path for the incremental stats.
func runRecompute(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("recompute", stderr)
	var db dbFlags
	db.register(fs, "./rapport-data")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ctx := context.Background()
	s, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	start := time.Now()
	if err := s.RecomputeStats(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "stats rebuilt from the log in %s / 已从日志重建统计\n", time.Since(start).Round(time.Millisecond))
	return nil
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/store"
)

func TestAnalyticsRefitScoresEveryCustomer(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	var d store.Dataset
	for i := range 50 {
		id := customer.NewID()
		created := now.AddDate(0, 0, -300)
		d.Customers = append(d.Customers, customer.Customer{ID: id, Kind: customer.Person, Name: fmt.Sprint("c", i), CreatedAt: created, UpdatedAt: created, Version: 1})
		for k := 0; k <= i%5; k++ {
			at := created.AddDate(0, 0, k*(7+i%13)+i)
			d.Orders = append(d.Orders, customer.Order{ID: customer.NewID(), CustomerID: id, PlacedAt: at, Currency: "CNY", Total: float64(20 + i), Status: customer.OrderCompleted})
		}
	}
	if err := s.Load(ctx, store.SystemActor, d); err != nil {
		t.Fatal(err)
	}
	s.Close()

	var out, errOut bytes.Buffer
	if err := run([]string{"analytics", "refit", "--data", dir}, &out, &errOut); err != nil {
		t.Fatalf("refit: %v\n%s", err, errOut.String())
	}
	var rep struct {
		Customers     int `json:"customers"`
		ScoresWritten int `json:"scores_written"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	if rep.Customers != 50 || rep.ScoresWritten != 50 {
		t.Fatalf("refit report %s", out.String())
	}
	if err := run([]string{"analytics"}, &out, &errOut); err == nil {
		t.Fatal("analytics without a subcommand should fail with usage")
	}
}

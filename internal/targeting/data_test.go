package targeting

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/storetest"
)

// now is the fixed clock of these tests.
var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func daysAgo(n float64) time.Time { return now.Add(-time.Duration(n * 24 * float64(time.Hour))) }

var cities = []string{"上海", "北京", "广州", "深圳", "杭州"}
var tiers = []string{"gold", "silver", "bronze", ""}
var categories = []string{"Books", "Toys", "图书", "Garden"}

// world is a small workspace: customers with attributes, tags and
// identities, orders over the last year, scores for most customers.
type world struct {
	st  *store.Store
	ids []string
	cfg store.Config
	eng string
}

func fp(v float64) *float64 { return &v }

// seedWorld loads n deterministic customers into a fresh store.
func seedWorld(t *testing.T, e storetest.Engine, n int) *world {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 11))
	d := store.Dataset{Fields: []customer.Field{
		{Key: "city", Type: customer.FieldText, CreatedAt: now},
		{Key: "employees", Type: customer.FieldNumber, CreatedAt: now},
		{Key: "vip", Type: customer.FieldBool, CreatedAt: now},
		{Key: "birthday", Type: customer.FieldDate, CreatedAt: now},
	}}
	w := &world{st: e.Store, cfg: e.Config, eng: e.Name}
	scores := map[string]customer.Scores{}
	for i := range n {
		c := customer.Customer{ID: customer.NewID(), Kind: customer.Person, Name: fmt.Sprintf("客户%03d", i),
			Attributes: map[string]any{}, Tags: []string{}, Identities: []customer.Identity{},
			CreatedAt: daysAgo(400 + float64(i)), UpdatedAt: daysAgo(1), Version: 1}
		if i%10 == 0 {
			c.Kind, c.Name = customer.Organization, fmt.Sprintf("公司%03d", i)
		}
		if rng.IntN(6) > 0 {
			c.Attributes["city"] = cities[rng.IntN(len(cities))]
		}
		if rng.IntN(2) == 0 {
			c.Attributes["employees"] = float64(rng.IntN(500))
		}
		if rng.IntN(3) == 0 {
			c.Attributes["vip"] = rng.IntN(2) == 0
		}
		if rng.IntN(3) == 0 {
			c.Attributes["birthday"] = fmt.Sprintf("19%02d-%02d-%02d", 60+rng.IntN(40), 1+rng.IntN(12), 1+rng.IntN(28))
		}
		if rng.IntN(3) == 0 {
			c.Tags = append(c.Tags, "vip")
		}
		if rng.IntN(4) == 0 {
			c.Tags = append(c.Tags, "wechat")
		}
		if rng.IntN(2) == 0 {
			c.Identities = append(c.Identities, customer.Identity{Type: "email", Value: fmt.Sprintf("c%03d@%s", i, []string{"qq.com", "example.com"}[rng.IntN(2)])})
		}
		if i%7 == 0 {
			c.OwnerID = "rep-1"
		}
		d.Customers = append(d.Customers, c)
		w.ids = append(w.ids, c.ID)
		for k := rng.IntN(5); k > 0; k-- {
			o := customer.Order{ID: customer.NewID(), CustomerID: c.ID, PlacedAt: daysAgo(float64(rng.IntN(365)) + 0.5), Currency: "CNY",
				Total: float64(10 + rng.IntN(300)), Status: customer.OrderCompleted}
			if rng.IntN(8) == 0 {
				o.Status = customer.OrderRefunded
			}
			for l := 1 + rng.IntN(2); l > 0; l-- {
				o.Items = append(o.Items, customer.OrderItem{SKU: "s", Category: categories[rng.IntN(len(categories))], Price: 10, Quantity: 1})
			}
			d.Orders = append(d.Orders, o)
		}
		if tier := tiers[rng.IntN(len(tiers))]; rng.IntN(5) > 0 {
			sc := customer.Scores{Tier: tier, RFMSegment: []string{"champions", "at_risk", ""}[rng.IntN(3)], R: 1 + rng.IntN(5),
				F: 1 + rng.IntN(5), M: 1 + rng.IntN(5), UpdatedAt: now}
			if rng.IntN(5) > 0 {
				sc.PAlive = fp(rng.Float64())
			}
			if rng.IntN(5) > 0 {
				sc.CLV = fp(rng.Float64() * 1000)
			}
			if rng.IntN(5) > 0 {
				sc.ChurnRisk = fp(rng.Float64())
			}
			scores[c.ID] = sc
		}
	}
	if err := e.Store.Load(ctx, store.SystemActor, d); err != nil {
		t.Fatal(err)
	}
	if err := e.Store.UpsertScores(ctx, scores); err != nil {
		t.Fatal(err)
	}
	return w
}

// rawDB opens the engine's database directly, for what the store does not
// offer (creating the events table the ingest migration will add).
func (w *world) rawDB(t *testing.T) *sql.DB {
	t.Helper()
	driver, dsn := "pgx", w.cfg.URL
	if w.cfg.URL == "" {
		driver, dsn = "sqlite", "file:"+filepath.Join(w.cfg.DataDir, "rapport.db")+"?_pragma=busy_timeout(10000)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// addEvents gives customers tracked events in the events table.
func (w *world) addEvents(t *testing.T) {
	t.Helper()
	db := w.rawDB(t)
	rng := rand.New(rand.NewPCG(3, 5))
	ph := func(i int) string {
		if w.cfg.URL != "" {
			return fmt.Sprintf("$%d", i)
		}
		return fmt.Sprintf("?%d", i)
	}
	insert := `INSERT INTO events (source_id, message_id, customer_id, type, name, at, received_at, payload) VALUES ('test', ` +
		ph(1) + `, ` + ph(2) + `, 'track', ` + ph(3) + `, ` + ph(4) + `, ` + ph(4) + `, '{}')`
	for _, id := range w.ids {
		for k := rng.IntN(6); k > 0; k-- {
			name := []string{"Page Viewed", "App Opened", "Signed Up"}[rng.IntN(3)]
			at := daysAgo(float64(rng.IntN(60)) + 0.25).Format("2006-01-02T15:04:05.000000Z")
			if _, err := db.Exec(insert, customer.NewID(), id, name, at); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func forEachEngine(t *testing.T, fn func(t *testing.T, e storetest.Engine)) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) { fn(t, e) })
	}
}

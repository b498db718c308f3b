package demo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/google/uuid"

	"github.com/rapportcrm/rapport/internal/customer"
)

var (
	testNow   = time.Date(2026, time.May, 17, 0, 0, 0, 0, time.UTC)
	testUsers = []string{"u-ana", "u-bo", "u-chen", "u-dai", "u-eve"}
)

var shared = sync.OnceValue(func() *Dataset {
	return Generate(Options{Seed: 42, Now: testNow, Users: testUsers})
})

// dataset is the default-size dataset most tests read; tests must not
// modify it.
func dataset(t *testing.T) *Dataset {
	t.Helper()
	return shared()
}

func marshal(t *testing.T, d *Dataset) []byte {
	t.Helper()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSameOptionsGiveTheSameBytes(t *testing.T) {
	a := marshal(t, dataset(t))
	b := marshal(t, Generate(Options{Seed: 42, Now: testNow, Users: testUsers}))
	if !bytes.Equal(a, b) {
		t.Fatal("two runs with the same options differ")
	}
	// A zero Options is deterministic too.
	if !bytes.Equal(marshal(t, Generate(Options{Customers: 300})), marshal(t, Generate(Options{Customers: 300}))) {
		t.Fatal("two runs with zero options differ")
	}
}

func TestDifferentSeedsGiveDifferentData(t *testing.T) {
	a := Generate(Options{Seed: 1, Customers: 500, Now: testNow})
	b := Generate(Options{Seed: 2, Customers: 500, Now: testNow})
	if bytes.Equal(marshal(t, a), marshal(t, b)) {
		t.Fatal("seeds 1 and 2 gave the same dataset")
	}
	if a.Customers[0].ID == b.Customers[0].ID || a.Customers[0].Name == b.Customers[0].Name && a.Orders[0].Total == b.Orders[0].Total {
		t.Errorf("seeds 1 and 2 start alike: %q %q", a.Customers[0].Name, b.Customers[0].Name)
	}
}

func hasHan(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Han, r) }) >= 0
}

// within reports a proportion outside [lo, hi] as a test error.
func within(t *testing.T, what string, got, lo, hi float64) {
	t.Helper()
	if got < lo || got > hi {
		t.Errorf("%s = %.3f, want within [%.2f, %.2f]", what, got, lo, hi)
	}
}

func TestCountsAndProportions(t *testing.T) {
	d := dataset(t)
	if len(d.Customers) != DefaultCustomers {
		t.Fatalf("customers = %d, want %d", len(d.Customers), DefaultCustomers)
	}
	var orgs, people, hanPeople, members, buyers, once, never, newc, noted, withEmail, withPhone int
	notedBy := map[string]bool{}
	for _, n := range d.Notes {
		notedBy[n.CustomerID] = true
	}
	for _, c := range d.Customers {
		switch c.Kind {
		case customer.Organization:
			orgs++
		case customer.Person:
			people++
			if hasHan(c.Name) {
				hanPeople++
			}
			if len(c.Memberships) > 0 {
				members++
			}
		}
		switch c.Stats.Orders {
		case 0:
			never++
		case 1:
			once++
			buyers++
		default:
			buyers++
		}
		if testNow.Sub(c.CreatedAt) <= 30*24*time.Hour {
			newc++
		}
		if notedBy[c.ID] {
			noted++
		}
		for _, id := range c.Identities {
			switch id.Type {
			case customer.IdentityEmail:
				withEmail++
			case customer.IdentityPhone:
				withPhone++
			}
		}
	}
	n := float64(len(d.Customers))
	within(t, "organizations share", float64(orgs)/n, 0.12, 0.18)
	within(t, "Chinese-named people share", float64(hanPeople)/float64(people), 0.70, 0.80)
	within(t, "people in an organization", float64(members)/float64(people), 0.25, 0.35)
	within(t, "one-time buyers among buyers", float64(once)/float64(buyers), 0.30, 0.47)
	within(t, "customers who never bought", float64(never)/n, 0.05, 0.20)
	within(t, "customers new in the last 30 days", float64(newc)/n, 0.02, 0.10)
	within(t, "customers with notes", float64(noted)/n, 0.15, 0.25)
	within(t, "email identities per customer", float64(withEmail)/n, 0.6, 1.1)
	within(t, "phone identities per customer", float64(withPhone)/n, 0.7, 1.0)
	within(t, "orders", float64(len(d.Orders)), 40000, 60000)
	within(t, "interactions", float64(len(d.Interactions)), 12000, 18000)

	var refunded, usd int
	for _, o := range d.Orders {
		if o.Status == customer.OrderRefunded {
			refunded++
		}
		if o.Currency == "USD" {
			usd++
		}
	}
	within(t, "refunded orders share", float64(refunded)/float64(len(d.Orders)), 0.005, 0.05)
	within(t, "USD orders share", float64(usd)/float64(len(d.Orders)), 0.01, 0.15)

	cats := map[string]bool{}
	for _, p := range d.Products {
		cats[p.Category] = true
		if p.UnitCost <= 0 || p.UnitCost >= p.Price {
			t.Errorf("product %s: unit cost %.2f not in (0, price %.2f)", p.SKU, p.UnitCost, p.Price)
		}
	}
	if len(d.Products) < 55 || len(d.Products) > 65 || len(cats) != 8 {
		t.Errorf("catalogue: %d products in %d categories, want about 60 in 8", len(d.Products), len(cats))
	}
}

// TestRevenueIsConcentrated checks the 80/20 shape the value pyramid and
// tiers are meant to show.
func TestRevenueIsConcentrated(t *testing.T) {
	t.Run("seed 42", func(t *testing.T) { revenueIsConcentrated(t, dataset(t)) })
	if testing.Short() {
		return
	}
	for _, seed := range []int64{1, 2, 3} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			d := Generate(Options{Seed: seed, Now: testNow})
			revenueIsConcentrated(t, d)
			within(t, "orders", float64(len(d.Orders)), 40000, 60000)
		})
	}
}

func revenueIsConcentrated(t *testing.T, d *Dataset) {
	rev := make([]float64, len(d.Customers))
	total := 0.0
	for i, c := range d.Customers {
		rev[i] = c.Stats.Revenue
		total += c.Stats.Revenue
	}
	slices.Sort(rev)
	slices.Reverse(rev)
	share := func(f float64) float64 {
		s := 0.0
		for _, r := range rev[:int(f*float64(len(rev)))] {
			s += r
		}
		return s / total
	}
	within(t, "revenue share of the top 20%", share(0.2), 0.6, 0.9)
	within(t, "revenue share of the top 1%", share(0.01), 0.12, 0.35)

	// Organizations buy larger baskets than people.
	var orgSum, orgN, personSum, personN float64
	kind := map[string]customer.Kind{}
	for _, c := range d.Customers {
		kind[c.ID] = c.Kind
	}
	for _, o := range d.Orders {
		if o.Currency != "CNY" {
			continue
		}
		if kind[o.CustomerID] == customer.Organization {
			orgSum, orgN = orgSum+o.Total, orgN+1
		} else {
			personSum, personN = personSum+o.Total, personN+1
		}
	}
	if orgSum/orgN < 3*personSum/personN {
		t.Errorf("mean basket: organizations %.0f, people %.0f; want organizations at least 3× people", orgSum/orgN, personSum/personN)
	}
}

// TestSomeCustomersLapsedRecently checks there are good "at risk" examples:
// frequent buyers whose last order is two to six months old.
func TestSomeCustomersLapsedRecently(t *testing.T) {
	d := dataset(t)
	lapsed := 0
	for _, c := range d.Customers {
		if c.Stats.Orders >= 5 && c.Stats.LastOrderAt != nil {
			if age := testNow.Sub(*c.Stats.LastOrderAt); age > 60*24*time.Hour && age < 180*24*time.Hour {
				lapsed++
			}
		}
	}
	if lapsed < 60 {
		t.Errorf("%d frequent buyers lapsed 60–180 days ago, want at least 60", lapsed)
	}
}

func TestIdentitiesAreValidAndUnique(t *testing.T) {
	d := dataset(t)
	raw := map[customer.Identity]string{}
	rewritten := 0
	for _, r := range d.Raw {
		var got string
		var err error
		switch r.Type {
		case customer.IdentityEmail:
			got, err = customer.NormalizeEmail(r.Raw)
		case customer.IdentityPhone:
			got, err = customer.NormalizePhone(r.Raw, "CN")
		default:
			t.Fatalf("raw identity of type %q", r.Type)
		}
		if err != nil || got != r.Value {
			t.Errorf("%s %q normalizes to %q (%v), want %q", r.Type, r.Raw, got, err, r.Value)
		}
		if r.Raw != r.Value {
			rewritten++
		}
		raw[customer.Identity{Type: r.Type, Value: r.Value}] = r.CustomerID
	}
	if rewritten < len(d.Raw)/5 {
		t.Errorf("only %d of %d raw identities differ from their normalized form; want varied writing", rewritten, len(d.Raw))
	}
	owner := map[customer.Identity]string{}
	for _, c := range d.Customers {
		for _, id := range c.Identities {
			if prev, dup := owner[id]; dup {
				t.Errorf("identity %+v belongs to %s and %s", id, prev, c.ID)
			}
			owner[id] = c.ID
			n, err := customer.NormalizeIdentity(id, "CN")
			if err != nil || n != id {
				t.Errorf("customer %s: identity %+v is not normalized (%+v, %v)", c.ID, id, n, err)
			}
			if id.Type == customer.IdentityEmail || id.Type == customer.IdentityPhone {
				if raw[customer.Identity{Type: id.Type, Value: id.Value}] != c.ID {
					t.Errorf("customer %s: identity %+v has no raw form", c.ID, id)
				}
			}
		}
	}
}

// TestCustomersPassTheDomainRules applies the same validation the API and
// importer use; the generated values must come out unchanged.
func TestCustomersPassTheDomainRules(t *testing.T) {
	d := dataset(t)
	rules := customer.Rules{Region: "CN", Fields: map[string]customer.Field{}}
	for _, f := range d.Fields {
		v, err := customer.ValidateField(f)
		if err != nil {
			t.Fatalf("field %s: %v", f.Key, err)
		}
		rules.Fields[f.Key] = v
	}
	for _, c := range d.Customers {
		var got customer.Customer
		ids, tags, ms := slices.Clone(c.Identities), slices.Clone(c.Tags), slices.Clone(c.Memberships)
		in := customer.Input{Kind: &c.Kind, Name: &c.Name, Identities: &ids, Attributes: c.Attributes, Tags: &tags, OwnerID: &c.OwnerID, Memberships: &ms}
		if err := rules.Apply(&got, in, true); err != nil {
			t.Fatalf("customer %s (%s): %v", c.ID, c.Name, err)
		}
		if got.Name != c.Name || !slices.Equal(got.Identities, c.Identities) || !slices.Equal(got.Tags, c.Tags) {
			t.Errorf("customer %s changes under validation: %q %v %v -> %q %v %v", c.ID, c.Name, c.Identities, c.Tags, got.Name, got.Identities, got.Tags)
		}
		for k, v := range c.Attributes {
			if got.Attributes[k] != v {
				t.Errorf("customer %s: attribute %s = %v, validation gives %v", c.ID, k, v, got.Attributes[k])
			}
		}
	}
}

func TestOrderTotalsEqualTheirItems(t *testing.T) {
	for _, o := range dataset(t).Orders {
		if len(o.Items) == 0 {
			t.Fatalf("order %s has no items", o.ID)
		}
		sum := 0.0
		for _, it := range o.Items {
			if it.Price <= 0 || it.Quantity < 1 || it.Quantity != math.Trunc(it.Quantity) || it.UnitCost <= 0 || it.SKU == "" || it.Name == "" {
				t.Fatalf("order %s: bad line %+v", o.ID, it)
			}
			sum += it.Price * it.Quantity
		}
		if math.Round(sum*100) != math.Round(o.Total*100) {
			t.Fatalf("order %s: total %.2f, items sum to %.2f", o.ID, o.Total, sum)
		}
		if o.Currency != "CNY" && o.Currency != "USD" {
			t.Fatalf("order %s: currency %q", o.ID, o.Currency)
		}
	}
}

func TestEverythingHappensInsideTheHistory(t *testing.T) {
	d := dataset(t)
	start := testNow.AddDate(0, 0, -Days)
	if days := testNow.Sub(start).Hours() / 24; days < 730 {
		t.Fatalf("history is %.0f days, want more than two years", days)
	}
	created := map[string]time.Time{}
	for _, c := range d.Customers {
		created[c.ID] = c.CreatedAt
		if c.CreatedAt.Before(start) || !c.CreatedAt.Before(testNow) || c.UpdatedAt.Before(c.CreatedAt) || !c.UpdatedAt.Before(testNow) {
			t.Fatalf("customer %s: created %v, updated %v", c.ID, c.CreatedAt, c.UpdatedAt)
		}
	}
	check := func(what, id, cid string, at time.Time) {
		t.Helper()
		if at.Before(start) || !at.Before(testNow) {
			t.Fatalf("%s %s at %v, outside [%v, %v)", what, id, at, start, testNow)
		}
		if at.Before(created[cid]) {
			t.Fatalf("%s %s at %v, before its customer was created (%v)", what, id, at, created[cid])
		}
	}
	var first, last time.Time
	for i, o := range d.Orders {
		check("order", o.ID, o.CustomerID, o.PlacedAt)
		if i > 0 && o.PlacedAt.Before(d.Orders[i-1].PlacedAt) {
			t.Fatalf("orders out of time order at %d", i)
		}
		if i == 0 {
			first = o.PlacedAt
		}
		last = o.PlacedAt
	}
	if first.Sub(start) > 7*24*time.Hour || testNow.Sub(last) > 2*24*time.Hour {
		t.Errorf("orders span %v to %v; want them to fill the history %v to %v", first, last, start, testNow)
	}
	for _, in := range d.Interactions {
		check("interaction", in.ID, in.CustomerID, in.At)
		if !slices.Contains(customer.InteractionKinds, in.Kind) {
			t.Fatalf("interaction %s: kind %q", in.ID, in.Kind)
		}
	}
	for _, n := range d.Notes {
		check("note", n.ID, n.CustomerID, n.CreatedAt)
	}
}

func TestMembershipsPointToOrganizations(t *testing.T) {
	d := dataset(t)
	kind := map[string]customer.Kind{}
	for _, c := range d.Customers {
		kind[c.ID] = c.Kind
	}
	for _, c := range d.Customers {
		if c.Kind == customer.Organization && len(c.Memberships) > 0 {
			t.Errorf("organization %s has memberships", c.ID)
		}
		for _, m := range c.Memberships {
			if m.PersonID != c.ID || kind[m.OrganizationID] != customer.Organization || m.Role == "" {
				t.Errorf("person %s: bad membership %+v", c.ID, m)
			}
		}
	}
}

func TestIDsAreUniqueUUIDv7FromTheRecordsTime(t *testing.T) {
	d := dataset(t)
	seen := map[string]bool{}
	check := func(id string, at time.Time) {
		t.Helper()
		u, err := uuid.Parse(id)
		if err != nil || u.Version() != 7 || u.Variant() != uuid.RFC4122 || u.String() != id {
			t.Fatalf("%q is not a canonical UUIDv7 (%v)", id, err)
		}
		if sec, nsec := u.Time().UnixTime(); time.Unix(sec, nsec).UnixMilli() != at.UnixMilli() {
			t.Fatalf("%s carries time %v, record time is %v", id, time.Unix(sec, nsec).UTC(), at)
		}
		if seen[id] {
			t.Fatalf("id %s used twice", id)
		}
		seen[id] = true
	}
	for _, c := range d.Customers {
		check(c.ID, c.CreatedAt)
	}
	for _, o := range d.Orders {
		check(o.ID, o.PlacedAt)
	}
	for _, in := range d.Interactions {
		check(in.ID, in.At)
	}
	for _, n := range d.Notes {
		check(n.ID, n.CreatedAt)
	}
	start := testNow.AddDate(0, 0, -Days)
	for _, p := range d.Products {
		check(p.ID, start)
	}
}

func TestUUIDv7(t *testing.T) {
	tests := []struct {
		ms     int64
		random [10]byte
		want   string
	}{
		{0, [10]byte{}, "00000000-0000-7000-8000-000000000000"},
		{0x017F22E279B0, [10]byte{0xFC, 0xC3, 0x18, 0xC4, 0xDC, 0x0C, 0x0C, 0x07, 0x39, 0x8F}, "017f22e2-79b0-7cc3-98c4-dc0c0c07398f"}, // RFC 9562 appendix A.6
		{1<<48 - 1, [10]byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, "ffffffff-ffff-7fff-bfff-ffffffffffff"},
	}
	for _, tt := range tests {
		if got := UUIDv7(tt.ms, tt.random); got != tt.want {
			t.Errorf("UUIDv7(%#x, %x) = %s, want %s", tt.ms, tt.random, got, tt.want)
		}
	}
}

func TestStatsMatchTheLog(t *testing.T) {
	d := dataset(t)
	type agg struct {
		orders, interactions int64
		revenue              float64
		first, last          time.Time
	}
	want := map[string]*agg{}
	for _, c := range d.Customers {
		want[c.ID] = &agg{}
	}
	for _, o := range d.Orders {
		if o.Status == customer.OrderCompleted {
			want[o.CustomerID].orders++
			a := want[o.CustomerID]
			a.revenue += o.Total
			if a.first.IsZero() {
				a.first = o.PlacedAt // orders are in time order
			}
			a.last = o.PlacedAt
		}
	}
	for _, in := range d.Interactions {
		want[in.CustomerID].interactions++
	}
	for _, c := range d.Customers {
		w := want[c.ID]
		if c.Stats.Orders != w.orders || c.Stats.Interactions != w.interactions || math.Abs(c.Stats.Revenue-w.revenue) > 0.005 {
			t.Fatalf("customer %s: stats %+v, log gives %+v", c.ID, c.Stats, *w)
		}
		if (c.Stats.FirstOrderAt == nil) != (w.orders == 0) ||
			w.orders > 0 && (!c.Stats.FirstOrderAt.Equal(w.first) || !c.Stats.LastOrderAt.Equal(w.last) || c.Stats.FirstSeen.After(w.first) || c.Stats.LastSeen.Before(w.last)) {
			t.Fatalf("customer %s: first/last order %v %v, seen %v %v; log gives %v %v", c.ID, c.Stats.FirstOrderAt, c.Stats.LastOrderAt, c.Stats.FirstSeen, c.Stats.LastSeen, w.first, w.last)
		}
	}
}

func TestTextMatchesTheCustomersLanguage(t *testing.T) {
	d := dataset(t)
	zh := map[string]bool{}
	for _, c := range d.Customers {
		zh[c.ID] = hasHan(c.Name)
	}
	for _, in := range d.Interactions {
		if hasHan(in.Summary) != zh[in.CustomerID] {
			t.Fatalf("interaction %s for a customer with Chinese name %v: %q", in.ID, zh[in.CustomerID], in.Summary)
		}
		if strings.ContainsAny(in.Summary, "{}") {
			t.Fatalf("interaction %s: unfilled template %q", in.ID, in.Summary)
		}
	}
	for _, n := range d.Notes {
		if hasHan(n.Body) != zh[n.CustomerID] || strings.ContainsAny(n.Body, "{}") {
			t.Fatalf("note %s: %q", n.ID, n.Body)
		}
	}
}

func TestValuableCustomersGetMoreAttention(t *testing.T) {
	d := dataset(t)
	var buyers []customer.Customer
	for _, c := range d.Customers {
		if c.Stats.Orders > 0 {
			buyers = append(buyers, c)
		}
	}
	slices.SortFunc(buyers, func(a, b customer.Customer) int { return -cmpFloat(a.Stats.Revenue, b.Stats.Revenue) })
	mean := func(cs []customer.Customer) float64 {
		s := 0.0
		for _, c := range cs {
			s += float64(c.Stats.Interactions)
		}
		return s / float64(len(cs))
	}
	top, bottom := mean(buyers[:len(buyers)/10]), mean(buyers[len(buyers)/2:])
	if top < 2*bottom {
		t.Errorf("interactions per customer: top decile %.2f, bottom half %.2f; want the top at least twice", top, bottom)
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestOwnersAndAuthorsComeFromUsers(t *testing.T) {
	d := dataset(t)
	owned := map[string]int{}
	for _, c := range d.Customers {
		if c.OwnerID != "" {
			if !slices.Contains(testUsers, c.OwnerID) {
				t.Fatalf("customer %s owned by unknown user %q", c.ID, c.OwnerID)
			}
			owned[c.OwnerID]++
		}
	}
	for _, u := range testUsers {
		if owned[u] < 100 {
			t.Errorf("user %s owns %d customers, want customers spread over all users", u, owned[u])
		}
	}
	for _, in := range d.Interactions {
		if !slices.Contains(testUsers, in.UserID) {
			t.Fatalf("interaction %s by unknown user %q", in.ID, in.UserID)
		}
	}
	for _, n := range d.Notes {
		if !slices.Contains(testUsers, n.AuthorID) {
			t.Fatalf("note %s by unknown user %q", n.ID, n.AuthorID)
		}
	}

	// Without users nothing is owned or attributed.
	small := Generate(Options{Seed: 7, Customers: 200, Now: testNow})
	for _, c := range small.Customers {
		if c.OwnerID != "" {
			t.Fatalf("customer %s owned by %q with no users given", c.ID, c.OwnerID)
		}
	}
	for _, in := range small.Interactions {
		if in.UserID != "" {
			t.Fatalf("interaction %s by %q with no users given", in.ID, in.UserID)
		}
	}
}

func TestExternalOrderIDs(t *testing.T) {
	at := time.Date(2024, time.March, 8, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		seq  int
		want string
	}{{1, "TM240308000001"}, {123, "TM240308000123"}, {99999, "TM240308099999"}, {100000, "TM240308100000"}, {1234567, "TM2403081234567"}} {
		if got := externalID("TM", at, tt.seq); got != tt.want {
			t.Errorf("externalID(TM, %d) = %s, want %s", tt.seq, got, tt.want)
		}
	}
	seen := map[string]bool{}
	for _, o := range dataset(t).Orders {
		if seen[o.ExternalID] || o.ExternalID == "" || o.Source == "" {
			t.Fatalf("order %s: external id %q (source %q) empty or repeated", o.ID, o.ExternalID, o.Source)
		}
		seen[o.ExternalID] = true
	}
}

func TestSeasonalGiftBoxesSellOnlyInSeason(t *testing.T) {
	season := map[string][]time.Month{}
	d := dataset(t)
	for i, it := range catalogue {
		if it.Season[0] != 0 {
			for m := time.January; m <= time.December; m++ {
				if it.inSeason(m) {
					season[d.Products[i].ID] = append(season[d.Products[i].ID], m)
				}
			}
		}
	}
	if len(season) != 3 || len(season[d.Products[slices.IndexFunc(catalogue, func(it item) bool { return it.En == "Spring Festival Gift Hamper" })].ID]) != 3 {
		t.Fatalf("seasons: %v", season)
	}
	sold := 0
	for _, o := range d.Orders {
		for _, it := range o.Items {
			if months, ok := season[it.ProductID]; ok {
				sold++
				if !slices.Contains(months, o.PlacedAt.Month()) {
					t.Fatalf("order %s on %v sells %s, in season only in %v", o.ID, o.PlacedAt, it.Name, months)
				}
			}
		}
	}
	if sold == 0 {
		t.Fatal("no seasonal gift box was ever sold")
	}
}

func TestTinyDatasetsWork(t *testing.T) {
	for _, n := range []int{1, 2, 10} {
		d := Generate(Options{Seed: int64(n), Customers: n, Now: testNow, Users: []string{"solo"}})
		if len(d.Customers) != n {
			t.Errorf("Customers: %d gave %d customers", n, len(d.Customers))
		}
	}
}

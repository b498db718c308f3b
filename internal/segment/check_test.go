package segment

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
)

func testCatalogue() Catalogue {
	return Catalogue{
		Region: "CN",
		Fields: map[string]customer.Field{
			"city":      {Key: "city", Type: customer.FieldText},
			"level":     {Key: "level", Type: customer.FieldEnum, Options: []string{"a", "b"}},
			"employees": {Key: "employees", Type: customer.FieldNumber},
			"vip":       {Key: "vip", Type: customer.FieldBool},
			"birthday":  {Key: "birthday", Type: customer.FieldDate},
		},
		Events: &EventSchema{Table: "events", CustomerColumn: "customer_id", NameColumn: "event", TimeColumn: "at"},
	}
}

func TestCheckReportsEveryProblemWithItsPosition(t *testing.T) {
	src := `citty = "上海" and p_alive < "high" and level = "c" and tier > 3 and orders_90d is null and vip = 1`
	_, err := Compile(src, testCatalogue())
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("want Errors, got %v", err)
	}
	want := []struct {
		col  int
		text string
	}{
		{1, `unknown field "citty" (did you mean city?)`},
		{28, `p_alive is a number field; expected a number, found "high"`},
		{47, `"c" is not an option of level (options: a, b)`},
		{60, `operator > does not apply to tier`},
		{97, `vip is a bool field; expected true or false, found 1`},
	}
	if len(es) != len(want) {
		t.Fatalf("got %d errors: %v", len(es), es)
	}
	for i, w := range want {
		if es[i].Pos.Column != w.col || !strings.Contains(es[i].En, w.text) || es[i].Zh == "" {
			t.Errorf("error %d: got %d %q, want %d %q", i, es[i].Pos.Column, es[i].En, w.col, w.text)
		}
	}
}

func TestCheckRejectsDidWithoutAnEventsTable(t *testing.T) {
	cat := testCatalogue()
	cat.Events = nil
	_, err := Compile(`tier = "gold" and did "Page Viewed" in the last 7 days`, cat)
	var es Errors
	if !errors.As(err, &es) || len(es) != 1 || es[0].Pos.Column != 19 || !strings.Contains(es[0].En, "events table") {
		t.Fatalf("got %v", err)
	}
}

func TestCheckNormalizesIdentityLiterals(t *testing.T) {
	r, err := Compile(`email = " Zhang.Wei@Example.COM " or phone = "138 0013 8000"`, testCatalogue())
	if err != nil {
		t.Fatal(err)
	}
	q, err := r.SQL(SQLite, time.Now(), 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if q.Args[1] != "zhang.wei@example.com" || q.Args[3] != "+8613800138000" {
		t.Fatalf("args %v", q.Args)
	}
	if _, err := Compile(`phone = "12"`, testCatalogue()); err == nil {
		t.Fatal("an invalid phone literal was accepted")
	}
}

func TestNeedsCoverEveryBehaviourWindow(t *testing.T) {
	r, err := Compile(`orders_90d = 0 and (revenue_30d > 5 or ordered category "Books") and did "A" in the last 7 days and did "A" and did "B" in the last 3 days`, testCatalogue())
	if err != nil {
		t.Fatal(err)
	}
	n := r.Needs()
	if n.OrderDays != 90 || !n.AllOrders || !n.Categories || n.Events["A"] != 0 || n.Events["B"] != 3 || len(n.Events) != 2 {
		t.Fatalf("needs %+v", n)
	}
}

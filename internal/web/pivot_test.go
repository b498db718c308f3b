package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"html"
	"maps"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/storetest"
)

// pivotCustomers reads every live customer with scores and stats, page by
// page, for computing a pivot's pivotWant numbers independently.
func pivotCustomers(t *testing.T, e *env) []customer.Customer {
	t.Helper()
	var out []customer.Customer
	f := store.Filter{Limit: 500}
	for {
		page, err := e.st.ListCustomers(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out
		}
		f.Cursor = page.NextCursor
	}
}

func pivotTier(c customer.Customer) string {
	if c.Scores == nil {
		return ""
	}
	return c.Scores.Tier
}

// pivotWant is a cell's customers and revenue.
type pivotWant struct {
	customers int
	revenue   float64
	ids       []string
}

func (x *pivotWant) add(c customer.Customer) {
	x.customers++
	x.revenue += c.Stats.Revenue
	x.ids = append(x.ids, c.ID)
}

// pivotCell is one rendered cell: its text and drill link.
type pivotCell struct {
	text, href string
}

var (
	pivotRowRE  = regexp.MustCompile(`(?s)<tr data-key="([^"]*)"><th scope="row">[^<]*</th>(.*?)</tr>`)
	pivotCellRE = regexp.MustCompile(`<td class="num">(?:<a href="([^"]*)" class="drill">)?([^<]*)(?:</a>)?</td>`)
	pivotColRE  = regexp.MustCompile(`<th scope="colgroup" colspan="\d+" class="num" data-key="([^"]*)">`)
)

// pivotTable reads the rendered table: row key → cells in order.
func pivotTable(t *testing.T, body string) (map[string][]pivotCell, []string) {
	t.Helper()
	rows := map[string][]pivotCell{}
	for _, m := range pivotRowRE.FindAllStringSubmatch(body, -1) {
		for _, c := range pivotCellRE.FindAllStringSubmatch(m[2], -1) {
			rows[html.UnescapeString(m[1])] = append(rows[html.UnescapeString(m[1])], pivotCell{text: c[2], href: html.UnescapeString(c[1])})
		}
	}
	var cols []string
	for _, m := range pivotColRE.FindAllStringSubmatch(body, -1) {
		cols = append(cols, html.UnescapeString(m[1]))
	}
	return rows, cols
}

// pivotNumber reads a formatted number ("CN¥ 1,234.50", "1,234", "–" as 0).
func pivotNumber(t *testing.T, s string) float64 {
	t.Helper()
	clean := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return -1
	}, s)
	if clean == "" || clean == "-" {
		return 0
	}
	f, err := strconv.ParseFloat(clean, 64)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return f
}

func TestPivotByTierShowsTheRightNumbersAndExportsThem(t *testing.T) {
	forEngine(t, 300, func(t *testing.T, e *env) {
		want := map[string]*pivotWant{}
		total := pivotWant{}
		for _, c := range pivotCustomers(t, e) {
			k := pivotTier(c)
			if want[k] == nil {
				want[k] = &pivotWant{}
			}
			want[k].add(c)
			total.add(c)
		}
		if len(want) < 3 {
			t.Fatalf("demo data has only tiers %v", want)
		}
		b := e.login(auth.Analyst)
		res := b.get("/pivot?row=tier&m=customers&m=revenue&lang=en")
		if res.status != http.StatusOK {
			t.Fatalf("GET /pivot: %d %s", res.status, res.body)
		}
		rows, _ := pivotTable(t, res.body)
		if len(rows) != len(want) {
			t.Fatalf("%d rows, want one per tier: %v", len(rows), want)
		}
		for k, x := range want {
			cells := rows[k]
			if len(cells) != 2 {
				t.Fatalf("tier %q: cells %v", k, cells)
			}
			if got := pivotNumber(t, cells[0].text); got != float64(x.customers) {
				t.Errorf("tier %q: %v customers, want %d", k, got, x.customers)
			}
			if got := pivotNumber(t, cells[1].text); math.Abs(got-x.revenue) > 0.01 {
				t.Errorf("tier %q: revenue %v, want %.2f", k, got, x.revenue)
			}
		}
		// The totals row and a reading naming the largest tier's share.
		foot := regexp.MustCompile(`(?s)<tr class="total">(.*?)</tr>`).FindStringSubmatch(res.body)
		if foot == nil {
			t.Fatal("no totals row")
		}
		tc := pivotCellRE.FindAllStringSubmatch(foot[1], -1)
		if len(tc) != 2 || pivotNumber(t, tc[0][2]) != float64(total.customers) || math.Abs(pivotNumber(t, tc[1][2])-total.revenue) > 0.01 {
			t.Fatalf("totals %v, want %d and %.2f", tc, total.customers, total.revenue)
		}
		if !strings.Contains(res.body, `id="pivot-reading">Largest by Customers:`) || !strings.Contains(res.body, "of the total") {
			t.Fatalf("no plain-language reading")
		}
		if zh := b.get("/pivot?row=tier&m=customers&m=revenue&lang=zh-CN"); zh.status != http.StatusOK ||
			!strings.Contains(zh.body, "数据透视表") || !regexp.MustCompile(`id="pivot-reading">按客户数最大的是 \p{Han}+`).MatchString(zh.body) {
			t.Fatalf("Chinese pivot: %d", zh.status)
		}

		// A named tier drills into the customer list filtered by it.
		gold := rows["gold"][0].href
		if gold != "/customers?tier=gold" {
			t.Fatalf("gold drills to %q", gold)
		}
		// Customers without a tier (no purchase) are no list filter: the
		// pivot lists them itself.
		none := rows[""][0].href
		if !strings.HasPrefix(none, "/pivot/cell?") {
			t.Fatalf("blank tier drills to %q", none)
		}
		cell := b.get(none + "&lang=en")
		ids, _ := names(cell.body)
		wantIDs := want[""].ids
		if len(wantIDs) > 100 {
			wantIDs = wantIDs[:100]
		}
		slices.Sort(ids)
		slices.Sort(wantIDs)
		if cell.status != http.StatusOK || !slices.Equal(ids, wantIDs) {
			t.Fatalf("blank-tier drill list: %d, %d customers, want %d", cell.status, len(ids), len(wantIDs))
		}

		// The CSV export has the same numbers, with a byte-order mark.
		exp := b.get("/pivot/export?row=tier&m=customers&m=revenue&format=csv")
		if exp.status != http.StatusOK || !strings.HasPrefix(exp.header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(exp.header.Get("Content-Disposition"), ".csv") || !strings.HasPrefix(exp.body, "\ufeff") {
			t.Fatalf("csv export: %d %v", exp.status, exp.header)
		}
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(exp.body, "\ufeff"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(recs[0], []string{"tier", "customers", "revenue"}) || len(recs) != len(want)+2 {
			t.Fatalf("csv: %v", recs)
		}
		for _, rec := range recs[1 : len(recs)-1] {
			x := want[rec[0]]
			n, _ := strconv.ParseFloat(rec[1], 64)
			rev, _ := strconv.ParseFloat(rec[2], 64)
			if x == nil || n != float64(x.customers) || math.Abs(rev-x.revenue) > 0.01 {
				t.Errorf("csv line %v, want %+v", rec, x)
			}
		}
		if last := recs[len(recs)-1]; last[1] != strconv.Itoa(total.customers) {
			t.Errorf("csv total line %v, want %d customers", last, total.customers)
		}
		xl := b.get("/pivot/export?row=tier&m=customers&format=xlsx")
		f, err := excelize.OpenReader(bytes.NewReader([]byte(xl.body)))
		if err != nil {
			t.Fatalf("xlsx export: %d %v", xl.status, err)
		}
		defer f.Close()
		if v, _ := f.GetCellValue("Pivot", "B1"); v != "customers" {
			t.Fatalf("xlsx header B1 = %q", v)
		}
	})
}

func TestPivotCellsDrillToTheirCustomers(t *testing.T) {
	forEngine(t, 300, func(t *testing.T, e *env) {
		all := pivotCustomers(t, e)
		byTierIndustry := map[[2]string]*pivotWant{}
		byCohort := map[string]*pivotWant{}
		for _, c := range all {
			ind, _ := c.Attributes["industry"].(string)
			k := [2]string{pivotTier(c), ind}
			if byTierIndustry[k] == nil {
				byTierIndustry[k] = &pivotWant{}
			}
			byTierIndustry[k].add(c)
			co := ""
			if c.Stats.FirstOrderAt != nil {
				co = c.Stats.FirstOrderAt.UTC().Format("2006-01")
			}
			if byCohort[co] == nil {
				byCohort[co] = &pivotWant{}
			}
			byCohort[co].add(c)
		}
		b := e.login(auth.Manager)
		res := b.get("/pivot?row=tier&col=industry&m=customers&lang=en")
		if res.status != http.StatusOK {
			t.Fatalf("tier × industry: %d", res.status)
		}
		rows, cols := pivotTable(t, res.body)
		if len(cols) < 2 {
			t.Fatalf("columns %v", cols)
		}
		checked := 0
		for rk, cells := range rows {
			if len(cells) != len(cols)+1 {
				t.Fatalf("row %q has %d cells for %d columns and a total", rk, len(cells), len(cols))
			}
			for i, ck := range cols {
				x := byTierIndustry[[2]string{rk, ck}]
				got := pivotNumber(t, cells[i].text)
				if x == nil {
					if got != 0 || cells[i].href != "" {
						t.Errorf("(%q, %q): %v, want an empty cell", rk, ck, cells[i])
					}
					continue
				}
				if got != float64(x.customers) {
					t.Errorf("(%q, %q): %v customers, want %d", rk, ck, got, x.customers)
				}
				// Named tier and industry: the customer list says who.
				if rk != "" && ck != "" && x.customers <= 50 && checked < 3 {
					want := "/customers?" + url.Values{"tier": {rk}, "ak": {"industry"}, "av": {ck}}.Encode()
					if cells[i].href != want {
						t.Fatalf("(%q, %q) drills to %q, want %q", rk, ck, cells[i].href, want)
					}
					ids, _ := names(b.get(cells[i].href).body)
					slices.Sort(ids)
					slices.Sort(x.ids)
					if !slices.Equal(ids, x.ids) {
						t.Fatalf("(%q, %q) drill list %v, want %v", rk, ck, ids, x.ids)
					}
					checked++
				}
			}
		}
		if checked == 0 {
			t.Fatal("no cell was drilled")
		}

		// Cohorts are no list filter: their cells drill to the pivot's own list.
		res = b.get("/pivot?row=cohort&m=customers&m=orders&lang=en")
		rows, _ = pivotTable(t, res.body)
		if res.status != http.StatusOK || len(rows) != len(byCohort) {
			t.Fatalf("by cohort: %d, %d rows, want %d", res.status, len(rows), len(byCohort))
		}
		drilled := 0
		for k, x := range byCohort {
			if pivotNumber(t, rows[k][0].text) != float64(x.customers) {
				t.Errorf("cohort %q: %s customers, want %d", k, rows[k][0].text, x.customers)
			}
			if k == "" || drilled == 3 {
				continue
			}
			href := rows[k][0].href
			if !strings.HasPrefix(href, "/pivot/cell?") {
				t.Fatalf("cohort %q drills to %q", k, href)
			}
			cell := b.get(href + "&lang=zh-CN")
			ids, _ := names(cell.body)
			slices.Sort(ids)
			slices.Sort(x.ids)
			if cell.status != http.StatusOK || !slices.Equal(ids, x.ids) || !strings.Contains(cell.body, "透视单元格中的客户") {
				t.Fatalf("cohort %q drill list: %d %v, want %v", k, cell.status, ids, x.ids)
			}
			drilled++
		}
		if drilled == 0 {
			t.Fatal("no cohort was drilled")
		}

		// Order periods have no rule either: the cell lists who bought in it,
		// as the analytics snapshot counts them.
		buyers := map[string]map[string]bool{}
		for _, o := range e.data.Orders {
			if o.Status != customer.OrderCompleted {
				continue
			}
			m := o.PlacedAt.UTC().Format("2006-01")
			if buyers[m] == nil {
				buyers[m] = map[string]bool{}
			}
			buyers[m][o.CustomerID] = true
		}
		res = b.get("/pivot?row=period&m=customers&lang=en")
		rows, _ = pivotTable(t, res.body)
		drilled = 0
		for k, cells := range rows {
			want := buyers[k]
			if len(want) == 0 || len(want) > 100 || drilled == 2 {
				continue
			}
			if !strings.HasPrefix(cells[0].href, "/pivot/cell?") {
				t.Fatalf("period %q drills to %q", k, cells[0].href)
			}
			cell := b.get(cells[0].href)
			ids, _ := names(cell.body)
			got := map[string]bool{}
			for _, id := range ids {
				got[id] = true
			}
			if cell.status != http.StatusOK || !maps.Equal(got, want) || !strings.Contains(cell.body, `id="cell-snapshot"`) {
				t.Fatalf("period %q drill: %d, %d customers, want the %d who ordered then", k, cell.status, len(got), len(want))
			}
			drilled++
		}
		if drilled == 0 {
			t.Fatal("no period was drilled")
		}
	})
}

func TestPivotRefusesBadSettingsWithATranslatedMessage(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), 40)
	b := e.login(auth.Admin)
	for _, c := range []struct {
		path, en, zh string
	}{
		{"/pivot?row=shoe_size&m=customers", "“shoe_size” is not a dimension you can pivot by.", "“shoe_size”不是可用于透视的维度。"},
		{"/pivot?row=tier&m=happiness", "“happiness” is not a measure you can show.", "“happiness”不是可显示的指标。"},
		{"/pivot?row=tier", "Tick at least one measure.", "请至少勾选一个指标。"},
		{"/pivot?row=tier&col=tier&m=customers", "Rows and columns need two different dimensions.", "行和列需要选择两个不同的维度。"},
		{"/pivot/export?row=nope&m=customers&format=csv", "“nope” is not a dimension you can pivot by.", "“nope”不是可用于透视的维度。"},
		{"/pivot/export?row=tier&m=customers&format=pdf", "“pdf” is not an export format", "“pdf”不是导出格式"},
		{"/pivot/cell?d=tier", "This cell cannot be listed", "无法列出此单元格的客户"},
		{"/pivot/cell?d=shoe_size&v=42", "This cell cannot be listed", "无法列出此单元格的客户"},
	} {
		for lang, msg := range map[string]string{"en": c.en, "zh-CN": c.zh} {
			res := b.get(c.path + "&lang=" + lang)
			if res.status != http.StatusBadRequest || !strings.Contains(html.UnescapeString(res.body), msg) {
				t.Errorf("%s (%s): %d, want 400 with %q", c.path, lang, res.status, msg)
			}
		}
	}
	// The form keeps the user's choices to correct.
	if res := b.get("/pivot?row=tier&m=happiness&m=customers&lang=en"); !strings.Contains(res.body, `value="customers" checked`) {
		t.Error("the form lost the ticked measure")
	}
}

func TestPivotNeedsAnalyticsAccess(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), 20)
	rep := e.login(auth.Rep)
	for _, p := range []string{"/pivot", "/pivot/export?row=tier&m=customers", "/pivot/cell?d=tier&v=gold"} {
		if res := rep.get(p); res.status != http.StatusForbidden {
			t.Errorf("rep GET %s: %d, want 403", p, res.status)
		}
	}
	if res := e.anonymous().get("/pivot"); res.status != http.StatusSeeOther {
		t.Errorf("anonymous GET /pivot: %d, want a redirect to log in", res.status)
	}
	v := e.login(auth.Viewer)
	if res := v.get("/pivot"); res.status != http.StatusOK {
		t.Errorf("viewer GET /pivot: %d", res.status)
	}
	if res := v.get("/dashboards?lang=en"); !strings.Contains(res.body, `href="/pivot"`) {
		t.Error("the dashboards do not link to the pivot table")
	}
}

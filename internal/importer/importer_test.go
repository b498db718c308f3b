package importer_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/importer"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/storetest"
)

var actor = store.Actor{ID: "tester", Kind: "user"}

func open(t *testing.T, name string, data []byte) *importer.Table {
	t.Helper()
	tb, err := importer.Open(bytes.NewReader(data), name)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	t.Cleanup(func() { tb.Close() })
	return tb
}

func rules(t *testing.T, s *store.Store) customer.Rules {
	t.Helper()
	fields, err := s.FieldMap(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return customer.Rules{Region: "CN", Fields: fields}
}

type result struct {
	rep     importer.Report
	rejects []store.ImportReject
}

func runImport(t *testing.T, s *store.Store, kind importer.Kind, name string, data []byte, opt importer.Options) result {
	t.Helper()
	var res result
	opt.Kind, opt.Actor, opt.Rules = kind, actor, rules(t, s)
	opt.Reject = func(r store.ImportReject) { res.rejects = append(res.rejects, r) }
	if opt.Chunk == 0 {
		opt.Chunk = 3 // several chunks even in small files
	}
	rep, err := importer.Run(context.Background(), s, open(t, name, data), opt)
	if err != nil {
		t.Fatalf("import %s: %v", name, err)
	}
	res.rep = rep
	return res
}

// find returns the live customer an identity belongs to.
func find(t *testing.T, s *store.Store, q string) customer.Customer {
	t.Helper()
	page, err := s.ListCustomers(context.Background(), store.Filter{Q: q, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 {
		t.Fatalf("search %q found %d customers, want 1", q, len(page.Items))
	}
	c, err := s.Customer(context.Background(), page.Items[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func countCustomers(t *testing.T, s *store.Store) int {
	t.Helper()
	n := 0
	cursor := ""
	for {
		page, err := s.ListCustomers(context.Background(), store.Filter{Limit: 500, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Items)
		if page.NextCursor == "" {
			return n
		}
		cursor = page.NextCursor
	}
}

func countAudit(t *testing.T, s *store.Store) int {
	t.Helper()
	es, err := s.Audit(context.Background(), "", 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

func gbk(t *testing.T, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatalf("encode GBK: %v", err)
	}
	return b
}

// gbkFile is a Chinese Excel export: GBK, CRLF, with good and bad rows.
const gbkFile = "姓名,手机,邮箱,公司,城市,标签\r\n" +
	"张伟,138 0013 8000,Zhang.Wei@Example.COM,星辰科技,上海,VIP、老客户\r\n" + // line 2: good
	"李娜,139-0013-9000,li.na@example.cn,星辰科技,北京,\r\n" + // line 3: good, same company
	"王芳,12345,wang.fang@example.com,,广州,\r\n" + // line 4: bad phone
	"赵磊,13700137000,not-an-email,,深圳,\r\n" + // line 5: bad email
	",,,,,\r\n" + // blank
	"陈静,,,,杭州,\r\n" + // line 7: no identity
	"刘洋,13600136000,,云海贸易,成都,新客户\r\n" // line 8: good

func TestGBKFileImportsGoodRowsAndRejectsBadOnesWithLineAndReason(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s := e.Store
			res := runImport(t, s, importer.Customers, "客户.csv", gbk(t, gbkFile), importer.Options{})
			rep := res.rep
			if rep.Encoding != "gb18030" || rep.Delimiter != "," {
				t.Fatalf("detected %s %q, want gb18030 ,", rep.Encoding, rep.Delimiter)
			}
			if rep.Imported != 3 || rep.Merged != 0 || rep.Rejected != 3 || rep.Blank != 1 || rep.Organizations != 2 {
				t.Fatalf("summary %s, want 3 imported, 3 rejected, 1 blank, 2 organizations", rep.Summary())
			}
			wantLines := []int{4, 5, 7}
			for i, rj := range res.rejects {
				if rj.Line != wantLines[i] {
					t.Errorf("reject %d on line %d, want %d", i, rj.Line, wantLines[i])
				}
			}
			if !strings.Contains(res.rejects[0].Reason, "手机") || !strings.Contains(res.rejects[0].Reason, "12345") {
				t.Errorf("phone reject reason %q should name the column and value", res.rejects[0].Reason)
			}
			if !strings.Contains(res.rejects[1].Reason, "邮箱") || !strings.Contains(res.rejects[1].Reason, "not-an-email") {
				t.Errorf("email reject reason %q should name the column and value", res.rejects[1].Reason)
			}
			if res.rejects[1].Cells[0] != "赵磊" {
				t.Errorf("rejected cells should be the decoded originals, got %q", res.rejects[1].Cells)
			}
			zw := find(t, s, "zhang.wei@example.com")
			if zw.Name != "张伟" || !slices.Equal(zw.Tags, []string{"VIP", "老客户"}) {
				t.Fatalf("张伟 stored as %q tags %q", zw.Name, zw.Tags)
			}
			if !slices.Contains(zw.Identities, customer.Identity{Type: "phone", Value: "+8613800138000"}) {
				t.Fatalf("phone not normalized: %+v", zw.Identities)
			}
			ln := find(t, s, "li.na@example.cn")
			if len(zw.Memberships) != 1 || len(ln.Memberships) != 1 || zw.Memberships[0].OrganizationID != ln.Memberships[0].OrganizationID {
				t.Fatalf("both should be members of one 星辰科技: %+v %+v", zw.Memberships, ln.Memberships)
			}
			org, err := s.Customer(context.Background(), zw.Memberships[0].OrganizationID)
			if err != nil || org.Name != "星辰科技" || org.Kind != customer.Organization {
				t.Fatalf("organization: %+v %v", org, err)
			}
			if got := countCustomers(t, s); got != 5 {
				t.Fatalf("%d customers stored, want 3 people and 2 organizations", got)
			}
		})
	}
}

func TestBOMSemicolonCSV(t *testing.T) {
	e := storetest.SQLite(t)
	data := "\ufeffE-mail;Full Name;Mobile\nanna@example.com;Anna Smith;+1 (415) 555-0132\n"
	res := runImport(t, e.Store, importer.Customers, "people.csv", []byte(data), importer.Options{})
	if res.rep.Encoding != "utf-8-bom" || res.rep.Delimiter != ";" || res.rep.Imported != 1 {
		t.Fatalf("%s %q %s", res.rep.Encoding, res.rep.Delimiter, res.rep.Summary())
	}
	if res.rep.Header[0] != "E-mail" {
		t.Fatalf("BOM left in the header: %q", res.rep.Header[0])
	}
	c := find(t, e.Store, "anna@example.com")
	if c.Name != "Anna Smith" || !slices.Contains(c.Identities, customer.Identity{Type: "phone", Value: "+14155550132"}) {
		t.Fatalf("%+v", c)
	}
}

func TestTabDelimitedUTF8(t *testing.T) {
	e := storetest.SQLite(t)
	data := "name\temail\tnotes\nBo\tbo@example.com\thello, world\n"
	res := runImport(t, e.Store, importer.Customers, "x.tsv", []byte(data), importer.Options{})
	if res.rep.Delimiter != "\t" || res.rep.Imported != 1 {
		t.Fatalf("%q %s", res.rep.Delimiter, res.rep.Summary())
	}
	if len(res.rep.Ignored) != 1 || res.rep.Ignored[0].Column != "notes" {
		t.Fatalf("notes should be reported as ignored: %+v", res.rep.Ignored)
	}
}

func xlsxFile(t *testing.T, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestXLSXWithNumericPhones(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			data := xlsxFile(t, [][]any{
				{"客户姓名", "手机号码", "电子邮箱", "标签"},
				{"周杰", 13900139000, "zhou.jie@example.com", "VIP"},
				{"吴敏", "13500135000", "bad@", ""},
				{nil, nil, nil, nil},
				{"孙丽", 13300133000, nil, "新客户;VIP"},
			})
			// The name says .csv; the content is a workbook.
			res := runImport(t, e.Store, importer.Customers, "upload.csv", data, importer.Options{})
			if res.rep.Format != "xlsx" || res.rep.Imported != 2 || res.rep.Rejected != 1 {
				t.Fatalf("%s %s", res.rep.Format, res.rep.Summary())
			}
			if res.rejects[0].Line != 3 {
				t.Fatalf("rejected sheet row %d, want 3", res.rejects[0].Line)
			}
			c := find(t, e.Store, "+8613300133000")
			if c.Name != "孙丽" || !slices.Equal(c.Tags, []string{"VIP", "新客户"}) {
				t.Fatalf("%+v", c)
			}
		})
	}
}

func TestGuessMappingFromChineseAndEnglishHeaders(t *testing.T) {
	fields := map[string]customer.Field{
		"city":  {Key: "city", Type: customer.FieldText},
		"level": {Key: "level", Type: customer.FieldEnum, LabelZh: "会员等级", Options: []string{"金", "银"}},
	}
	header := []string{"姓名", "手机", "电话", "Email", "公司", "城市", "会员等级", "邮编", "备注", "Tags", "Customer ID"}
	m, err := importer.GuessMapping(importer.Customers, header, fields, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"name", "phone", "phone", "email", "company", "attributes.city", "attributes.level", "", "", "tags", "external_id"}
	for i, f := range m.Columns {
		if string(f) != want[i] {
			t.Errorf("column %q → %q, want %q", header[i], f, want[i])
		}
	}
	var ignored []string
	for _, ig := range m.Ignored {
		ignored = append(ignored, ig.Column)
		if ig.Reason == "" {
			t.Errorf("column %q ignored without a reason", ig.Column)
		}
	}
	if !slices.Equal(ignored, []string{"邮编", "备注"}) {
		t.Fatalf("ignored %q", ignored)
	}
	if !strings.Contains(m.Ignored[0].Reason, "declared") {
		t.Errorf("邮编 should be ignored as an undeclared field: %q", m.Ignored[0].Reason)
	}

	// Overrides: 备注 becomes the city attribute, 电话 is ignored.
	m, err = importer.GuessMapping(importer.Customers, header, fields, map[string]string{"备注": "attributes.city", "城市": "-", "电话": "ignore"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Columns[8] != "attributes.city" || m.Columns[5] != "" || m.Columns[2] != "" {
		t.Fatalf("overrides not applied: %q", m.Columns)
	}
	for _, bad := range []map[string]string{{"nope": "email"}, {"备注": "attributes.undeclared"}, {"备注": "shoe_size"}} {
		if _, err := importer.GuessMapping(importer.Customers, header, fields, bad); err == nil {
			t.Errorf("override %v accepted", bad)
		}
	}
	if _, err := importer.GuessMapping(importer.Customers, []string{"a", "b"}, nil, nil); err == nil {
		t.Error("a file with no usable column should be refused")
	}
}

func TestDeclaredAttributesAreTypedAndValidatedByTheDomainRules(t *testing.T) {
	e := storetest.SQLite(t)
	ctx := context.Background()
	for _, f := range []customer.Field{
		{Key: "city", Type: customer.FieldText, CreatedAt: time.Now()},
		{Key: "points", Type: customer.FieldNumber, LabelZh: "积分", CreatedAt: time.Now()},
		{Key: "born", Type: customer.FieldDate, LabelZh: "生日", CreatedAt: time.Now()},
	} {
		if err := e.Store.CreateField(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	data := "姓名,邮箱,城市,积分,生日\n甲,a@example.com,上海,\"1,200\",1990/2/1\n乙,b@example.com,北京,很多,\n"
	res := runImport(t, e.Store, importer.Customers, "a.csv", []byte(data), importer.Options{})
	if res.rep.Imported != 1 || res.rep.Rejected != 1 {
		t.Fatal(res.rep.Summary())
	}
	if !strings.Contains(res.rejects[0].Reason, "积分") || !strings.Contains(res.rejects[0].Reason, "must be a number") {
		t.Fatalf("reason %q", res.rejects[0].Reason)
	}
	c := find(t, e.Store, "a@example.com")
	if c.Attributes["points"] != 1200.0 || c.Attributes["born"] != "1990-02-01" || c.Attributes["city"] != "上海" {
		t.Fatalf("attributes %v", c.Attributes)
	}
}

func TestDryRunWritesNothingAndPreviewsEachRow(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s := e.Store
			seed := "姓名,邮箱\n老王,lao.wang@example.com\n"
			runImport(t, s, importer.Customers, "seed.csv", []byte(seed), importer.Options{})
			customers, audit := countCustomers(t, s), countAudit(t, s)

			data := "姓名,邮箱,手机,公司\n老王,lao.wang@example.com,13800138000,\n新人,new@example.com,,新公司\n新人,new@example.com,13900139000,\n坏,bad,,\n"
			res := runImport(t, s, importer.Customers, "dry.csv", []byte(data), importer.Options{DryRun: true, Preview: 10})
			if got := countCustomers(t, s); got != customers {
				t.Fatalf("dry run stored customers: %d → %d", customers, got)
			}
			if got := countAudit(t, s); got != audit {
				t.Fatalf("dry run wrote audit: %d → %d", audit, got)
			}
			rep := res.rep
			if rep.Imported != 1 || rep.Merged != 2 || rep.Rejected != 1 || rep.Organizations != 1 || !rep.DryRun {
				t.Fatalf("%s", rep.Summary())
			}
			want := []string{importer.OutcomeMerged, importer.OutcomeImported, importer.OutcomeMerged, importer.OutcomeRejected}
			for i, p := range rep.Preview {
				if p.Outcome != want[i] || p.Line != i+2 {
					t.Errorf("preview %d: %+v, want %s on line %d", i, p, want[i], i+2)
				}
			}
			if !slices.Contains(rep.Preview[0].Changes, "identities") {
				t.Errorf("the merge should list the identities change: %+v", rep.Preview[0])
			}
		})
	}
}

func TestRejectedRowsCSVHasOriginalColumnsAndError(t *testing.T) {
	e := storetest.SQLite(t)
	data := "姓名,邮箱,备注\n好,good@example.com,x\n\"坏, 很坏\",nope,\"多行\n备注\"\n"
	res := runImport(t, e.Store, importer.Customers, "r.csv", []byte(data), importer.Options{ImportID: ""})
	var buf bytes.Buffer
	w, err := importer.NewRejectsWriter(&buf, res.rep.Header)
	if err != nil {
		t.Fatal(err)
	}
	for _, rj := range res.rejects {
		if err := w.Write(rj); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || !slices.Equal(recs[0], []string{"姓名", "邮箱", "备注", "error"}) {
		t.Fatalf("rejects csv: %q", recs)
	}
	if r := recs[1]; r[0] != "坏, 很坏" || r[1] != "nope" || r[2] != "多行\n备注" || !strings.HasPrefix(r[3], "line 3: 邮箱") {
		t.Fatalf("rejected row: %q", r)
	}
}

func seedCustomers(t *testing.T, s *store.Store, ins ...customer.Input) []*customer.Customer {
	t.Helper()
	var cs []*customer.Customer
	now := time.Now().UTC()
	for _, in := range ins {
		c := &customer.Customer{ID: customer.NewID(), CreatedAt: now, UpdatedAt: now, Version: 1}
		if err := (customer.Rules{Region: "CN"}).Apply(c, in, true); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	if err := s.CreateCustomers(context.Background(), actor, cs); err != nil {
		t.Fatal(err)
	}
	return cs
}

func person(name string, ids ...customer.Identity) customer.Input {
	k := customer.Person
	return customer.Input{Kind: &k, Name: &name, Identities: &ids}
}

func TestRowsMergeIntoExistingCustomersByEmailOrPhone(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s := e.Store
			cs := seedCustomers(t, s,
				person("张伟", customer.Identity{Type: "email", Value: "zw@example.com"}),
				person("李娜", customer.Identity{Type: "phone", Value: "13900139000"}))
			data := "姓名,邮箱,手机,标签\n" +
				",ZW@example.com,13800138000,VIP\n" + // by email: adds the phone and a tag, keeps the name
				"李娜娜,ln@example.com,139 0013 9000,\n" // by phone: renames, adds the email
			res := runImport(t, s, importer.Customers, "m.csv", []byte(data), importer.Options{})
			if res.rep.Imported != 0 || res.rep.Merged != 2 || res.rep.Unchanged != 0 || res.rep.Rejected != 0 {
				t.Fatalf("%s %+v", res.rep.Summary(), res.rejects)
			}
			zw, _ := s.Customer(context.Background(), cs[0].ID)
			if zw.Name != "张伟" || zw.Version != 2 || !slices.Equal(zw.Tags, []string{"VIP"}) ||
				!slices.Contains(zw.Identities, customer.Identity{Type: "phone", Value: "+8613800138000"}) {
				t.Fatalf("张伟 after merge: %+v", zw)
			}
			ln, _ := s.Customer(context.Background(), cs[1].ID)
			if ln.Name != "李娜娜" || len(ln.Identities) != 2 {
				t.Fatalf("李娜 after merge: %+v", ln)
			}
			entries, _ := s.Audit(context.Background(), cs[0].ID, 0, 10)
			if len(entries) != 2 || entries[0].Action != "update" || !strings.Contains(string(entries[0].Changes), "+8613800138000") {
				t.Fatalf("merge audit: %+v", entries)
			}
			if got := countCustomers(t, s); got != 2 {
				t.Fatalf("%d customers, want 2 (no duplicates)", got)
			}
		})
	}
}

func TestRowMatchingTwoCustomersIsRejectedNamingBoth(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s := e.Store
			cs := seedCustomers(t, s,
				person("甲", customer.Identity{Type: "email", Value: "a@example.com"}),
				person("乙", customer.Identity{Type: "phone", Value: "13900139000"}))
			res := runImport(t, s, importer.Customers, "c.csv", []byte("姓名,邮箱,手机\n丙,a@example.com,13900139000\n"), importer.Options{})
			if res.rep.Rejected != 1 || res.rep.Merged != 0 {
				t.Fatal(res.rep.Summary())
			}
			reason := res.rejects[0].Reason
			if !strings.Contains(reason, cs[0].ID) || !strings.Contains(reason, cs[1].ID) {
				t.Fatalf("reason %q should name both customers", reason)
			}
			for _, c := range cs {
				got, _ := s.Customer(context.Background(), c.ID)
				if got.Version != 1 || got.Name == "丙" {
					t.Fatalf("customer changed by a rejected row: %+v", got)
				}
			}
		})
	}
}

func TestReimportingTheSameFileChangesNothing(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s := e.Store
			data := gbk(t, gbkFile)
			first := runImport(t, s, importer.Customers, "a.csv", data, importer.Options{})
			before := map[string]int64{}
			page, _ := s.ListCustomers(context.Background(), store.Filter{Limit: 100})
			for _, c := range page.Items {
				before[c.ID] = c.Version
			}
			audit := countAudit(t, s)
			again := runImport(t, s, importer.Customers, "a.csv", data, importer.Options{})
			if again.rep.Imported != 0 || again.rep.Merged != first.rep.Imported || again.rep.Unchanged != first.rep.Imported ||
				again.rep.Rejected != first.rep.Rejected || again.rep.Organizations != 0 {
				t.Fatalf("re-import: %s (first: %s)", again.rep.Summary(), first.rep.Summary())
			}
			page, _ = s.ListCustomers(context.Background(), store.Filter{Limit: 100})
			if len(page.Items) != len(before) {
				t.Fatalf("%d customers after re-import, %d before", len(page.Items), len(before))
			}
			for _, c := range page.Items {
				if before[c.ID] != c.Version {
					t.Errorf("customer %s version %d → %d", c.Name, before[c.ID], c.Version)
				}
			}
			if got := countAudit(t, s); got != audit {
				t.Fatalf("re-import wrote %d audit entries", got-audit)
			}
		})
	}
}

func TestDuplicateRowsInOneFileBecomeOneCustomer(t *testing.T) {
	e := storetest.SQLite(t)
	var b strings.Builder
	b.WriteString("name,email,phone\n")
	for range 5 {
		b.WriteString("Ann,ann@example.com,\n")
	}
	b.WriteString("Ann B,,13800138000\nAnn,ann@example.com,13800138000\n")
	res := runImport(t, e.Store, importer.Customers, "d.csv", []byte(b.String()), importer.Options{Chunk: 2})
	// The last row links the email customer and the phone customer: it is
	// rejected, not silently merged.
	if res.rep.Imported != 2 || res.rep.Merged != 4 || res.rep.Unchanged != 4 || res.rep.Rejected != 1 {
		t.Fatalf("%s %+v", res.rep.Summary(), res.rejects)
	}
	if countCustomers(t, e.Store) != 2 || res.rejects[0].Line != 8 {
		t.Fatalf("%d customers, reject %+v", countCustomers(t, e.Store), res.rejects)
	}
}

func TestInteractionsImportAttachesToCustomersAndIsIdempotent(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s := e.Store
			cs := seedCustomers(t, s, person("张伟", customer.Identity{Type: "phone", Value: "13800138000"}))
			data := "手机,类型,时间,内容\n" +
				"13800138000,电话,2024-03-01 10:00,询问价格\n" +
				"13800138000,拜访,2024/3/5,上门演示\n" +
				"13900000000,电话,2024-03-01,无此客户\n" +
				"13800138000,传真,2024-03-01,未知类型\n"
			res := runImport(t, s, importer.Interactions, "i.csv", []byte(data), importer.Options{})
			if res.rep.Imported != 2 || res.rep.Rejected != 2 {
				t.Fatalf("%s %+v", res.rep.Summary(), res.rejects)
			}
			ins, _ := s.Interactions(context.Background(), cs[0].ID, 10)
			if len(ins) != 2 || ins[0].Kind != "visit" || ins[1].Kind != "call" {
				t.Fatalf("%+v", ins)
			}
			c, _ := s.Customer(context.Background(), cs[0].ID)
			if c.Stats.Interactions != 2 {
				t.Fatalf("stats %+v", c.Stats)
			}
			again := runImport(t, s, importer.Interactions, "i.csv", []byte(data), importer.Options{})
			if again.rep.Imported != 0 || again.rep.Unchanged != 2 {
				t.Fatal(again.rep.Summary())
			}
			c, _ = s.Customer(context.Background(), cs[0].ID)
			if c.Stats.Interactions != 2 {
				t.Fatalf("re-import changed stats: %+v", c.Stats)
			}
		})
	}
}

const ordersFile = "订单号,手机,下单时间,商品名称,单价,数量,订单金额\n" +
	"A-1,13800138000,2024-03-01 10:00,咖啡豆,88,2,176\n" +
	"A-2,13800138000,2024-03-05 12:00,滤纸,10,1,10\n" +
	"A-1,13800138000,2024-03-01 10:00,马克杯,0,1,176\n" + // second line of A-1, not adjacent
	"B-1,13900000000,2024-03-02,茶叶,50,1,50\n" + // no such customer
	"C-1,13800138000,不是日期,茶叶,50,1,50\n" + // bad date
	"C-1,13800138000,2024-03-03,茶杯,20,1,50\n" // C-1 is rejected whole

func TestOrdersAreGroupedByOrderIDAndResolvedToTheCustomer(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s := e.Store
			seedCustomers(t, s, person("张伟", customer.Identity{Type: "phone", Value: "13800138000"}))
			res := runImport(t, s, importer.Orders, "o.csv", []byte(ordersFile), importer.Options{DryRun: true, Preview: 10})
			if res.rep.Orders != 2 || res.rep.Imported != 3 || res.rep.Rejected != 3 {
				t.Fatalf("dry run: %s %+v", res.rep.Summary(), res.rejects)
			}
			var lines []int
			for _, rj := range res.rejects {
				lines = append(lines, rj.Line)
			}
			slices.Sort(lines)
			if !slices.Equal(lines, []int{5, 6, 7}) || !strings.Contains(res.rejects[0].Reason, "no customer has phone +8613900000000") {
				t.Fatalf("rejects %+v", res.rejects)
			}
			res = runImport(t, s, importer.Orders, "o.csv", []byte(ordersFile), importer.Options{})
			if res.rep.Orders != 2 || res.rep.Imported != 3 || res.rep.Rejected != 3 {
				t.Fatalf("import: %s", res.rep.Summary())
			}
			c := find(t, s, "+8613800138000")
			if c.Stats.Orders != 2 || c.Stats.Revenue != 186 {
				t.Fatalf("stats after import: %+v", c.Stats)
			}
			again := runImport(t, s, importer.Orders, "o.csv", []byte(ordersFile), importer.Options{})
			if again.rep.Orders != 0 || again.rep.Imported != 0 || again.rep.Unchanged != 3 {
				t.Fatalf("re-import: %s", again.rep.Summary())
			}
			c = find(t, s, "+8613800138000")
			if c.Stats.Orders != 2 {
				t.Fatalf("re-import changed stats: %+v", c.Stats)
			}
		})
	}
}

func TestProgressIsReportedAfterEveryChunk(t *testing.T) {
	e := storetest.SQLite(t)
	var b strings.Builder
	b.WriteString("name,email\n")
	for i := range 10 {
		b.WriteString("P,p" + strings.Repeat("x", i) + "@example.com\n")
	}
	var calls [][2]int64
	runImport(t, e.Store, importer.Customers, "p.csv", []byte(b.String()), importer.Options{Chunk: 4,
		Progress: func(done, total int64) { calls = append(calls, [2]int64{done, total}) }})
	want := [][2]int64{{4, 10}, {8, 10}, {10, 10}}
	if !slices.Equal(calls, want) {
		t.Fatalf("progress calls %v, want %v", calls, want)
	}
}

func TestUTF16TabDelimitedExcelUnicodeText(t *testing.T) {
	e := storetest.SQLite(t)
	text := "姓名\t手机\r\n钱多多\t13800138000\r\n"
	data := []byte{0xff, 0xfe}
	for _, r := range text {
		data = append(data, byte(r), byte(r>>8))
	}
	res := runImport(t, e.Store, importer.Customers, "unicode.txt", data, importer.Options{})
	if res.rep.Encoding != "utf-16" || res.rep.Delimiter != "\t" || res.rep.Imported != 1 {
		t.Fatalf("%s %q %s %+v", res.rep.Encoding, res.rep.Delimiter, res.rep.Summary(), res.rejects)
	}
	if c := find(t, e.Store, "+8613800138000"); c.Name != "钱多多" {
		t.Fatalf("%+v", c)
	}
}

// TestBulkImportIsSearchableWhenItEnds: a large import (store.Bulk, search
// indexing deferred to its end) finds what it imported by the text the
// customers have at the end (a later row added a phone to a customer an
// earlier chunk created), and re-importing it changes nothing.
func TestBulkImportIsSearchableWhenItEnds(t *testing.T) {
	defer importer.SetBulkRows(0)()
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s := e.Store
			seedCustomers(t, s, person("李娜", customer.Identity{Type: "phone", Value: "13900139000"}))
			data := "姓名,邮箱,手机\n" +
				"Ann,ann@example.com,\n" +
				"Bob,bob@example.com,13700137000\n" +
				"Ann,ann@example.com,13800138000\n" + // merges into the Ann of the first chunk
				"李娜娜,ln@example.com,139 0013 9000\n" + // merges into a customer stored before
				"Cat,cat@example.com,12345\n" // rejected
			first := runImport(t, s, importer.Customers, "b.csv", []byte(data), importer.Options{Chunk: 2})
			if first.rep.Imported != 2 || first.rep.Merged != 2 || first.rep.Rejected != 1 {
				t.Fatalf("%s %+v", first.rep.Summary(), first.rejects)
			}
			ann := find(t, s, "13800138000")
			if ann.Name != "Ann" || find(t, s, "ann@example").ID != ann.ID {
				t.Fatalf("Ann by her added phone: %+v", ann)
			}
			if find(t, s, "bob@example").Name != "Bob" || find(t, s, "ln@example").Name != "李娜娜" {
				t.Fatal("imported or merged customer not found")
			}
			again := runImport(t, s, importer.Customers, "b.csv", []byte(data), importer.Options{Chunk: 2})
			if again.rep.Imported != 0 || again.rep.Unchanged != 4 || again.rep.Rejected != 1 {
				t.Fatalf("re-import: %s", again.rep.Summary())
			}
			if got := countCustomers(t, s); got != 3 {
				t.Fatalf("%d customers, want 3", got)
			}
		})
	}
}

// TestMergeInTheChunkThatCreatedTheCustomer: a later row of the same chunk
// that adds an identity to a customer the chunk creates is stored with it,
// not the rows a worker built from the first row alone.
func TestMergeInTheChunkThatCreatedTheCustomer(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s := e.Store
			data := "姓名,邮箱,手机\n" +
				"Dora,dora@example.com,\n" +
				"Dora,dora@example.com,13600136000\n"
			rep := runImport(t, s, importer.Customers, "d.csv", []byte(data), importer.Options{Chunk: 10}).rep
			if rep.Imported != 1 || rep.Merged != 1 {
				t.Fatalf("%s", rep.Summary())
			}
			dora := find(t, s, "13600136000") // by the search text
			var phone bool
			for _, id := range dora.Identities {
				phone = phone || id.Type == customer.IdentityPhone && id.Value == "+8613600136000"
			}
			if dora.Name != "Dora" || !phone {
				t.Fatalf("Dora lost the phone her second row added: %+v", dora)
			}
		})
	}
}

// TestRowsWithUnstorableTextAreRejectedWithTheirLine: a NUL character in
// a cell (some exports pad fields with them) cannot be stored on
// PostgreSQL; the row is rejected with its line and column, and the rest
// of the file imports, on both engines alike.
func TestRowsWithUnstorableTextAreRejectedWithTheirLine(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			file := "name,email,city\n" +
				"Ann Lee,ann@example.com,Paris\n" +
				"Bob\x00Stone,bob@example.com,Lyon\n" +
				"Cat Wu,cat@example.com,Li\x00lle\n" +
				"Dan Ho,dan@example.com,Nice\n"
			res := runImport(t, e.Store, importer.Customers, "nul.csv", []byte(file), importer.Options{})
			if res.rep.Imported != 2 || res.rep.Rejected != 2 {
				t.Fatalf("summary %s, want 2 imported and 2 rejected", res.rep.Summary())
			}
			for i, want := range []struct {
				line   int
				column string
			}{{3, "name"}, {4, "city"}} {
				rj := res.rejects[i]
				if rj.Line != want.line || !strings.Contains(rj.Reason, want.column) || !strings.Contains(rj.Reason, "NUL") {
					t.Errorf("reject %d: line %d %q, want line %d naming %s and NUL", i, rj.Line, rj.Reason, want.line, want.column)
				}
			}
			// The rejected-rows file shows where the NUL was.
			if got := res.rejects[0].Cells[0]; got != "Bob\ufffdStone" {
				t.Errorf("rejected cells %q, want the NUL shown as U+FFFD", got)
			}
			if got := countCustomers(t, e.Store); got != 2 {
				t.Fatalf("%d customers stored, want 2", got)
			}
		})
	}
}

// TestOrderAmountsBeyondAnyRealOrderAreRejected: an amount past ±1e12, or
// lines that multiply past it, would make the customer's revenue
// unshowable once summed; the order's rows are rejected with the reason.
func TestOrderAmountsBeyondAnyRealOrderAreRejected(t *testing.T) {
	e := storetest.SQLite(t)
	s := e.Store
	seedCustomers(t, s, person("张伟", customer.Identity{Type: "phone", Value: "13800138000"}))
	file := "订单号,手机,下单时间,商品名称,单价,数量,订单金额\n" +
		"A-1,13800138000,2024-03-01,咖啡豆,88,2,176\n" +
		"H-1,13800138000,2024-03-02,金条,1e15,1,\n" + // a price past the bound
		"H-2,13800138000,2024-03-03,金条,2000000,10000000,\n" // fine apart, not together
	res := runImport(t, s, importer.Orders, "o.csv", []byte(file), importer.Options{})
	if res.rep.Imported != 1 || res.rep.Rejected != 2 {
		t.Fatalf("import: %s %+v", res.rep.Summary(), res.rejects)
	}
	for _, rj := range res.rejects {
		if !strings.Contains(rj.Reason, "1e12") && !strings.Contains(rj.Reason, "1 万亿") {
			t.Errorf("line %d: reason %q does not give the bound", rj.Line, rj.Reason)
		}
	}
	if c := find(t, s, "+8613800138000"); c.Stats.Orders != 1 || c.Stats.Revenue != 176 {
		t.Fatalf("stats: %+v", c.Stats)
	}
}

package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/storetest"
)

// upload posts a multipart form with one file, as a browser does.
func (b *browser) upload(path string, fields map[string]string, fileName string, content []byte) response {
	b.e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if fileName != "" {
		fw, err := mw.CreateFormFile("file", fileName)
		if err != nil {
			b.e.t.Fatal(err)
		}
		fw.Write(content)
	}
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.e.url+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

func gbkBytes(t testing.TB, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// customersMatching lists stored customers whose name or identity holds q.
func customersMatching(t testing.TB, st *store.Store, q string) int {
	t.Helper()
	p, err := st.ListCustomers(context.Background(), store.Filter{Q: q, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return len(p.Items)
}

var uploadPath = regexp.MustCompile(`^/imports/uploads/([0-9a-f]{32})$`)

// uploadFile runs the wizard's first step and returns the mapping page's path.
func uploadFile(t testing.TB, b *browser, kind, name string, content []byte) string {
	t.Helper()
	res := b.upload("/imports", map[string]string{"kind": kind}, name, content)
	loc := res.header.Get("Location")
	if res.status != http.StatusSeeOther || !uploadPath.MatchString(loc) {
		t.Fatalf("upload %s: %d to %q: %s", name, res.status, loc, res.body)
	}
	return loc
}

const wizardCSV = "姓名,手机,邮箱\n张伟,13800138000,zhang.wei@example.com\n王芳,12345,\n李娜,,li.na@example.cn\n"

func TestImportWizardUploadsGBKDryRunsThenImportsInTheBackground(t *testing.T) {
	forEngine(t, 0, func(t *testing.T, e *env) {
		ctx := context.Background()
		b := e.login(auth.Rep)
		if res := b.get("/imports"); res.status != http.StatusOK || !strings.Contains(res.body, `enctype="multipart/form-data"`) {
			t.Fatalf("GET /imports: %d", res.status)
		}
		mapPath := uploadFile(t, b, "customers", "客户.csv", gbkBytes(t, wizardCSV))

		// The guessed mapping, one select per column, with the file's own values.
		res := b.get(mapPath)
		for _, want := range []string{`<option value="name" selected>`, `<option value="phone" selected>`, `<option value="email" selected>`, "张伟", "gb18030"} {
			if !strings.Contains(res.body, want) {
				t.Errorf("mapping page lacks %q", want)
			}
		}
		// Someone else cannot use the upload.
		if res := e.login(auth.Manager).get(mapPath); res.status != http.StatusNotFound {
			t.Fatalf("another user's upload: %d, want 404", res.status)
		}

		form := url.Values{"col.0": {"name"}, "col.1": {"phone"}, "col.2": {"email"}, "action": {"dry"}}
		res = b.post(mapPath, form)
		if res.status != http.StatusOK {
			t.Fatalf("dry run: %d %s", res.status, res.body)
		}
		for _, want := range []string{`id="dry-rows">3<`, `id="dry-imported">2<`, `id="dry-rejected">1<`, `<td class="num">3</td>`, "12345"} {
			if !strings.Contains(res.body, want) {
				t.Errorf("dry run page lacks %q", want)
			}
		}
		if n := customersMatching(t, e.st, "example"); n != 0 {
			t.Fatalf("the dry run wrote %d customers", n)
		}

		form.Set("action", "run")
		res = b.post(mapPath, form)
		loc := res.header.Get("Location")
		if res.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/imports/jobs/") {
			t.Fatalf("run: %d to %q: %s", res.status, loc, res.body)
		}
		id := strings.TrimPrefix(loc, "/imports/jobs/")
		e.ui.Imports.Wait(ctx, id)
		res = b.get(loc)
		for _, want := range []string{`data-status="done"`, `id="res-imported">2<`, `id="res-rejected">1<`, `href="/imports/jobs/` + id + `/rejects.csv"`} {
			if !strings.Contains(res.body, want) {
				t.Errorf("result page lacks %q", want)
			}
		}
		if strings.Contains(res.body, "hx-trigger") {
			t.Error("a finished import's page still polls")
		}
		if frag := b.get(loc+"/progress", "HX-Request", "true"); frag.status != http.StatusOK || strings.Contains(frag.body, "<html") || !strings.Contains(frag.body, `id="import-progress"`) {
			t.Fatalf("progress fragment: %d", frag.status)
		}
		if n := customersMatching(t, e.st, "example"); n != 2 {
			t.Fatalf("%d customers imported, want 2", n)
		}

		res = b.get(loc + "/rejects.csv")
		if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "text/csv") {
			t.Fatalf("rejects.csv: %d %s", res.status, res.header.Get("Content-Type"))
		}
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.body, "\ufeff"))).ReadAll()
		if err != nil || len(recs) != 2 {
			t.Fatalf("rejects.csv: %v %q", err, recs)
		}
		if h := recs[0]; h[len(h)-1] != "error" || h[0] != "姓名" {
			t.Errorf("rejects header %q", h)
		}
		if r := recs[1]; r[0] != "王芳" || !strings.HasPrefix(r[len(r)-1], "line 3:") {
			t.Errorf("rejected row %q", r)
		}

		// The upload was used up; other users cannot see the import; a viewer cannot import.
		if res := b.get(mapPath); res.status != http.StatusNotFound {
			t.Errorf("upload after import: %d, want 404", res.status)
		}
		if res := e.login(auth.Manager).get(loc); res.status != http.StatusNotFound {
			t.Errorf("another user's import: %d, want 404", res.status)
		}
		if res := e.login(auth.Admin).get(loc + "/rejects.csv"); res.status != http.StatusOK {
			t.Errorf("admin reading an import: %d", res.status)
		}
		if res := e.login(auth.Viewer).get("/imports"); res.status != http.StatusForbidden {
			t.Errorf("viewer: %d, want 403", res.status)
		}
	})
}

func TestImportMappingCanBeFixedByHand(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), 0)
	b := e.login(auth.Rep)
	mapPath := uploadFile(t, b, "customers", "people.csv", []byte("Name,Handy,Notes\nAnna Berg,13900139000,likes tea\n"))
	res := b.get(mapPath)
	if !strings.Contains(res.body, "header not recognised") {
		t.Errorf("the mapping page does not say why Handy is ignored")
	}
	// An unknown field is refused; nothing is imported.
	res = b.post(mapPath, url.Values{"col.0": {"name"}, "col.1": {"bogus"}, "action": {"run"}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "bogus") {
		t.Fatalf("unknown field: %d", res.status)
	}
	res = b.post(mapPath, url.Values{"col.0": {"name"}, "col.1": {"phone"}, "col.2": {""}, "action": {"run"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("run: %d %s", res.status, res.body)
	}
	e.ui.Imports.Wait(context.Background(), strings.TrimPrefix(res.header.Get("Location"), "/imports/jobs/"))
	p, err := e.st.ListCustomers(context.Background(), store.Filter{Q: "13900139000", Limit: 5})
	if err != nil || len(p.Items) != 1 || p.Items[0].Name != "Anna Berg" {
		t.Fatalf("the hand-mapped phone column was not imported: %+v %v", p.Items, err)
	}
	if _, ok := p.Items[0].Attributes["Notes"]; ok {
		t.Error("an ignored column was imported")
	}
}

func TestImportMappingThatCannotImportIsExplainedNotRun(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), 0)
	b := e.login(auth.Rep)
	mapPath := uploadFile(t, b, "orders", "orders.csv", []byte("Email,Product\na@example.com,Tea\n"))
	if res := b.get(mapPath); !strings.Contains(res.body, `id="import-error"`) || !strings.Contains(res.body, "no order id column") {
		t.Fatalf("the mapping page does not explain the missing order id")
	}
	res := b.post(mapPath, url.Values{"col.0": {"email"}, "col.1": {"product_name"}, "action": {"run"}})
	if res.status != http.StatusUnprocessableEntity {
		t.Fatalf("run with an unusable mapping: %d, want 422", res.status)
	}
	// The upload survives the refusal, so the user can fix the mapping.
	if res := b.get(mapPath); res.status != http.StatusOK {
		t.Fatalf("upload after a refused run: %d", res.status)
	}
}

func TestImportUploadsAreCheckedBeforeAnythingElse(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), 0)
	e.ui.MaxUpload = 4 << 10
	b := e.login(auth.Rep)
	cases := []struct {
		name    string
		kind    string
		file    string
		content []byte
		status  int
		want    string
	}{
		{"too large", "customers", "big.csv", bytes.Repeat([]byte("name\nx\n"), 2000), http.StatusRequestEntityTooLarge, "larger than"},
		{"no file", "customers", "", nil, http.StatusUnprocessableEntity, "Choose a CSV or XLSX file"},
		{"bad kind", "pets", "a.csv", []byte("name\nx\n"), http.StatusUnprocessableEntity, "Choose what the file holds"},
		{"old excel", "customers", "old.xls", []byte("\xd0\xcf\x11\xe0 binary"), http.StatusUnprocessableEntity, ".xls"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := b.upload("/imports", map[string]string{"kind": c.kind}, c.file, c.content)
			if res.status != c.status || !strings.Contains(res.body, c.want) {
				t.Fatalf("%d, want %d with %q: %s", res.status, c.status, c.want, res.body)
			}
		})
	}
}

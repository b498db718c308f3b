package api_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/rapportcrm/rapport/internal/auth"
)

// upload posts a file and form fields as multipart/form-data.
func (e *env) upload(role auth.Role, path, fileName string, file []byte, fields map[string]string) resp {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if file != nil {
		fw, err := mw.CreateFormFile("file", fileName)
		if err != nil {
			e.t.Fatal(err)
		}
		fw.Write(file)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", e.url+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+e.keys[role])
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, b}
}

const importCSV = "姓名,手机,邮箱,公司\n" +
	"张伟,138 0013 8000,zhang.wei@example.com,星辰科技\n" +
	"王芳,12345,wang.fang@example.com,\n" +
	"李娜,13900139000,li.na@example.cn,星辰科技\n" +
	"赵磊,13700137000,not-an-email,\n"

func gbkBytes(t *testing.T, s string) []byte {
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestImportUploadReportsProgressAndServesRejects(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		r := e.upload(auth.Rep, "/api/v1/imports", "客户.csv", gbkBytes(t, importCSV), map[string]string{"kind": "customers"})
		if r.status != http.StatusAccepted {
			t.Fatalf("upload: %d %s", r.status, r.body)
		}
		started := r.json(t)
		id, _ := started["id"].(string)
		if id == "" || r.header.Get("Location") != "/api/v1/imports/"+id {
			t.Fatalf("no id or Location: %s %v", r.body, r.header)
		}

		r = e.do(auth.Viewer, "GET", "/api/v1/imports/"+id+"?wait=20", nil)
		if r.status != 200 {
			t.Fatalf("get: %d %s", r.status, r.body)
		}
		var im struct {
			Status      string  `json:"status"`
			Total       int     `json:"total"`
			Done        int     `json:"done"`
			Imported    int     `json:"imported"`
			Merged      int     `json:"merged"`
			Rejected    int     `json:"rejected"`
			Progress    float64 `json:"progress"`
			FileName    string  `json:"file_name"`
			FirstErrors []struct {
				Line   int    `json:"line"`
				Reason string `json:"reason"`
			} `json:"first_errors"`
			Mapping []struct{ Column, Field string } `json:"mapping"`
		}
		if err := json.Unmarshal(r.body, &im); err != nil {
			t.Fatal(err)
		}
		if im.Status != "done" || im.Imported != 2 || im.Rejected != 2 || im.Done != 4 || im.Total != 4 || im.Progress != 1 || im.FileName != "客户.csv" {
			t.Fatalf("import status: %s", r.body)
		}
		if len(im.FirstErrors) != 2 || im.FirstErrors[0].Line != 3 || !strings.Contains(im.FirstErrors[0].Reason, "手机") || im.FirstErrors[1].Line != 5 {
			t.Fatalf("first errors: %+v", im.FirstErrors)
		}
		if len(im.Mapping) != 4 || im.Mapping[1].Field != "phone" {
			t.Fatalf("mapping: %+v", im.Mapping)
		}

		r = e.do(auth.Viewer, "GET", "/api/v1/imports/"+id+"/rejects.csv", nil)
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
			t.Fatalf("rejects: %d %v %s", r.status, r.header, r.body)
		}
		recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.body, []byte("\ufeff")))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 3 || strings.Join(recs[0], ",") != "姓名,手机,邮箱,公司,error" || recs[1][0] != "王芳" || !strings.HasPrefix(recs[1][4], "line 3: ") ||
			recs[2][2] != "not-an-email" {
			t.Fatalf("rejects csv: %q", recs)
		}

		// The people are there, linked to one organization.
		r = e.do(auth.Rep, "GET", "/api/v1/customers?q=zhang.wei@example.com", nil)
		items, _ := r.json(t)["items"].([]any)
		if len(items) != 1 {
			t.Fatalf("imported customer not found: %s", r.body)
		}

		// Importing the same file again changes nothing.
		r = e.upload(auth.Rep, "/api/v1/imports", "客户.csv", gbkBytes(t, importCSV), map[string]string{"kind": "customers"})
		id2, _ := r.json(t)["id"].(string)
		again := e.do(auth.Rep, "GET", "/api/v1/imports/"+id2+"?wait=20", nil).json(t)
		if again["imported"] != 0.0 || again["merged"] != 2.0 || again["unchanged"] != 2.0 || again["rejected"] != 2.0 {
			t.Fatalf("re-import: %v", again)
		}
	})
}

func TestImportDryRunShowsMappingAndPreviewAndWritesNothing(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		r := e.upload(auth.Rep, "/api/v1/imports/dry-run", "x.csv", []byte(importCSV+"无名,,,\n"), map[string]string{"kind": "customers", "map": "公司=-"})
		if r.status != 200 {
			t.Fatalf("dry run: %d %s", r.status, r.body)
		}
		var rep struct {
			DryRun  bool `json:"dry_run"`
			Mapping []struct {
				Column, Field string
			} `json:"mapping"`
			Ignored []struct {
				Column, Reason string
			} `json:"ignored_columns"`
			Imported, Rejected int
			Preview            []struct {
				Line    int
				Outcome string
				Reason  string
			}
		}
		if err := json.Unmarshal(r.body, &rep); err != nil {
			t.Fatal(err)
		}
		if !rep.DryRun || len(rep.Mapping) != 3 || len(rep.Ignored) != 1 || rep.Ignored[0].Column != "公司" {
			t.Fatalf("mapping: %s", r.body)
		}
		if rep.Imported != 2 || rep.Rejected != 3 || len(rep.Preview) != 5 || rep.Preview[0].Outcome != "imported" || rep.Preview[4].Line != 6 || rep.Preview[4].Reason == "" {
			t.Fatalf("preview: %s", r.body)
		}
		r = e.do(auth.Rep, "GET", "/api/v1/customers", nil)
		if items, _ := r.json(t)["items"].([]any); len(items) != 0 {
			t.Fatalf("dry run wrote customers: %s", r.body)
		}
	})
}

func TestImportRefusesBadRequests(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		for _, tc := range []struct {
			name   string
			role   auth.Role
			file   []byte
			fields map[string]string
			status int
		}{
			{"viewer may not import", auth.Viewer, []byte(importCSV), map[string]string{"kind": "customers"}, 403},
			{"unknown kind", auth.Rep, []byte(importCSV), map[string]string{"kind": "cats"}, 422},
			{"no file", auth.Rep, nil, map[string]string{"kind": "customers"}, 422},
			{"no usable column", auth.Rep, []byte("a,b\n1,2\n"), map[string]string{"kind": "customers"}, 422},
			{"bad override", auth.Rep, []byte(importCSV), map[string]string{"kind": "customers", "map": "nope=email"}, 422},
		} {
			r := e.upload(tc.role, "/api/v1/imports", "f.csv", tc.file, tc.fields)
			if r.status != tc.status {
				t.Errorf("%s: %d %s, want %d", tc.name, r.status, r.body, tc.status)
			}
		}
		if r := e.do(auth.Rep, "GET", "/api/v1/imports/nope", nil); r.status != 404 {
			t.Errorf("unknown import: %d", r.status)
		}
	})
}

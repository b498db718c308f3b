package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

var summaryLine = regexp.MustCompile(`^imported=(\d+) merged=(\d+) rejected=(\d+) `)

// importCmd runs `rapport import …` and returns its stdout, stderr and error.
func importCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(append([]string{"import"}, args...), &out, &errOut)
	return out.String(), errOut.String(), err
}

func writeGBK(t *testing.T, dir, name, s string) string {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const cliCSV = "姓名,手机,邮箱,城市\r\n" +
	"张伟,13800138000,zw@example.com,上海\r\n" +
	"王芳,12345,wf@example.com,北京\r\n" +
	"李娜,13900139000,ln@example.com,广州\r\n"

func TestImportCommandPrintsSummaryAndIsIdempotent(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	file := writeGBK(t, dir, "客户.csv", cliCSV)
	rejects := filepath.Join(dir, "rejects.csv")

	// Dry run first: the same counts, nothing written.
	out, _, err := importCmd(t, "customers", file, "--data", data, "--dry-run", "--quiet")
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if m := summaryLine.FindStringSubmatch(out); m == nil || m[1] != "2" || m[3] != "1" || !strings.Contains(out, "dry_run=true") {
		t.Fatalf("dry run summary %q", out)
	}

	out, stderr, err := importCmd(t, "customers", file, "--data", data, "--rejects", rejects)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "imported=2 merged=0 rejected=1 ") {
		t.Fatalf("stdout %q, want one summary line", out)
	}
	for _, want := range []string{"gb18030", "姓名 → name", "城市 → ignored", "line 3 rejected", "rows/s"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	f, err := os.ReadFile(rejects)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(f, []byte("\ufeff")))).ReadAll()
	if err != nil || len(recs) != 2 || recs[1][0] != "王芳" || recs[0][4] != "error" {
		t.Fatalf("rejects file %q %v", recs, err)
	}

	out, _, err = importCmd(t, "customers", file, "--data", data, "--quiet")
	if err != nil || !strings.HasPrefix(out, "imported=0 merged=2 rejected=1 unchanged=2") {
		t.Fatalf("re-import: %q %v", out, err)
	}
}

func TestImportCommandFailsOnlyWhenNothingCouldBeImported(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	bad := writeGBK(t, dir, "bad.csv", "姓名,手机\n甲,123\n乙,456\n")
	out, _, err := importCmd(t, "customers", bad, "--data", data, "--quiet")
	if err == nil {
		t.Fatal("a file with no importable row should fail")
	}
	if !strings.HasPrefix(out, "imported=0 merged=0 rejected=2 ") {
		t.Fatalf("summary %q", out)
	}
	// Flags may come before the kind too; one good row is enough to succeed.
	some := writeGBK(t, dir, "some.csv", "姓名,手机\n甲,123\n乙,13800138000\n")
	if out, _, err := importCmd(t, "--data", data, "--quiet", "customers", some); err != nil || !strings.HasPrefix(out, "imported=1 merged=0 rejected=1 ") {
		t.Fatalf("%q %v", out, err)
	}
	for _, args := range [][]string{
		{"customers"},                  // no file
		{"cats", some, "--data", data}, // unknown kind
		{"customers", filepath.Join(dir, "missing.csv"), "--data", data}, // no such file
		{"customers", some, "--data", data, "--map", "nope=email"},       // bad override
	} {
		if _, _, err := importCmd(t, args...); err == nil {
			t.Errorf("import %q succeeded", args)
		}
	}
}

package value

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// datasetPath finds ../shared/datasets/<rel> from the repository root (the
// directory holding go.mod), or skips the test when it is absent.
func datasetPath(t *testing.T, rel string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, "..", "shared", "datasets", rel)
			if _, err := os.Stat(p); err != nil {
				t.Skipf("dataset %s not found at %s (it ships beside the repository in shared/datasets): %v", rel, p, err)
			}
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skipf("dataset %s: repository root not found", rel)
		}
		dir = parent
	}
}

// customerIndex gives dense indexes to string ids in first-seen order.
type customerIndex struct {
	at  map[string]int32
	ids []string
}

func (x *customerIndex) of(id string) int32 {
	if x.at == nil {
		x.at = map[string]int32{}
	}
	i, ok := x.at[id]
	if !ok {
		i = int32(len(x.ids))
		x.at[id] = i
		x.ids = append(x.ids, id)
	}
	return i
}

// loadCDNOWMaster reads CDNOW_master.txt into orders (one per row; the day
// at noon UTC).
func loadCDNOWMaster(t *testing.T) ([]Order, []string) {
	t.Helper()
	f, err := os.Open(datasetPath(t, "cdnow/CDNOW_master.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var idx customerIndex
	var orders []Order
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		fs := strings.Fields(sc.Text())
		if line == 1 && len(fs) > 0 && fs[0] == "customer_id" {
			continue
		}
		if len(fs) != 4 {
			t.Fatalf("cdnow line %d: %q", line, sc.Text())
		}
		day, err := time.Parse("20060102", fs[1])
		if err != nil {
			t.Fatalf("cdnow line %d: %v", line, err)
		}
		amt, err := strconv.ParseFloat(fs[3], 64)
		if err != nil {
			t.Fatalf("cdnow line %d: %v", line, err)
		}
		orders = append(orders, Order{Customer: idx.of(fs[0]), At: day.Add(12 * time.Hour).Unix(), Amount: amt})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return orders, idx.ids
}

// retailLine is one cleaned invoice line of the UCI Online Retail file.
type retailLine struct {
	invoice, stock, customer string
	at                       time.Time
	amount                   float64
}

// loadOnlineRetail reads the gzipped CSV with the README's usual RFM
// cleaning: a CustomerID, not cancelled (InvoiceNo not starting with C),
// Quantity > 0 and UnitPrice > 0; duplicates kept.
func loadOnlineRetail(t *testing.T) (kept []retailLine, rows int) {
	t.Helper()
	f, err := os.Open(datasetPath(t, "online-retail/online_retail.csv.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(bufio.NewReaderSize(gz, 1<<20))
	r.ReuseRecord = true
	if _, err := r.Read(); err != nil {
		t.Fatal(err)
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rows++
		inv, qtyS, dateS, priceS, cust := rec[0], rec[3], rec[4], rec[5], rec[6]
		if cust == "" || strings.HasPrefix(inv, "C") {
			continue
		}
		qty, err1 := strconv.ParseFloat(qtyS, 64)
		price, err2 := strconv.ParseFloat(priceS, 64)
		at, err3 := time.Parse(time.DateTime, dateS)
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("online retail row %d: %v %v %v", rows, err1, err2, err3)
		}
		if qty <= 0 || price <= 0 {
			continue
		}
		kept = append(kept, retailLine{invoice: inv, stock: rec[1], customer: strings.TrimSuffix(cust, ".0"),
			at: at, amount: qty * price})
	}
	return kept, rows
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

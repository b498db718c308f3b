package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/storetest"
)

// BenchmarkBatchCreate measures POST /api/v1/customers/batch with 1,000
// customers a request (see bench/foundation for the end-to-end figures).
func BenchmarkBatchCreate(b *testing.B) {
	e := newEnvTB(b, storetest.SQLite(b))
	n := 0
	for b.Loop() {
		items := make([]map[string]any, 1000)
		for i := range items {
			items[i] = map[string]any{"kind": "person", "name": "王伟", "identities": []map[string]string{
				{"type": "email", "value": fmt.Sprintf("u%d@example.com", n)},
				{"type": "phone", "value": fmt.Sprintf("139 %04d %04d", n/10000, n%10000)},
			}}
			n++
		}
		body, _ := json.Marshal(map[string]any{"items": items})
		req, _ := http.NewRequest("POST", e.url+"/api/v1/customers/batch", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.keys[auth.Admin])
		req.Header.Set("Content-Type", "application/json")
		res, err := e.client.Do(req)
		if err != nil || res.StatusCode != 201 {
			b.Fatalf("%v %v", err, res.StatusCode)
		}
		res.Body.Close()
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "customers/s")
}

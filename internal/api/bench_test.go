package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/storetest"
)

// BenchmarkBatchCreate measures POST /api/v1/customers/batch with 1,000
// customers a request (see bench/foundation for the end-to-end figures).
func BenchmarkBatchCreate(b *testing.B) {
	for _, eng := range storetest.Engines(b) {
		b.Run(eng.Name, func(b *testing.B) { benchBatchCreate(b, eng) })
	}
}

func benchBatchCreate(b *testing.B, eng storetest.Engine) {
	e := newEnvTB(b, eng)
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

// BenchmarkGetCustomer measures GET /api/v1/customers/{id} from parallel
// clients over a small store, to see the per-request cost of the read path.
func BenchmarkGetCustomer(b *testing.B) {
	e := newEnvTB(b, storetest.SQLite(b))
	var ids []string
	for i := range 200 {
		body := fmt.Sprintf(`{"kind":"person","name":"王伟%d","identities":[{"type":"email","value":"g%d@example.com"}],"tags":["vip"]}`, i, i)
		req, _ := http.NewRequest("POST", e.url+"/api/v1/customers", bytes.NewReader([]byte(body)))
		req.Header.Set("Authorization", "Bearer "+e.keys[auth.Admin])
		req.Header.Set("Content-Type", "application/json")
		res, err := e.client.Do(req)
		if err != nil || res.StatusCode != 201 {
			b.Fatalf("%v %v", err, res.StatusCode)
		}
		var c struct{ ID string }
		json.NewDecoder(res.Body).Decode(&c)
		res.Body.Close()
		ids = append(ids, c.ID)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			req, _ := http.NewRequest("GET", e.url+"/api/v1/customers/"+ids[i%len(ids)], nil)
			req.Header.Set("Authorization", "Bearer "+e.keys[auth.Admin])
			res, err := e.client.Do(req)
			if err != nil || res.StatusCode != 200 {
				b.Fatalf("%v %v", err, res.StatusCode)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			i++
		}
	})
}

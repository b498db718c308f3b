package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/internal/storetest"
)

// TestNoBadMessageIsA500OrLostAfterIts200 sends every tracking endpoint a
// battery of bad messages — every field with a value of each wrong type,
// e-commerce properties out of shape, hostile and extreme text — and
// checks two things: no answer is a 5xx, and every message answered 200
// is applied. A 200 that the applier later sets aside as failed is an
// event lost after its acknowledgement.
func TestNoBadMessageIsA500OrLostAfterIts200(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s := newServer(t, e)
			wrong := []any{nil, true, -1, 1e308, "", "x", strings.Repeat("长", 3000), "a\u0000b", []any{}, []any{1, "a"},
				map[string]any{}, map[string]any{"a": map[string]any{"b": []any{nil}}}, "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"}
			fields := []string{"messageId", "type", "userId", "anonymousId", "previousId", "groupId", "event", "name",
				"properties", "traits", "context", "integrations", "timestamp", "sentAt", "originalTimestamp"}
			var bodies []string
			n := 0
			for _, typ := range []string{"identify", "track", "page", "screen", "group", "alias"} {
				for _, f := range fields {
					for _, v := range wrong {
						m := map[string]any{"type": typ, "userId": "u1", "anonymousId": "a1", "event": "Viewed", "name": "Home",
							"groupId": "g1", "previousId": "a0", "timestamp": "2026-01-02T03:04:05Z", "messageId": fmt.Sprint("sweep-", n)}
						m[f] = v // the messageId too, when it is the field swept
						n++
						b, _ := json.Marshal(m)
						bodies = append(bodies, string(b))
					}
				}
			}
			// Orders whose properties are out of shape.
			for _, props := range []any{
				"x", []any{1}, map[string]any{"total": "abc"}, map[string]any{"total": -1e12}, map[string]any{"revenue": 1e13},
				map[string]any{"products": "x"}, map[string]any{"products": []any{"x"}}, map[string]any{"products": []any{map[string]any{"price": "1", "quantity": "2"}}},
				map[string]any{"products": []any{map[string]any{"price": 1e300, "quantity": 1e300}}}, map[string]any{"products": []any{map[string]any{"price": -5, "quantity": -2}}},
				map[string]any{"order_id": map[string]any{}}, map[string]any{"order_id": strings.Repeat("o", 5000)}, map[string]any{"currency": strings.Repeat("C", 500)},
			} {
				for _, ev := range []string{"Order Completed", "Order Refunded"} {
					b, _ := json.Marshal(map[string]any{"type": "track", "userId": "buyer", "event": ev, "properties": props, "messageId": fmt.Sprint("sweep-", n)})
					n++
					bodies = append(bodies, string(b))
				}
			}
			// Raw bodies no encoder would produce.
			bodies = append(bodies, "", "{", "[]", "null", `"x"`, "42", strings.Repeat("[", 5000), "\xff\xfe", `{"batch":5}`, `{"batch":[5]}`,
				`{"batch":[{}]}`, `{"batch":[null]}`, `{"batch":[],"sentAt":5}`, `{"type":"track","userId":"u","event":"E","timestamp":"2026-01-02T03:04:05Z","sentAt":"0001-01-01T00:00:00Z"}`)
			statuses := map[int]int{}
			accepted := 0
			for _, body := range bodies {
				for _, path := range []string{"/v1/track", "/v1/batch"} {
					send := body
					if path == "/v1/batch" && strings.HasPrefix(body, `{"type"`) {
						send = `{"batch":[` + body + `]}`
					}
					status, out, err := s.send(path, s.key, send)
					if err != nil {
						t.Fatalf("%s %.80q: %v", path, send, err)
					}
					statuses[status]++
					if status >= 500 {
						t.Errorf("%s %.120q: %d %v", path, send, status, out)
					}
					if status == 200 {
						accepted++
					}
				}
			}
			t.Logf("%d requests: %v", len(bodies)*2, statuses)
			if len(bodies) < 1000 || accepted == 0 {
				t.Fatalf("%d bodies, %d accepted: the sweep is too small to mean anything", len(bodies), accepted)
			}
			if err := s.svc.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			st, err := s.store.IngestQueueStatus(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range st.Failed {
				t.Errorf("acknowledged, then set aside as failed: %+v", f)
			}
		})
	}
}

package store

import (
	"reflect"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/identity"
)

// everyField is an event with every field set, so a field the codec
// forgets fails the round trip.
func everyField() []Event {
	at := time.Date(2025, 6, 1, 8, 30, 15, 123456789, time.UTC)
	e := Event{SourceID: "src-1", Source: "web", MessageID: "m-1", Type: "track", Name: "Order Completed",
		At: at, ReceivedAt: at.Add(time.Second), Payload: []byte(`{"messageId":"m-1","event":"Order Completed"}`),
		Claims: []identity.Claim{
			{Identity: customer.Identity{Type: "external_id", Source: "web", Value: "u-7"}, Owner: "c-1", Explicit: true},
			{Identity: customer.Identity{Type: "email", Value: "li.na@example.com"}, IfKnown: true},
		},
		ProfileName: "李娜",
		Order: &customer.Order{ID: "o-1", CustomerID: "c-1", ExternalID: "S-1001", Source: "web", PlacedAt: at, Currency: "CNY", Total: 88.5,
			Status: customer.OrderCompleted, Items: []customer.OrderItem{{ProductID: "p1", SKU: "45790-32", Name: "咖啡豆", Category: "coffee",
				Price: 44.25, Quantity: 2, UnitCost: 20.1}}},
		Refund: &Refund{Source: "web", ExternalID: "S-1000", CustomerID: "c-1", At: at, Total: 12.5, Currency: "CNY"},
	}
	bare := Event{SourceID: "src-1", Source: "web", MessageID: "m-2", Type: "page"} // zero times, no claims, no payload
	return []Event{e, bare}
}

func TestQueuedEventsRoundTripEveryField(t *testing.T) {
	in := everyField()
	for i, f := range reflect.VisibleFields(reflect.TypeOf(in[0])) {
		if reflect.ValueOf(in[0]).Field(i).IsZero() {
			t.Fatalf("the test event leaves %s unset; set it so the codec is checked for it", f.Name)
		}
	}
	b, err := encodeEvents(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := decodeEvents(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(out[1].Payload) == 0 {
		out[1].Payload = nil
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip changed the events:\n in %+v\nout %+v", in, out)
	}
}

func TestCorruptQueuedEventsAreAnErrorNotAPanic(t *testing.T) {
	b, err := encodeEvents(everyField())
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(b) {
		if _, err := decodeEvents(b[:n]); err == nil {
			t.Fatalf("a batch cut to %d of %d bytes decoded without an error", n, len(b))
		}
	}
	if _, err := decodeEvents(append(b, 0)); err == nil {
		t.Fatal("trailing bytes were accepted")
	}
	bad := append([]byte{}, b...)
	bad[0] = 99
	if _, err := decodeEvents(bad); !IsCorruptQueued(err) {
		t.Fatalf("an unknown format version gave %v", err)
	}
}

func FuzzDecodeEvents(f *testing.F) {
	b, err := encodeEvents(everyField())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		evs, err := decodeEvents(b)
		if err != nil {
			return
		}
		again, err := encodeEvents(evs)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := decodeEvents(again); err != nil {
			t.Fatalf("re-encoding a decoded batch gave an undecodable one: %v", err)
		}
	})
}

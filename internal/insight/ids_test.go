package insight

import (
	"bytes"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/rapportcrm/rapport/internal/customer"
)

func TestIDTablePacksUUIDsAndNumbersOtherIDs(t *testing.T) {
	tab := newIDTable()
	id := customer.NewID()
	k := tab.key(id)
	if k.odd() || tab.str(k) != id {
		t.Fatalf("uuid %s: key %x back to %q", id, k, tab.str(k))
	}
	if len(tab.odd) != 0 {
		t.Fatalf("a canonical uuid was numbered: %v", tab.odd)
	}
	for _, other := range []string{"legacy-42", "0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B", "00000000-0000-0000-0000-000000000000", ""} {
		if _, ok := tab.find(other); ok {
			t.Fatalf("%q found before it was keyed", other)
		}
		k := tab.key(other)
		if !k.odd() || tab.str(k) != other {
			t.Fatalf("%q: key %x back to %q", other, k, tab.str(k))
		}
		if k2, ok := tab.find(other); !ok || k2 != k || tab.key(other) != k {
			t.Fatalf("%q: keyed twice differently", other)
		}
	}
	if len(tab.odd) != 4 {
		t.Fatalf("numbered %d ids, want 4", len(tab.odd))
	}
}

// TestPackAcceptsExactlyTheCanonicalUUIDs: pack's hand check agrees with a
// round trip through the uuid package.
func TestPackAcceptsExactlyTheCanonicalUUIDs(t *testing.T) {
	roundTrip := func(id string) (rowID, bool) {
		u, err := uuid.Parse(id)
		if err != nil || u.Version() == 0 || u.String() != id {
			return rowID{}, false
		}
		return rowID(u), true
	}
	ids := []string{"", "x", "00000000-0000-0000-0000-000000000000", "0190a1b2-c3d4-0e5f-8a9b-0c1d2e3f4a5b",
		"0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B", "0190a1b2c3d47e5f8a9b0c1d2e3f4a5b", "{0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b}",
		"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5g", "0190a1b2-c3d4-7e5f-8a9b_0c1d2e3f4a5b", "urn:uuid:0190a1b2-c3d4-7e5f-8a9b-0c1d",
		"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"}
	for range 1000 {
		ids = append(ids, customer.NewID(), uuid.NewString())
	}
	for _, id := range ids {
		got, ok := pack(id)
		want, wok := roundTrip(id)
		if ok != wok || got != want {
			t.Fatalf("pack(%q) = %x %v, round trip %x %v", id, got, ok, want, wok)
		}
	}
}

func TestSnapshotFindsFrozenAndAddedRows(t *testing.T) {
	tab := newIDTable()
	snap := &snapshot{ids: tab, index: map[rowID]int32{}}
	var ids []string
	for i := range 50 {
		id := customer.NewID()
		if i%7 == 0 {
			id = "odd-" + id
		}
		ids = append(ids, id)
	}
	for i, id := range ids[:40] { // loaded out of id order
		k := tab.key(id)
		if i%2 == 1 {
			snap.rows = append([]row{{id: k}}, snap.rows...)
		} else {
			snap.rows = append(snap.rows, row{id: k})
		}
	}
	snap.sortRows()
	for _, id := range ids[40:] { // added by a refresh
		snap.index[tab.key(id)] = int32(len(snap.rows))
		snap.rows = append(snap.rows, row{id: tab.key(id)})
	}
	for _, id := range ids {
		i, ok := snap.lookup(id)
		if !ok || snap.id(i) != id {
			t.Fatalf("lookup %q: row %d ok %v", id, i, ok)
		}
	}
	// A finder answers the same in id order (how scans come), with
	// repeats and gaps, and out of order.
	inOrder := slices.Clone(ids)
	slices.SortFunc(inOrder, func(a, b string) int { ka, kb := tab.key(a), tab.key(b); return bytes.Compare(ka[:], kb[:]) })
	var seq []string
	for j, id := range inOrder {
		if j%3 != 1 { // gaps
			seq = append(seq, id, id) // repeats
		}
	}
	seq = append(seq, inOrder[5], customer.NewID(), inOrder[2])
	seq = append(seq, ids...)
	fd := snap.finder()
	for _, id := range seq {
		i, ok := fd.lookup(id)
		want, wok := snap.lookup(id)
		if ok != wok || (ok && i != want) {
			t.Fatalf("finder %q: %d %v, lookup %d %v", id, i, ok, want, wok)
		}
	}
	if _, ok := snap.lookup(customer.NewID()); ok {
		t.Fatal("found an id that is not in the snapshot")
	}
}

func TestSnapshotFoldsAddedRowsIntoTheSortedIndex(t *testing.T) {
	tab := newIDTable()
	snap := &snapshot{ids: tab, index: map[rowID]int32{}}
	snap.sortRows() // an empty start
	var ids []string
	for i := range 5000 {
		id := customer.NewID()
		ids = append(ids, id)
		snap.index[tab.key(id)] = int32(i)
		snap.rows = append(snap.rows, row{id: tab.key(id)})
		snap.compactIndex()
	}
	if len(snap.index) > 4096 || len(snap.sorted)+len(snap.index) != len(ids) {
		t.Fatalf("index %d, sorted %d for %d rows", len(snap.index), len(snap.sorted), len(ids))
	}
	if len(snap.sorted) == 0 {
		t.Fatal("the added rows were never folded into the sorted index")
	}
	for _, id := range ids {
		if i, ok := snap.lookup(id); !ok || snap.id(i) != id {
			t.Fatalf("lookup %q after folding: %d %v", id, i, ok)
		}
	}
}

func TestRefreshBatchGrowsWithTheSnapshot(t *testing.T) {
	s := &Service{}
	if n := s.refreshBatch(); n != staleBatch {
		t.Fatalf("no snapshot: batch %d, want %d", n, staleBatch)
	}
	s.snap = &snapshot{rows: make([]row, 20_000)}
	if n := s.refreshBatch(); n != staleBatch {
		t.Fatalf("20,000 rows: batch %d, want %d", n, staleBatch)
	}
	s.snap = &snapshot{rows: make([]row, 1_000_000)}
	if n := s.refreshBatch(); n != 100_000 {
		t.Fatalf("1M rows: batch %d, want 100,000", n)
	}
}

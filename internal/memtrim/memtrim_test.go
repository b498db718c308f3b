package memtrim_test

import (
	"context"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/internal/memtrim"
)

func TestShouldTrimOnlyAfterAnIdlePeriodWithSpareHeap(t *testing.T) {
	const mb = 1 << 20
	for _, c := range []struct {
		name      string
		prev, cur memtrim.Sample
		want      bool
	}{
		{"idle with 200 MB spare", memtrim.Sample{Allocs: 1000 * mb}, memtrim.Sample{Allocs: 1004 * mb, Heap: 400 * mb, Live: 200 * mb}, true},
		{"busy with 200 MB spare", memtrim.Sample{Allocs: 1000 * mb}, memtrim.Sample{Allocs: 1100 * mb, Heap: 400 * mb, Live: 200 * mb}, false},
		{"idle with little spare", memtrim.Sample{Allocs: 1000 * mb}, memtrim.Sample{Allocs: 1001 * mb, Heap: 240 * mb, Live: 200 * mb}, false},
		{"idle, live above heap (counters from different moments)", memtrim.Sample{}, memtrim.Sample{Heap: 100 * mb, Live: 120 * mb}, false},
	} {
		if got := memtrim.ShouldTrim(c.prev, c.cur, 16*mb, 64*mb); got != c.want {
			t.Errorf("%s: ShouldTrim = %v, want %v", c.name, got, c.want)
		}
	}
}

var sink [][]byte

// TestRunReturnsTheGarbageOfABurst: with the collector off, 256 MiB of
// garbage stays in the heap for good unless something collects it; Run
// does once the allocation stops.
func TestRunReturnsTheGarbageOfABurst(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	runtime.GC()
	for range 256 {
		sink = append(sink, make([]byte, 1<<20))
	}
	sink = nil
	before := memtrim.Read()
	if before.Heap-before.Live < 200<<20 {
		t.Fatalf("the burst left only %d bytes of spare heap", before.Heap-before.Live)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	trimmed := make(chan uint64, 1)
	go memtrim.Run(ctx, memtrim.Options{Every: 20 * time.Millisecond, Trimmed: func(spare uint64) {
		select {
		case trimmed <- spare:
		default:
		}
	}})
	select {
	case spare := <-trimmed:
		if spare < 200<<20 {
			t.Fatalf("trimmed with %d bytes spare, want the burst's 256 MiB", spare)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no trim within 5 s of an idle heap holding 256 MiB of garbage")
	}
	if after := memtrim.Read(); after.Heap > before.Heap-200<<20 {
		t.Fatalf("heap held %d bytes before the trim and %d after", before.Heap, after.Heap)
	}
}

// TestRunReleasesOnceEachTimeTheProcessTurnsIdle: Release comes once after
// a busy stretch, not again while the process stays idle, and again after
// the next busy stretch.
func TestRunReleasesOnceEachTimeTheProcessTurnsIdle(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	released := make(chan struct{}, 16)
	const every = 50 * time.Millisecond
	go memtrim.Run(ctx, memtrim.Options{Every: every, IdleAlloc: 8 << 20, Release: func() { released <- struct{}{} }})
	burst := func() { // well over IdleAlloc in each of several periods
		deadline := time.Now().Add(4 * every)
		for time.Now().Before(deadline) {
			sink = append(sink[:0], make([]byte, 8<<20))
			time.Sleep(every / 8)
		}
		sink = nil
	}
	for round := 1; round <= 2; round++ {
		burst()
		select {
		case <-released:
		case <-time.After(5 * time.Second):
			t.Fatalf("round %d: no release within 5 s of turning idle", round)
		}
		select {
		case <-released:
			t.Fatalf("round %d: released twice while staying idle", round)
		case <-time.After(10 * every):
		}
	}
}

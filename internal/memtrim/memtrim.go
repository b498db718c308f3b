// Package memtrim gives the Go heap's spare memory back to the system once
// a burst of work is over.
//
// Between collections the Go heap grows to about twice its live data, and
// the runtime keeps what a burst freed for reuse, returning it only
// gradually. After a million customers are created over the API the server
// held twice the memory it needed at rest. Trim watches the runtime's own
// counters: when the process has been allocating little for a whole period
// and the heap holds much more than its live data, it collects and returns
// the rest at once (debug.FreeOSMemory), one forced collection per burst,
// and tells its caller once, so that memory outside the Go heap can go too.
// It must not run during work: a forced collection while allocating fast
// only costs CPU.
package memtrim

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Options tune Run; zero values take the defaults.
type Options struct {
	// Every is how often the counters are read (default 10 s).
	Every time.Duration
	// IdleAlloc is the most a period may allocate and still count as idle
	// (default 16 MiB).
	IdleAlloc uint64
	// Spare is how much heap beyond the live data is worth returning
	// (default 64 MiB).
	Spare uint64
	// Trimmed, when set, is called after each trim with the bytes the heap
	// held beyond its live data before it.
	Trimmed func(spare uint64)
	// Release, when set, is called once each time the process turns idle:
	// the first idle period after one that allocated more than IdleAlloc.
	// It is for memory outside the Go heap that work fills and idleness
	// does not empty, such as SQLite's page caches.
	Release func()
}

// Sample is what Run reads from the runtime each period.
type Sample struct {
	Allocs uint64 // bytes allocated since the process started
	Heap   uint64 // heap memory held from the system and not released
	Live   uint64 // heap bytes live after the last collection
}

// Read takes a Sample from runtime/metrics.
func Read() Sample {
	ms := []metrics.Sample{
		{Name: "/gc/heap/allocs:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
		{Name: "/gc/heap/live:bytes"},
	}
	metrics.Read(ms)
	v := func(i int) uint64 {
		if ms[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return ms[i].Value.Uint64()
	}
	return Sample{Allocs: v(0), Heap: v(1) + v(2) + v(3), Live: v(4)}
}

// idle reports whether the period from prev to cur allocated at most
// idleAlloc bytes.
func idle(prev, cur Sample, idleAlloc uint64) bool { return cur.Allocs-prev.Allocs <= idleAlloc }

// ShouldTrim reports whether the period from prev to cur was idle and left
// more than spare bytes of heap beyond the live data.
func ShouldTrim(prev, cur Sample, idleAlloc, spare uint64) bool {
	return idle(prev, cur, idleAlloc) && cur.Heap > cur.Live && cur.Heap-cur.Live > spare
}

// Run trims after every idle period until ctx is done.
func Run(ctx context.Context, o Options) {
	if o.Every <= 0 {
		o.Every = 10 * time.Second
	}
	if o.IdleAlloc == 0 {
		o.IdleAlloc = 16 << 20
	}
	if o.Spare == 0 {
		o.Spare = 64 << 20
	}
	t := time.NewTicker(o.Every)
	defer t.Stop()
	prev := Read()
	busy := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cur := Read()
		quiet := idle(prev, cur, o.IdleAlloc)
		if quiet && busy && o.Release != nil {
			o.Release()
		}
		busy = !quiet
		if ShouldTrim(prev, cur, o.IdleAlloc, o.Spare) {
			debug.FreeOSMemory()
			if o.Trimmed != nil {
				o.Trimmed(cur.Heap - cur.Live)
			}
			cur = Read()
		}
		prev = cur
	}
}

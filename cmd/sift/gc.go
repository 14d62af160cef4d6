package main

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// runHeadroom is the least a run's heap grows between two collections.
//
// Go collects when the heap has grown by GOGC % (100) of what the last
// collection left live. A recipe's live heap is mostly what its stages
// build once and keep (the thesaurus, the language model, the dedup
// indexes: 100-200 MB on the benchmark corpus), and every collection marks
// all of it again while the batches flowing past are short-lived garbage:
// the six-step benchmark collected 14 times and spent about a tenth of its
// CPU on it. Waiting for 256 MB of garbage cut that to five collections
// for about 60 MB more peak RSS. A small job pays in memory without the
// gain (a 23 MB input: 118 -> 280 MB peak); a heap of over 256 MB live is
// collected at Go's default, so the extra memory stays bounded.
const runHeadroom = 256 << 20

// maxGOGC bounds tuneGC's GOGC while the live heap is small, as it is at
// start: a few MB live would otherwise let the heap grow a hundredfold
// before the first collection.
const maxGOGC = 1000

// tunePeriod is how often tuneGC looks for a new collection. A hook run by
// the collector itself (a cleanup) was no good: on one core the goroutine
// running it waited behind the pipeline's for a second or more, the
// length of a whole collection cycle.
const tunePeriod = 20 * time.Millisecond

// tuneGC sets the collector's GOGC after every collection so that the next
// one comes when the heap has grown by max(live, headroom) bytes, live
// being what the collection left, and returns the function that stops it
// and restores the GOGC there was. It does nothing when GOGC is set in the
// environment: the user's setting wins. GOMEMLIMIT, if set, still bounds
// the heap.
func tuneGC(headroom uint64) (stop func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	old := debug.SetGCPercent(gcPercent(headroom, s[1].Value.Uint64()))
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(tunePeriod)
		defer t.Stop()
		cycles := s[0].Value.Uint64()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
			}
			metrics.Read(s)
			if n := s[0].Value.Uint64(); n != cycles {
				cycles = n
				debug.SetGCPercent(gcPercent(headroom, s[1].Value.Uint64()))
			}
		}
	}()
	return func() {
		close(quit)
		<-done
		debug.SetGCPercent(old)
	}
}

// gcPercent returns the GOGC that lets a heap of live bytes grow by
// max(live, headroom) bytes, within [100, maxGOGC].
func gcPercent(headroom, live uint64) int {
	return int(min(max(headroom*100/max(live, 1<<20), 100), maxGOGC))
}

package sift

import (
	"runtime"
	"sync"
	"time"
)

// threadClock reports whether this platform has a per-thread CPU clock.
var threadClock = sync.OnceValue(func() bool { _, ok := threadCPU(); return ok })

// timedCalls is how many of a step's first calls are all timed, and
// timedEvery how often one is timed after them (see timed).
const (
	timedCalls = 8
	timedEvery = 8
)

// timed reports whether the n-th call (from 0) of a step is timed with
// CPUTime. Locking the goroutine to its thread costs more than the clock:
// when a locked goroutine is preempted or makes a system call, its
// thread must sleep and be woken again rather than run the next
// goroutine. Locked for every call, the six-step benchmark took 10–15 %
// more wall time on two cores (2.33 s against 2.01, medians of four). So a
// step's first calls are timed, to catch what is slow at the start (a
// model still loading), and then one in timedEvery; the cost of the
// others is estimated from the timed ones' (see cpuEstimate).
func timed(n int64) bool { return n < timedCalls || n%timedEvery == 0 }

// cpuEstimate accumulates a step's CPU time: timed calls add what they
// used; an untimed one is charged at the CPU time per text byte of the
// timed call before it (at most timedEvery-1 batches back, so the rate
// follows the input as it changes), but never more than its own wall
// time. Calls are added in stream order.
type cpuEstimate struct {
	total   time.Duration
	perByte float64 // of the last timed call with rows; 0: none yet
}

func (e *cpuEstimate) add(r *result) {
	// A row counts as a byte more, so that rows without text weigh.
	size := float64(r.bytesIn + r.rowsIn)
	if r.timed {
		e.total += r.cpu
		if size > 0 {
			e.perByte = float64(r.cpu) / size
		}
		return
	}
	e.total += min(r.busy, time.Duration(e.perByte*size))
}

// CPUTime calls fn and returns the CPU time (user + system) it used: fn
// runs with the calling goroutine locked to its OS thread, between two
// readings of that thread's CPU clock. While fn blocks (on a channel, a
// lock, I/O) the thread sleeps, so waiting does not count, unlike wall
// time; and no other goroutine runs on a locked thread, so nothing else
// is counted either. What the Go runtime does for fn on other threads
// (background GC marking) is not counted; garbage collection work fn is
// made to assist with is. Where there is no thread clock it returns 0.
//
// The goroutine is locked for the call only, not for its life: a locked
// goroutine that blocks between calls (a step waiting for its next batch)
// parks its thread, and waking it means an OS thread switch where an
// unlocked goroutine costs a cheap hand-off. Locked for life, the
// pipeline's goroutines lost about 0.4 s of 2.2 s of wall time on two
// cores to those switches in the six-step benchmark.
func CPUTime(fn func()) time.Duration {
	if !threadClock() {
		fn()
		return 0
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0, _ := threadCPU()
	fn()
	t1, _ := threadCPU()
	return t1 - t0
}

package sift

import (
	"runtime"
	"time"
)

// cpuMeter measures the CPU time of calls made by one goroutine: the
// goroutine is locked to its OS thread for its life (lock), and each call
// is bracketed by readings of that thread's CPU clock. While the call
// blocks (on a channel, a lock, I/O) the thread sleeps, so waiting does
// not count, unlike wall time; and no other goroutine runs on a locked
// thread, so nothing else is counted either. What the Go runtime does for
// the call on other threads (background GC marking) is not counted;
// garbage collection work the goroutine is made to assist with is.
type cpuMeter struct{ ok bool }

// lock locks the calling goroutine to its thread. Call it first thing in
// the goroutine, which must end with runtime.UnlockOSThread or exit.
func (m *cpuMeter) lock() {
	runtime.LockOSThread()
	_, m.ok = threadCPU()
}

// time calls fn and returns the CPU time it used (0 where unmeasured).
func (m *cpuMeter) time(fn func()) time.Duration {
	if !m.ok {
		fn()
		return 0
	}
	t0, _ := threadCPU()
	fn()
	t1, _ := threadCPU()
	return t1 - t0
}

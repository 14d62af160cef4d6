package main

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestGCPercent(t *testing.T) {
	for _, c := range []struct {
		headroom, live uint64
		want           int
	}{
		{256 << 20, 0, maxGOGC},         // at start: bounded
		{256 << 20, 64 << 20, 400},      // 256 MB more than 64 live
		{256 << 20, 256 << 20, 100},     // Go's default from here on
		{256 << 20, 4 << 30, 100},       // never below it
		{256 << 20, 1<<20 + 1, maxGOGC}, // tiny heaps: bounded
		{0, 64 << 20, 100},              // no headroom: the default
		{1 << 40, 64 << 20, maxGOGC},    // huge headroom: bounded
	} {
		if got := gcPercent(c.headroom, c.live); got != c.want {
			t.Errorf("gcPercent(%d, %d) = %d, want %d", c.headroom, c.live, got, c.want)
		}
	}
}

// TestTuneGC checks that the GOGC follows the live heap after collections
// and that stop restores the one there was.
func TestTuneGC(t *testing.T) {
	t.Setenv("GOGC", "") // an empty GOGC is Go's default, and tuneGC's to set
	prev := debug.SetGCPercent(150)
	defer debug.SetGCPercent(prev)
	live := make([][]byte, 64) // 64 MB live: GOGC 200 for 128 MB of headroom
	for i := range live {
		live[i] = make([]byte, 1<<20)
	}
	stop := tuneGC(128 << 20)
	want := gcPercent(128<<20, 64<<20)
	got := 0
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		runtime.GC()
		time.Sleep(3 * tunePeriod)
		got = debug.SetGCPercent(-1)
		debug.SetGCPercent(got)
		if got >= want*3/4 && got <= want*5/4 {
			break
		}
	}
	runtime.KeepAlive(live)
	if got < want*3/4 || got > want*5/4 {
		t.Errorf("GOGC with 64 MB live = %d, want about %d", got, want)
	}
	stop()
	if got := debug.SetGCPercent(150); got != 150 {
		t.Errorf("GOGC after stop = %d, want 150 restored", got)
	}
}

func TestTuneGCLeavesUsersGOGC(t *testing.T) {
	t.Setenv("GOGC", "80")
	prev := debug.SetGCPercent(80)
	defer debug.SetGCPercent(prev)
	stop := tuneGC(1 << 30)
	runtime.GC()
	time.Sleep(3 * tunePeriod)
	if got := debug.SetGCPercent(80); got != 80 {
		t.Errorf("GOGC = %d with GOGC=80 in the environment, want 80", got)
	}
	stop()
}

package siftbeam

import (
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestBundleOrder checks that the outputs of jobs that end in any order
// are handed on in the order the jobs started, each job's in its order,
// on the caller's goroutine, and that no more jobs than cores are queued.
func TestBundleOrder(t *testing.T) {
	var p bundle
	var got []int
	var running, most atomic.Int32
	for i := range 40 {
		err := p.start(func(emit func(func())) error {
			n := running.Add(1)
			defer running.Add(-1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			// Later jobs end first.
			time.Sleep(time.Duration(40-i) * 50 * time.Microsecond)
			for k := range 3 {
				emit(func() { got = append(got, 3*i+k) })
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.q) > queued {
			t.Fatalf("%d jobs queued, at most %d", len(p.q), queued)
		}
	}
	if err := p.finish(); err != nil {
		t.Fatal(err)
	}
	want := make([]int, 120)
	for i := range want {
		want[i] = i
	}
	if !slices.Equal(got, want) {
		t.Errorf("outputs %v, want 0..119 in order", got)
	}
	if m := most.Load(); m > int32(cap(cores)) {
		t.Errorf("%d jobs ran at once, at most %d", m, cap(cores))
	}
}

// TestBundleError checks that a job's error, or panic, comes back from
// start or finish only once every job started has ended, and that nothing
// a job after the failed one emitted is handed on.
func TestBundleError(t *testing.T) {
	for _, tc := range []struct {
		name string
		work func() error
		want string
	}{
		{"error", func() error { return errors.New("bad split") }, "bad split"},
		{"panic", func() error { panic("index out of range") }, "panic: index out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p bundle
			var handed []int
			var ran, ended atomic.Int32
			var err error
			for i := 0; i < 6 && err == nil; i++ {
				err = p.start(func(emit func(func())) error {
					ran.Add(1)
					defer ended.Add(1)
					if i == 2 {
						return tc.work()
					}
					time.Sleep(time.Millisecond)
					emit(func() { handed = append(handed, i) })
					return nil
				})
			}
			if err == nil {
				err = p.finish()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one with %q", err, tc.want)
			}
			if n, m := ended.Load(), ran.Load(); n != m || m < 3 {
				t.Errorf("%d of %d jobs run had ended when the error came back", n, m)
			}
			if len(p.q) != 0 {
				t.Errorf("%d jobs queued after the error", len(p.q))
			}
			if !slices.Equal(handed, []int{0, 1}) {
				t.Errorf("outputs of jobs %v handed on, want those of 0 and 1 (job 2 failed)", handed)
			}
		})
	}
}

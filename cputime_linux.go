package sift

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// threadCPU returns the CPU time (user + system) the calling OS thread has
// used, and whether it could be read.
//
// A raw system call, without telling the scheduler: clock_gettime returns
// at once and never blocks, and a locked goroutine that announces a
// system call can have its processor taken by the scheduler meanwhile,
// and must then wait for one to be handed back to its thread.
func threadCPU() (time.Duration, bool) {
	var ts unix.Timespec
	if _, _, e := unix.RawSyscall(unix.SYS_CLOCK_GETTIME, unix.CLOCK_THREAD_CPUTIME_ID, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}

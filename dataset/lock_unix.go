//go:build unix

package dataset

import (
	"os"
	"syscall"
)

// noFollow keeps removeStale from opening what a symbolic link points to.
const noFollow = syscall.O_NOFOLLOW

// lock takes an exclusive flock on f, which the kernel drops when the
// process ends, however it ends. Without wait it fails at once if another
// open file holds the lock.
func lock(f *os.File, wait bool) error {
	how := syscall.LOCK_EX
	if !wait {
		how |= syscall.LOCK_NB
	}
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			return err
		}
	}
}

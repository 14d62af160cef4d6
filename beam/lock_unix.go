//go:build unix

package siftbeam

import (
	"os"
	"syscall"
)

// lockDir takes an exclusive flock on the open directory f, which the
// kernel drops when the process ends, or fails at once if another open
// file holds it.
func lockDir(f *os.File) error {
	for {
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != syscall.EINTR {
			return err
		}
	}
}

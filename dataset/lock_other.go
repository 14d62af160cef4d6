//go:build !unix

package dataset

import (
	"errors"
	"os"
)

const noFollow = 0

// lock cannot tell a live temporary file from a stale one here, so stale
// files are never removed.
func lock(f *os.File, wait bool) error {
	if wait {
		return nil
	}
	return errors.New("file locks are not supported")
}

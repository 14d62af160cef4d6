//go:build !unix

package dataset

import (
	"errors"
	"fmt"
	"os"
)

const noFollow = 0

// lock cannot tell a live temporary file from a stale one here, so stale
// files are never removed.
func lock(f *os.File, wait bool) error {
	if wait {
		return nil
	}
	return fmt.Errorf("file locks: %w", errors.ErrUnsupported)
}

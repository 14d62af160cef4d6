//go:build !unix

package siftbeam

import (
	"errors"
	"os"
)

// lockDir cannot lock a directory here: a scratch directory is never
// taken for stale, and one left by a killed run stays.
func lockDir(*os.File) error { return errors.ErrUnsupported }

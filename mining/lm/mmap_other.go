//go:build !unix

package lm

import "os"

// mapFile reads f: this platform has no mmap.
func mapFile(f *os.File) ([]byte, func(), error) { return readAll(f) }

// adviseHuge does nothing where there is no madvise.
func adviseHuge([]byte) {}

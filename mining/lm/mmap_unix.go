//go:build unix

package lm

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapFile maps f read-only and shared, and returns the bytes and the
// function that unmaps them.
func mapFile(f *os.File) ([]byte, func(), error) {
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	size := st.Size()
	if size <= 0 || int64(int(size)) != size || !st.Mode().IsRegular() {
		return readAll(f) // pipes and the like cannot be mapped
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return readAll(f)
	}
	return data, func() { unix.Munmap(data) }, nil
}

// adviseHuge asks for transparent huge pages under a large table: lookups
// hit it at random, and 2 MiB pages save most of their TLB misses.
func adviseHuge(b []byte) {
	const page = 4096
	if len(b) < 8<<20 {
		return
	}
	// madvise needs a page-aligned start.
	off := (page - int(uintptr(unsafe.Pointer(unsafe.SliceData(b)))%page)) % page
	unix.Madvise(b[off:], unix.MADV_HUGEPAGE)
}

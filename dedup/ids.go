package dedup

import (
	"os"
	"runtime"
	"slices"
)

const (
	idBlock  = 4096     // documents per block of id offsets
	idTail   = 64 << 10 // id bytes kept in memory before they go to the file
	maxID    = 1 << 20  // longest id: a block's ids fit a uint32 offset
	idPrefix = "sift-dedup-ids-"
)

// idStore keeps document ids in order of addition: 4 B of memory per id
// (its end offset within a block of idBlock ids) plus the last idTail
// bytes; older id bytes go to an unlinked temporary file, read back only
// to name a keeper. If no temporary file can be made, ids stay in memory.
type idStore struct {
	base    []int64  // offset of each block's first id
	end     []uint32 // end of each id, relative to its block's base
	tail    []byte   // bytes from tailOff on
	tailOff int64
	f       *os.File
	noFile  bool
	keep    int // bytes kept in memory before they go to the file; 0: idTail
}

func (s *idStore) add(id string) error {
	if len(id) > maxID {
		return ErrIndexFull
	}
	n := len(s.end)
	off := s.tailOff + int64(len(s.tail))
	if n%idBlock == 0 {
		s.base = append(s.base, off)
	}
	s.tail = append(s.tail, id...)
	s.end = append(s.end, uint32(off+int64(len(id))-s.base[n/idBlock]))
	if len(s.tail) >= max(s.keep, idTail) && !s.noFile {
		return s.spill()
	}
	return nil
}

func (s *idStore) spill() error {
	if s.f == nil {
		f, err := os.CreateTemp("", idPrefix)
		if err != nil {
			s.noFile = true
			return nil
		}
		os.Remove(f.Name()) // the open file lives on unlinked (Unix)
		s.f = f
		runtime.AddCleanup(s, func(f *os.File) { f.Close() }, f)
	}
	if _, err := s.f.WriteAt(s.tail, s.tailOff); err != nil {
		return err
	}
	s.tailOff += int64(len(s.tail))
	s.tail = s.tail[:0]
	return nil
}

func (s *idStore) get(doc int) (string, error) {
	var buf []byte
	b, err := s.view(doc, &buf)
	return string(b), err
}

// view returns the bytes of entry doc: a view of the in-memory tail
// (valid until the next add), or else read into *buf, grown as needed.
func (s *idStore) view(doc int, buf *[]byte) ([]byte, error) {
	b := s.base[doc/idBlock]
	start := b
	if doc%idBlock != 0 {
		start += int64(s.end[doc-1])
	}
	end := b + int64(s.end[doc])
	if start >= s.tailOff {
		return s.tail[start-s.tailOff : end-s.tailOff], nil
	}
	out := slices.Grow((*buf)[:0], int(end-start))[:end-start]
	*buf = out
	n := min(end, s.tailOff) - start
	if _, err := s.f.ReadAt(out[:n], start); err != nil {
		return nil, err
	}
	copy(out[n:], s.tail)
	return out, nil
}

func (s *idStore) bytes() int64 {
	return int64(cap(s.base))*8 + int64(cap(s.end))*4 + int64(cap(s.tail))
}

func (s *idStore) close() error {
	if s.f == nil {
		return nil
	}
	f := s.f
	s.f = nil
	return f.Close()
}

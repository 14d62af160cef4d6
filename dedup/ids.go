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

	// Records read back from the file are cached, direct-mapped by
	// document, when they are at most cacheRecord bytes: near-duplicates
	// come in clusters, so a keeper's record is read again for each of
	// its copies (in the six-step benchmark, 36 k reads were of 6 k
	// records). At most cacheSlots × cacheRecord bytes (4 MiB).
	cacheSlots  = 1024
	cacheRecord = 4 << 10
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
	cache   []cached
}

// cached is a record read back from the file; doc is its document + 1
// (0: an empty slot).
type cached struct {
	doc int
	b   []byte
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
// (valid until the next add) or of the cache (valid until the next
// view), or else read into *buf, grown as needed.
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
	size := int(end - start)
	var c *cached
	if size <= cacheRecord {
		if s.cache == nil {
			s.cache = make([]cached, cacheSlots)
		}
		if c = &s.cache[doc%cacheSlots]; c.doc == doc+1 {
			return c.b, nil
		}
		buf = &c.b
	}
	out := slices.Grow((*buf)[:0], size)[:size]
	*buf = out
	n := min(end, s.tailOff) - start
	if _, err := s.f.ReadAt(out[:n], start); err != nil {
		if c != nil {
			c.doc = 0
		}
		return nil, err
	}
	copy(out[n:], s.tail)
	if c != nil {
		c.doc = doc + 1
	}
	return out, nil
}

func (s *idStore) bytes() int64 {
	n := int64(cap(s.base))*8 + int64(cap(s.end))*4 + int64(cap(s.tail)) + int64(cap(s.cache))*32
	for _, c := range s.cache {
		n += int64(cap(c.b))
	}
	return n
}

func (s *idStore) close() error {
	if s.f == nil {
		return nil
	}
	f := s.f
	s.f = nil
	return f.Close()
}

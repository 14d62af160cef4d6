package lm

import (
	"bufio"
	"container/heap"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"os"
	"runtime"
	"slices"
)

// rec is one n-gram in an external sort: its word ids in the sort's order of
// significance (unused places 0) and a payload (a count, or two float32s).
type rec struct {
	k [MaxOrder]uint32
	v uint64
}

const recSize = 32 // bytes of a rec in memory

// recLess orders recs by their keys, compared two places at a time.
func recLess(a, b *rec) bool {
	if x, y := uint64(a.k[0])<<32|uint64(a.k[1]), uint64(b.k[0])<<32|uint64(b.k[1]); x != y {
		return x < y
	}
	if x, y := uint64(a.k[2])<<32|uint64(a.k[3]), uint64(b.k[2])<<32|uint64(b.k[3]); x != y {
		return x < y
	}
	return uint64(a.k[4])<<32|uint64(a.k[5]) < uint64(b.k[4])<<32|uint64(b.k[5])
}

func sorted(a []rec) bool {
	for i := 1; i < len(a); i++ {
		if recLess(&a[i], &a[i-1]) {
			return false
		}
	}
	return true
}

// radixSort sorts a by recLess when every key place below n holds a value
// of at most maxID (and the places from n on are 0): an in-place MSD radix
// sort (American flag sort) on the key's bytes, skipping the bytes that are
// 0 in every id, down to buckets small enough for insertion sort. On
// Zipfian n-grams it is several times faster than a comparison sort, which
// mispredicts a branch on every other comparison.
func radixSort(a []rec, n int, maxID uint32) {
	nb := max((bits.Len32(maxID)+7)/8, 1)
	radixPass(a, n, nb, 0, 8*(nb-1))
}

// radixPass sorts a, all of whose keys agree before byte shift of place p.
func radixPass(a []rec, n, nb, p, shift int) {
	for {
		if len(a) <= 32 {
			for i := 1; i < len(a); i++ {
				for j := i; j > 0 && recLess(&a[j], &a[j-1]); j-- {
					a[j], a[j-1] = a[j-1], a[j]
				}
			}
			return
		}
		if p == n {
			return // all equal
		}
		var count [256]int
		for i := range a {
			count[byte(a[i].k[p]>>shift)]++
		}
		np, nshift := p, shift-8
		if nshift < 0 {
			np, nshift = p+1, 8*(nb-1)
		}
		if count[byte(a[0].k[p]>>shift)] == len(a) {
			p, shift = np, nshift // one bucket: go to the next byte
			continue
		}
		var next, end [256]int
		sum := 0
		for d, c := range count {
			next[d] = sum
			sum += c
			end[d] = sum
		}
		for d := range 256 {
			for next[d] < end[d] {
				r := a[next[d]]
				for e := int(byte(r.k[p] >> shift)); e != d; e = int(byte(r.k[p] >> shift)) {
					r, a[next[e]] = a[next[e]], r
					next[e]++
				}
				a[next[d]] = r
				next[d]++
			}
		}
		start := 0
		for d := range 256 {
			if count[d] > 1 {
				radixPass(a[start:start+count[d]], n, nb, np, nshift)
			}
			start += count[d]
		}
		return
	}
}

// budget is the memory shared by a training run's sorts. Each sort reserves
// its share when it is made and keeps within it; the reservations stay
// within limit minus the memory held outside the sorts (the vocabulary),
// except for a small buffer per sort when nothing is left.
type budget struct {
	limit   int64
	used    int64        // reserved by the sorts
	fixed   func() int64 // memory held outside the sorts
	vocab   func() int   // the vocabulary's size: ids are below it
	sorters []*sorter
	tmpDir  string
	spills  int
	spilled map[string]int // runs written by sorter name
}

const (
	minGrow = 1 << 14 // recs a buffer starts with, before it takes its whole reservation (512 KiB)
	minBuf  = 1 << 8  // recs a sort gets even without budget
	fanIn   = 16      // runs of one level merged into one of the next
)

func (b *budget) maxID() uint32 { return uint32(b.vocab()) - 1 }

func (b *budget) free() int64 { return b.limit - b.used - b.fixed() }

// reserve reserves up to want bytes, at least minBuf recs. To find them it
// spills and frees the largest buffers of sorts that are complete and not
// being read.
func (b *budget) reserve(want int64) (int64, error) {
	for b.free() < want {
		var victim *sorter
		for _, o := range b.sorters {
			if o.frozen && !o.reading && len(o.buf) > 0 && (victim == nil || cap(o.buf) > cap(victim.buf)) {
				victim = o
			}
		}
		if victim == nil {
			break
		}
		if err := victim.spill(); err != nil {
			return 0, err
		}
		victim.release()
	}
	got := max(min(want, b.free()), minBuf*recSize)
	b.used += got
	return got, nil
}

// sorter sorts recs by recLess in memory, spilling sorted runs to temporary
// files when its buffer is full, and merges them when read. A combining
// sorter sums the payloads of equal keys.
type sorter struct {
	name    string // what it sorts, for errors: "4-grams by context"
	b       *budget
	n       int // key places written to runs
	combine bool
	buf     []rec
	lim     int   // len(buf) at which add calls makeRoom
	hint    int   // at most this many recs will be added, if not 0
	res     int64 // bytes reserved: the buffer's capacity may grow to it
	runs    []*os.File
	levels  []int // of the runs: a run of level l merges fanIn^l spills
	frozen  bool  // complete: its buffer may be spilled to free memory
	reading bool
	slot    []int // for a placing sorter, where the next rec of each first id goes
}

// newSorter returns a sorter with up to share bytes of the budget (see
// [budget.reserve]). If hint is not 0, at most hint recs will be added:
// the sorter reserves no more than they take, and its buffer holds them
// from the start.
func (b *budget) newSorter(name string, n int, combine bool, share int64, hint int) (*sorter, error) {
	s := &sorter{name: name, b: b, n: n, combine: combine, hint: hint}
	if hint > 0 {
		share = min(share, int64(hint)*recSize)
	}
	var err error
	if s.res, err = b.reserve(share); err != nil {
		return nil, err
	}
	b.sorters = append(b.sorters, s)
	return s, nil
}

// place makes s put the recs in order as they come, if they fit in the
// budget: they are to come sorted by their places 1 to n-1 then 0, and
// counts[id] of them have id in place 0. Otherwise s sorts them within a
// new reservation of share bytes.
func (s *sorter) place(counts []uint32, share int64) error {
	total := 0
	for _, c := range counts {
		total += int(c)
	}
	need := int64(total)*recSize + int64(len(counts))*8
	s.release()
	var err error
	if s.res, err = s.b.reserve(need); err != nil {
		return err
	}
	if s.res < need {
		s.release()
		s.res, err = s.b.reserve(share)
		return err
	}
	s.buf = make([]rec, total)
	s.slot = make([]int, len(counts))
	total = 0
	for id, c := range counts {
		s.slot[id] = total
		total += int(c)
	}
	return nil
}

func (s *sorter) add(r rec) error {
	if s.slot != nil {
		s.buf[s.slot[r.k[0]]] = r
		s.slot[r.k[0]]++
		return nil
	}
	if len(s.buf) >= s.lim {
		if err := s.makeRoom(); err != nil {
			return err
		}
	}
	s.buf = append(s.buf, r)
	return nil
}

// makeRoom grows the full buffer within the reservation, or else compacts a
// combining buffer if that halves it, or else spills the buffer.
//
// A buffer with a hint takes its reservation at once. One without starts
// small and grows eightfold, up to its reservation: doubling would copy
// it about as often as it is filled and, while it copies, hold half as
// much again as its reservation, while taking a large budget at once could
// ask the system for more than it has. Only the first sort of a run (the
// counts) has no hint when memory is plentiful, and the pages of its fresh
// allocation are not resident until written. (Recycled memory is zeroed
// when allocated, so later buffers are sized by their hints.) The buffer
// is filled a sixteenth at a time, so that a growing vocabulary is seen.
func (s *sorter) makeRoom() error {
	// The vocabulary grows while counting: if it overdraws the budget, the
	// counts give way.
	limit := max(int((s.res+min(s.b.free(), 0))/recSize), minBuf)
	if s.open(limit) {
		return nil
	}
	if cap(s.buf) < limit {
		c := limit
		if s.hint == 0 {
			c = min(max(8*cap(s.buf), minGrow), limit)
		}
		nb := make([]rec, len(s.buf), c)
		if c := int64(cap(nb)) * recSize; c > s.res { // the minimum buffer
			s.b.used += c - s.res
			s.res = c
		}
		copy(nb, s.buf)
		s.buf = nb
		s.open(limit)
		return nil
	}
	if s.combine {
		s.sortBuf()
		if len(s.buf) <= min(cap(s.buf), limit)/2 && s.open(limit) {
			return nil
		}
	}
	if err := s.spill(); err != nil {
		return err
	}
	s.open(limit)
	return nil
}

// open lets the buffer fill up to the next sixteenth of its capacity,
// within limit recs, and reports whether that leaves room.
func (s *sorter) open(limit int) bool {
	s.lim = min(cap(s.buf), limit, len(s.buf)+max(cap(s.buf)/16, minBuf))
	return len(s.buf) < s.lim
}

// freeze marks s complete: nothing more will be added. The reservation
// shrinks to what the buffer holds.
func (s *sorter) freeze() {
	s.frozen = true
	s.shrink()
}

// shrink gives back the reservation the buffer does not hold, copying a
// buffer that holds less than half of it.
func (s *sorter) shrink() {
	if len(s.buf) < cap(s.buf)/2 {
		old := cap(s.buf)
		s.buf = slices.Clone(s.buf)
		s.b.dropped(int64(old) * recSize)
	}
	s.lim = cap(s.buf)
	s.b.used -= s.res - int64(cap(s.buf))*recSize
	s.res = int64(cap(s.buf)) * recSize
}

// release gives the buffer's memory back to the budget.
func (s *sorter) release() {
	s.b.used -= s.res
	s.res = 0
	old := cap(s.buf)
	s.buf, s.lim = nil, 0
	s.b.dropped(int64(old) * recSize)
}

// dropped is told that a buffer of the given size is garbage. A large one
// is collected at once: the next buffer then reuses its pages, where
// otherwise it would add fresh ones until the collector ran, and the
// process would hold both.
func (b *budget) dropped(bytes int64) {
	if bytes >= max(b.limit/16, 4<<20) {
		runtime.GC()
	}
}

// sortBuf sorts the buffer, summing equal keys if s combines.
func (s *sorter) sortBuf() {
	if !sorted(s.buf) { // back-offs and probabilities arrive in order
		radixSort(s.buf, s.n, s.b.maxID())
	}
	if !s.combine || len(s.buf) == 0 {
		return
	}
	j := 0
	for i := 1; i < len(s.buf); i++ {
		if s.buf[i].k == s.buf[j].k {
			s.buf[j].v += s.buf[i].v
		} else {
			j++
			s.buf[j] = s.buf[i]
		}
	}
	s.buf = s.buf[:j+1]
}

func (s *sorter) createTemp() (*os.File, error) {
	f, err := os.CreateTemp(s.b.tmpDir, "sift-lm-*")
	if err != nil {
		return nil, fmt.Errorf("lm: spilling %s: %w", s.name, err)
	}
	os.Remove(f.Name()) // unlinked: the data goes away when f is closed, or the process ends
	s.b.spills++
	if s.b.spilled == nil {
		s.b.spilled = map[string]int{}
	}
	s.b.spilled[s.name]++
	return f, nil
}

// spill writes the sorted buffer as a run and empties it.
func (s *sorter) spill() error {
	s.slot = nil // a placing sorter's buffer is full and in order
	s.sortBuf()
	f, err := s.createTemp()
	if err != nil {
		return err
	}
	s.runs, s.levels = append(s.runs, f), append(s.levels, 0)
	w := newRunWriter(f, s)
	for i := range s.buf {
		w.write(&s.buf[i])
	}
	if err := w.finish(); err != nil {
		return err
	}
	s.buf = s.buf[:0]
	// Like a counter in base fanIn: each record is merged log_fanIn(runs)
	// times, and few files are open.
	for k := len(s.runs); k >= fanIn && s.levels[k-fanIn] == s.levels[k-1]; k = len(s.runs) {
		if err := s.mergeRuns(k - fanIn); err != nil {
			return err
		}
	}
	return nil
}

// mergeRuns merges s's runs from i on, all of one level, into one run of
// the next level.
func (s *sorter) mergeRuns(i int) error {
	m, err := newMerger(s.runs[i:], nil, s.n, s.combine)
	if err != nil {
		return err
	}
	f, err := s.createTemp()
	if err != nil {
		return err
	}
	w := newRunWriter(f, s)
	for {
		r, ok, err := m.next()
		if err != nil {
			f.Close()
			return err
		}
		if !ok {
			break
		}
		w.write(r)
	}
	if err := w.finish(); err != nil {
		f.Close()
		return err
	}
	for _, r := range s.runs[i:] {
		r.Close()
	}
	s.runs, s.levels = append(s.runs[:i], f), append(s.levels[:i], s.levels[i]+1)
	return nil
}

func (s *sorter) closeRuns() {
	for _, f := range s.runs {
		f.Close()
	}
	s.runs, s.levels = nil, nil
}

// close frees s's memory and files.
func (s *sorter) close() {
	s.closeRuns()
	s.release()
	s.b.sorters = slices.DeleteFunc(s.b.sorters, func(o *sorter) bool { return o == s })
}

// finish ends adding: s sorts what it holds, writes it out if it is a small
// remainder of what was spilled, and gives back the reservation it does not
// use.
func (s *sorter) finish() error {
	if s.reading {
		return nil
	}
	s.reading = true
	if s.slot != nil {
		s.slot = nil // placed in order
	} else if len(s.runs) > 0 && len(s.buf) < cap(s.buf)/4 {
		if err := s.spill(); err != nil {
			return err
		}
		s.release()
	} else {
		s.sortBuf()
	}
	s.shrink()
	return nil
}

// read finishes s and returns its recs in order. Close s when done.
func (s *sorter) read() (*merger, error) {
	if err := s.finish(); err != nil {
		return nil, err
	}
	return newMerger(s.runs, s.buf, s.n, s.combine)
}

type runWriter struct {
	f    *os.File
	w    *bufio.Writer
	n    int
	name string
	enc  []byte
}

func newRunWriter(f *os.File, s *sorter) *runWriter {
	return &runWriter{f: f, w: bufio.NewWriterSize(f, 1<<16), n: s.n, name: s.name, enc: make([]byte, 4*s.n+8)}
}

func (w *runWriter) write(r *rec) {
	for i := range w.n {
		binary.LittleEndian.PutUint32(w.enc[4*i:], r.k[i])
	}
	binary.LittleEndian.PutUint64(w.enc[4*w.n:], r.v)
	w.w.Write(w.enc) // a write error sticks and is reported by finish
}

// finish flushes the run and rewinds it for reading. A full disk is an
// error naming the file.
func (w *runWriter) finish() error {
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("lm: spilling %s: %w", w.name, err)
	}
	if _, err := w.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("lm: spilling %s: %w", w.name, err)
	}
	return nil
}

// source is one sorted input of a merge: a run file or a sorted buffer.
type source struct {
	cur rec
	mem []rec
	r   *bufio.Reader
	f   *os.File
	n   int
	dec []byte
}

func (s *source) advance() (bool, error) {
	if s.r == nil {
		if len(s.mem) == 0 {
			return false, nil
		}
		s.cur, s.mem = s.mem[0], s.mem[1:]
		return true, nil
	}
	if _, err := io.ReadFull(s.r, s.dec); err != nil {
		if err == io.EOF {
			return false, nil
		}
		return false, fmt.Errorf("lm: reading spilled n-grams from %s: %w", s.f.Name(), err)
	}
	for i := range s.n {
		s.cur.k[i] = binary.LittleEndian.Uint32(s.dec[4*i:])
	}
	s.cur.v = binary.LittleEndian.Uint64(s.dec[4*s.n:])
	return true, nil
}

// merger merges sources in order, summing equal keys if combine.
type merger struct {
	h       srcHeap
	combine bool
	out     rec
	mem     []rec // the only source, when nothing was spilled
}

type srcHeap []*source

func (h srcHeap) Len() int           { return len(h) }
func (h srcHeap) Less(i, j int) bool { return recLess(&h[i].cur, &h[j].cur) }
func (h srcHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *srcHeap) Push(x any)        { *h = append(*h, x.(*source)) }
func (h *srcHeap) Pop() any {
	s := (*h)[len(*h)-1]
	*h = (*h)[:len(*h)-1]
	return s
}

func newMerger(runs []*os.File, mem []rec, n int, combine bool) (*merger, error) {
	m := &merger{combine: combine}
	if len(runs) == 0 {
		m.mem = mem // sorted and combined already
		return m, nil
	}
	srcs := []*source{{mem: mem}}
	for _, f := range runs {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("lm: reading spilled n-grams from %s: %w", f.Name(), err)
		}
		srcs = append(srcs, &source{r: bufio.NewReaderSize(f, 32<<10), f: f, n: n, dec: make([]byte, 4*n+8)})
	}
	for _, s := range srcs {
		ok, err := s.advance()
		if err != nil {
			return nil, err
		}
		if ok {
			m.h = append(m.h, s)
		}
	}
	heap.Init(&m.h)
	return m, nil
}

// next returns the next rec, valid until the following call.
func (m *merger) next() (*rec, bool, error) {
	if m.h == nil {
		if len(m.mem) == 0 {
			return nil, false, nil
		}
		m.out, m.mem = m.mem[0], m.mem[1:]
		return &m.out, true, nil
	}
	if len(m.h) == 0 {
		return nil, false, nil
	}
	m.out = m.h[0].cur
	for {
		if err := m.pop(); err != nil {
			return nil, false, err
		}
		if !m.combine || len(m.h) == 0 || m.h[0].cur.k != m.out.k {
			return &m.out, true, nil
		}
		m.out.v += m.h[0].cur.v
	}
}

// pop advances the smallest source.
func (m *merger) pop() error {
	ok, err := m.h[0].advance()
	if err != nil {
		return err
	}
	if ok {
		heap.Fix(&m.h, 0)
	} else {
		heap.Pop(&m.h)
	}
	return nil
}

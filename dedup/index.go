package dedup

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"
	"unsafe"
)

// IndexConfig shapes an [Index]. The signature's first
// Bands×(BucketBits+TagBits) bits are cut into Bands bands; each band is a
// table of buckets addressed by BucketBits of its bits, whose entries keep
// the band's other TagBits bits.
type IndexConfig struct {
	Lanes      int     // signature width in 64-bit lanes (1 to 4)
	Bands      int     // tables
	BucketBits int     // band bits addressing a bucket (8 to 20): 2^BucketBits buckets per table
	TagBits    int     // further band bits kept per entry (0 to 16)
	TagDist    int     // largest Hamming distance between tags of a candidate
	Probes     int     // weakest bucket bits of a query tried both ways: 2^Probes buckets per band
	MinSim     float64 // smallest Jaccard similarity of a near-duplicate (0 to 1)
	Verify     int     // sketch features kept per document on disk to check borderline pairs exactly (0: none, else 16 to 4096)
}

// setsInMemory is how many bytes of the newest stored feature sets stay in
// memory: checks against them (near-copies tend to be near in a stream)
// cost no read; at 1 M documents, 1 B each.
const setsInMemory = 1 << 20

// verifyBand is how many standard deviations of the sketch's estimate
// from MinSim a pair is checked on its features.
const verifyBand = 3

// DefaultIndex is the configuration measured best on the evaluation corpus
// (see docs/dedup.md).
var DefaultIndex = IndexConfig{Lanes: 2, Bands: 5, BucketBits: 16, TagBits: 9, TagDist: 3, Probes: 4, MinSim: 0.5, Verify: 256}

func (c IndexConfig) check() error {
	switch {
	case c.Lanes < 1 || c.Lanes > maxLanes:
		return fmt.Errorf("bits: %d not one of 64, 128, 192, 256", c.Lanes*64)
	case c.BucketBits < 8 || c.BucketBits > 20:
		return fmt.Errorf("bucket_bits: %d not in [8, 20]", c.BucketBits)
	case c.TagBits < 0 || c.TagBits > 16:
		return fmt.Errorf("tag_bits: %d not in [0, 16]", c.TagBits)
	case c.Bands < 1 || c.Bands*(c.BucketBits+c.TagBits) > 64*c.Lanes:
		return fmt.Errorf("bands: %d bands of %d bits do not fit in %d signature bits", c.Bands, c.BucketBits+c.TagBits, 64*c.Lanes)
	case c.TagDist < 0 || c.TagDist > c.TagBits:
		return fmt.Errorf("tag_distance: %d not in [0, tag_bits]", c.TagDist)
	case c.Probes < 0 || c.Probes > 8:
		return fmt.Errorf("probes: %d not in [0, 8]", c.Probes)
	case !(c.MinSim >= 0 && c.MinSim <= 1):
		return fmt.Errorf("min_similarity: %v not in [0, 1]", c.MinSim)
	case c.Verify != 0 && (c.Verify < 16 || c.Verify > 4096):
		return fmt.Errorf("verify_features: %d not 0 or in [16, 4096]", c.Verify)
	}
	return nil
}

// entry is one document in a bucket: its band tag (with its sketch's size
// code above, see Index.sizeShift) and its number (lo, hi halves), 6
// bytes.
type entry [3]uint16

// block is one cache line of a bucket's entries. next holds the bucket's
// previous block (0: none) above blockShift and the number of entries
// used below. A bucket's newest block is first.
type block struct {
	e    [blockLen]entry
	next uint32
}

// bucket is a bucket's first two entries, a quarter line, and its chain
// of blocks: next holds its newest block (0: none) above blockShift and
// the number of its own entries used below. Buckets are a table, so that
// a probe finds a bucket's first entries where it looks the bucket up:
// one cache miss, not two, for the many buckets that hold an entry or
// two, and the chain's blocks only when they fill.
type bucket struct {
	e    [bucketLen]entry
	next uint32
}

// A block reference is an index into the arena of blocks, or with
// bucketRef set into the table of buckets.
const (
	blockLen   = 10
	bucketLen  = 2
	blockShift = 4
	blockMask  = 1<<blockShift - 1
	bucketRef  = 1 << 31
	maxBlocks  = 1 << (32 - blockShift)
	pageShift  = 12 // blocks per arena page: 4096 (256 KiB)
	pageMask   = 1<<pageShift - 1
)

// Index finds near-duplicates among the documents added to it without
// comparing against all of them. A document is a candidate when, in one
// band, its bucket bits equal the query's with up to Probes of the query's
// least certain bits flipped (the bits whose SimHash votes were closest to
// a tie are the ones edits flip) and its tag is within TagDist bits of the
// query's. Candidates are verified by the Jaccard similarity their
// sketches estimate, which sees features as sets, so shared boilerplate
// repeated in a document does not pass for similarity.
//
// Bands are independent tables over fixed bit ranges, so a distributed
// index can be partitioned by band (each worker owns some tables and
// answers candidates) or by block (documents sharded by their first band's
// bucket). An Index is not safe for concurrent use.
//
// Buckets are a table of 16-byte slots of 2 entries, each with a chain of
// 64-byte blocks of 10 in a paged arena, so a probe costs about one cache
// miss per block and the index grows without copying. Memory per
// document: the sketch (64 B), 6 B per band in bucket entries (plus the
// free slots of each bucket's newest block, and the 16-byte slots of the
// buckets, 5 MiB at the default settings, and a bit per bucket, shared by
// all documents), and 4 B for the id's offset. Ids are
// kept in a temporary file past the first 64 KiB, read back only to name
// a keeper.
type Index struct {
	cfg      IndexConfig
	sketches [][]Sketch // pages of 1<<pageShift, so that they grow without slack
	ndocs    int
	buckets  []bucket  // Bands × 2^BucketBits
	filled   []uint64  // bit b: bucket b holds an entry
	pages    [][]block // arena; block i is pages[i>>pageShift][i&pageMask], block 0 unused
	nblocks  uint32
	docs     idStore     // per document: its id's length (uvarint), the id, with Verify its stored features (little-endian uint32s)
	near     [][2]uint32 // documents added by AddNear and the kept document each leads to, by document
	isNear   []uint64    // bit d: document d was added by AddNear

	checks, overruled int64 // pairs checked on their features; of them, decided otherwise than by the estimate
	estimates         int64 // candidate pairs whose similarity was estimated
	metSame           bool  // the last query met a document with estimate 1

	wave, tags []uint32                // Query's scratch: blocks to read and their bands' tags
	cands      []uint32                // candidates, each document once
	seen       []uint64                // bit d: document d is among cands
	qp         [sketchWords / 4]uint64 // the query sketch's packed masks
	border     []borderline
	buf        []uint32 // a stored feature set
	raw        []byte   // its bytes when read from the file
	enc        []byte
	band       [SketchBins + 1]float64 // verifyBand standard deviations of the estimate at MinSim, by bins used
	sink       uint32

	// An entry keeps the size of its document's sketch (bins not empty)
	// in the bits its tag leaves free, shifted right by sizeShift to fit.
	// A candidate whose size is far from the query's cannot have an
	// estimate that matters, as the estimate is at most the ratio of the
	// sizes: by the query's size, sizeLo and sizeHi bound the stored sizes
	// that can. floor is the least estimate that can matter when m bins
	// are not empty in either sketch, or more: MinSim less the largest
	// error band from m bins on (Verify), a hair lower for rounding.
	tagMask        uint32
	sizeShift      uint
	sizeLo, sizeHi [SketchBins + 1]uint32
	floor          [SketchBins + 1]float64

	// below[n]: a pair whose estimate rests on n bins and whose
	// 15·equal − both (see estimateOf) is less than it has an estimate
	// below MinSim less its error band, which can matter neither as a
	// match nor as a borderline pair; a comparison, where the estimate
	// itself is a division.
	below [SketchBins + 1]float64
}

// ErrIndexFull is returned when the index cannot take more documents: it
// holds at most 2^32-2 documents and ids of at most maxDocID bytes (992
// KiB: an id and its stored features are one record of at most 1 MiB).
var ErrIndexFull = errors.New("dedup: index full")

// maxDocID is the longest id of an Index document.
const maxDocID = maxID - 32<<10

// NewIndex returns an empty index. The error names the offending field.
func NewIndex(cfg IndexConfig) (*Index, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	x := &Index{cfg: cfg, buckets: make([]bucket, cfg.Bands<<cfg.BucketBits), filled: make([]uint64, cfg.Bands<<cfg.BucketBits/64), nblocks: 1}
	if cfg.Verify > 0 {
		x.docs.keep = setsInMemory
	}
	x.band, x.floor, x.below = cfg.cuts()
	x.tagMask = 1<<cfg.TagBits - 1
	x.sizeShift = uint(7 - min(16-cfg.TagBits, 7))
	for nq := range x.sizeLo {
		x.sizeLo[nq], x.sizeHi[nq] = math.MaxUint32, 0
		for nc := 0; nc <= SketchBins; nc++ {
			ratio := 1.0
			if nc != nq {
				ratio = float64(min(nc, nq)) / float64(max(nc, nq))
			}
			if ratio >= x.floor[max(nc, nq)] {
				c := x.sizeCode(nc)
				x.sizeLo[nq], x.sizeHi[nq] = min(x.sizeLo[nq], c), max(x.sizeHi[nq], c)
			}
		}
	}
	return x, nil
}

// cuts returns, by bins used, the error band of the estimate at MinSim
// (verifyBand standard deviations), and the floor and below cuts of an
// Index (see there).
func (c IndexConfig) cuts() (band, floor, below [SketchBins + 1]float64) {
	band = errorBands(c.MinSim)
	widest := 0.0
	for m := SketchBins; m >= 0; m-- {
		if c.Verify > 0 {
			widest = max(widest, band[m])
		}
		floor[m] = c.MinSim - widest - 1e-9
	}
	for n := range below {
		lo := c.MinSim
		if c.Verify > 0 {
			lo -= band[n]
		}
		// A hair lower for rounding; none below 0, where the estimate
		// (never negative) could matter however small the counts.
		below[n] = math.Inf(-1)
		if lo > 0 {
			below[n] = (lo - 1e-9) * (1/sketchCollide - 1) * float64(n)
		}
	}
	return band, floor, below
}

// sizeCode returns what an entry keeps of a sketch with n bins not empty.
func (x *Index) sizeCode(n int) uint32 { return uint32(max(n, 1)-1) >> x.sizeShift }

// sketchSize returns the bins of sk not empty.
func sketchSize(sk *Sketch) int {
	n := 0
	for _, p := range sk.packed() {
		n += bits.OnesCount64(p)
	}
	return n
}

// Config returns the index's configuration.
func (x *Index) Config() IndexConfig { return x.cfg }

// Len returns the number of documents in the index.
func (x *Index) Len() int { return x.ndocs }

func (x *Index) sketch(doc uint32) *Sketch { return &x.sketches[doc>>pageShift][doc&pageMask] }

// addSketch appends document sk's sketch.
func (x *Index) addSketch(sk *Sketch) {
	if x.ndocs&pageMask == 0 {
		x.sketches = append(x.sketches, make([]Sketch, 1<<pageShift))
	}
	*x.sketch(uint32(x.ndocs)) = *sk
	if x.ndocs%64 == 0 {
		x.seen = append(x.seen, 0)
	}
	x.ndocs++
}

// ID returns the id of document doc. The error is an I/O error of the
// temporary id file.
func (x *Index) ID(doc int) (string, error) {
	var buf []byte
	id, _, err := x.record(doc, &buf)
	return string(id), err
}

// record returns document doc's id and stored features, views of memory
// or of *buf (see idStore.view).
func (x *Index) record(doc int, buf *[]byte) (id, set []byte, err error) {
	b, err := x.docs.view(doc, buf)
	if err != nil {
		return nil, nil, err
	}
	l, n := binary.Uvarint(b)
	if n <= 0 || l > uint64(len(b)-n) {
		return nil, nil, fmt.Errorf("dedup: document %d: damaged record", doc)
	}
	return b[n : n+int(l)], b[n+int(l):], nil
}

// Bytes returns the memory the index holds, in bytes.
func (x *Index) Bytes() int64 {
	return int64(len(x.sketches))<<pageShift*int64(len(Sketch{})) + int64(cap(x.buckets))*int64(unsafe.Sizeof(bucket{})) +
		int64(cap(x.sketches)+cap(x.pages))*24 + int64(len(x.pages))<<pageShift*int64(unsafe.Sizeof(block{})) + x.docs.bytes() + int64(cap(x.near))*8 + int64(cap(x.isNear))*8 + int64(cap(x.seen))*8 + int64(cap(x.filled))*8
}

// Close releases the temporary id file. The index must not be used after.
func (x *Index) Close() error { return x.docs.close() }

// key returns band's bucket and tag bits of s.
func (x *Index) key(s *Sig, band int) (bucket, tag uint32) { return x.cfg.BandKey(s, band) }

// Query returns the document most similar to fp among those within
// MinSim (the earliest added among equally similar ones), its estimated
// Jaccard similarity, and whether there is one. Documents added by Add
// come first: one added by [Index.AddNear] is returned only when none
// added by Add is within MinSim.
//
// The buckets of all bands are walked in waves, one block each per wave,
// and the blocks of a wave are touched before they are read: the loads are
// independent, so their cache misses overlap instead of adding up. A
// document met in several bands or buckets is a candidate once, and one
// whose sketch size rules it out (see sizeLo) none.
func (x *Index) Query(fp *Fingerprint) (doc int, sim float64, ok bool) {
	r, bb := x.cfg.BucketBits, x.cfg.BucketBits+x.cfg.TagBits
	x.qp = fp.Sketch.packed()
	nq := bits.OnesCount64(x.qp[0]) + bits.OnesCount64(x.qp[1])
	lo, span := x.sizeLo[nq], x.sizeHi[nq]-x.sizeLo[nq]
	x.wave, x.tags = x.wave[:0], x.tags[:0]
	var weak [8]uint32
	for band := 0; band < x.cfg.Bands; band++ {
		k, tag := x.key(&fp.Sig, band)
		u := weakest(fp.Margin[band*bb:band*bb+r], x.cfg.Probes, &weak)
		base := uint32(band) << r
		// Only buckets that hold entries: in an index of fewer documents
		// than buckets most are empty, and a look at the bitmap is a
		// cache hit where the bucket is a miss. Kept or not without a
		// branch.
		n := len(x.wave)
		x.wave, x.tags = slices.Grow(x.wave, 1<<u), slices.Grow(x.tags, 1<<u)
		wave, tags := x.wave[:n+1<<u], x.tags[:n+1<<u]
		for m := 0; m < 1<<u; m++ {
			if m > 0 { // Gray code: one bit more or less per probe
				k ^= weak[bits.TrailingZeros(uint(m))]
			}
			b := base | k
			wave[n], tags[n] = bucketRef|b, tag
			n += int(x.filled[b/64] >> (b % 64) & 1)
		}
		x.wave, x.tags = wave[:n], tags[:n]
	}
	x.cands = x.cands[:0]
	tb, tm, dist := x.cfg.TagBits, x.tagMask, x.cfg.TagDist
	for len(x.wave) > 0 {
		var touch uint32
		for _, bi := range x.wave {
			touch += *x.next(bi)
		}
		x.sink += touch
		from := len(x.cands)
		next, nextTags := x.wave[:0], x.tags[:0]
		for i, bi := range x.wave {
			es, n := x.entries(bi)
			tag := x.tags[i]
			// Whether an entry passes is a coin toss for the branch
			// predictor: entries are kept or not without a branch, and
			// only those kept are looked up among the candidates so far.
			var pass [blockLen]uint32
			k := 0
			for j := range es {
				e := &es[j] // not a copy: its halves stored apart and read as one would stall
				t := uint32(e[0])
				pass[k] = uint32(e[1]) | uint32(e[2])<<16
				k += b2i(bits.OnesCount32((t^tag)&tm) <= dist) & b2i(t>>tb-lo <= span)
			}
			for _, d := range pass[:k] {
				if w := &x.seen[d/64]; *w>>(d%64)&1 == 0 {
					*w |= 1 << (d % 64)
					x.cands = append(x.cands, d)
				}
			}
			if n != 0 {
				next, nextTags = append(next, n), append(nextTags, tag)
			}
		}
		x.wave, x.tags = next, nextTags
		for _, d := range x.cands[from:] {
			touch += uint32(x.sketch(d)[0])
		}
		x.sink += touch
	}
	for _, d := range x.cands {
		x.seen[d/64] = 0
	}
	return x.best(fp)
}

// b2i returns 1 if b, else 0, without a branch.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// best picks the answer of Query among x.cands. Sketches are compared
// whole: a bound after the first half dropped about a third of the
// candidates of short texts, but whether it would was a coin toss for the
// branch predictor, which cost more than the second half. Estimates
// decide unless they are within the error band of MinSim; such a
// borderline pair is checked on its stored features (Verify) only if it
// could still win: when a kept document was found and it is a near-copy,
// or its estimate plus the band is below the best similarity found (of a
// document of its kind or a kept one), the check could not change the
// answer and is skipped.
func (x *Index) best(fp *Fingerprint) (doc int, sim float64, ok bool) {
	best, bestSim, bestNear := -1, -1.0, true
	take := func(d uint32, s float64) {
		if s < x.cfg.MinSim {
			return
		}
		near := x.nearDoc(d)
		if near != bestNear && !near || near == bestNear && (s > bestSim || s == bestSim && int(d) < best) {
			best, bestSim, bestNear = int(d), s, near
		}
	}
	x.border, x.metSame = x.border[:0], false
	x.estimates += int64(len(x.cands))
	q := &fp.Sketch
	for _, d := range x.cands {
		sk := x.sketch(d)
		eq, n, n2 := sk.countsOf(q, x.qp[0], 0)
		e2, n2b, b2 := sk.countsOf(q, x.qp[1], 1)
		eq, n, n2 = eq+e2, n+n2b, n2+b2
		if float64(eq*(1/sketchCollide)-n2) < x.below[n] {
			continue
		}
		s := estimateOf(eq, n, n2)
		x.metSame = x.metSame || s == 1
		if x.cfg.Verify == 0 || n == 0 || math.Abs(s-x.cfg.MinSim) > x.band[n] {
			take(d, s)
			continue
		}
		x.border = append(x.border, borderline{d, s, s + x.band[n]})
	}
	// The likeliest winners first, so that more checks can be skipped.
	if len(x.border) > 1 {
		slices.SortFunc(x.border, likelier)
	}
	for _, c := range x.border {
		if best >= 0 {
			near := x.nearDoc(c.d)
			if !bestNear && (near || c.upper < bestSim) || bestNear && near && c.upper < bestSim {
				continue // it could not win: kept documents come first
			}
		}
		take(c.d, x.check(c.d, c.s, fp))
	}
	return best, bestSim, best >= 0
}

// borderline is a candidate whose estimate s is within the error band of
// MinSim, and the top of that band.
type borderline struct {
	d        uint32
	s, upper float64
}

// likelier orders borderline pairs by the top of their error band,
// highest first, then by document. Bands are never NaN.
func likelier(a, b borderline) int {
	switch {
	case a.upper > b.upper:
		return -1
	case a.upper < b.upper:
		return 1
	}
	return cmp.Compare(a.d, b.d)
}

// check returns the Jaccard similarity of document d and fp on their
// stored features (exact for sets of up to Verify features), or the
// estimate s if either has none.
func (x *Index) check(d uint32, s float64, fp *Fingerprint) float64 {
	q := fp.features(x.cfg.Verify)
	if len(q) == 0 {
		return s
	}
	_, b, err := x.record(int(d), &x.raw)
	if err != nil || len(b) == 0 { // no features stored: the estimate stands
		return s
	}
	x.buf = x.buf[:0]
	sorted := true
	for i := 0; i+4 <= len(b); i += 4 {
		v := binary.LittleEndian.Uint32(b[i:])
		sorted = sorted && (len(x.buf) == 0 || v > x.buf[len(x.buf)-1])
		x.buf = append(x.buf, v)
	}
	if !sorted { // a short set, stored as hashed (see addRecord)
		slices.Sort(x.buf)
		x.buf = slices.Compact(x.buf)
	}
	e := bottomKJaccard(q, x.buf, x.cfg.Verify)
	x.checks++
	if e >= x.cfg.MinSim != (s >= x.cfg.MinSim) {
		x.overruled++
	}
	return e
}

// Checks returns how many candidate pairs were checked on their stored
// features, and how many of them the check decided otherwise than the
// sketch's estimate would have.
func (x *Index) Checks() (checked, overruled int64) { return x.checks, x.overruled }

// Candidates returns how many candidate pairs queries have compared by
// their sketches (a document met in several bands once): the index's main
// cost, which grows with the documents that land in a query's buckets
// without being near it.
func (x *Index) Candidates() int64 { return x.estimates }

// next returns the next word of block ref: the chain's next block and the
// block's entry count.
func (x *Index) next(ref uint32) *uint32 {
	if ref&bucketRef != 0 {
		return &x.buckets[ref&^bucketRef].next
	}
	return &x.pages[ref>>pageShift][ref&pageMask].next
}

// entries returns the used entries of block ref and the chain's next
// block (0: none).
func (x *Index) entries(ref uint32) ([]entry, uint32) {
	if ref&bucketRef != 0 {
		b := &x.buckets[ref&^bucketRef]
		return b.e[:b.next&blockMask], b.next >> blockShift
	}
	b := &x.pages[ref>>pageShift][ref&pageMask]
	return b.e[:b.next&blockMask], b.next >> blockShift
}

// weakest puts in out the bit masks of the u bits with the smallest
// margins (ties to the lower bit), in increasing order of margin, and
// returns u. margin has at most 32 entries (a band's bucket bits). Keys
// margin<<8|bit pass once through a sorted list of the u least so far,
// each slot keeping the lesser of what it holds and what comes in: no
// branch per bit, and a chain of dependent steps of one key's length, not
// of u rounds over all keys.
func weakest(margin []uint8, u int, out *[8]uint32) int {
	u = min(u, len(margin))
	const none = ^uint32(0)
	a0, a1, a2, a3 := none, none, none, none
	if u <= 4 {
		for b, m := range margin {
			t := uint32(m)<<8 | uint32(b)
			a0, t = min(a0, t), max(a0, t)
			a1, t = min(a1, t), max(a1, t)
			a2, t = min(a2, t), max(a2, t)
			a3 = min(a3, t)
		}
		least := [4]uint32{a0, a1, a2, a3}
		for i, a := range least[:u] {
			out[i] = 1 << (a & 0xff)
		}
		return u
	}
	a4, a5, a6, a7 := none, none, none, none
	for b, m := range margin {
		t := uint32(m)<<8 | uint32(b)
		a0, t = min(a0, t), max(a0, t)
		a1, t = min(a1, t), max(a1, t)
		a2, t = min(a2, t), max(a2, t)
		a3, t = min(a3, t), max(a3, t)
		a4, t = min(a4, t), max(a4, t)
		a5, t = min(a5, t), max(a5, t)
		a6, t = min(a6, t), max(a6, t)
		a7 = min(a7, t)
	}
	least := [8]uint32{a0, a1, a2, a3, a4, a5, a6, a7}
	for i, a := range least[:u] {
		out[i] = 1 << (a & 0xff)
	}
	return u
}

// AddNear appends a document that was found a near-duplicate of
// document of, with fingerprint fp and the given id, and returns its
// number. Queries find it like any other document, so that a later row
// near it but not near the row it duplicates is found too; [Index.Keeper]
// leads from it to the kept document its chain of near-duplicates starts
// from. fp must be the fingerprint of the last [Index.Query]: if that
// query met a document whose sketch estimate with fp was 1, fp would find
// nothing that document does not, and AddNear adds nothing and returns
// -1 (so repeated copies of a near-copy do not pile up).
func (x *Index) AddNear(fp *Fingerprint, id string, of int) (int, error) {
	if x.metSame {
		return -1, nil
	}
	doc, err := x.Add(fp, id)
	if err == nil {
		x.setNearDoc(doc, x.Keeper(of))
	}
	return doc, err
}

// setNearDoc records that doc was added by AddNear and leads to keeper.
func (x *Index) setNearDoc(doc, keeper int) {
	x.near = append(x.near, [2]uint32{uint32(doc), uint32(keeper)})
	for len(x.isNear) <= doc/64 {
		x.isNear = append(x.isNear, 0)
	}
	x.isNear[doc/64] |= 1 << (doc % 64)
}

// nearDoc reports whether doc was added by AddNear.
func (x *Index) nearDoc(doc uint32) bool {
	return int(doc/64) < len(x.isNear) && x.isNear[doc/64]>>(doc%64)&1 != 0
}

// Keeper returns the kept document that doc leads to: doc itself unless
// it was added by [Index.AddNear].
func (x *Index) Keeper(doc int) int {
	if !x.nearDoc(uint32(doc)) {
		return doc
	}
	if i, ok := slices.BinarySearchFunc(x.near, uint32(doc), func(e [2]uint32, d uint32) int { return cmp.Compare(e[0], d) }); ok {
		return int(x.near[i][1])
	}
	return doc
}

// appendNear appends to b what setNear reads: the documents added by
// AddNear and their kept documents (saved in a stage's extra bytes, so
// that the index format stays as it was).
func (x *Index) appendNear(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(x.near)))
	prev := uint32(0)
	for _, e := range x.near {
		b = binary.AppendUvarint(b, uint64(e[0]-prev))
		b = binary.AppendUvarint(b, uint64(e[1]))
		prev = e[0]
	}
	return b
}

// setNear sets the documents added by AddNear from appendNear's bytes
// (none if b is empty: an index saved without them).
func (x *Index) setNear(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(x.Len()) {
		return fmt.Errorf("%w: near-duplicate list", ErrBadIndex)
	}
	b = b[k:]
	prev := uint64(0)
	for range n {
		d, k1 := binary.Uvarint(b)
		if k1 <= 0 {
			return fmt.Errorf("%w: near-duplicate list", ErrBadIndex)
		}
		r, k2 := binary.Uvarint(b[k1:])
		doc := prev + d
		if k2 <= 0 || doc >= uint64(x.Len()) || r >= doc || len(x.near) > 0 && d == 0 {
			return fmt.Errorf("%w: near-duplicate list", ErrBadIndex)
		}
		x.setNearDoc(int(doc), int(r))
		b, prev = b[k1+k2:], doc
	}
	if len(b) != 0 {
		return fmt.Errorf("%w: near-duplicate list", ErrBadIndex)
	}
	return nil
}

// Add appends a document with fingerprint fp and the given id, and
// returns its number.
func (x *Index) Add(fp *Fingerprint, id string) (int, error) {
	doc := x.Len()
	if doc == math.MaxUint32 || x.nblocks > maxBlocks-uint32(x.cfg.Bands) {
		return 0, ErrIndexFull
	}
	if err := x.addRecord(id, fp); err != nil {
		return 0, err
	}
	x.addSketch(&fp.Sketch)
	size := x.sizeCode(sketchSize(&fp.Sketch))
	for band := 0; band < x.cfg.Bands; band++ {
		k, tag := x.key(&fp.Sig, band)
		x.insert(band, k, tag|size<<x.cfg.TagBits, doc)
	}
	return doc, nil
}

// addRecord stores the next document's id and features (none if Verify
// is 0) in one record, so that a document costs one offset in memory: the
// k smallest features, sorted, or when it has no more than k feature
// hashes in all, their top halves as they come, duplicates included, so
// that a kept row pays for no sort; the rare check against it sorts them.
func (x *Index) addRecord(id string, fp *Fingerprint) error {
	if len(id) > maxDocID {
		return ErrIndexFull
	}
	x.enc = binary.AppendUvarint(x.enc[:0], uint64(len(id)))
	x.enc = append(x.enc, id...)
	k := x.cfg.Verify
	switch {
	case k == 0:
	case fp.setLen != k && len(fp.raw) <= k:
		for _, h := range fp.raw {
			x.enc = binary.LittleEndian.AppendUint32(x.enc, uint32(h>>32))
		}
	default:
		for _, v := range fp.features(k) {
			x.enc = binary.LittleEndian.AppendUint32(x.enc, v)
		}
	}
	return x.docs.add(unsafe.String(unsafe.SliceData(x.enc), len(x.enc))) // add copies it
}

// insert adds doc to band's bucket with entry bits tag: its tag and size
// code.
func (x *Index) insert(band int, bk, tag uint32, doc int) {
	bi := band<<x.cfg.BucketBits + int(bk)
	b := &x.buckets[bi]
	x.filled[bi/64] |= 1 << (bi % 64)
	e := entry{uint16(tag), uint16(doc), uint16(doc >> 16)}
	if n := b.next & blockMask; n < bucketLen {
		b.e[n] = e
		b.next++
		return
	}
	if h := b.next >> blockShift; h != 0 {
		if es, _ := x.entries(h); len(es) < cap(es) {
			es[:len(es)+1][len(es)] = e
			*x.next(h)++
			return
		}
	}
	if x.nblocks>>pageShift == uint32(len(x.pages)) {
		x.pages = append(x.pages, make([]block, 1<<pageShift))
	}
	nb := &x.pages[x.nblocks>>pageShift][x.nblocks&pageMask]
	nb.e[0] = e
	nb.next = b.next&^blockMask | 1
	b.next = x.nblocks<<blockShift | bucketLen
	x.nblocks++
}

// indexMagic starts a saved index; its digit is the format version. 4:
// sketches of 128 4-bit bins; 3: 32 8-bit bins and token hashes of
// hashTokens (read no more: its sketches cannot be compared with new ones).
const indexMagic = "SIFTSIM4"

// WriteTo writes the index: configuration, per document its sketch and id,
// then per band every document's band bits. extra is stored alongside (the
// stage stores its feature settings there) and given back by [ReadIndex].
func (x *Index) WriteTo(w io.Writer, extra []byte) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(indexMagic)
	c := x.cfg
	var buf []byte
	for _, v := range []int{c.Lanes, c.Bands, c.BucketBits, c.TagBits, c.TagDist, c.Probes, int(math.Float64bits(c.MinSim)), c.Verify, len(extra), x.Len()} {
		buf = binary.AppendUvarint(buf, uint64(v))
	}
	buf = append(buf, extra...)
	bw.Write(buf)
	var rec []byte
	for doc := 0; doc < x.Len(); doc++ {
		id, set, err := x.record(doc, &rec)
		if err != nil {
			return err
		}
		buf = append(buf[:0], x.sketch(uint32(doc))[:]...)
		buf = binary.AppendUvarint(buf, uint64(len(id)))
		buf = append(buf, id...)
		if c.Verify > 0 {
			buf = binary.AppendUvarint(buf, uint64(len(set)))
			buf = append(buf, set...)
		}
		bw.Write(buf)
	}
	keys := make([]uint32, x.Len())
	for band := 0; band < c.Bands; band++ {
		for k := range 1 << c.BucketBits {
			for bi := bucketRef | uint32(band<<c.BucketBits+k); bi != 0; {
				var es []entry
				es, bi = x.entries(bi)
				for _, e := range es {
					keys[uint32(e[1])|uint32(e[2])<<16] = uint32(k) | uint32(e[0])&x.tagMask<<c.BucketBits
				}
			}
		}
		for _, k := range keys {
			buf = binary.LittleEndian.AppendUint32(buf[:0], k)
			bw.Write(buf)
		}
	}
	return bw.Flush()
}

// ErrBadIndex is returned by [ReadIndex] for data that is not a saved index.
var ErrBadIndex = errors.New("dedup: not a sift simhash index")

// ErrOldIndex is returned by [ReadIndex] for an index saved in another
// format version; it must be built again from its corpus.
var ErrOldIndex = errors.New("dedup: simhash index of another format version")

// ReadIndex reads an index written by [Index.WriteTo] and returns it with
// the extra bytes stored with it.
func ReadIndex(r io.Reader) (*Index, []byte, error) {
	br := bufio.NewReader(r)
	magic := make([]byte, len(indexMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != indexMagic {
		if err == nil && string(magic[:7]) == indexMagic[:7] {
			return nil, nil, fmt.Errorf("%w: format %c, this version reads %c (save the reference again)", ErrOldIndex, magic[7], indexMagic[7])
		}
		return nil, nil, ErrBadIndex
	}
	var hdr [10]uint64
	for i := range hdr {
		v, err := binary.ReadUvarint(br)
		if err != nil || i != 6 && v > math.MaxUint32 {
			return nil, nil, fmt.Errorf("%w: header", ErrBadIndex)
		}
		hdr[i] = v
	}
	x, err := NewIndex(IndexConfig{Lanes: int(hdr[0]), Bands: int(hdr[1]), BucketBits: int(hdr[2]), TagBits: int(hdr[3]),
		TagDist: int(hdr[4]), Probes: int(hdr[5]), MinSim: math.Float64frombits(hdr[6]), Verify: int(hdr[7])})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrBadIndex, err)
	}
	// Read, not preallocated: a damaged length must not allocate 4 GiB
	// that the data does not hold.
	extra, err := io.ReadAll(io.LimitReader(br, int64(hdr[8])))
	if err == nil && uint64(len(extra)) != hdr[8] {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrBadIndex, err)
	}
	n := int(hdr[9])
	var id []byte
	for doc := 0; doc < n; doc++ {
		var sk Sketch
		if _, err := io.ReadFull(br, sk[:]); err != nil {
			return nil, nil, fmt.Errorf("%w: document %d: %v", ErrBadIndex, doc, err)
		}
		l, err := binary.ReadUvarint(br)
		if err != nil || l > maxDocID {
			return nil, nil, fmt.Errorf("%w: document %d id", ErrBadIndex, doc)
		}
		id = append(id[:0], make([]byte, l)...)
		if _, err := io.ReadFull(br, id); err != nil {
			return nil, nil, fmt.Errorf("%w: document %d id: %v", ErrBadIndex, doc, err)
		}
		rec := binary.AppendUvarint(nil, l)
		rec = append(rec, id...)
		if x.cfg.Verify > 0 {
			l, err := binary.ReadUvarint(br)
			if err != nil || l > 4*uint64(x.cfg.Verify) || l%4 != 0 {
				return nil, nil, fmt.Errorf("%w: document %d features", ErrBadIndex, doc)
			}
			id = append(id[:0], make([]byte, l)...)
			if _, err := io.ReadFull(br, id); err != nil {
				return nil, nil, fmt.Errorf("%w: document %d features: %v", ErrBadIndex, doc, err)
			}
			rec = append(rec, id...)
		}
		if err := x.docs.add(string(rec)); err != nil {
			return nil, nil, err
		}
		x.addSketch(&sk)
	}
	var kb [4]byte
	sizes := make([]uint32, n)
	for doc := range sizes {
		sizes[doc] = x.sizeCode(sketchSize(x.sketch(uint32(doc)))) << x.cfg.TagBits
	}
	for band := 0; band < x.cfg.Bands; band++ {
		for doc := 0; doc < n; doc++ {
			if _, err := io.ReadFull(br, kb[:]); err != nil {
				return nil, nil, fmt.Errorf("%w: band %d: %v", ErrBadIndex, band, err)
			}
			k := binary.LittleEndian.Uint32(kb[:])
			x.insert(band, k&(1<<x.cfg.BucketBits-1), k>>x.cfg.BucketBits&x.tagMask|sizes[doc], doc)
		}
	}
	return x, extra, nil
}

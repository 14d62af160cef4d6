package dedup

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
)

// IndexConfig shapes an [Index]. The signature's first Bands×BandBits bits
// are cut into Bands bands; each band is a hash table keyed by its bits.
type IndexConfig struct {
	Lanes    int // signature width in 64-bit lanes (1 to 4)
	Bands    int // tables
	BandBits int // bits per band key (8 to 24)
	Probes   int // weakest bits of a query band tried both ways: 2^Probes lookups per band
	MaxDist  int // largest Hamming distance over the whole signature that is a near-duplicate
}

// DefaultIndex is the configuration measured best on the evaluation corpus
// (see docs/dedup.md).
var DefaultIndex = IndexConfig{Lanes: 4, Bands: 16, BandBits: 16, Probes: 3, MaxDist: 60}

func (c IndexConfig) check() error {
	switch {
	case c.Lanes < 1 || c.Lanes > maxLanes:
		return fmt.Errorf("bits: %d not one of 64, 128, 192, 256", c.Lanes*64)
	case c.BandBits < 8 || c.BandBits > 24:
		return fmt.Errorf("band_bits: %d not in [8, 24]", c.BandBits)
	case c.Bands < 1 || c.Bands*c.BandBits > 64*c.Lanes:
		return fmt.Errorf("bands: %d bands of %d bits do not fit in %d signature bits", c.Bands, c.BandBits, 64*c.Lanes)
	case c.Probes < 0 || c.Probes > 8 || c.Probes > c.BandBits:
		return fmt.Errorf("probes: %d not in [0, 8]", c.Probes)
	case c.MaxDist < 0 || c.MaxDist > 64*c.Lanes:
		return fmt.Errorf("max_distance: %d not in [0, %d]", c.MaxDist, 64*c.Lanes)
	}
	return nil
}

// Index finds near-duplicate signatures among the documents added to it,
// without comparing against all of them: a document is a candidate when
// one of its bands equals the query's band with up to Probes of the
// query's least certain bits flipped (the bits whose SimHash counters were
// closest to zero are the ones an edit flips). Candidates are verified by
// Hamming distance over the whole signature.
//
// Bands are independent tables over fixed bit ranges, so a distributed
// index can be partitioned by band (each worker owns some tables and
// answers candidates) or by block (documents sharded by their first band's
// key). An Index is not safe for concurrent use.
//
// Memory per document: the signature (8 B per lane), 4 B per band for the
// chain link, the id bytes plus 4 B, and 2^BandBits × 4 B per band of
// table heads shared by all documents.
type Index struct {
	cfg   IndexConfig
	sigs  []uint64 // Lanes words per document
	next  []int32  // Bands links per document: next document in the same bucket, -1 for none
	head  []int32  // Bands × 2^BandBits bucket heads, -1 for empty
	idEnd []uint32 // end offset of each document's id in ids
	ids   []byte
}

// ErrIndexFull is returned when the index cannot take more documents: it
// holds at most 2^31-1 documents and 4 GiB of ids.
var ErrIndexFull = errors.New("dedup: index full")

// NewIndex returns an empty index. The error names the offending field.
func NewIndex(cfg IndexConfig) (*Index, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	x := &Index{cfg: cfg, head: make([]int32, cfg.Bands<<cfg.BandBits)}
	for i := range x.head {
		x.head[i] = -1
	}
	return x, nil
}

// Config returns the index's configuration.
func (x *Index) Config() IndexConfig { return x.cfg }

// Len returns the number of documents in the index.
func (x *Index) Len() int { return len(x.idEnd) }

// ID returns the id of document doc.
func (x *Index) ID(doc int) string {
	start := uint32(0)
	if doc > 0 {
		start = x.idEnd[doc-1]
	}
	return string(x.ids[start:x.idEnd[doc]])
}

// Bytes returns the memory the index holds, in bytes.
func (x *Index) Bytes() int64 {
	return int64(cap(x.sigs))*8 + int64(cap(x.next))*4 + int64(cap(x.head))*4 + int64(cap(x.idEnd))*4 + int64(cap(x.ids))
}

func (x *Index) key(s *Sig, band int) uint32 {
	b := band * x.cfg.BandBits
	w, off := b/64, b%64
	k := s[w] >> off
	if off+x.cfg.BandBits > 64 && w+1 < maxLanes {
		k |= s[w+1] << (64 - off)
	}
	return uint32(k) & (1<<x.cfg.BandBits - 1)
}

func (x *Index) dist(s *Sig, doc int) int {
	d := 0
	for l, w := range x.sigs[doc*x.cfg.Lanes : (doc+1)*x.cfg.Lanes] {
		d += bits.OnesCount64(w ^ s[l])
	}
	return d
}

// Query returns the document nearest to s within MaxDist (the earliest
// added among equally near ones), its distance, and whether there is one.
// margin holds the SimHash vote margins of s as [Accumulator.Sig] gives
// them; nil means no probing beyond exact band matches.
func (x *Index) Query(s Sig, margin []int32) (doc, dist int, ok bool) {
	r := x.cfg.BandBits
	var weak [8]uint32
	best, bestD := -1, math.MaxInt
	for band := 0; band < x.cfg.Bands; band++ {
		k := x.key(&s, band)
		u := 0
		if margin != nil {
			u = weakest(margin[band*r:(band+1)*r], x.cfg.Probes, &weak)
		}
		heads := x.head[band<<r : (band+1)<<r]
		for m := 0; m < 1<<u; m++ {
			pk := k
			for i := 0; i < u; i++ {
				if m>>i&1 == 1 {
					pk ^= weak[i]
				}
			}
			for d := heads[pk]; d >= 0; d = x.next[int(d)*x.cfg.Bands+band] {
				if dd := x.dist(&s, int(d)); dd <= x.cfg.MaxDist && (dd < bestD || dd == bestD && int(d) < best) {
					best, bestD = int(d), dd
				}
			}
		}
	}
	return best, bestD, best >= 0
}

// weakest puts in out the bit masks of the u bits with the smallest
// margins (ties to the lower bit) and returns u.
func weakest(margin []int32, u int, out *[8]uint32) int {
	var taken uint32
	for i := 0; i < u; i++ {
		j := -1
		for b, m := range margin {
			if taken>>b&1 == 0 && (j < 0 || m < margin[j]) {
				j = b
			}
		}
		taken |= 1 << j
		out[i] = 1 << j
	}
	return u
}

// Add appends a document with signature s and the given id, and returns
// its number.
func (x *Index) Add(s Sig, id string) (int, error) {
	doc, err := x.addID(id)
	if err != nil {
		return 0, err
	}
	x.sigs = append(x.sigs, s[:x.cfg.Lanes]...)
	r := x.cfg.BandBits
	for band := 0; band < x.cfg.Bands; band++ {
		h := &x.head[band<<r+int(x.key(&s, band))]
		x.next = append(x.next, *h)
		*h = int32(doc)
	}
	return doc, nil
}

func (x *Index) addID(id string) (int, error) {
	doc := len(x.idEnd)
	if doc == math.MaxInt32 || uint64(len(x.ids))+uint64(len(id)) > math.MaxUint32 {
		return 0, ErrIndexFull
	}
	x.ids = append(x.ids, id...)
	x.idEnd = append(x.idEnd, uint32(len(x.ids)))
	return doc, nil
}

const indexMagic = "SIFTSIM1"

// WriteTo writes the index's configuration, signatures and ids; tables are
// rebuilt on load. extra is stored alongside (the stage stores its feature
// settings there) and given back by [ReadIndex].
func (x *Index) WriteTo(w io.Writer, extra []byte) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(indexMagic)
	var buf []byte
	for _, v := range []int{x.cfg.Lanes, x.cfg.Bands, x.cfg.BandBits, x.cfg.Probes, x.cfg.MaxDist, len(extra), x.Len()} {
		buf = binary.AppendUvarint(buf, uint64(v))
	}
	buf = append(buf, extra...)
	bw.Write(buf)
	for doc := 0; doc < x.Len(); doc++ {
		buf = buf[:0]
		for _, v := range x.sigs[doc*x.cfg.Lanes : (doc+1)*x.cfg.Lanes] {
			buf = binary.LittleEndian.AppendUint64(buf, v)
		}
		id := x.ID(doc)
		buf = binary.AppendUvarint(buf, uint64(len(id)))
		buf = append(buf, id...)
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ErrBadIndex is returned by [ReadIndex] for data that is not a saved index.
var ErrBadIndex = errors.New("dedup: not a sift simhash index")

// ReadIndex reads an index written by [Index.WriteTo] and returns it with
// the extra bytes stored with it.
func ReadIndex(r io.Reader) (*Index, []byte, error) {
	br := bufio.NewReader(r)
	magic := make([]byte, len(indexMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != indexMagic {
		return nil, nil, ErrBadIndex
	}
	var hdr [7]int
	for i := range hdr {
		v, err := binary.ReadUvarint(br)
		if err != nil || v > math.MaxInt32 {
			return nil, nil, fmt.Errorf("%w: header", ErrBadIndex)
		}
		hdr[i] = int(v)
	}
	x, err := NewIndex(IndexConfig{Lanes: hdr[0], Bands: hdr[1], BandBits: hdr[2], Probes: hdr[3], MaxDist: hdr[4]})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrBadIndex, err)
	}
	extra := make([]byte, hdr[5])
	if _, err := io.ReadFull(br, extra); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrBadIndex, err)
	}
	sb := make([]byte, 8*x.cfg.Lanes)
	var id []byte
	for doc := 0; doc < hdr[6]; doc++ {
		var s Sig
		if _, err := io.ReadFull(br, sb); err != nil {
			return nil, nil, fmt.Errorf("%w: document %d: %v", ErrBadIndex, doc, err)
		}
		for l := range x.cfg.Lanes {
			s[l] = binary.LittleEndian.Uint64(sb[8*l:])
		}
		n, err := binary.ReadUvarint(br)
		if err != nil || n > math.MaxUint32 {
			return nil, nil, fmt.Errorf("%w: document %d id", ErrBadIndex, doc)
		}
		id = append(id[:0], make([]byte, n)...)
		if _, err := io.ReadFull(br, id); err != nil {
			return nil, nil, fmt.Errorf("%w: document %d id: %v", ErrBadIndex, doc, err)
		}
		if _, err := x.Add(s, string(id)); err != nil {
			return nil, nil, err
		}
	}
	return x, extra, nil
}

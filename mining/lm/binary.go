package lm

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
)

// ErrBinaryFormat is wrapped by every error about a KenLM binary file that
// sift cannot use: corrupt, truncated, built on another architecture, of
// another format version, or of a data structure sift does not read.
var ErrBinaryFormat = errors.New("lm: bad KenLM binary")

// BinaryVersion is the KenLM binary format version sift reads: the one
// build_binary has written since 2012 (kenlm commit 4cb443e writes it too).
const BinaryVersion = 5

const (
	binPrefix     = "mmap lm http://kheafield.com/code"
	binMagic      = binPrefix + " format version 5\n\x00"
	binIncomplete = binPrefix + " incomplete\n"
	// sanitySize is KenLM's Sanity struct: the magic padded to 56 bytes,
	// three floats, three word indices and a uint64.
	sanitySize = 88
	// fixedSize is FixedWidthParameters: order, probing multiplier, model
	// type, has_vocabulary, search version.
	fixedSize = 20
)

// KenLM's ModelType values.
const (
	typeProbing        = 0
	typeRestProbing    = 1
	typeTrie           = 2
	typeQuantTrie      = 3
	typeArrayTrie      = 4
	typeQuantArrayTrie = 5
)

// IsBinary reports whether data starts like a KenLM binary file.
func IsBinary(data []byte) bool { return bytes.HasPrefix(data, []byte(binPrefix)) }

func binErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBinaryFormat, fmt.Sprintf(format, args...))
}

// binHeader is the parsed header of a binary file.
type binHeader struct {
	order      int
	multiplier float32
	modelType  uint32
	hasVocab   bool
	counts     []uint64
	size       uint64 // bytes of header, rounded up to 8
}

func parseBinHeader(data []byte) (binHeader, error) {
	var h binHeader
	if !IsBinary(data) {
		return h, binErr("no KenLM magic at the start of the file")
	}
	if bytes.HasPrefix(data, []byte(binIncomplete)) {
		return h, binErr("the file is marked incomplete: build_binary failed or was interrupted while writing it")
	}
	if len(data) < sanitySize+fixedSize {
		return h, binErr("truncated header (%d bytes)", len(data))
	}
	if !bytes.HasPrefix(data, []byte(binMagic)) {
		v, ok := bytes.CutPrefix(data, []byte(binPrefix+" format version "))
		if i := bytes.IndexByte(v, '\n'); ok && i > 0 && i < 12 {
			return h, binErr("format version %q; sift reads version %d: rebuild the model with a current build_binary", v[:i], BinaryVersion)
		}
		return h, binErr("unrecognized magic")
	}
	s := data[56:sanitySize]
	if math.Float32frombits(ne.Uint32(s)) != 0 || math.Float32frombits(ne.Uint32(s[4:])) != 1 ||
		math.Float32frombits(ne.Uint32(s[8:])) != -0.5 || ne.Uint32(s[12:]) != 1 ||
		ne.Uint32(s[16:]) != math.MaxUint32 || ne.Uint64(s[24:]) != 1 {
		return h, binErr("sanity values differ: the file was built on a machine with another byte order, float format or word size")
	}
	f := data[sanitySize:]
	h.order = int(f[0])
	h.multiplier = math.Float32frombits(ne.Uint32(f[4:]))
	h.modelType = ne.Uint32(f[8:])
	hasVocab := f[12]
	searchVersion := ne.Uint32(f[16:])
	switch {
	case h.order < 2 || h.order > MaxOrder:
		return h, binErr("order %d; sift reads orders 2 to %d", h.order, MaxOrder)
	case hasVocab > 1:
		return h, binErr("has_vocabulary is %d", hasVocab)
	case !(h.multiplier >= 1 && h.multiplier < 1e6):
		return h, binErr("probing multiplier %v", h.multiplier)
	}
	h.hasVocab = hasVocab == 1
	wantSearch := uint32(1)
	switch h.modelType {
	case typeProbing:
		wantSearch = 0
	case typeTrie, typeQuantTrie:
	case typeRestProbing:
		return h, binErr("data structure rest_probing is not supported; rebuild with build_binary probing or trie")
	case typeArrayTrie, typeQuantArrayTrie:
		return h, binErr("trie with pointer compression (build_binary -a) is not supported; rebuild without -a")
	default:
		return h, binErr("unknown model type %d", h.modelType)
	}
	if searchVersion != wantSearch {
		return h, binErr("search version %d, want %d", searchVersion, wantSearch)
	}
	h.size = (sanitySize + fixedSize + 8*uint64(h.order) + 7) &^ 7
	if uint64(len(data)) < h.size {
		return h, binErr("truncated header (%d bytes)", len(data))
	}
	for n := range h.order {
		c := ne.Uint64(data[sanitySize+fixedSize+8*n:])
		if c == 0 || c >= 1<<40 || n == 0 && c >= math.MaxUint32 {
			return h, binErr("%d-gram count %d", n+1, c)
		}
		h.counts = append(h.counts, c)
	}
	return h, nil
}

// ReadBinary makes a Model of a KenLM binary file (build_binary's output,
// format version [BinaryVersion]): the probing data structure, or the trie,
// quantized or not. The model uses data in place: data must not change while
// the model is in use. Errors wrap [ErrBinaryFormat].
func ReadBinary(data []byte) (*Model, error) {
	h, err := parseBinHeader(data)
	if err != nil {
		return nil, err
	}
	r := &region{data: data, at: h.size}
	c := h.counts
	m := &Model{order: h.order, counts: make([]int, h.order)}
	for i, n := range c {
		m.counts[i] = int(n)
	}
	if h.modelType == typeProbing {
		m.format = "probing"
		err = readProbing(m, r, h)
	} else {
		m.format = "trie"
		if h.modelType == typeQuantTrie {
			m.format = "quantized trie"
		}
		err = readTrie(m, r, h)
	}
	if err != nil {
		return nil, err
	}
	if h.hasVocab {
		s := data[r.at:]
		if !bytes.HasPrefix(s, []byte("<unk>\x00")) {
			return nil, binErr("the vocabulary does not start with <unk> where the tables end")
		}
		m.strs = s
	}
	m.words.size = uint32(c[0]) + 1 // c[0] leaves out a <unk> the ARPA file lacked
	m.bos, m.eos = m.Index(BOS), m.Index(EOS)
	return m, nil
}

// region hands out consecutive sections of a binary file, checking sizes.
type region struct {
	data []byte
	at   uint64
}

func (r *region) take(size uint64, what string) ([]byte, error) {
	if size > uint64(len(r.data)) || r.at > uint64(len(r.data))-size {
		return nil, binErr("truncated: %s needs %d bytes at offset %d, the file has %d", what, size, r.at, len(r.data))
	}
	b := r.data[r.at : r.at+size : r.at+size]
	r.at += size
	return b, nil
}

// table takes a probing hash table of n entries of width bytes.
func (r *region) table(n uint64, mult float32, width uint64, what string) (hashTable, error) {
	b := probingBuckets(n, mult)
	d, err := r.take(b*width, what)
	return makeHashTable(d, b, width), err
}

func readProbing(m *Model, r *region, h binHeader) error {
	c := h.counts
	vh, err := r.take(8, "vocabulary header")
	if err != nil {
		return err
	}
	if v := ne.Uint32(vh); v != 0 {
		return binErr("probing vocabulary version %d, want 0", v)
	}
	if m.words.probe, err = r.table(c[0], h.multiplier, 12, "vocabulary"); err != nil {
		return err
	}
	p := &probing{order: h.order}
	if p.uni, err = r.take((c[0]+1)*8, "unigrams"); err != nil {
		return err
	}
	for n := 2; n < h.order; n++ {
		t, err := r.table(c[n-1], h.multiplier, 16, strconv.Itoa(n)+"-grams")
		if err != nil {
			return err
		}
		p.mid = append(p.mid, t)
	}
	if p.long, err = r.table(c[h.order-1], h.multiplier, 12, strconv.Itoa(h.order)+"-grams"); err != nil {
		return err
	}
	m.probe = p
	return nil
}

// trie is KenLM's trie data structure: n-grams reversed (newest word
// first) in bit-packed sorted arrays, one per order, each entry holding a
// word id, its weights (plain floats or indices into quantization bins) and,
// below the highest order, the start of its children in the next order.
type trie struct {
	order int
	uni   []byte // per word id: prob, backoff float32, next uint64
	mid   []bitArray
	long  bitArray
	// Quantization: bins[n-2] holds the probability (0) and back-off (1)
	// centers of order n; nil when not quantized.
	bins [][2][]byte
	pb   uint8
	bb   uint8
}

// bitArray is one order of a trie.
type bitArray struct {
	data      []byte
	entries   uint64 // the entry at index entries only ends the last range
	wordBits  uint8
	totalBits uint64
	quantBits uint64
	nextMask  uint64
}

// requiredBits is KenLM's RequiredBits: the bits needed for values up to max.
func requiredBits(max uint64) uint8 { return uint8(bits.Len64(max)) }

func (a *bitArray) read(bit uint64, nbits uint8) uint64 {
	return ne.Uint64(a.data[bit>>3:]) >> (bit & 7) & (1<<nbits - 1)
}

// find returns the index of word in the sorted entries [begin, end).
func (a *bitArray) find(word uint32, begin, end uint64) (uint64, bool) {
	if end > a.entries || begin >= end {
		return 0, false
	}
	return uniformFind(begin, end, uint64(word), func(i uint64) uint64 { return a.read(i*a.totalBits, a.wordBits) })
}

// next returns the children range of middle entry i.
func (a *bitArray) next(i uint64) (begin, end uint64) {
	bit := i*a.totalBits + uint64(a.wordBits) + a.quantBits
	begin = ne.Uint64(a.data[bit>>3:]) >> (bit & 7) & a.nextMask
	bit += a.totalBits
	end = ne.Uint64(a.data[bit>>3:]) >> (bit & 7) & a.nextMask
	return begin, end
}

func newBitArray(r *region, entries, maxVocab, quantBits uint64, nextBits uint8, what string) (bitArray, error) {
	a := bitArray{entries: entries, wordBits: requiredBits(maxVocab), quantBits: quantBits, nextMask: 1<<nextBits - 1}
	a.totalBits = uint64(a.wordBits) + quantBits + uint64(nextBits)
	var err error
	a.data, err = r.take(((1+entries)*a.totalBits+7)/8+8, what)
	return a, err
}

func readTrie(m *Model, r *region, h binHeader) error {
	c := h.counts
	vs, err := r.take(8+8*c[0], "vocabulary")
	if err != nil {
		return err
	}
	nv := ne.Uint64(vs)
	if nv >= c[0] {
		return binErr("sorted vocabulary of %d words for %d unigrams", nv, c[0])
	}
	m.words.sorted = vs[8 : 8+8*nv]
	t := &trie{order: h.order}
	midBits, longBits := uint64(63), uint64(31)
	if h.modelType == typeQuantTrie {
		q, err := r.take(8, "quantization header")
		if err != nil {
			return err
		}
		if q[0] != 2 {
			return binErr("quantization version %d, want 2", q[0])
		}
		t.pb, t.bb = q[1], q[2]
		if t.pb == 0 || t.pb > 25 || t.bb == 0 || t.bb > 25 {
			return binErr("quantization with %d probability and %d back-off bits", t.pb, t.bb)
		}
		for n := 2; n <= h.order; n++ {
			var b [2][]byte
			if b[0], err = r.take(4<<t.pb, "probability bins"); err != nil {
				return err
			}
			if n < h.order {
				if b[1], err = r.take(4<<t.bb, "back-off bins"); err != nil {
					return err
				}
			}
			t.bins = append(t.bins, b)
		}
		midBits, longBits = uint64(t.pb)+uint64(t.bb), uint64(t.pb)
	}
	if t.uni, err = r.take((c[0]+2)*16, "unigrams"); err != nil {
		return err
	}
	for n := 2; n < h.order; n++ {
		a, err := newBitArray(r, c[n-1], c[0], midBits, requiredBits(c[n]), strconv.Itoa(n)+"-grams")
		if err != nil {
			return err
		}
		t.mid = append(t.mid, a)
	}
	if t.long, err = newBitArray(r, c[h.order-1], c[0], longBits, 0, strconv.Itoa(h.order)+"-grams"); err != nil {
		return err
	}
	m.trie = t
	return nil
}

// unigram returns word w's weights and children range.
func (t *trie) unigram(w uint32) (prob, backoff float32, begin, end uint64) {
	u := t.uni[uint64(w)*16:][:32]
	return negf(ne.Uint32(u)), math.Float32frombits(ne.Uint32(u[4:])), ne.Uint64(u[8:]), ne.Uint64(u[24:])
}

// midWeights returns the weights of entry i of order j+2.
func (t *trie) midWeights(j int, i uint64) (prob, backoff float32) {
	a := &t.mid[j]
	bit := i*a.totalBits + uint64(a.wordBits)
	if t.bins == nil {
		return negf(uint32(a.read(bit, 31))), math.Float32frombits(uint32(a.read(bit+31, 32)))
	}
	bo := a.read(bit, t.bb)
	p := a.read(bit+uint64(t.bb), t.pb)
	return math.Float32frombits(ne.Uint32(t.bins[j][0][p*4:])), math.Float32frombits(ne.Uint32(t.bins[j][1][bo*4:]))
}

func (t *trie) longProb(i uint64) float32 {
	a := &t.long
	bit := i*a.totalBits + uint64(a.wordBits)
	if t.bins == nil {
		return negf(uint32(a.read(bit, 31)))
	}
	return math.Float32frombits(ne.Uint32(t.bins[t.order-2][0][a.read(bit, t.pb)*4:]))
}

func (t *trie) lookup(ids []uint32) (entry, bool) {
	n := len(ids)
	if uint64(ids[n-1])*16+32 > uint64(len(t.uni)) {
		return entry{}, false
	}
	p, bo, begin, end := t.unigram(ids[n-1])
	for j := 0; j < n-1; j++ {
		w := ids[n-2-j]
		if j+2 == t.order {
			i, ok := t.long.find(w, begin, end)
			if !ok {
				return entry{}, false
			}
			return entry{prob: t.longProb(i)}, true
		}
		i, ok := t.mid[j].find(w, begin, end)
		if !ok {
			return entry{}, false
		}
		p, bo = t.midWeights(j, i)
		begin, end = t.mid[j].next(i)
	}
	return entry{p, bo}, true
}

func (t *trie) score(s *State, w uint32) (float32, int) {
	prob, bo, begin, end := t.unigram(w)
	order := 1
	in := *s
	if w == 0 {
		s.n = 0 // no n-gram contains <unk>
	} else {
		s.words[0], s.backoff[0], s.n = w, bo, min(1, t.order-1)
		for j := 0; j < in.n; j++ {
			if j+2 == t.order {
				if i, ok := t.long.find(in.words[j], begin, end); ok {
					prob, order = t.longProb(i), t.order
				}
				break
			}
			i, ok := t.mid[j].find(in.words[j], begin, end)
			if !ok {
				break
			}
			var b float32
			prob, b = t.midWeights(j, i)
			order = j + 2
			begin, end = t.mid[j].next(i)
			s.words[j+1], s.backoff[j+1], s.n = in.words[j], b, j+2
		}
	}
	for j := order - 1; j < in.n; j++ {
		prob += in.backoff[j]
	}
	return prob, order
}

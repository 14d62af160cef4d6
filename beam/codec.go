package siftbeam

import (
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
	"reflect"
	"slices"
	"unsafe"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

// The dedup steps' elements are arrays of many rows; they are coded by
// hand, compactly (varints), rather than by Beam's reflective row coder.

type enc struct{ b []byte }

func (e *enc) int(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *enc) uint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) bytes(p []byte) {
	e.uint(uint64(len(p)))
	e.b = append(e.b, p...)
}
func (e *enc) str(s string) {
	e.uint(uint64(len(s)))
	e.b = append(e.b, s...)
}
func (e *enc) float(f float64) { e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(f)) }

// deltas writes vs as differences from the previous value: positions
// and buckets of a chunk rise, so most take a byte.
func (e *enc) deltas(vs []int32) {
	e.uint(uint64(len(vs)))
	prev := int32(0)
	for _, v := range vs {
		e.int(int64(v - prev))
		prev = v
	}
}

// sorted writes vs as differences from the previous value (zigzag
// varints, so any order round-trips): a feature set is increasing, and
// its differences take a byte or two less than its values.
func (e *enc) sorted(vs []uint32) {
	e.uint(uint64(len(vs)))
	prev := int64(0)
	for _, v := range vs {
		e.int(int64(v) - prev)
		prev = int64(v)
	}
}

func (e *enc) uints(vs []uint32) {
	e.uint(uint64(len(vs)))
	for _, v := range vs {
		e.uint(uint64(v))
	}
}

// strs writes each string as the length of the prefix it shares with
// the one before it and the rest ([enc.after]): a chunk's ids are in
// input order, and ids such as r004711 share most of their bytes with
// the one before.
func (e *enc) strs(ss []string) {
	e.uint(uint64(len(ss)))
	prev := ""
	for _, s := range ss {
		e.after(prev, s)
		prev = s
	}
}

// after writes s as the length of the prefix it shares with prev and the
// rest of it: the rest's length times two, plus one when a prefix is
// shared, then the prefix's length if so, then the rest; so a string
// sharing nothing takes what [enc.str] takes.
func (e *enc) after(prev, s string) {
	k := 0
	for k < len(s) && k < len(prev) && s[k] == prev[k] {
		k++
	}
	if k == 0 {
		e.uint(uint64(len(s)) << 1)
	} else {
		e.uint(uint64(len(s)-k)<<1 | 1)
		e.uint(uint64(k))
	}
	e.b = append(e.b, s[k:]...)
}

// sketches writes sketches (sketchSize bytes each, 4-bit bins) sparsely
// where that is shorter: the count of bins not empty, then a bitmap of
// them and their values, two to a byte; or, past denseBins, the sketch
// as it is. A short text leaves most bins empty (29 of 128 on average on
// the benchmark's rows), and the sketches were most of a SimHash chunk's
// bytes, which the runner copies several times over.
func (e *enc) sketches(sk []byte) {
	e.uint(uint64(len(sk)))
	if len(sk)%sketchSize != 0 {
		e.b = append(e.b, sk...) // refused by the decoder's shape check
		return
	}
	var nonEmpty [sketchSize / 8]uint64
	for i := 0; i < len(sk); i += sketchSize {
		s := sk[i : i+sketchSize]
		// The top bit of every nibble not zero, word by word: its low
		// three bits plus 7 carry into it unless they are zero.
		k := 0
		for w := range nonEmpty {
			x := binary.LittleEndian.Uint64(s[8*w:])
			nonEmpty[w] = ((x & nibble7) + nibble7 | x) & nibble8
			k += bits.OnesCount64(nonEmpty[w])
		}
		e.b = append(e.b, byte(k))
		if k > denseBins {
			e.b = append(e.b, s...)
			continue
		}
		at := len(e.b)
		e.b = append(e.b, make([]byte, sketchSize/4+(k+1)/2)...)
		mask, vals := e.b[at:at+sketchSize/4], e.b[at+sketchSize/4:]
		v := 0
		for w, m := range nonEmpty {
			x := binary.LittleEndian.Uint64(s[8*w:])
			for ; m != 0; m &= m - 1 {
				i := bits.TrailingZeros64(m) >> 2 // the nibble in the word
				bin := 16*w + i
				mask[bin/8] |= 1 << (bin % 8)
				vals[v/2] |= byte(x>>(4*i)) & 0x0f << (4 * (v % 2))
				v++
			}
		}
	}
}

// Nibble masks: the low three bits and the top bit of every nibble.
const (
	nibble7 = 0x7777777777777777
	nibble8 = 0x8888888888888888
)

// denseBins is the most bins not empty of a sketch written sparsely: the
// bitmap and values then take no more than the sketch.
const denseBins = 2 * (sketchSize - sketchSize/4)

var errShort = errors.New("siftbeam: truncated element")

type dec struct {
	b   []byte
	err error
}

func (d *dec) int() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) uint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) fail() {
	if d.err == nil {
		d.err = errShort
	}
	d.b = nil
}

// n reads a length, which cannot exceed the bytes left.
func (d *dec) n() int {
	n := d.uint()
	if n > uint64(len(d.b)) {
		d.fail()
		return 0
	}
	return int(n)
}

// bytes and str return parts of the element's bytes, not copies: the SDK
// reads every element into a slice of its own, which nothing changes
// after (copying the ids and sketches of the dedup steps' elements, a
// string or slice each, was most of their decoding).
func (d *dec) bytes() []byte {
	n := d.n()
	if n == 0 {
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *dec) str() string {
	n := d.n()
	if n == 0 {
		return ""
	}
	s := unsafe.String(&d.b[0], n)
	d.b = d.b[n:]
	return s
}

func (d *dec) float() float64 {
	if len(d.b) < 8 {
		d.fail()
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	return v
}

func (d *dec) sketches() []byte {
	n := d.uint()
	if n > uint64(sketchSize)*uint64(len(d.b)) { // a sketch takes a byte at least
		d.fail()
		return nil
	}
	if n%uint64(sketchSize) != 0 {
		return d.take(int(n))
	}
	out := make([]byte, n)
	for i := 0; i < int(n) && d.err == nil; i += sketchSize {
		s := out[i : i+sketchSize]
		k := int(d.take(1)[0])
		if k > denseBins {
			if k > 2*sketchSize {
				d.err = errors.New("siftbeam: a sketch with more bins than it has")
				break
			}
			copy(s, d.take(sketchSize))
			continue
		}
		mask := d.take(sketchSize / 4)
		vals := d.take((k + 1) / 2)
		if d.err != nil {
			break
		}
		set := 0
		for _, x := range mask {
			set += bits.OnesCount8(x)
		}
		if set != k {
			d.err = errors.New("siftbeam: a sketch's bitmap does not match its count")
			break
		}
		v := 0
		for h := 0; h < len(mask); h += 8 {
			for m := binary.LittleEndian.Uint64(mask[h:]); m != 0; m &= m - 1 {
				bin := 8*h + bits.TrailingZeros64(m)
				s[bin/2] |= vals[v/2] >> (4 * (v % 2)) & 0x0f << (4 * (bin % 2))
				v++
			}
		}
	}
	return out
}

// take returns the next n bytes, or zeros and fails when fewer are left.
func (d *dec) take(n int) []byte {
	if n > len(d.b) {
		d.fail()
		return make([]byte, n)
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *dec) deltas() []int32 {
	n := d.n()
	if n == 0 {
		return nil
	}
	vs := make([]int32, n)
	prev := int32(0)
	for i := range vs {
		prev += int32(d.int())
		vs[i] = prev
	}
	return vs
}

func (d *dec) sorted() []uint32 {
	n := d.n()
	if n == 0 {
		return nil
	}
	vs := make([]uint32, n)
	prev := int64(0)
	for i := range vs {
		prev += d.int()
		if prev < 0 || prev > math.MaxUint32 {
			d.fail()
			return nil
		}
		vs[i] = uint32(prev)
	}
	return vs
}

func (d *dec) uints() []uint32 {
	n := d.n()
	if n == 0 {
		return nil
	}
	vs := make([]uint32, n)
	for i := range vs {
		vs[i] = uint32(d.uint())
	}
	return vs
}

func (d *dec) strs() []string {
	n := d.n()
	if n == 0 {
		return nil
	}
	vs := make([]string, n)
	var a arena
	prev := ""
	for i := range vs {
		vs[i] = d.after(prev, &a)
		prev = vs[i]
	}
	return vs
}

// arena holds strings made by [dec.after]: a few kB at a time, not an
// allocation each.
type arena []byte

// after reads a string written by [enc.after] after prev.
func (d *dec) after(prev string, a *arena) string {
	h, k := d.uint(), uint64(0)
	if h&1 == 1 {
		k = d.uint()
	}
	n := h >> 1
	if n > uint64(len(d.b)) || k > uint64(len(prev)) {
		d.fail()
		return ""
	}
	rest := d.b[:n:n]
	d.b = d.b[n:]
	switch {
	case d.err != nil:
		return ""
	case len(rest) == 0:
		return prev[:k]
	case k == 0:
		return unsafe.String(&rest[0], len(rest)) // a part of the element, as str returns
	}
	if len(*a)+int(k)+len(rest) > cap(*a) {
		*a = make([]byte, 0, max(4096, int(k)+len(rest)))
	}
	at := len(*a)
	*a = append(append(*a, prev[:k]...), rest...)
	return unsafe.String(&(*a)[at], len(*a)-at)
}

func (d *dec) done() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = errors.New("siftbeam: trailing bytes in element")
	}
	return d.err
}

// encExact returns c's bytes: those [ExactChunk.pack] made, if it did.
func encExact(c ExactChunk) ([]byte, error) {
	if c.raw != nil {
		return c.raw, nil
	}
	e := enc{}
	e.int(c.Batch)
	e.deltas(c.Pos)
	e.bytes(c.Hash)
	e.strs(c.IDs)
	return e.b, nil
}

func decExact(b []byte) (ExactChunk, error) {
	d := dec{b: b}
	c := ExactChunk{Batch: d.int(), Pos: d.deltas(), Hash: d.bytes(), IDs: d.strs()}
	return c, d.done()
}

// encSim returns c's bytes: those [SimChunk.pack] made, if it did.
func encSim(c SimChunk) ([]byte, error) {
	if c.raw != nil {
		return c.raw, nil
	}
	e := enc{}
	e.int(c.Batch)
	e.uint(uint64(len(c.Pos)))
	e.uint(uint64(c.flips()))
	e.deltas(c.Pos)
	e.strs(c.IDs)
	e.uints(c.Tag)
	e.sketches(c.Sketch)
	e.uints(c.Own)
	e.bytes(c.Flips)
	return e.b, nil
}

// peekSim is the coder's decoder of SimChunks: it reads their batch and
// shape and leaves the rest to [SimChunk.unpack], which the job verifying
// a group calls, on a goroutine of its own rather than the SDK's one per
// bundle.
func peekSim(b []byte) (SimChunk, error) {
	d := dec{b: b}
	c := SimChunk{Batch: d.int()}
	n, u := d.uint(), d.uint()
	switch {
	case d.err != nil:
		return c, d.err
	case n > uint64(len(b)) || u > 8:
		return c, errors.New("siftbeam: a SimHash chunk's shape is out of range")
	}
	c.raw = b
	return c, nil
}

// decSim decodes a SimChunk wholly.
func decSim(b []byte) (SimChunk, error) {
	c, err := peekSim(b)
	if err != nil {
		return c, err
	}
	return c, c.unpack()
}

// unpack decodes the arrays of a chunk [peekSim] read; it does nothing
// to one unpacked.
func (c *SimChunk) unpack() error {
	if c.Pos != nil || c.raw == nil {
		return nil
	}
	d := dec{b: c.raw}
	d.int()
	n, u := int(d.uint()), int(d.uint())
	c.Pos, c.IDs, c.Tag, c.Sketch, c.Own, c.Flips = d.deltas(), d.strs(), d.uints(), d.sketches(), d.uints(), d.bytes()
	switch {
	case d.err != nil:
	case len(c.Pos) != n || len(c.IDs) != n || len(c.Tag) != n || len(c.Sketch) != n*sketchSize || len(c.Own) != n || len(c.Flips) != n*u:
		d.err = errors.New("siftbeam: a SimHash chunk's arrays differ in length")
	}
	c.raw = nil
	return d.done()
}

// pack encodes c ahead of its coder: see [packer].
func (c *SimChunk) pack() { c.raw, _ = encSim(*c) }

// pack encodes c ahead of its coder: see [packer].
func (c *ExactChunk) pack() { c.raw, _ = encExact(*c) }

// pack encodes x ahead of its coder: see [packer].
func (x *Decision) pack() { x.raw, _ = encDecision(*x) }

// encDecision returns x's bytes: those [Decision.pack] made, if it did.
func encDecision(x Decision) ([]byte, error) {
	if x.raw != nil {
		return x.raw, nil
	}
	e := enc{}
	e.int(int64(x.Step))
	e.int(x.Batch)
	e.uint(uint64(len(x.Drops)))
	// A drop's strings are written after the drop's before it: the same
	// reason, and exact_dedup's details share their first 27 bytes (the
	// benchmark's 20 830 exact drops take about half the bytes).
	var prev Drop
	for _, d := range x.Drops {
		e.int(int64(d.Pos))
		e.after(prev.Of, d.Of)
		e.after(prev.Reason, d.Reason)
		e.after(prev.Detail, d.Detail)
		e.bytes(d.Hash)
		prev = d
	}
	e.uint(uint64(len(x.Pairs)))
	// A feature set (up to 256 features) is written once per element:
	// a pair whose earlier row's set came before refers to it. Sets were
	// most of the decisions' bytes.
	first := map[RowRef]int{}
	// The batches of a pair's rows are written as differences from the
	// pair's before it, the first from the element's batch: the pairs of
	// an element share the batch of one of their rows (a byte rather than
	// nine), and often of both.
	later, of := x.Batch, x.Batch
	file := ""
	for i, p := range x.Pairs {
		e.int(p.Later.Key - later)
		e.int(int64(p.Later.Pos))
		e.int(p.Of.Key - of)
		later, of = p.Later.Key, p.Of.Key
		e.int(int64(p.Of.Pos))
		e.str(p.Of.ID)
		e.float(p.Sim)
		if p.Check {
			e.uint(1)
		} else {
			e.uint(0)
		}
		e.after(file, p.SetAt.File)
		file = p.SetAt.File
		e.int(p.SetAt.Off)
		e.int(int64(p.SetAt.N))
		at := RowRef{Key: p.Of.Key, Pos: p.Of.Pos}
		if j, ok := first[at]; ok && len(p.Set) > 0 && slices.Equal(x.Pairs[j].Set, p.Set) {
			e.uint(uint64(j + 1))
			continue
		}
		if len(p.Set) > 0 {
			first[at] = i
		}
		e.uint(0)
		e.sorted(p.Set)
	}
	e.uint(uint64(len(x.Pct)))
	for _, v := range x.Pct {
		e.float(v)
	}
	e.int(x.Rows)
	return e.b, nil
}

func decDecision(b []byte) (Decision, error) {
	d := dec{b: b}
	x := Decision{Step: int32(d.int()), Batch: d.int()}
	if n := d.n(); n > 0 {
		x.Drops = make([]Drop, n)
		var a arena
		var prev Drop
		for i := range x.Drops {
			p := &x.Drops[i]
			p.Pos = int32(d.int())
			p.Of = d.after(prev.Of, &a)
			p.Reason = d.after(prev.Reason, &a)
			p.Detail = d.after(prev.Detail, &a)
			p.Hash = d.bytes()
			prev = *p
		}
	}
	if n := d.n(); n > 0 {
		x.Pairs = make([]Pair, n)
		later, of := x.Batch, x.Batch
		file := ""
		var a arena
		for i := range x.Pairs {
			p := &x.Pairs[i]
			later += d.int()
			p.Later = RowRef{Key: later, Pos: int32(d.int())}
			of += d.int()
			p.Of = RowRef{Key: of, Pos: int32(d.int()), ID: d.str()}
			p.Sim = d.float()
			p.Check = d.uint() == 1
			file = d.after(file, &a)
			p.SetAt = SetRef{File: file, Off: d.int(), N: int32(d.int())}
			if p.SetAt.N < 0 || p.SetAt.N > 1<<16 || p.SetAt.Off < 0 {
				d.err = errors.New("siftbeam: a pair's feature set is out of range")
			}
			switch j := d.uint(); {
			case j == 0:
				p.Set = d.sorted()
			case j <= uint64(i):
				p.Set = x.Pairs[j-1].Set
			default:
				d.err = errors.New("siftbeam: a pair refers to a feature set after it")
			}
		}
	}
	if n := d.n(); n > 0 {
		x.Pct = make([]float64, n)
		for i := range x.Pct {
			x.Pct[i] = d.float()
		}
	}
	x.Rows = d.int()
	return x, d.done()
}

func encStoredRej(r StoredRej) ([]byte, error) {
	e := enc{}
	e.int(int64(r.Step))
	e.int(r.Key)
	e.int(int64(r.N))
	e.str(r.Path)
	e.int(r.Off)
	e.uint(uint64(len(r.Lens)))
	for _, l := range r.Lens {
		e.int(int64(l))
	}
	return e.b, nil
}

func decStoredRej(b []byte) (StoredRej, error) {
	d := dec{b: b}
	r := StoredRej{Step: int32(d.int()), Key: d.int(), N: int32(d.int()), Path: d.str(), Off: d.int()}
	if n := d.n(); n > 0 { // a length takes a byte at least
		r.Lens = make([]int32, n)
		for i := range r.Lens {
			r.Lens[i] = int32(d.int())
		}
	}
	return r, d.done()
}

// encKeepers writes the rows as differences from the one before: they
// share an input range, and often a batch.
func encKeepers(k Keepers) ([]byte, error) {
	e := enc{}
	e.uint(uint64(len(k.Refs)))
	var prev RowRef
	for _, r := range k.Refs {
		e.int(r.Key - prev.Key)
		e.int(int64(r.Pos))
		e.after(prev.ID, r.ID)
		prev = r
	}
	return e.b, nil
}

func decKeepers(b []byte) (Keepers, error) {
	d := dec{b: b}
	var k Keepers
	if n := d.n(); n > 0 { // a row takes three bytes at least
		k.Refs = make([]RowRef, 0, min(n, len(d.b)/3+1))
		var prev RowRef
		var a arena
		for ; n > 0 && d.err == nil; n-- {
			r := RowRef{Key: prev.Key + d.int(), Pos: int32(d.int())}
			r.ID = d.after(prev.ID, &a)
			k.Refs = append(k.Refs, r)
			prev = r
		}
	}
	return k, d.done()
}

func encBlobs(b Blobs) ([]byte, error) {
	e := enc{}
	e.uint(uint64(len(b.K)))
	for i, k := range b.K {
		e.int(k)
		e.bytes(b.B[i])
	}
	return e.b, nil
}

func decBlobs(b []byte) (Blobs, error) {
	d := dec{b: b}
	var out Blobs
	for n := d.n(); n > 0 && d.err == nil; n-- {
		out.K, out.B = append(out.K, d.int()), append(out.B, d.bytes())
	}
	return out, d.done()
}

func init() {
	beam.RegisterCoder(reflect.TypeOf(Blobs{}), encBlobs, decBlobs)
	beam.RegisterCoder(reflect.TypeOf(ExactChunk{}), encExact, decExact)
	beam.RegisterCoder(reflect.TypeOf(SimChunk{}), encSim, peekSim)
	beam.RegisterCoder(reflect.TypeOf(Decision{}), encDecision, decDecision)
	beam.RegisterCoder(reflect.TypeOf(StoredRej{}), encStoredRej, decStoredRej)
	beam.RegisterCoder(reflect.TypeOf(Keepers{}), encKeepers, decKeepers)
}

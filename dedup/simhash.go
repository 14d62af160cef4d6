package dedup

import (
	"encoding/binary"
	"math"
	"math/bits"
	"slices"
)

// Sig is a SimHash signature of up to 256 bits: Sig[0] holds bits 0-63 and
// is, on its own, a classic 64-bit SimHash.
type Sig [maxLanes]uint64

const maxLanes = 4

// SketchBins is the number of one-permutation MinHash bins of a [Sketch],
// and SketchBits the bits kept of each bin's minimum.
const (
	SketchBins = 128
	SketchBits = 4
)

// Sketch is a b-bit one-permutation MinHash of a document's feature set:
// bin i (the low nibble of byte i/2 for even i, the high one for odd i)
// holds 4 bits of the smallest feature hash falling in bin i, 1 to 15, or
// 0 when no feature did. Unlike SimHash, it sees the features as a set, so
// repeated boilerplate counts once; [Sketch.Jaccard] estimates the Jaccard
// similarity of two feature sets from it.
//
// Many narrow bins rather than few wide ones: a short text's features
// mostly fall in bins of their own, so its sketch is close to the set
// itself and the estimate close to exact; for long texts, 128 bins of 4
// bits estimate J = 0.5 with a standard deviation of 0.047 where 32 bins
// of 8 bits (the previous sketch, same total size of 32 B then) gave 0.088.
type Sketch [SketchBins * SketchBits / 8]uint8

// sketchCollide is the chance that the minima of a bin that differ share
// their SketchBits bits.
const sketchCollide = 1.0 / (1<<SketchBits - 1)

// Jaccard estimates the Jaccard similarity of the feature sets behind s
// and t: the share of bins whose minima are equal among the bins not
// empty in both, with the equal bins expected from bits that collide (a
// 1/15 chance for bins full in both) taken out.
func (s *Sketch) Jaccard(t *Sketch) float64 {
	j, _ := s.estimate(t)
	return j
}

// estimate returns the estimate of [Sketch.Jaccard] and the number of
// bins it rests on (not empty in either sketch).
func (s *Sketch) estimate(t *Sketch) (j float64, n int) {
	eq, n, n2 := s.counts(t)
	return estimateOf(eq, n, n2), n
}

// estimateOf is the estimate of [Sketch.Jaccard] from the counts of
// [Sketch.counts].
func estimateOf(eq, n, n2 int) float64 {
	if n == 0 {
		return 0
	}
	if eq == n {
		// Every bin equal (so n2 == n): exactly 1, which the division
		// misses by a rounding error for some n (63, 111, 126), and a row
		// estimated below 1 is indexed as a near-copy.
		return 1
	}
	return max(0, (float64(eq)-sketchCollide*float64(n2))/((1-sketchCollide)*float64(n)))
}

// sketchSD returns the standard deviation of the estimate when the true
// similarity is j and n bins are not empty in either sketch. The bins'
// minima sample the union of the sets, of about u elements (the size that
// leaves n of the bins not empty on average): a sample that is nearly the
// whole union (short texts) is nearly exact, up to the 1/15 of differing
// bins that collide.
func sketchSD(j float64, n int) float64 {
	const c = sketchCollide
	fpc := 1.0
	if n < SketchBins {
		u := math.Log1p(-float64(n)/SketchBins) / math.Log1p(-1.0/SketchBins)
		fpc = max(0, (u-float64(n))/max(u-1, 1))
	}
	v := ((1-c)*(1-c)*j*(1-j)*fpc + c*(1-c)*(1-j)) / float64(n)
	return math.Sqrt(v) / (1 - c)
}

// Nibble masks: the low three bits and the top bit of every nibble.
const (
	nibble7 = 0x7777777777777777
	nibble8 = 0x8888888888888888
)

// nonEmpty returns the top bit of every nibble of x that is not zero: its
// low three bits plus 7 carry into the top bit unless they are zero, and
// no nibble carries into the next.
func nonEmpty(x uint64) uint64 { return ((x & nibble7) + nibble7 | x) & nibble8 }

// sketchWords is the number of 64-bit words of a Sketch, sixteen bins each.
const sketchWords = len(Sketch{}) / 8

// packed returns the nonEmpty masks of the words of s, four to a word:
// a word's mask holds one bit per nibble, its top one, so the masks of
// words 4h to 4h+3 shifted right by 0 to 3 bits fit word h without
// overlapping, and one population count counts the bins of four words.
func (s *Sketch) packed() (p [sketchWords / 4]uint64) {
	for h := range p {
		a := (*[32]byte)(s[32*h:])
		p[h] = nonEmpty(binary.LittleEndian.Uint64(a[0:])) | nonEmpty(binary.LittleEndian.Uint64(a[8:]))>>1 |
			nonEmpty(binary.LittleEndian.Uint64(a[16:]))>>2 | nonEmpty(binary.LittleEndian.Uint64(a[24:]))>>3
	}
	return p
}

// counts returns the bins equal and not empty, not empty in either, and
// not empty in both.
func (s *Sketch) counts(t *Sketch) (eq, n, n2 int) {
	tp := t.packed()
	for h, p := range tp {
		e, u, b := s.countsOf(t, p, h)
		eq, n, n2 = eq+e, n+u, n2+b
	}
	return
}

// countsOf returns the counts of [Sketch.counts] over the four words
// from word 4h on, tp being t's packed masks of them (see packed). The
// bins equal and not empty are those not empty in s whose nibbles do not
// differ; the masks of both words are packed before they are combined,
// t's once per query. Written out word by word: a loop of four is not
// unrolled, and its variable shifts and bounds checks cost more than the
// work.
func (s *Sketch) countsOf(t *Sketch, tp uint64, h int) (eq, n, n2 int) {
	a, b := (*[32]byte)(s[32*h:]), (*[32]byte)(t[32*h:])
	x0, x1, x2, x3 := binary.LittleEndian.Uint64(a[0:]), binary.LittleEndian.Uint64(a[8:]), binary.LittleEndian.Uint64(a[16:]), binary.LittleEndian.Uint64(a[24:])
	y0, y1, y2, y3 := binary.LittleEndian.Uint64(b[0:]), binary.LittleEndian.Uint64(b[8:]), binary.LittleEndian.Uint64(b[16:]), binary.LittleEndian.Uint64(b[24:])
	f := nonEmpty(x0) | nonEmpty(x1)>>1 | nonEmpty(x2)>>2 | nonEmpty(x3)>>3
	d := nonEmpty(x0^y0) | nonEmpty(x1^y1)>>1 | nonEmpty(x2^y2)>>2 | nonEmpty(x3^y3)>>3
	return bits.OnesCount64(f &^ d), bits.OnesCount64(f | tp), bits.OnesCount64(f & tp)
}

// Fingerprint is what the [Index] needs of a document: its SimHash, how
// firmly each SimHash bit was voted, and its set sketch.
//
// A Fingerprint made by [Accumulator.Fingerprint] also holds the sketch
// features themselves, which the index keeps on disk to check borderline
// pairs exactly ([IndexConfig.Verify]); it refers to a buffer of its own
// that the next call to Fingerprint on it reuses.
type Fingerprint struct {
	Sig    Sig
	Margin [maxLanes * 64]uint8 // |2·ones − n| of bit i: feature votes it is away from flipping, saturated at 255
	Sketch Sketch

	raw    []uint64 // sketch feature hashes as added, nil if unknown
	keys   []uint32 // scratch: top halves of the raw hashes low enough to be among the smallest
	set    []uint32 // their sorted distinct top halves, the first setLen of them
	setLen int      // limit set was made with, 0 if not made yet
}

// features returns the k smallest distinct sketch features of fp (their
// hashes' top 32 bits, in increasing order), or nil if fp has none.
// Sorted on first use only: a row that is dropped by a sure estimate
// never pays for it.
//
// Of more than k hashes, only the least are sorted: counted by the top
// byte of their range, the least byte values that cover want of them (k
// at first) are taken, and while repeats leave fewer than k distinct top
// halves among them, want grows by the share of repeats seen. They are
// sorted by radix (a comparison sort of a few hundred hashes mispredicts
// a branch on about every other comparison).
func (fp *Fingerprint) features(k int) []uint32 {
	if fp.setLen == k || len(fp.raw) == 0 {
		return fp.set
	}
	fp.setLen = k
	n := len(fp.raw)
	if n <= k { // all of them
		fp.keys = slices.Grow(fp.keys[:0], n)
		for _, h := range fp.raw {
			fp.keys = append(fp.keys, uint32(h>>32))
		}
		fp.set = slices.Grow(fp.set[:0], n)[:n]
		fp.set = fp.distinct(radixSort(fp.keys, fp.set))
		return fp.set
	}
	var or uint64
	for _, h := range fp.raw {
		or |= h
	}
	shift := uint(max(bits.Len64(or)-8, 0))
	var count [256]int32
	for _, h := range fp.raw {
		count[h>>shift]++
	}
	for want := k; ; {
		last, c := 0, int(count[0])
		for c < want && last < 255 {
			last++
			c += int(count[last])
		}
		// Taken or not without a branch: each is written, and only those
		// taken move the end on.
		fp.keys = slices.Grow(fp.keys[:0], c+1)[:c+1]
		m := 0
		for _, h := range fp.raw {
			fp.keys[m] = uint32(h >> 32)
			m += b2i(h>>shift <= uint64(last))
		}
		fp.set = slices.Grow(fp.set[:0], c)[:c]
		fp.set = fp.distinct(radixSort(fp.keys[:c], fp.set))
		if d := len(fp.set); d >= k || c == n {
			fp.set = fp.set[:min(d, k)]
			return fp.set
		}
		want = max(2*want, int(float64(c)*float64(k)/float64(max(len(fp.set), 1))*1.25))
	}
}

// distinct returns the distinct values of sorted in fp.set, whose array
// sorted may share: each is written at or before where it was read.
func (fp *Fingerprint) distinct(sorted []uint32) []uint32 {
	set := fp.set[:0]
	for _, v := range sorted {
		if len(set) == 0 || v != set[len(set)-1] {
			set = append(set, v)
		}
	}
	return set
}

// radixSort sorts a, with tmp (as long) as scratch, and returns whichever
// of the two holds the result: a byte per pass, lowest first, a pass
// skipped when all keys share its byte.
func radixSort(a, tmp []uint32) []uint32 {
	if len(a) < 48 {
		slices.Sort(a)
		return a
	}
	var count [4][256]int32
	for _, v := range a {
		count[0][v&0xff]++
		count[1][v>>8&0xff]++
		count[2][v>>16&0xff]++
		count[3][v>>24]++
	}
	for p := range count {
		shift := 8 * uint(p)
		c := &count[p]
		if int(c[a[0]>>shift&0xff]) == len(a) {
			continue
		}
		sum := int32(0)
		for i, n := range c {
			c[i] = sum
			sum += n
		}
		for _, v := range a {
			d := v >> shift & 0xff
			tmp[c[d]] = v
			c[d]++
		}
		a, tmp = tmp, a
	}
	return a
}

// bottomKJaccard returns the Jaccard similarity of the sets behind a and
// b, the k smallest elements of each (fewer: the whole set), sorted: exact
// when neither was cut, else the share of elements of both among the
// elements of either up to the smaller cut (a bottom-k estimate).
func bottomKJaccard(a, b []uint32, k int) float64 {
	if len(a) >= k || len(b) >= k { // compare below the smaller cut only
		tau := uint32(math.MaxUint32)
		for _, x := range [][]uint32{a, b} {
			if len(x) >= k {
				tau = min(tau, x[len(x)-1])
			}
		}
		upTo := func(x []uint32) []uint32 {
			n, found := slices.BinarySearch(x, tau)
			if found {
				n++
			}
			return x[:n]
		}
		a, b = upTo(a), upTo(b)
	}
	i, j, both := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			both++
			i++
			j++
		}
	}
	if either := len(a) + len(b) - both; either > 0 {
		return float64(both) / float64(either)
	}
	return 0
}

// laneTab[b] has bit i of b in byte i: adding laneTab[byte] to a uint64
// counts eight SimHash bits at once, one per byte lane.
var laneTab = func() (t [256]uint64) {
	for b := range t {
		for i := 0; i < 8; i++ {
			t[b] |= uint64(b>>i&1) << (8 * i)
		}
	}
	return t
}()

// Accumulator sums feature hashes into SimHash bit counters ([Accumulator.Add])
// and a [Sketch] ([Accumulator.AddSet]). Each 64-bit lane of the signature counts the bits of an
// independent hash derived from the feature hash. The zero value is not
// usable: call Reset.
type Accumulator struct {
	lanes int
	n     int                 // features added
	pend  int                 // features in the byte counters
	bytes [maxLanes][8]uint64 // 8-bit counters, flushed before they overflow
	ones  [maxLanes * 64]int32
	mins  [SketchBins]uint64
	set   []uint64 // sketch features added
}

// Reset clears a and sets the signature width to 64×lanes bits (1 to 4).
func (a *Accumulator) Reset(lanes int) {
	a.lanes, a.n, a.pend = lanes, 0, 0
	clear(a.bytes[:lanes])
	clear(a.ones[:64*lanes])
	for i := range a.mins {
		a.mins[i] = math.MaxUint64
	}
	a.set = a.set[:0]
}

// AddSet adds one feature hash to the sketch. Its top bits choose the bin.
func (a *Accumulator) AddSet(h uint64) {
	m := &a.mins[h>>(64-7)]
	*m = min(*m, h) // no branch: whether a hash is a new minimum is a coin toss
	a.set = append(a.set, h)
}

// addWindows adds to the sketch, as AddSet does, the shingle hash of every
// window of w of the token hashes hs (1 ≤ w ≤ len(hs)). Windows of three
// (the default) are hashed from three loads, not a loop over a slice.
func (a *Accumulator) addWindows(hs []uint64, w int) {
	n := len(hs) - w + 1
	from := len(a.set)
	a.set = slices.Grow(a.set, n)[:from+n]
	set := a.set[from:]
	if w == 3 {
		hs = hs[:len(set)+2]
		for i := range set {
			h := mix64((hs[i]*0x9E3779B97F4A7C15+hs[i+1])*0x9E3779B97F4A7C15 + hs[i+2]) // shingleHash
			set[i] = h
			m := &a.mins[h>>(64-7)]
			*m = min(*m, h)
		}
		return
	}
	for i := range set {
		h := shingleHash(hs[i : i+w])
		set[i] = h
		m := &a.mins[h>>(64-7)]
		*m = min(*m, h)
	}
}

// Add counts one feature hash in the SimHash.
func (a *Accumulator) Add(h uint64) {
	for l := 0; l < a.lanes; l++ {
		if l > 0 {
			h = mix64(h + 0x9E3779B97F4A7C15)
		}
		c := &a.bytes[l]
		c[0] += laneTab[byte(h)]
		c[1] += laneTab[byte(h>>8)]
		c[2] += laneTab[byte(h>>16)]
		c[3] += laneTab[byte(h>>24)]
		c[4] += laneTab[byte(h>>32)]
		c[5] += laneTab[byte(h>>40)]
		c[6] += laneTab[byte(h>>48)]
		c[7] += laneTab[byte(h>>56)]
	}
	a.n++
	a.pend++
	if a.pend == 255 {
		a.flush()
	}
}

// AddAll counts the feature hashes hs in the SimHash, as Add does one by
// one, but faster (see countBits).
func (a *Accumulator) AddAll(hs []uint64) {
	var cur [addChunk]uint64 // the hashes of the lane before
	for len(hs) > 0 {
		n := min(len(hs), addChunk)
		if a.pend+n > 255 {
			a.flush()
		}
		src := hs[:n]
		hs = hs[n:]
		for l := 0; l < a.lanes; l++ {
			if l > 0 {
				for i, h := range src {
					cur[i] = mix64(h + 0x9E3779B97F4A7C15)
				}
				src = cur[:n]
			}
			a.countBits(l, src)
		}
		a.n += n
		a.pend += n
	}
}

// addChunk is the most hashes countBits takes: 15 groups of 16, so that a
// bit's count, 16·(≤ 15) + (≤ 15), fits a byte counter.
const addChunk = 240

// countBits adds the bits of up to addChunk hashes to lane l's byte
// counters, which must have room for them (a.pend + len(hs) ≤ 255). A
// carry-save adder tree (Harley–Seal) sums each group of 16 hashes into
// bit planes of weight 1, 2, 4, 8 and a carry-out of weight 16 with a few
// word operations per hash; only the carry-outs and, at the end, the
// planes are spread into byte counters.
func (a *Accumulator) countBits(l int, hs []uint64) {
	var ones, twos, fours, eights uint64
	var c16 [8]uint64
	var pad [16]uint64 // the last group, padded with zero hashes
	for len(hs) > 0 {
		g := &pad
		if len(hs) >= 16 {
			g = (*[16]uint64)(hs)
		} else {
			copy(pad[:], hs)
		}
		hs = hs[min(16, len(hs)):]
		var twosA, twosB, foursA, foursB, eightsA, eightsB, sixteens uint64
		twosA, ones = csa(ones, g[0], g[1])
		twosB, ones = csa(ones, g[2], g[3])
		foursA, twos = csa(twos, twosA, twosB)
		twosA, ones = csa(ones, g[4], g[5])
		twosB, ones = csa(ones, g[6], g[7])
		foursB, twos = csa(twos, twosA, twosB)
		eightsA, fours = csa(fours, foursA, foursB)
		twosA, ones = csa(ones, g[8], g[9])
		twosB, ones = csa(ones, g[10], g[11])
		foursA, twos = csa(twos, twosA, twosB)
		twosA, ones = csa(ones, g[12], g[13])
		twosB, ones = csa(ones, g[14], g[15])
		foursB, twos = csa(twos, twosA, twosB)
		eightsB, fours = csa(fours, foursA, foursB)
		sixteens, eights = csa(eights, eightsA, eightsB)
		for k := range c16 {
			c16[k] += laneTab[byte(sixteens>>(8*k))]
		}
	}
	c := &a.bytes[l]
	for k := range c {
		sh := 8 * k
		c[k] += c16[k]<<4 + laneTab[byte(eights>>sh)]<<3 + laneTab[byte(fours>>sh)]<<2 +
			laneTab[byte(twos>>sh)]<<1 + laneTab[byte(ones>>sh)]
	}
}

// csa is a carry-save adder of three bit vectors: the carries and sums of
// their bitwise sums.
func csa(a, b, c uint64) (carry, sum uint64) {
	u := a ^ b
	return a&b | u&c, u ^ c
}

// count adds byte counters c of lane l to its bit counters.
func (a *Accumulator) count(l int, c *[8]uint64) {
	ones := a.ones[l*64 : l*64+64]
	for j, c := range c {
		for i := 0; i < 8; i++ {
			ones[j*8+i] += int32(c >> (8 * i) & 0xff)
		}
	}
}

func (a *Accumulator) flush() {
	for l := 0; l < a.lanes; l++ {
		a.count(l, &a.bytes[l])
		a.bytes[l] = [8]uint64{}
	}
	a.pend = 0
}

// Len returns the number of features added.
func (a *Accumulator) Len() int { return a.n }

// Sig returns the signature: bit i is set when at least half the features
// have bit i set (github.com/mfonda/simhash's rule: v[i] >= 0). If margin
// is not nil, margin[i] receives |2·ones − n| saturated at 255, how many
// feature votes bit i is away from flipping.
func (a *Accumulator) Sig(margin []uint8) Sig {
	if a.pend == a.n { // every count is in the byte counters (n ≤ 255)
		return a.sigBytes(margin)
	}
	a.flush()
	var s Sig
	n := int32(a.n)
	for l := 0; l < a.lanes; l++ {
		ones := (*[64]int32)(a.ones[l*64:])
		var w uint64
		if margin == nil {
			for i, o := range ones {
				w |= uint64((2*o-n)>>31+1) << i // bit 1 unless 2·ones − n < 0
			}
		} else {
			mg := (*[64]uint8)(margin[l*64:]) // one bounds check, not one per bit
			for i, o := range ones {
				d := 2*o - n
				neg := d >> 31 // -1 if d < 0, else 0
				w |= uint64(neg+1) << i
				mg[i] = uint8(min((d^neg)-neg, 255))
			}
		}
		s[l] = w
	}
	return s
}

// sigBytes is Sig when all counts are still in the byte counters, so that
// n ≤ 255 and no margin saturates: eight bits at a time, in 16-bit lanes
// (the even bytes of a counter word, then the odd ones) holding 2·ones +
// 256 − n, which is in [1, 511]: bit 8 of a lane is the signature bit,
// and the margin is the low byte when it is set, 256 less the lane when
// not.
func (a *Accumulator) sigBytes(margin []uint8) Sig {
	const (
		m16   = 0x00ff00ff00ff00ff
		one16 = 0x0001000100010001
		// gather moves bit 8i of a word to bit 56+i.
		gather = 0x0102040810204080
	)
	var s Sig
	bias := uint64(256-a.n) * one16
	for l := 0; l < a.lanes; l++ {
		c := &a.bytes[l]
		var w uint64
		for k, x := range c {
			de := (x&m16)<<1 + bias
			do := (x>>8&m16)<<1 + bias
			se, so := de>>8&one16, do>>8&one16
			w |= (se | so<<8) * gather >> 56 << (8 * k)
			if margin != nil {
				me := de&m16&(se*0xff) | (^de&m16+one16)&((se^one16)*0xff)
				mo := do&m16&(so*0xff) | (^do&m16+one16)&((so^one16)*0xff)
				binary.LittleEndian.PutUint64(margin[64*l+8*k:], me|mo<<8)
			}
		}
		s[l] = w
	}
	return s
}

// Fingerprint fills fp with the signature, its margins and the sketch.
func (a *Accumulator) Fingerprint(fp *Fingerprint) {
	fp.Sig = a.Sig(fp.Margin[:])
	for i := range fp.Sketch {
		fp.Sketch[i] = nibble(a.mins[2*i]) | nibble(a.mins[2*i+1])<<4
	}
	fp.raw, fp.setLen = append(fp.raw[:0], a.set...), 0
}

// use makes fp the fingerprint src holds, sharing src's sketch features
// and keeping fp's scratch memory.
func (fp *Fingerprint) use(src *Fingerprint) {
	fp.Sig, fp.Margin, fp.Sketch = src.Sig, src.Margin, src.Sketch
	fp.raw, fp.setLen = src.raw, 0
}

// nibble returns a bin's SketchBits bits of minimum m: 1 to 15, or 0 for
// an empty bin.
// No branch: short texts leave bins empty about as often as not.
func nibble(m uint64) uint8 {
	return uint8(1+m%15) * uint8(b2i(m != math.MaxUint64))
}

// SimhashBytes returns the 64-bit SimHash of features with FNV-1 hashing,
// bit-identical to github.com/mfonda/simhash.SimhashBytes(features).
func SimhashBytes(features [][]byte) uint64 {
	var a Accumulator
	a.Reset(1)
	for _, f := range features {
		a.Add(fnv64(f))
	}
	return a.Sig(nil)[0]
}

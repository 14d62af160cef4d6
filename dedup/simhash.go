package dedup

import "math"

// Sig is a SimHash signature of up to 256 bits: Sig[0] holds bits 0-63 and
// is, on its own, a classic 64-bit SimHash.
type Sig [maxLanes]uint64

const maxLanes = 4

// SketchBins is the number of one-permutation MinHash bins of a [Sketch].
const SketchBins = 32

// Sketch is a b-bit one-permutation MinHash of a document's feature set:
// bin i holds 8 bits of the smallest feature hash falling in bin i, or 0
// when no feature did. Unlike SimHash, it sees the features as a set, so
// repeated boilerplate counts once; [Sketch.Jaccard] estimates the
// Jaccard similarity of two feature sets from it.
type Sketch [SketchBins]uint8

// Jaccard estimates the Jaccard similarity of the feature sets behind s
// and t: the share of equal bins among the bins not empty in both,
// corrected for the 1/255 chance that two different minima share their
// 8 bits.
func (s *Sketch) Jaccard(t *Sketch) float64 {
	eq, n := 0, 0
	for i, a := range s {
		b := t[i]
		if a|b == 0 {
			continue
		}
		n++
		if a == b {
			eq++
		}
	}
	if n == 0 {
		return 0
	}
	const c = 1.0 / 255
	return max(0, (float64(eq)/float64(n)-c)/(1-c))
}

// Fingerprint is what the [Index] needs of a document: its SimHash, how
// firmly each SimHash bit was voted, and its set sketch.
type Fingerprint struct {
	Sig    Sig
	Margin [maxLanes * 64]uint8 // |2·ones − n| of bit i: feature votes it is away from flipping, saturated at 255
	Sketch Sketch
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
}

// Reset clears a and sets the signature width to 64×lanes bits (1 to 4).
func (a *Accumulator) Reset(lanes int) {
	a.lanes, a.n, a.pend = lanes, 0, 0
	clear(a.bytes[:lanes])
	clear(a.ones[:64*lanes])
	for i := range a.mins {
		a.mins[i] = math.MaxUint64
	}
}

// AddSet adds one feature hash to the sketch. Its top bits choose the bin.
func (a *Accumulator) AddSet(h uint64) {
	m := &a.mins[h>>59]
	*m = min(*m, h) // no branch: whether a hash is a new minimum is a coin toss
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
	}
}

// addChunk is the most hashes countBits takes: 15 groups of 16, so that a
// bit's count, 16·(≤ 15) + (≤ 15), fits a byte counter.
const addChunk = 240

// countBits adds the bits of up to addChunk hashes to lane l's counters. A
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
	var c [8]uint64
	for k := range c {
		sh := 8 * k
		c[k] = c16[k]<<4 + laneTab[byte(eights>>sh)]<<3 + laneTab[byte(fours>>sh)]<<2 +
			laneTab[byte(twos>>sh)]<<1 + laneTab[byte(ones>>sh)]
	}
	a.count(l, &c)
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
	a.flush()
	var s Sig
	n := int32(a.n)
	for l := 0; l < a.lanes; l++ {
		var w uint64
		for i, ones := range a.ones[l*64 : l*64+64] {
			d := 2*ones - n
			neg := d >> 31 // -1 if d < 0, else 0
			w |= uint64(neg+1) << i
			if margin != nil {
				margin[l*64+i] = uint8(min((d^neg)-neg, 255))
			}
		}
		s[l] = w
	}
	return s
}

// Fingerprint fills fp with the signature, its margins and the sketch.
func (a *Accumulator) Fingerprint(fp *Fingerprint) {
	fp.Sig = a.Sig(fp.Margin[:])
	for i, m := range a.mins {
		fp.Sketch[i] = 0
		if m != math.MaxUint64 {
			fp.Sketch[i] = uint8(1 + m%255)
		}
	}
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

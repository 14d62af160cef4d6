package dedup

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/siftdata/sift"
	"github.com/zeebo/xxh3"
)

// This file exports what a distributed runner (sift's Beam module) needs to
// run the dedup stages without an in-memory index: the normalization key of
// exact dedup, and for SimHash the fingerprint, the band keys and the
// candidate test that [Index.Query] applies.

// Roles returns the conversation roles the stage compares.
func (d *ExactDedup) Roles() sift.Roles { return d.roles }

// Roles returns the conversation roles the stage compares.
func (d *SimhashDedup) Roles() sift.Roles { return d.roles }

// IndexConfig returns the stage's signature and index shape.
func (d *SimhashDedup) IndexConfig() IndexConfig { return d.x.cfg }

// Chains reports whether rows dropped as near-duplicates are indexed too
// ([WithChains]): a distributed run compares a row with every earlier
// row, and so follows only the stage's default.
func (d *SimhashDedup) Chains() bool { return d.chain }

// HasReference reports whether the stage deduplicates against a saved
// index, which a distributed run does not load.
func (d *SimhashDedup) HasReference() bool { return d.x.Len() > 0 }

// Fingerprint fills fp with the fingerprint of s as the stage computes it,
// using a (reset here) as scratch. It returns false when s has no
// features: such rows are kept and never compared. It may be called from
// several goroutines at once, each with a and fp of its own.
func (d *SimhashDedup) Fingerprint(s string, a *Accumulator, fp *Fingerprint) bool {
	f := d.fingerprinter()
	defer d.prep.Put(f)
	a.Reset(d.x.cfg.Lanes)
	f.sh.Add(s, a)
	if a.Len() == 0 {
		return false
	}
	a.Fingerprint(fp)
	return true
}

// BandKey returns band's bucket and tag bits of s.
func (c IndexConfig) BandKey(s *Sig, band int) (bucket, tag uint32) {
	w := c.BucketBits + c.TagBits
	b := band * w
	k := s[b/64] >> (b % 64)
	if b%64+w > 64 {
		k |= s[b/64+1] << (64 - b%64)
	}
	return uint32(k) & (1<<c.BucketBits - 1), uint32(k>>c.BucketBits) & (1<<c.TagBits - 1)
}

// ProbeBuckets calls fn with every bucket of band that a query for fp
// looks into: its own bucket first, then the buckets with up to Probes of
// its least certain bits flipped (2^Probes in all).
func (c IndexConfig) ProbeBuckets(fp *Fingerprint, band int, fn func(bucket uint32)) {
	k, _ := c.BandKey(&fp.Sig, band)
	bb := c.BucketBits + c.TagBits
	var weak [8]uint32
	u := weakest(fp.Margin[band*bb:band*bb+c.BucketBits], c.Probes, &weak)
	for m := 0; m < 1<<u; m++ {
		pk := k
		for i := 0; i < u; i++ {
			if m>>i&1 == 1 {
				pk ^= weak[i]
			}
		}
		fn(pk)
	}
}

// A NearTest applies the test of [Index.Query] to documents meeting in a
// bucket: band tags within TagDist bits, then the sketches' estimate of
// their Jaccard similarity against MinSim. Before the estimate it cuts
// what an Index cuts: pairs whose sketch sizes, or whose counts of equal
// bins, rule out both a near pair and a borderline one. Make one with
// [IndexConfig.NearTest]; it may be used from several goroutines at once.
type NearTest struct {
	cfg                IndexConfig
	band, floor, below [SketchBins + 1]float64
}

// NearTest returns the test of c.
func (c IndexConfig) NearTest() *NearTest {
	t := &NearTest{cfg: c}
	t.band, t.floor, t.below = c.cuts()
	return t
}

// Bins is which bins of a sketch are not empty, as [NearTest.Near] reads
// them: worked out once per document rather than once per pair.
type Bins struct {
	packed [sketchWords / 4]uint64
	n      int
}

// Bins returns the bins of s not empty.
func (s *Sketch) Bins() Bins {
	b := Bins{packed: s.packed()}
	for _, p := range b.packed {
		b.n += bits.OnesCount64(p)
	}
	return b
}

// Near tests documents with band tags ta and tb, sketches a and b, and
// bins ba and bb ([Sketch.Bins]). The estimate sim is returned when the
// pair is near or borderline, and 0 when it is neither. With Verify, a
// pair whose estimate is within verifyBand standard deviations of MinSim
// is borderline: Query decides it by the similarity of the two documents'
// feature sets instead ([IndexConfig.SetSimilarity] of their
// [IndexConfig.Features]), and so must a caller, unless either set is
// empty (then the estimate stands).
func (t *NearTest) Near(ta, tb uint32, a, b *Sketch, ba, bb *Bins) (sim float64, near, borderline bool) {
	if bits.OnesCount32(ta^tb) > t.cfg.TagDist {
		return 0, false, false
	}
	// The estimate is at most the ratio of the sizes.
	if lo, hi := min(ba.n, bb.n), max(ba.n, bb.n); lo != hi && float64(lo)/float64(hi) < t.floor[hi] {
		return 0, false, false
	}
	var eq, n, n2 int
	for h, p := range bb.packed {
		e, u, b2 := a.countsOf(b, p, h)
		eq, n, n2 = eq+e, n+u, n2+b2
	}
	if float64(eq*(1/sketchCollide)-n2) < t.below[n] {
		return 0, false, false
	}
	s := estimateOf(eq, n, n2)
	borderline = t.cfg.Verify != 0 && n != 0 && math.Abs(s-t.cfg.MinSim) <= t.band[n]
	if s < t.cfg.MinSim && !borderline {
		return 0, false, false
	}
	return s, s >= t.cfg.MinSim, borderline
}

// errorBands returns verifyBand standard deviations of the sketch's
// estimate at minSim, by bins used (1 to SketchBins).
func errorBands(minSim float64) (band [SketchBins + 1]float64) {
	for n := 1; n <= SketchBins; n++ {
		band[n] = verifyBand * sketchSD(minSim, n)
	}
	return band
}

// Features returns the feature set of fp that the index keeps for the
// check of borderline pairs: its Verify smallest distinct sketch features,
// in increasing order; nil without Verify or when fp has none. The slice
// belongs to fp and is reused by its next fingerprint: copy it to keep it.
func (c IndexConfig) Features(fp *Fingerprint) []uint32 {
	if c.Verify == 0 {
		return nil
	}
	return fp.features(c.Verify)
}

// SetSimilarity returns the Jaccard similarity of two feature sets from
// [IndexConfig.Features], as [Index.Query] computes it for a borderline
// pair: exact for sets of fewer than Verify features.
func (c IndexConfig) SetSimilarity(a, b []uint32) float64 { return bottomKJaccard(a, b, c.Verify) }

// DuplicateDetail is the detail of the reject of a duplicate with hash k.
func (d *ExactDedup) DuplicateDetail(k xxh3.Uint128) string {
	return fmt.Sprintf("same %s text (xxh3-128 %016x%016x)", d.norm, k.Hi, k.Lo)
}

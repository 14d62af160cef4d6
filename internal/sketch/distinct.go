package sketch

import (
	"math"
	"slices"
)

// Distinct estimates how many distinct values a stream holds from their
// 64-bit hashes, with a k-minimum-values sketch (Bar-Yossef et al. 2002;
// Beyer et al. 2007): it keeps the k smallest distinct hashes. While fewer
// than k distinct hashes were seen the count is exact; after that it is
// (k-1) / (the k-th smallest hash as a fraction of 2^64), with a relative
// standard error of about 1/sqrt(k-2). Two sketches of the same k merge
// into the sketch of the union, whatever the order the hashes came in.
// Memory is 8k bytes. The zero value is not usable: call [NewDistinct].
type Distinct struct {
	k int
	h []uint64 // ascending, at most k
}

// NewDistinct returns an empty sketch keeping k hashes. It panics if
// k < 3, which would not estimate anything.
func NewDistinct(k int) *Distinct {
	if k < 3 {
		panic("sketch: NewDistinct needs k >= 3")
	}
	return &Distinct{k: k}
}

// Add adds a value's hash, which should be uniform over uint64 (XXH3 is).
func (d *Distinct) Add(h uint64) {
	if len(d.h) == d.k && h >= d.h[d.k-1] {
		return // the common case once full: one comparison
	}
	i, found := slices.BinarySearch(d.h, h)
	if found {
		return
	}
	if len(d.h) == d.k {
		copy(d.h[i+1:], d.h[i:d.k-1])
		d.h[i] = h
		return
	}
	d.h = slices.Insert(d.h, i, h)
}

// Merge adds o's hashes; it panics if the sketches' k differ.
func (d *Distinct) Merge(o *Distinct) {
	if o.k != d.k {
		panic("sketch: merging Distinct sketches of different k")
	}
	for _, h := range o.h {
		d.Add(h)
	}
}

// Exact reports whether Estimate is an exact count: fewer than k distinct
// hashes were seen.
func (d *Distinct) Exact() bool { return len(d.h) < d.k }

// Estimate is the estimated number of distinct values.
func (d *Distinct) Estimate() float64 {
	if d.Exact() {
		return float64(len(d.h))
	}
	return float64(d.k-1) / (float64(d.h[d.k-1]) / math.Exp2(64))
}

// RelErr is the estimate's relative standard error: 0 when exact.
func (d *Distinct) RelErr() float64 {
	if d.Exact() {
		return 0
	}
	return 1 / math.Sqrt(float64(d.k-2))
}

package mining

import (
	"math"
	"slices"
)

// tdigest is a merging t-digest (Dunning & Ertl) with the k1 scale
// function: a few hundred centroids that estimate quantiles with error
// shrinking towards the tails.
type tdigest struct {
	delta    float64
	cs       []centroid
	buf      []float64
	n        float64
	min, max float64
}

type centroid struct{ mean, w float64 }

func newTDigest(delta float64) *tdigest {
	return &tdigest{delta: delta, min: math.Inf(1), max: math.Inf(-1)}
}

func (t *tdigest) add(x float64) {
	t.buf = append(t.buf, x)
	t.min, t.max = min(t.min, x), max(t.max, x)
	if len(t.buf) >= 8*int(t.delta) {
		t.compress()
	}
}

func (t *tdigest) k(q float64) float64 { return t.delta / (2 * math.Pi) * math.Asin(2*q-1) }

func (t *tdigest) compress() {
	if len(t.buf) == 0 {
		return
	}
	all := t.cs
	for _, x := range t.buf {
		all = append(all, centroid{x, 1})
	}
	t.buf = t.buf[:0]
	slices.SortStableFunc(all, func(a, b centroid) int { return cmpFloat(a.mean, b.mean) })
	t.n = 0
	for _, c := range all {
		t.n += c.w
	}
	out := all[:1]
	seen := 0.0 // weight before the current output centroid
	kLow := t.k(0)
	for _, c := range all[1:] {
		cur := &out[len(out)-1]
		if t.k((seen+cur.w+c.w)/t.n)-kLow <= 1 {
			cur.mean += (c.mean - cur.mean) * c.w / (cur.w + c.w)
			cur.w += c.w
			continue
		}
		seen += cur.w
		kLow = t.k(seen / t.n)
		out = append(out, c)
	}
	t.cs = out
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// quantile estimates the q-quantile (0 ≤ q ≤ 1) by interpolating between
// centroid centres; NaN when empty.
func (t *tdigest) quantile(q float64) float64 {
	t.compress()
	if len(t.cs) == 0 {
		return math.NaN()
	}
	rank := q * t.n
	prevX, prevR := t.min, 0.0
	cum := 0.0
	for _, c := range t.cs {
		mid := cum + c.w/2
		if rank < mid {
			if mid == prevR {
				return c.mean
			}
			return prevX + (c.mean-prevX)*(rank-prevR)/(mid-prevR)
		}
		prevX, prevR = c.mean, mid
		cum += c.w
	}
	if t.n == prevR {
		return t.max
	}
	return prevX + (t.max-prevX)*(rank-prevR)/(t.n-prevR)
}

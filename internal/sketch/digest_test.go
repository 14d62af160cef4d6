package sketch

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/caio/go-tdigest/v4"
)

// logNormal returns n log-normal values, shaped like perplexities.
func logNormal(seed uint64, n int) []float64 {
	r := rand.New(rand.NewPCG(seed, 2))
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = math.Exp(r.NormFloat64()) * 100
	}
	return xs
}

// rankOf is the percentage of sorted below x.
func rankOf(sorted []float64, x float64) float64 {
	i, _ := slices.BinarySearch(sorted, x)
	return float64(i) / float64(len(sorted)) * 100
}

func checkRanks(t *testing.T, td *tdigest.TDigest, sorted []float64, tol float64) {
	t.Helper()
	for _, q := range []float64{1, 10, 30, 50, 60, 70, 90, 98, 99.9} {
		est := td.Quantile(q / 100)
		if r := rankOf(sorted, est); math.Abs(r-q) > tol {
			t.Errorf("p%g: estimate %v has rank %.3f", q, est, r)
		}
	}
}

func TestDigestAccuracy(t *testing.T) {
	xs := logNormal(1, 200000)
	td := NewDigest()
	for _, x := range xs {
		if err := td.Add(x); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(xs)
	checkRanks(t, td, xs, 0.05)
	n := 0
	td.ForEachCentroid(func(float64, uint64) bool { n++; return true })
	if n > 1500 {
		t.Errorf("%d centroids", n)
	}
	t.Logf("%d centroids for %d values", n, len(xs))
}

// TestDigestMergeSerialize splits a stream over four digests, sends each
// through its bytes, merges them, and checks the merged quantiles against
// the whole stream, as a run split over machines would.
func TestDigestMergeSerialize(t *testing.T) {
	xs := logNormal(7, 100000)
	var parts []*tdigest.TDigest
	for p := range 4 {
		td := NewDigest()
		for _, x := range xs[p*len(xs)/4 : (p+1)*len(xs)/4] {
			td.Add(x)
		}
		b, err := td.AsBytes()
		if err != nil {
			t.Fatal(err)
		}
		back, err := tdigest.FromBytes(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []float64{0.01, 0.5, 0.99} {
			if a, b := td.Quantile(q), back.Quantile(q); back.Count() != td.Count() || math.Abs(a-b) > 1e-6*a {
				t.Fatalf("part %d: q%g %v after the round trip, %v before", p, q, b, a)
			}
		}
		parts = append(parts, back)
	}
	all := NewDigest()
	for _, p := range parts {
		if err := all.Merge(p); err != nil {
			t.Fatal(err)
		}
	}
	if all.Count() != uint64(len(xs)) {
		t.Fatalf("count %d, want %d", all.Count(), len(xs))
	}
	slices.Sort(xs)
	checkRanks(t, all, xs, 0.05)
}

// TestDigestDeterministic: the same values in the same order give the
// same quantiles, digest after digest.
func TestDigestDeterministic(t *testing.T) {
	xs := logNormal(3, 50000)
	var first []float64
	for range 3 {
		td := NewDigest()
		for _, x := range xs {
			td.Add(x)
		}
		var got []float64
		for _, q := range []float64{0.01, 0.5, 0.99} {
			got = append(got, td.Quantile(q))
		}
		if first == nil {
			first = got
		} else if !slices.Equal(got, first) {
			t.Fatalf("quantiles %v, then %v", first, got)
		}
	}
}

package sketch

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/zeebo/xxh3"
)

func TestDistinctExactBelowK(t *testing.T) {
	d := NewDistinct(100)
	for i := range 1000 {
		d.Add(xxh3.HashString(fmt.Sprint(i % 60)))
	}
	if !d.Exact() || d.Estimate() != 60 || d.RelErr() != 0 {
		t.Errorf("exact %v, estimate %v, want exactly 60", d.Exact(), d.Estimate())
	}
}

// TestDistinctEstimate streams keys with duplicates (each of n distinct
// keys 1 to 4 times, shuffled) into four sketches, merges them, and checks
// the estimate is within three standard errors, and that the merged
// sketch equals the one fed the whole stream.
func TestDistinctEstimate(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{5000, 100000} {
		var keys []uint64
		for i := range n {
			for range 1 + r.IntN(4) {
				keys = append(keys, xxh3.HashString(fmt.Sprintf("doc %d", i)))
			}
		}
		r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		whole := NewDistinct(1024)
		parts := []*Distinct{NewDistinct(1024), NewDistinct(1024), NewDistinct(1024), NewDistinct(1024)}
		for i, k := range keys {
			whole.Add(k)
			parts[i%4].Add(k)
		}
		merged := NewDistinct(1024)
		for _, p := range parts {
			merged.Merge(p)
		}
		if merged.Estimate() != whole.Estimate() {
			t.Errorf("n %d: merged %v, whole %v", n, merged.Estimate(), whole.Estimate())
		}
		if e := whole.Estimate(); math.Abs(e-float64(n))/float64(n) > 3*whole.RelErr() || whole.Exact() {
			t.Errorf("n %d: estimate %.0f (±%.1f%%)", n, e, 100*whole.RelErr())
		}
	}
}

func BenchmarkDistinctAdd(b *testing.B) {
	d := NewDistinct(4096)
	b.ReportAllocs()
	for i := range b.N {
		d.Add(xxh3.HashString(fmt.Sprint(i)))
	}
}

package mining

import (
	"math"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/mining/lm"
)

// TestWithPercentiles checks the hooks of a runner that finds percentiles
// itself: the stage's percentiles, its scores, and the stage built from
// the exact percentiles, which must select what the stage given the
// population selects.
func TestWithPercentiles(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	m := model4(t)
	lines := testLines(t)
	opts := []Option{WithBand(30, 70), WithBuckets(20, 60), WithCalibration(50)}
	st, err := New(m, opts...)
	if err != nil {
		t.Fatal(err)
	}
	p := st.(*calibrating).Perplexity
	if got := p.Percentiles(); !slices.Equal(got, []float64{30, 70, 20, 60}) {
		t.Fatalf("percentiles %v", got)
	}
	texts := append(slices.Clone(lines), "")
	recs := textBatches(mem, texts, 9)
	var pop []float64
	var sc lm.Scratch
	for _, rec := range recs {
		for i, ppl := range p.Perplexities(rec) {
			row := len(pop)
			if row == len(lines) {
				if !math.IsNaN(ppl) || i != int(rec.NumRows())-1 {
					t.Fatalf("empty row: perplexity %v", ppl)
				}
				continue
			}
			if want := Score(m, lm.Whitespace, lines[row], &sc).Perplexity(); ppl != want {
				t.Fatalf("row %d: perplexity %v, want %v", row, ppl, want)
			}
			pop = append(pop, ppl)
		}
		rec.Release()
	}
	sorted := slices.Sorted(slices.Values(pop))
	got := p.WithPercentiles(func(q float64) float64 { return percentile(sorted, q) }, "exact", len(sorted))
	want, err := New(m, append(opts, WithPopulation(pop))...)
	if err != nil {
		t.Fatal(err)
	}
	gRows, gRej, _ := run(t, mem, got, textBatches(mem, texts, 9), 2)
	wRows, wRej, _ := run(t, mem, want, textBatches(mem, texts, 9), 2)
	if !slices.Equal(gRows, wRows) || gRej != wRej || len(gRej) == 0 {
		t.Errorf("with percentiles: %d rows, want %d; rejects equal: %v", len(gRows), len(wRows), gRej == wRej)
	}
	if g, w := got.(sift.Reporter).Report(), want.(sift.Reporter).Report(); !reportsEqual(g.(Report), w.(Report)) {
		t.Errorf("report %+v, want %+v", g, w)
	}
	if _, ok := got.(sift.Sequential); ok {
		t.Error("the stage with percentiles holds rows back")
	}
}

func reportsEqual(a, b Report) bool {
	eq := func(x, y *float64) bool { return x == nil && y == nil || x != nil && y != nil && *x == *y }
	return a.Method == b.Method && a.Rows == b.Rows && eq(a.LowerPPL, b.LowerPPL) && eq(a.UpperPPL, b.UpperPPL) && slices.Equal(a.BucketPPL, b.BucketPPL)
}

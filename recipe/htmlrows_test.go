package recipe

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

// TestSketchesMerge checks that histograms and samples built over parts of
// a stream, in any order, merge into those of the whole stream.
func TestSketchesMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	vals := make([]float64, 5000)
	for i := range vals {
		vals[i] = rng.ExpFloat64() * 300
	}
	whole, a, b := newLengthHist(), newLengthHist(), newLengthHist()
	ws, as, bs := &sample{k: 5}, &sample{k: 5}, &sample{k: 5}
	for i, v := range vals {
		key := fmt.Sprint("row-", i)
		text := func() string { return key }
		whole.add(v)
		ws.offer(key, text, text)
		if i%3 == 0 {
			a.add(v)
			as.offer(key, text, text)
		} else {
			b.add(v)
			bs.offer(key, text, text)
		}
	}
	b.merge(a)
	if !reflect.DeepEqual(b, whole) || whole.total() != int64(len(vals)) {
		t.Errorf("merged histogram %v, want %v", b.Counts, whole.Counts)
	}
	bs.merge(as)
	if !reflect.DeepEqual(bs, ws) {
		t.Errorf("merged sample %v, want %v", bs.items, ws.items)
	}
	rev := &sample{k: 5}
	for i := len(vals) - 1; i >= 0; i-- {
		key := fmt.Sprint("row-", i)
		rev.offer(key, func() string { return key }, func() string { return key })
	}
	if !reflect.DeepEqual(rev, ws) {
		t.Errorf("sample depends on order: %v, want %v", rev.items, ws.items)
	}
}

func TestHistogramBins(t *testing.T) {
	h := newLogHistogram(1, 1000, 3)
	for _, v := range []float64{0, 1, 9.99, 10, 999, 1000, 1e9} {
		h.add(v)
	}
	if want := []int64{3, 1, 3}; !reflect.DeepEqual(h.Counts, want) {
		t.Errorf("counts %v, want %v", h.Counts, want)
	}
}

// TestRejectsAnyChunks feeds the same rejects stream in different write
// sizes; the samples and histograms must not change.
func TestRejectsAnyChunks(t *testing.T) {
	var stream []byte
	for i := range 200 {
		// The detail holds no number: the histogram takes the value.
		stream = fmt.Appendf(stream, `{"id":"r%d","stage":"perplexity","reason":"ppl_below_band","detail":"below the band","value":%d,"record":{"id":"r%d","text":"row %d text"}}`+"\n", i, i%50+1, i, i)
	}
	var want *rowStats
	for _, size := range []int{len(stream), 1, 7, 4096} {
		rs := newRowStats()
		for p := stream; len(p) > 0; {
			n := min(size, len(p))
			if m, err := rs.Write(p[:n]); m != n || err != nil {
				t.Fatalf("Write = %d, %v; want %d", m, err, n)
			}
			p = p[n:]
		}
		rs.partial = nil
		h := rs.steps["perplexity"].rejectedPPL
		if got := h.total(); got != 200 {
			t.Errorf("size %d: %d perplexities, want 200", size, got)
		}
		if top := h.Counts[int(h.pos(50)*float64(len(h.Counts)))]; top < 4 {
			t.Errorf("size %d: %d perplexities in the bin of 50, want 4 or more", size, top)
		}
		if want == nil {
			want = rs
		} else if !reflect.DeepEqual(rs.rejects, want.rejects) || !reflect.DeepEqual(rs.steps, want.steps) {
			t.Errorf("size %d: stats differ from one write", size)
		}
	}
}

// TestOrDefault: an unset worker count or batch size reads as what it
// means, not as zero.
func TestOrDefault(t *testing.T) {
	for _, tc := range []struct {
		n          int
		zero, want string
	}{{0, "all cores", "all cores"}, {2, "all cores", "2"}, {1024, "reader's default", "1024"}} {
		if got := orDefault(tc.n, tc.zero); got != tc.want {
			t.Errorf("orDefault(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

package dedup

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestDistributedHooksMatchQuery checks that a runner deciding pairs with
// the exported hooks (band keys, probed buckets, NearTest, and the feature-set
// check of borderline pairs) decides every pair as Index.Query does: on
// real text, each fortune against copies of it with more and more words
// changed, so that many pairs fall near min_similarity.
func TestDistributedHooksMatchQuery(t *testing.T) {
	texts := fortunes(t, func(n string) bool { return n == "fortunes" || n == "literature" })
	d, err := NewSimhashDedup()
	if err != nil {
		t.Fatal(err)
	}
	cfg := d.IndexConfig()
	nt := cfg.NearTest()
	r := rand.New(rand.NewPCG(3, 4))
	var acc Accumulator
	var fa, fb Fingerprint
	pairs, borderline, near := 0, 0, 0
	for i, a := range texts {
		w := strings.Fields(a)
		if len(w) < 12 || i%3 != 0 {
			continue
		}
		for _, share := range []int{10, 25, 40, 55} {
			w2 := slices.Clone(w)
			for range len(w2) * share / 100 {
				w2[r.IntN(len(w2))] = "zq" + w2[r.IntN(len(w2))]
			}
			b := strings.Join(w2, " ")
			if !d.Fingerprint(a, &acc, &fa) || !d.Fingerprint(b, &acc, &fb) {
				continue
			}
			x, err := NewIndex(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := x.Add(&fa, "a"); err != nil {
				t.Fatal(err)
			}
			_, want, wantOK := x.Query(&fb)
			x.Close()

			got, gotOK := -1.0, false
			for band := 0; band < cfg.Bands; band++ {
				own, tagA := cfg.BandKey(&fa.Sig, band)
				_, tagB := cfg.BandKey(&fb.Sig, band)
				met := false
				cfg.ProbeBuckets(&fb, band, func(k uint32) { met = met || k == own })
				if !met {
					continue
				}
				ba, bb := fa.Sketch.Bins(), fb.Sketch.Bins()
				sim, ok, bl := nt.Near(tagB, tagA, &fb.Sketch, &fa.Sketch, &bb, &ba)
				if bl {
					borderline++
					if sa, sb := cfg.Features(&fa), cfg.Features(&fb); len(sa) > 0 && len(sb) > 0 {
						sim = cfg.SetSimilarity(sb, sa)
						ok = sim >= cfg.MinSim
					}
				}
				if ok {
					got, gotOK = max(got, sim), true
				}
			}
			pairs++
			if gotOK {
				near++
			}
			if gotOK != wantOK || gotOK && got != want {
				t.Fatalf("fortune %d, %d %% changed: hooks say %v (%.4f), Query %v (%.4f)", i, share, gotOK, got, wantOK, want)
			}
		}
	}
	t.Logf("%d pairs, %d near, %d borderline checks", pairs, near, borderline)
	if pairs < 300 || borderline == 0 || near == 0 || near == pairs {
		t.Fatalf("%d pairs, %d near, %d borderline: the corpus does not exercise the test", pairs, near, borderline)
	}
}

package dedup

import (
	"fmt"
	"math/bits"
	"os"
	"slices"
	"testing"
)

func sigOf(sh *Shingler, a *Accumulator, lanes int, t string) Sig {
	a.Reset(lanes)
	sh.Hashes(t, a.Add)
	return a.Sig(nil)
}

func ham(a, b Sig) int {
	d := 0
	for i := range a {
		d += bits.OnesCount64(a[i] ^ b[i])
	}
	return d
}

func TestAnalyze(t *testing.T) {
	if os.Getenv("SIFT_ANALYZE") == "" {
		t.Skip("SIFT_ANALYZE not set")
	}
	docs := evalCorpus(t, 0)
	t.Logf("%d docs", len(docs))
	for _, n := range [][2]int{{1, 1}, {2, 2}, {3, 2}, {3, 3}, {4, 3}} {
		sh, _ := NewShingler(n[0], n[1])
		var a Accumulator
		sigs := make([]Sig, len(docs))
		base := map[int]Sig{}
		for i, d := range docs {
			sigs[i] = sigOf(sh, &a, 2, d.text)
			if d.rate == 0 {
				base[d.cluster] = sigs[i]
			}
		}
		for _, zh := range []bool{false, true} {
			per := map[float64][]int{}
			var bases []Sig
			for i, d := range docs {
				if d.zh != zh {
					continue
				}
				if d.rate == 0 {
					bases = append(bases, sigs[i])
					continue
				}
				per[d.rate] = append(per[d.rate], ham(sigs[i], base[d.cluster]))
			}
			line := fmt.Sprintf("n=%v zh=%v dup128:", n, zh)
			for _, r := range rates {
				h := per[r]
				slices.Sort(h)
				line += fmt.Sprintf(" %.0f%%[p50=%d p90=%d p97=%d p99=%d]", r*100, h[len(h)/2], h[len(h)*9/10], h[len(h)*97/100], h[len(h)*99/100])
			}
			hist := make([]int, 129)
			for i := range bases {
				for j := i + 1; j < len(bases); j++ {
					hist[ham(bases[i], bases[j])]++
				}
			}
			cum := 0
			line += " distinct cum:"
			for d := 0; d <= 44; d++ {
				cum += hist[d]
				if d%4 == 0 {
					line += fmt.Sprintf(" ≤%d:%d", d, cum)
				}
			}
			t.Log(line)
		}
	}
}

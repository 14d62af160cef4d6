package dedup

import (
	"fmt"
	"os"
	"sort"
	"testing"
)

func band(s Sig, t, r int) uint64 {
	var k uint64
	for i := 0; i < r; i++ {
		b := t*r + i
		k |= (s[b/64] >> (b % 64) & 1) << i
	}
	return k
}

func TestAnalyzeProbe(t *testing.T) {
	if os.Getenv("SIFT_ANALYZE") == "" {
		t.Skip("SIFT_ANALYZE not set")
	}
	docs := evalCorpus(t, 0)
	sh, _ := NewShingler(3, 3)
	var a Accumulator
	type fp struct {
		s Sig
		m [256]int32
	}
	fps := make([]fp, len(docs))
	base := map[int]int{}
	for i, d := range docs {
		a.Reset(4)
		sh.Hashes(d.text, a.Add)
		fps[i].s = a.Sig(fps[i].m[:])
		if d.rate == 0 {
			base[d.cluster] = i
		}
	}
	for _, cfg := range [][3]int{{16, 8, 2}, {16, 8, 3}, {16, 8, 4}, {20, 8, 4}, {20, 12, 3}, {24, 10, 4}, {16, 16, 2}, {16, 16, 3}, {12, 16, 2}, {20, 12, 4}} {
		r, L, u := cfg[0], cfg[1], cfg[2]
		if r*L > 256 {
			continue
		}
		line := fmt.Sprintf("r=%d L=%d u=%d probes=%d rand/1M=%.0f:", r, L, u, L<<u, float64(L<<u)*1e6/float64(uint64(1)<<r))
		for _, rate := range rates {
			hit, tot := 0, 0
			for i, d := range docs {
				if d.rate != rate {
					continue
				}
				tot++
				q, st := fps[i], fps[base[d.cluster]]
				found := false
				for tb := 0; tb < L && !found; tb++ {
					idx := make([]int, r)
					for j := range idx {
						idx[j] = tb*r + j
					}
					sort.Slice(idx, func(x, y int) bool { return q.m[idx[x]] < q.m[idx[y]] })
					diff := band(q.s, tb, r) ^ band(st.s, tb, r)
					for _, j := range idx[:u] {
						diff &^= 1 << (j - tb*r)
					}
					found = diff == 0
				}
				if found {
					hit++
				}
			}
			line += fmt.Sprintf(" %.0f%%=%.4f", rate*100, float64(hit)/float64(tot))
		}
		t.Log(line)
	}
}

package dedup

import (
	"os"
	"slices"
	"syscall"
	"testing"
	"time"
)

// processCPU returns the user+system CPU time of the process so far: on a
// shared machine, wall time measures the neighbours.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// minhashLSH is the peer the issue measured simhash_dedup against,
// written out here (github.com/ekzhu/minhash-lsh is not served to this
// build): a 128-value MinHash of the same 3-gram sets, banded 25 × 5 as
// that library's optimal-parameter helper chose for threshold 0.5, in
// hash tables keyed by each band's values, and every candidate verified
// by exact Jaccard of the sets, which it keeps in memory.
type minhashLSH struct {
	bands [lshBands]map[uint64][]int32
	sets  [][]uint64
	sig   [lshPerms]uint64
	seen  []int32 // candidates already verified for this query: last query number
	q     int32
}

const (
	lshPerms = 128
	lshBands = 25
	lshRows  = 5
)

func newMinhashLSH() *minhashLSH {
	m := &minhashLSH{}
	for i := range m.bands {
		m.bands[i] = map[uint64][]int32{}
	}
	return m
}

// signature fills m.sig with the MinHash of set: per permutation, the
// least of the set's hashes each remixed with that permutation's seed.
func (m *minhashLSH) signature(set []uint64) {
	for p := range m.sig {
		m.sig[p] = ^uint64(0)
	}
	for _, h := range set {
		for p := range m.sig {
			m.sig[p] = min(m.sig[p], mix64(h^uint64(p+1)*0x9E3779B97F4A7C15))
		}
	}
}

func (m *minhashLSH) bandKey(b int) uint64 {
	k := uint64(b)
	for _, v := range m.sig[b*lshRows : (b+1)*lshRows] {
		k = mix64(k*0x9E3779B97F4A7C15 + v)
	}
	return k
}

// dedup returns the kept document most similar to set with exact Jaccard
// ≥ t (-1: none); a set without a near-duplicate is added.
func (m *minhashLSH) dedup(set []uint64, t float64) int {
	m.signature(set)
	m.q++
	best, bestJ := -1, 0.0
	for b := range m.bands {
		for _, d := range m.bands[b][m.bandKey(b)] {
			if m.seen[d] == m.q {
				continue
			}
			m.seen[d] = m.q
			if j := jaccard(set, m.sets[d]); j >= t && (j > bestJ || j == bestJ && int(d) < best) {
				best, bestJ = int(d), j
			}
		}
	}
	if best >= 0 {
		return best
	}
	d := int32(len(m.sets))
	m.sets = append(m.sets, slices.Clone(set))
	m.seen = append(m.seen, 0)
	for b := range m.bands {
		k := m.bandKey(b)
		m.bands[b][k] = append(m.bands[b][k], d)
	}
	return -1
}

// scoreKeepers scores a run given, per row, the row it was dropped as a
// near-duplicate of (-1: kept).
func scoreKeepers(rows []naturalRow, keeper []int) naturalScore {
	var sc naturalScore
	for i, r := range rows {
		b := jBand(r.maxJ)
		if b >= 0 {
			sc.pos[b]++
		}
		if keeper[i] < 0 {
			sc.kept++
			continue
		}
		sc.drops++
		if j := jaccard(r.set, rows[keeper[i]].set); j < 0.5 {
			sc.wrong++
			sc.wrongJ = append(sc.wrongJ, j)
		}
		if b >= 0 {
			sc.found[b]++
		}
	}
	return sc
}

// TestPeerQuality scores the MinHash-LSH peer on the natural corpus
// (SIFT_TUNE=1; SIFT_EVAL=1 for all rows).
func TestPeerQuality(t *testing.T) {
	if os.Getenv("SIFT_TUNE") == "" {
		t.Skip("SIFT_TUNE not set")
	}
	limit := 6000
	if os.Getenv("SIFT_EVAL") != "" {
		limit = 0
	}
	rows := naturalCorpus(t, limit)
	m := newMinhashLSH()
	keeper := make([]int, len(rows))
	var kept []int
	for i := range rows {
		keeper[i] = -1
		if d := m.dedup(rows[i].set, 0.5); d >= 0 {
			keeper[i] = kept[d]
		} else {
			kept = append(kept, i)
		}
	}
	t.Logf("minhash-lsh 128 perms 25×5 + exact verify: %v", scoreKeepers(rows, keeper))
}

// BenchmarkPeer runs simhash_dedup's work (fingerprint, query, index) and
// the MinHash-LSH peer's (3-gram set, MinHash, LSH query with exact
// verification, index) on the same natural rows, in the same run.
func BenchmarkPeer(b *testing.B) {
	rows := naturalCorpus(b, 20000)
	var n int64
	for _, r := range rows {
		n += int64(len(r.text))
	}
	for _, c := range []struct {
		name    string
		cfg     IndexConfig
		noChain bool
	}{{"sift", DefaultIndex, false}, {"sift-no-chains", DefaultIndex, true}, {"sift-estimate-only", IndexConfig{2, 5, 16, 9, 3, 4, 0.5, 0}, false},
		{"sift-previous", IndexConfig{2, 4, 16, 16, 3, 3, 0.5, 0}, true}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(n)
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				sh, _ := NewShingler(DefaultWordN, DefaultCharN, DefaultSketchWordN, DefaultSketchCharN)
				x, _ := NewIndex(c.cfg)
				var a Accumulator
				var fp Fingerprint
				for _, r := range rows {
					a.Reset(DefaultIndex.Lanes)
					sh.Add(r.text, &a)
					a.Fingerprint(&fp)
					if k, sim, ok := x.Query(&fp); !ok {
						x.Add(&fp, "")
					} else if sim < 1 && !c.noChain {
						x.AddNear(&fp, "", k) // chains, as the stage
					}
				}
				x.Close()
			}
			b.ReportMetric(float64(len(rows))*float64(b.N)/(processCPU()-cpu).Seconds(), "docs/cpu-s")
		})
	}
	b.Run("minhash-lsh", func(b *testing.B) {
		b.SetBytes(n)
		b.ReportAllocs()
		cpu := processCPU()
		for b.Loop() {
			sh, _ := NewShingler(DefaultSketchWordN, DefaultSketchCharN, DefaultSketchWordN, DefaultSketchCharN)
			m := newMinhashLSH()
			for _, r := range rows {
				m.dedup(shingleSet(sh, r.text), 0.5)
			}
		}
		b.ReportMetric(float64(len(rows))*float64(b.N)/(processCPU()-cpu).Seconds(), "docs/cpu-s")
	})
}

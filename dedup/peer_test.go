package dedup

import (
	"encoding/binary"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"

	minhashlsh "github.com/ekzhu/minhash-lsh"
)

// processCPU returns the user+system CPU time of the process so far: on a
// shared machine, wall time measures the neighbours.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ekzhuSeed is the MinHash seed of github.com/ekzhu/minhash-lsh's all-pair
// tool.
const ekzhuSeed = 42

// ekzhuSignature is the MinHash signature of set by
// github.com/ekzhu/minhash-lsh, the peer the issue measured: lshPerms hash
// functions, each 3-gram hash pushed as its 8 bytes (the library hashes
// them again, with two seeded FNV-1a).
func ekzhuSignature(set []uint64) []uint64 {
	mh := minhashlsh.NewMinhash(ekzhuSeed, lshPerms)
	var b [8]byte
	for _, h := range set {
		binary.LittleEndian.PutUint64(b[:], h)
		mh.Push(b[:])
	}
	return mh.Signature()
}

// ekzhuBest returns the row among cands (row numbers) that is kept and
// before row i with the highest exact Jaccard ≥ t to row i, the lowest
// such row on ties (-1: none).
func ekzhuBest(cands []any, i int, sets [][]uint64, keeper []int, t float64) int {
	best, bestJ := -1, 0.0
	for _, c := range cands {
		d := c.(int)
		if d >= i || keeper[d] >= 0 {
			continue
		}
		if j := jaccard(sets[i], sets[d]); j >= t && (j > bestJ || j == bestJ && d < best) {
			best, bestJ = d, j
		}
	}
	return best
}

// ekzhuDedup deduplicates sets in order with github.com/ekzhu/minhash-lsh
// as its all-pair tool uses it: every set's signature added to an LSH of
// lshPerms hash functions whose bands and rows are the library's optimal
// ones for threshold t, one Index, then a query per set. A set's candidates
// are narrowed to earlier kept sets and verified by exact Jaccard of the
// sets, held in memory. It returns, per set, the set it duplicates (-1:
// kept). The library searches only what was added before its last Index,
// so this is the streaming query-then-add-if-kept made affordable; the
// answers are the same (TestEkzhuBatchIsStreaming).
func ekzhuDedup(sets [][]uint64, t float64) []int {
	lsh := minhashlsh.NewMinhashLSH(lshPerms, t)
	sigs := make([][]uint64, len(sets))
	for i, s := range sets {
		sigs[i] = ekzhuSignature(s)
		lsh.Add(i, sigs[i])
	}
	lsh.Index()
	keeper := make([]int, len(sets))
	for i := range sets {
		keeper[i] = ekzhuBest(lsh.Query(sigs[i]), i, sets, keeper, t)
	}
	return keeper
}

// ekzhuStreaming is ekzhuDedup as a stream: each set is queried against
// the kept sets before it and, when kept, added and indexed at once (an
// Index per kept set: quadratic).
func ekzhuStreaming(sets [][]uint64, t float64) []int {
	lsh := minhashlsh.NewMinhashLSH(lshPerms, t)
	keeper := make([]int, len(sets))
	for i, s := range sets {
		sig := ekzhuSignature(s)
		if keeper[i] = ekzhuBest(lsh.Query(sig), i, sets, keeper, t); keeper[i] < 0 {
			lsh.Add(i, sig)
			lsh.Index()
		}
	}
	return keeper
}

// TestEkzhuParams checks the library's optimal bands and rows for 128 hash
// functions at 0.5 are the 25 × 5 the issue measured and the hand-written
// peer uses.
func TestEkzhuParams(t *testing.T) {
	if k, l := minhashlsh.NewMinhashLSH(lshPerms, 0.5).Params(); k != lshRows || l != lshBands {
		t.Errorf("ekzhu/minhash-lsh at 0.5: %d bands × %d rows, want %d × %d", l, k, lshBands, lshRows)
	}
}

// TestEkzhuBatchIsStreaming checks that indexing every set up front and
// narrowing each query's candidates to earlier kept sets answers as
// querying and adding in order does.
func TestEkzhuBatchIsStreaming(t *testing.T) {
	rows := naturalCorpus(t, 1500)
	sets := make([][]uint64, len(rows))
	for i := range rows {
		sets[i] = rows[i].set
	}
	batch, stream := ekzhuDedup(sets, 0.5), ekzhuStreaming(sets, 0.5)
	drops := 0
	for i := range sets {
		if batch[i] != stream[i] {
			t.Fatalf("row %d: batch keeper %d, streaming %d", i, batch[i], stream[i])
		}
		if batch[i] >= 0 {
			drops++
		}
	}
	if drops == 0 {
		t.Fatal("no duplicates: the comparison tests nothing")
	}
}

// minhashLSH is a lean MinHash-LSH peer written out here (it was the only
// one before github.com/ekzhu/minhash-lsh was served to this build): a
// 128-value MinHash of the same 3-gram sets, banded 25 × 5 as that
// library's optimal-parameter helper chooses for threshold 0.5, in hash
// tables keyed by each band's values, and every candidate verified by
// exact Jaccard of the sets, which it keeps in memory. It hashes less than
// the library (one remix per 3-gram and permutation, no allocation per
// query) and so is the harder peer.
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

// TestPeerQuality scores the MinHash-LSH peers on the natural corpus
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
	t.Logf("lean minhash-lsh 128 perms 25×5 + exact verify: %v", scoreKeepers(rows, keeper))
	sets := make([][]uint64, len(rows))
	for i := range rows {
		sets[i] = rows[i].set
	}
	t.Logf("ekzhu/minhash-lsh 128 perms 25×5 + exact verify: %v", scoreKeepers(rows, ekzhuDedup(sets, 0.5)))
}

// BenchmarkPeer runs simhash_dedup's work (fingerprint, query, index) and
// the MinHash-LSH peers' (3-gram set, MinHash, LSH query with exact
// verification, index) on the same natural rows, in the same run.
func BenchmarkPeer(b *testing.B) { benchPeer(b, naturalCorpus(b, 20000)) }

// BenchmarkPeerDistinct is BenchmarkPeer on the rows whose text no earlier
// row has, as simhash_dedup sees them after exact_dedup in a recipe.
func BenchmarkPeerDistinct(b *testing.B) {
	rows := naturalCorpus(b, 20000)
	seen := map[string]bool{}
	rows = slices.DeleteFunc(rows, func(r naturalRow) bool {
		dup := seen[r.text]
		seen[r.text] = true
		return dup
	})
	benchPeer(b, rows)
}

func benchPeer(b *testing.B, rows []naturalRow) {
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
	b.Run("ekzhu-minhash-lsh", func(b *testing.B) {
		b.SetBytes(n)
		b.ReportAllocs()
		cpu := processCPU()
		for b.Loop() {
			ekzhuDedup(rowSets(rows), 0.5)
		}
		b.ReportMetric(float64(len(rows))*float64(b.N)/(processCPU()-cpu).Seconds(), "docs/cpu-s")
	})
	b.Run("lean-minhash-lsh", func(b *testing.B) {
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

// BenchmarkEkzhuStreaming is the ekzhu-minhash-lsh row of BenchmarkPeer
// with an Index after every kept row, the library's only way to query a
// stream against everything kept before it (about a minute a run).
func BenchmarkEkzhuStreaming(b *testing.B) {
	rows := naturalCorpus(b, 20000)
	cpu := processCPU()
	for b.Loop() {
		ekzhuStreaming(rowSets(rows), 0.5)
	}
	b.ReportMetric(float64(len(rows))*float64(b.N)/(processCPU()-cpu).Seconds(), "docs/cpu-s")
}

// rowSets returns the 3-gram sets of rows' texts, made anew as a peer
// makes them for every run.
func rowSets(rows []naturalRow) [][]uint64 {
	sh, _ := NewShingler(DefaultSketchWordN, DefaultSketchCharN, DefaultSketchWordN, DefaultSketchCharN)
	sets := make([][]uint64, len(rows))
	for i, r := range rows {
		sets[i] = shingleSet(sh, r.text)
	}
	return sets
}

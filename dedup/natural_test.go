package dedup

import (
	"bufio"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/siftdata/sift/seg"
)

// The natural-duplicates corpus: text as it is installed, with the
// near-copies it holds by itself (licence paragraphs repeated with other
// names and years, Go comments copied between ports, fortunes filed
// twice), rather than planted edits. Ground truth is exact: a row is a
// near-duplicate iff the Jaccard similarity of its sketch feature set
// (word 3-grams, character 3-grams in Han/Kana runs) with some earlier
// row's is at least 0.5.

const naturalMinWords = 12 // word-like segments of a row

// goComments returns the comment blocks (runs of // lines, directives
// left out) of the Go distribution's sources.
func goComments() []string {
	var files []string
	filepath.WalkDir("/usr/local/go/src", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".go") {
			files = append(files, path)
		}
		return nil
	})
	slices.Sort(files)
	var out []string
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		var cur []string
		end := func() {
			if len(cur) > 0 {
				out = append(out, strings.Join(cur, " "))
				cur = cur[:0]
			}
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			l := strings.TrimSpace(sc.Text())
			if c, ok := strings.CutPrefix(l, "//"); ok && !strings.HasPrefix(c, "go:") {
				cur = append(cur, strings.TrimSpace(c))
				continue
			}
			end()
		}
		end()
		fh.Close()
	}
	return out
}

// naturalRow is one row of the natural corpus with its ground truth.
type naturalRow struct {
	text string
	set  []uint64 // sorted distinct sketch features
	maxJ float64  // exact Jaccard with the most similar earlier row
	near []int32  // earlier rows (first of each distinct set) with J ≥ 0.5
}

// naturalCorpus returns the rows of the natural corpus in a seeded random
// order (sources mixed), at most limit of them (0: all), with ground
// truth.
func naturalCorpus(t testing.TB, limit int) []naturalRow {
	texts := fortunes(t, func(string) bool { return true })
	texts = append(texts, copyrightParagraphs(t)...)
	texts = append(texts, goComments()...)
	if os.Getenv("CI") != "" && len(texts) < 20000 {
		t.Fatalf("natural corpus: only %d texts", len(texts))
	}
	texts = slices.DeleteFunc(texts, func(s string) bool { return seg.Count(s) < naturalMinWords })
	rng := rand.New(rand.NewPCG(14, 14))
	rng.Shuffle(len(texts), func(i, j int) { texts[i], texts[j] = texts[j], texts[i] })
	if limit > 0 && len(texts) > limit {
		texts = texts[:limit]
	}
	sh, _ := NewShingler(DefaultSketchWordN, DefaultSketchCharN, DefaultSketchWordN, DefaultSketchCharN)
	rows := make([]naturalRow, len(texts))
	first := map[string]int{} // set → first row with it
	post := map[uint64][]int32{}
	count := make([]int32, len(texts))
	var touched []int32
	for i, s := range texts {
		r := &rows[i]
		r.text, r.set = s, shingleSet(sh, s)
		key := fmt.Sprint(r.set)
		if _, ok := first[key]; ok {
			r.maxJ = 1
			continue
		}
		first[key] = i
		touched = touched[:0]
		for _, h := range r.set {
			for _, d := range post[h] {
				if count[d] == 0 {
					touched = append(touched, d)
				}
				count[d]++
			}
		}
		for _, d := range touched {
			c := int(count[d])
			j := float64(c) / float64(len(r.set)+len(rows[d].set)-c)
			r.maxJ = max(r.maxJ, j)
			if j >= 0.5 {
				r.near = append(r.near, d)
			}
			count[d] = 0
		}
		for _, h := range r.set {
			post[h] = append(post[h], int32(i))
		}
	}
	return rows
}

// jaccard is the exact Jaccard similarity of sorted distinct sets.
func jaccard(a, b []uint64) float64 {
	i, j, c := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			c++
			i++
			j++
		}
	}
	if len(a)+len(b) == 0 {
		return 1
	}
	return float64(c) / float64(len(a)+len(b)-c)
}

// jBands are the ground-truth similarity bands of the tuning table.
var jBands = []float64{0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.01}

func jBand(j float64) int {
	for b := len(jBands) - 2; b >= 0; b-- {
		if j >= jBands[b] {
			return b
		}
	}
	return -1
}

// naturalScore is the outcome of one run over the natural corpus.
type naturalScore struct {
	pos, found      [7]int // per band of maxJ; [len(jBands)-1]: unused
	drops, wrong    int    // drops; drops whose keeper's true J < 0.5
	wrongJ          []float64
	candMiss, vMiss int           // missed positives with a kept near-copy: some estimated ≥ MinSim (a candidate miss) / none
	orphans         int           // missed positives whose near-copies were none of them indexed
	via             int           // drops matched with a dropped row (a chain)
	keeperBelow     int           // of those, how many have Jaccard < 0.5 with the kept row named
	bytes           int64         // Index.Bytes at the end
	cpu             time.Duration // CPU time of the queries and inserts (with the scoring's own work)
	kept            int
	cands           int64  // candidate pairs estimated (Index.Candidates)
	falseBelow      [5]int // drops with keeper J in [0.40,0.42), …, [0.48,0.50)
}

// evaluateNatural streams rows through an index with the given
// fingerprints, as the stage does (with chain, rows dropped with an
// estimate below 1 are indexed too), and scores the drops against the
// ground truth: a drop is right iff the row it was matched with, kept or
// dropped earlier, has Jaccard ≥ 0.5 with it.
func evaluateNatural(t testing.TB, rows []naturalRow, fps []Fingerprint, cfg IndexConfig, chain bool) naturalScore {
	x, err := NewIndex(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	var sc naturalScore
	cpu := processCPU()
	var docRow []int                // index document → row
	docOf := make([]int, len(rows)) // row → index document + 1, 0 if not indexed
	for i := range rows {
		r := &rows[i]
		b := jBand(r.maxJ)
		if b >= 0 {
			sc.pos[b]++
		}
		if k, sim, ok := x.Query(&fps[i]); ok {
			sc.drops++
			j := jaccard(r.set, rows[docRow[k]].set)
			if j < 0.5 {
				sc.wrong++
				sc.wrongJ = append(sc.wrongJ, j)
			}
			if root := x.Keeper(k); root != k {
				sc.via++
				if jaccard(r.set, rows[docRow[root]].set) < 0.5 {
					sc.keeperBelow++
				}
			}
			if b >= 0 {
				sc.found[b]++
			}
			if chain && sim < 1 {
				if n, _ := x.AddNear(&fps[i], "", k); n >= 0 {
					docRow = append(docRow, i)
					docOf[i] = len(docRow)
				}
			}
			continue
		}
		if b >= 0 && r.maxJ < 1 { // why missed: was an indexed near-copy's estimate high enough?
			cand, anyKept := false, false
			for _, kr := range r.near {
				if d := docOf[kr]; d > 0 {
					anyKept = true
					if x.sketch(uint32(d-1)).Jaccard(&fps[i].Sketch) >= cfg.MinSim {
						cand = true
						break
					}
				}
			}
			switch {
			case cand:
				sc.candMiss++
			case anyKept:
				sc.vMiss++
			default:
				sc.orphans++
			}
		}
		x.Add(&fps[i], "")
		docRow = append(docRow, i)
		docOf[i] = len(docRow)
		sc.kept++
	}
	sc.cpu, sc.bytes, sc.cands = processCPU()-cpu, x.Bytes(), x.Candidates()
	return sc
}

func (s naturalScore) recall(from, to int) float64 {
	p, f := 0, 0
	for b := from; b < to; b++ {
		p += s.pos[b]
		f += s.found[b]
	}
	return float64(f) / float64(p)
}

func (s naturalScore) String() string {
	nb := len(jBands) - 1
	var b strings.Builder
	fmt.Fprintf(&b, "recall %.4f non-identical %.4f", s.recall(0, nb), s.recall(0, nb-1))
	for i := 0; i < nb; i++ {
		fmt.Fprintf(&b, " [%.1f,%.1f) %d/%d=%.3f", jBands[i], jBands[i+1], s.found[i], s.pos[i], float64(s.found[i])/float64(s.pos[i]))
	}
	fmt.Fprintf(&b, " precision %.5f (%d/%d wrong, J %.3f) misses: candidate %d verify %d orphan %d; kept %d; via chain %d (keeper J < 0.5: %d); %.0f B per kept row, %.1f candidates per row, %.0f rows per CPU-s", 1-float64(s.wrong)/float64(s.drops), s.wrong, s.drops, s.wrongJ, s.candMiss, s.vMiss, s.orphans, s.kept, s.via, s.keeperBelow,
		float64(s.bytes)/float64(s.kept), float64(s.cands)/float64(s.drops+s.kept), float64(s.drops+s.kept)/s.cpu.Seconds())
	return b.String()
}

func naturalFingerprints(rows []naturalRow, lanes int) []Fingerprint {
	sh, _ := NewShingler(DefaultWordN, DefaultCharN, DefaultSketchWordN, DefaultSketchCharN)
	var a Accumulator
	fps := make([]Fingerprint, len(rows))
	for i := range rows {
		a.Reset(lanes)
		sh.Add(rows[i].text, &a)
		a.Fingerprint(&fps[i])
	}
	return fps
}

// TestNatural scores the default settings on natural duplicates: a
// sample by default, all rows with SIFT_EVAL=1.
func TestNatural(t *testing.T) {
	limit := 6000
	if os.Getenv("SIFT_EVAL") != "" {
		limit = 0
	}
	rows := naturalCorpus(t, limit)
	sc := evaluateNatural(t, rows, naturalFingerprints(rows, DefaultIndex.Lanes), DefaultIndex, true)
	t.Logf("%d rows: %v", len(rows), sc)
	nb := len(jBands) - 1
	if r, ni, p := sc.recall(0, nb), sc.recall(0, nb-1), 1-float64(sc.wrong)/float64(sc.drops); r < 0.98 || ni < 0.92 || p < 0.999 {
		// The sample is fixed by the pinned copyright list; the whole
		// corpus's figures are in docs/dedup.md.
		t.Errorf("recall %.4f, non-identical %.4f, precision %.5f; want ≥ 0.98, 0.92, 0.999", r, ni, p)
	}
	for _, j := range sc.wrongJ {
		if j < DefaultIndex.MinSim-0.02 {
			t.Errorf("dropped a row with Jaccard %.3f to its keeper", j)
		}
	}
}

// TestNaturalTune prints the natural-corpus score of a grid of index
// settings (SIFT_TUNE=1; SIFT_EVAL=1 for all rows).
func TestNaturalTune(t *testing.T) {
	if os.Getenv("SIFT_TUNE") == "" {
		t.Skip("SIFT_TUNE not set")
	}
	limit := 6000
	if os.Getenv("SIFT_EVAL") != "" {
		limit = 0
	}
	rows := naturalCorpus(t, limit)
	fps := naturalFingerprints(rows, 4) // lanes beyond a config's are ignored
	for _, c := range []struct {
		cfg   IndexConfig
		chain bool
	}{
		{DefaultIndex, true}, {DefaultIndex, false},
		{IndexConfig{2, 4, 16, 16, 3, 3, 0.5, 0}, false}, // the previous default (with the previous 32 × 8-bit sketch: see docs/dedup.md)
		{IndexConfig{2, 5, 16, 9, 3, 4, 0.5, 0}, true}, {IndexConfig{2, 5, 16, 9, 3, 4, 0.5, 64}, true},
		{IndexConfig{2, 5, 16, 9, 2, 4, 0.5, 256}, true}, {IndexConfig{2, 5, 16, 9, 3, 3, 0.5, 256}, true},
		{IndexConfig{2, 5, 14, 11, 3, 4, 0.5, 256}, true}, {IndexConfig{4, 10, 14, 11, 3, 4, 0.5, 256}, true},
		{IndexConfig{2, 5, 16, 9, 3, 4, 0.45, 256}, true}, {IndexConfig{2, 5, 16, 9, 3, 4, 0.55, 256}, true},
	} {
		cfg := c.cfg
		t.Logf("%+v chains %v: %v", cfg, c.chain, evaluateNatural(t, rows, fps, cfg, c.chain))
	}
}

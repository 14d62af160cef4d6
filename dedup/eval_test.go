package dedup

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// score is recall and precision of one run over an evaluation corpus.
type score struct {
	dups, found map[string]int // per group ("en 3%", ...): copies to drop, and dropped with a keeper of their cluster
	wrong       int            // rows dropped with a keeper of another cluster
	rejected    int
}

func group(d doc) string {
	lang := "en"
	if d.zh {
		lang = "zh"
	}
	return fmt.Sprintf("%s %.0f%%", lang, d.rate*100)
}

// fingerprints returns the fingerprints of docs.
func fingerprints(t testing.TB, docs []doc, n [4]int, lanes int) []Fingerprint {
	sh, err := NewShingler(n[0], n[1], n[2], n[3])
	if err != nil {
		t.Fatal(err)
	}
	var a Accumulator
	fps := make([]Fingerprint, len(docs))
	for i, d := range docs {
		a.Reset(lanes)
		sh.Add(d.text, &a)
		a.Fingerprint(&fps[i])
	}
	return fps
}

// evaluate streams docs through an index as the stage does (with chain,
// drops with an estimate below 1 indexed too) and scores the drops: a row
// is a near-duplicate to drop iff an earlier row belongs to its cluster; a
// drop is right iff the row it was matched with does.
func evaluate(t testing.TB, docs []doc, fps []Fingerprint, cfg IndexConfig, chain bool) score {
	x, err := NewIndex(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	cluster := []int{}
	seen := map[int]bool{}
	sc := score{dups: map[string]int{}, found: map[string]int{}}
	for i, d := range docs {
		dup := seen[d.cluster]
		seen[d.cluster] = true
		g := group(d)
		if dup {
			sc.dups[g]++
		}
		if k, sim, ok := x.Query(&fps[i]); ok {
			sc.rejected++
			if cluster[k] == d.cluster {
				sc.found[g]++
			} else {
				sc.wrong++
			}
			if chain && sim < 1 {
				if n, _ := x.AddNear(&fps[i], "", k); n >= 0 {
					cluster = append(cluster, d.cluster)
				}
			}
			continue
		}
		x.Add(&fps[i], "")
		cluster = append(cluster, d.cluster)
	}
	return sc
}

func (s score) recall(prefix string) float64 {
	n, f := 0, 0
	for g, c := range s.dups {
		if strings.HasPrefix(g, prefix) {
			n += c
			f += s.found[g]
		}
	}
	return float64(f) / float64(n)
}

func (s score) precision() float64 { return 1 - float64(s.wrong)/float64(s.rejected) }

func (s score) table() string {
	var b strings.Builder
	b.WriteString("| language | edit rate | near-duplicates | found | recall |\n|---|---|---|---|---|\n")
	for _, lang := range []string{"en", "zh"} {
		for _, r := range rates {
			g := fmt.Sprintf("%s %.0f%%", lang, r*100)
			fmt.Fprintf(&b, "| %s | %.0f%% | %d | %d | %.4f |\n", lang, r*100, s.dups[g], s.found[g], float64(s.found[g])/float64(s.dups[g]))
		}
	}
	fmt.Fprintf(&b, "\nrecall %.4f (en %.4f, zh %.4f), precision %.5f (%d of %d drops name a keeper of another cluster)\n",
		s.recall(""), s.recall("en"), s.recall("zh"), s.precision(), s.wrong, s.rejected)
	return b.String()
}

// TestQuality asserts the targets (recall ≥ 0.97 at precision
// ≥ 0.999) on a sample of the evaluation corpus; SIFT_EVAL=1 runs the
// whole corpus and prints the table of docs/dedup.md.
func TestQuality(t *testing.T) {
	limit := 800
	if os.Getenv("SIFT_EVAL") != "" {
		limit = 0
	}
	docs := evalCorpus(t, limit)
	sc := evaluate(t, docs, fingerprints(t, docs, [4]int{DefaultWordN, DefaultCharN, DefaultSketchWordN, DefaultSketchCharN}, DefaultIndex.Lanes), DefaultIndex, true)
	base := map[bool]int{}
	for _, d := range docs {
		if d.rate == 0 {
			base[d.zh]++
		}
	}
	t.Logf("%d documents (%d English, %d Chinese base documents)\n%s", len(docs), base[false], base[true], sc.table())
	if r, p := sc.recall(""), sc.precision(); r < 0.97 || p < 0.999 {
		t.Errorf("recall %.4f precision %.5f, want ≥ 0.97 and ≥ 0.999", r, p)
	}
}

// TestTune prints recall and precision on the whole corpus for a grid of
// settings (SIFT_TUNE=1).
func TestTune(t *testing.T) {
	if os.Getenv("SIFT_TUNE") == "" {
		t.Skip("SIFT_TUNE not set")
	}
	docs := evalCorpus(t, 0)
	t.Logf("%d documents", len(docs))
	for _, n := range [][4]int{{1, 1, 3, 3}, {2, 2, 3, 3}, {3, 2, 3, 3}, {1, 1, 2, 2}} {
		fps := fingerprints(t, docs, n, 4)
		for _, cfg := range []IndexConfig{
			DefaultIndex, {2, 4, 16, 16, 3, 3, 0.5, 0}, {2, 5, 14, 11, 3, 4, 0.5, 0}, {2, 5, 14, 11, 3, 4, 0.45, 256}, {2, 5, 14, 11, 3, 4, 0.55, 256},
		} {
			sc := evaluate(t, docs, fps, cfg, true)
			t.Logf("n=%v %+v: recall %.4f en %.4f zh %.4f (en5 %.4f) precision %.5f wrong %d/%d", n, cfg, sc.recall(""), sc.recall("en"), sc.recall("zh"), sc.recall("en 5"), sc.precision(), sc.wrong, sc.rejected)
		}
	}
}

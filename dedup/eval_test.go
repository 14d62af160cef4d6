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

// evaluate streams docs through a SimHash index and scores the drops: a
// row is a near-duplicate to drop iff an earlier row belongs to its
// cluster; a drop is right iff its keeper does.
func evaluate(t testing.TB, docs []doc, wordN, charN int, cfg IndexConfig) score {
	sh, err := NewShingler(wordN, charN)
	if err != nil {
		t.Fatal(err)
	}
	x, err := NewIndex(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var a Accumulator
	margin := make([]int32, 64*cfg.Lanes)
	cluster := []int{}
	seen := map[int]bool{}
	sc := score{dups: map[string]int{}, found: map[string]int{}}
	for _, d := range docs {
		a.Reset(cfg.Lanes)
		sh.Hashes(d.text, a.Add)
		s := a.Sig(margin)
		dup := seen[d.cluster]
		seen[d.cluster] = true
		g := group(d)
		if dup {
			sc.dups[g]++
		}
		if k, _, ok := x.Query(s, margin); ok {
			sc.rejected++
			if cluster[k] == d.cluster {
				sc.found[g]++
			} else {
				sc.wrong++
			}
			continue
		}
		x.Add(s, "")
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

// TestQuality guards the measured quality on a sample of the evaluation
// corpus (the targets, recall 0.97 at precision 0.999, are not met
// yet: see docs/dedup.md); SIFT_EVAL=1 runs the whole corpus and prints
// the table of docs/dedup.md.
func TestQuality(t *testing.T) {
	limit := 800
	if os.Getenv("SIFT_EVAL") != "" {
		limit = 0
	}
	docs := evalCorpus(t, limit)
	sc := evaluate(t, docs, DefaultWordN, DefaultCharN, DefaultIndex)
	t.Logf("%d documents\n%s", len(docs), sc.table())
	if r, p := sc.recall(""), sc.precision(); limit > 0 && (r < 0.95 || p < 0.998) {
		t.Errorf("recall %.4f precision %.5f, want ≥ 0.95 and ≥ 0.998 (measured 0.964, 0.9992)", r, p)
	}
}

func TestTune(t *testing.T) {
	if os.Getenv("SIFT_TUNE") == "" {
		t.Skip("SIFT_TUNE not set")
	}
	docs := evalCorpus(t, 0)
	for _, n := range [][2]int{{3, 2}} {
		for _, cfg := range []IndexConfig{
			{4, 16, 16, 2, 40}, {4, 16, 16, 2, 50}, {4, 16, 16, 3, 50}, {4, 16, 16, 3, 60},
		} {
			sc := evaluate(t, docs, n[0], n[1], cfg)
			t.Logf("n=%v %+v: recall %.4f en %.4f zh %.4f precision %.5f wrong %d/%d", n, cfg, sc.recall(""), sc.recall("en"), sc.recall("zh"), sc.precision(), sc.wrong, sc.rejected)
		}
	}
}

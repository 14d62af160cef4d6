package augment

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
)

const fortunesDir = "/usr/share/games/fortunes"

// fortunes returns the English fortunes of at least 20 words from Debian's
// fortunes package (real English paragraphs), or skips.
func fortunes(tb testing.TB) []string {
	files, _ := filepath.Glob(fortunesDir + "/*")
	var out []string
	for _, f := range files {
		if strings.Contains(filepath.Base(f), ".") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, p := range strings.Split(string(data), "\n%\n") {
			p = strings.TrimSpace(p)
			if len(strings.Fields(p)) >= 20 && strings.IndexFunc(p, func(r rune) bool { return r > 0x24f || r == 0x1b }) < 0 {
				out = append(out, p)
			}
		}
	}
	if len(out) < 1000 {
		tb.Skip("fortunes not installed (apt-get install fortunes)")
	}
	return out
}

// On real English paragraphs the share of changed words follows ratio.
func TestSynonymsRatioFortunes(t *testing.T) {
	texts := fortunes(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := textBatch(mem, texts...)
	defer rec.Release()
	for _, ratio := range []float64{0.05, 0.1, 0.2} {
		rows, b := process(t, mem, newStage(t, WithRatio(ratio), WithCopies(2), WithSeed(7)), rec)
		c := b.Counts()
		share := float64(c["words_changed"]) / float64(c["words"])
		copies := map[string]int{}
		for _, r := range rows {
			var x struct{ ID string }
			json.Unmarshal([]byte(r), &x)
			if src, _, ok := strings.Cut(x.ID, "#aug"); ok {
				copies[src]++
			}
		}
		two := 0
		for _, n := range copies {
			if n == 2 {
				two++
			}
		}
		t.Logf("ratio %.2f: %d rows, %d copies, no_change %d, duplicate_copy %d, changed share %.4f, rows with 2 copies %d (%.2f%%)",
			ratio, len(texts), c["copies"], c["no_change"], c["duplicate_copy"], share, two, 100*float64(two)/float64(len(texts)))
		// Nouns are not replaced, and slots where no synonym fits at
		// least as well as the word and above the fit floor are skipped:
		// 88 % of the copies asked for are no_change, and the share of the
		// copies made falls short of ratio (docs/augment.md has the
		// figures).
		if share < min(ratio*0.2, 0.012) || share > ratio*1.05 {
			t.Errorf("ratio %.2f: share %.4f", ratio, share)
		}
		if two < len(texts)/200 {
			t.Errorf("ratio %.2f: only %d of %d rows have 2 copies", ratio, two, len(texts))
		}
	}
}

func benchSynonyms(b *testing.B, texts []string, opts ...Option) {
	mem := memory.NewGoAllocator()
	rec := textBatch(mem, texts...)
	defer rec.Release()
	st := newStage(b, opts...)
	English() // decode the thesaurus outside the timer
	b.SetBytes(sift.TextBytes(rec))
	b.ReportAllocs()
	ctx := context.Background()
	var out arrow.RecordBatch
	for b.Loop() {
		bt := sift.NewBatch(mem, "augment_synonyms", rec)
		var err error
		if out, err = st.Process(ctx, bt); err != nil {
			b.Fatal(err)
		}
		out.Release()
	}
	b.ReportMetric(float64(b.N)*float64(len(texts))/b.Elapsed().Seconds(), "rows/s")
}

// Rows of the test paragraphs (about 50 words each), 2 copies each.
func BenchmarkSynonyms(b *testing.B) {
	ps := paragraphs(b)
	var texts []string
	for len(texts) < 1024 {
		texts = append(texts, ps...)
	}
	for _, ops := range [][]Op{{Replace}, {Replace, Insert, Swap, Delete}} {
		b.Run(fmt.Sprint(ops), func(b *testing.B) { benchSynonyms(b, texts, WithCopies(2), WithSeed(7), WithOps(ops...)) })
	}
}

// The English fortunes (about 50 words each), 2 copies each.
func BenchmarkSynonymsFortunes(b *testing.B) {
	benchSynonyms(b, fortunes(b)[:4096], WithCopies(2), WithSeed(7))
}

// Decoding the embedded thesaurus (once per process).
func BenchmarkEnglishDecode(b *testing.B) {
	b.SetBytes(int64(len(englishData)))
	for b.Loop() {
		if _, err := ReadThesaurus(strings.NewReader(string(englishData))); err != nil {
			b.Fatal(err)
		}
	}
}

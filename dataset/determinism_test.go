package dataset_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/dataset"
)

// TestParquetBytesAreDeterministic writes the same rows to Parquet several
// times and wants identical bytes. The text column holds more distinct
// values than a dictionary page may (1 MiB), which with dictionaries on
// makes arrow-go fall back to plain pages mid-chunk and list the chunk's
// page encodings in Go map order (see docs/upstream-parquet-encoding-stats.md):
// the footer bytes then vary from run to run, though only now and then.
func TestParquetBytesAreDeterministic(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(10, 7))
	words := []string{"data", "clean", "文本", "token", "row", "语言", "filter", "model"}
	b := sift.NewBuilder(mem)
	for i := range 5000 {
		var text []byte
		for len(text) < 1200 {
			text = fmt.Appendf(text, "%s %d ", words[rng.IntN(len(words))], rng.IntN(1e6))
		}
		s := string(text)
		b.Append(sift.Row{ID: fmt.Sprint("doc-", i), Text: &s, Source: "web", Meta: fmt.Sprintf(`{"note":%q}`, s[:200])})
	}
	rec := b.NewBatch()
	b.Release()
	defer rec.Release()

	dir := t.TempDir()
	var first []byte
	for run := range 6 {
		p := filepath.Join(dir, fmt.Sprint(run, ".parquet"))
		w, err := dataset.Create(mem, p, dataset.WithChunkRows(2500))
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if run == 0 {
			first = got
			// The cause, checked directly: a chunk whose data pages
			// use two encodings gets its encoding stats in map order.
			if n := dataPageEncodings(t, p); n != 1 {
				t.Fatalf("a column chunk lists %d data-page encodings, want 1", n)
			}
			continue
		}
		if !bytes.Equal(got, first) {
			t.Fatalf("run %d wrote different bytes (%d vs %d)", run, len(got), len(first))
		}
	}
}

// dataPageEncodings returns the most data-page encodings any column chunk
// of the file lists.
func dataPageEncodings(t *testing.T, path string) int {
	t.Helper()
	r, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	most := 0
	for g := range r.NumRowGroups() {
		rg := r.MetaData().RowGroup(g)
		for c := range rg.NumColumns() {
			cc, err := rg.ColumnChunk(c)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, s := range cc.EncodingStats() {
				if s.PageType == 0 { // DATA_PAGE
					n++
				}
			}
			most = max(most, n)
		}
	}
	return most
}

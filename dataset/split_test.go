package dataset_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/dataset"
)

// readSplits reads every split of path (JSONL ones numbered from their line
// starts) and returns the rows as JSON and the rejects, in split order.
func readSplits(t testing.TB, mem memory.Allocator, path string, size int64) ([]string, []sift.Reject, int) {
	t.Helper()
	splits, err := dataset.Splits(path, size)
	if err != nil {
		t.Fatal(err)
	}
	if !splits[0].Whole() && strings.HasSuffix(path, ".jsonl") {
		starts := make([]int64, len(splits))
		for i, s := range splits {
			if starts[i], err = s.LineStarts(); err != nil {
				t.Fatal(err)
			}
		}
		dataset.NumberSplits(splits, starts)
	}
	var rows []string
	var rejects []sift.Reject
	for _, s := range splits {
		r, err := dataset.OpenSplit(mem, s, dataset.WithBatchSize(3), dataset.WithMaxLineBytes(4096))
		if err != nil {
			t.Fatal(err)
		}
		for {
			rec, rej, err := r.Next(context.Background())
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			rejects = append(rejects, rej...)
			if rec != nil {
				for i := range int(rec.NumRows()) {
					rows = append(rows, string(sift.AppendRowJSON(nil, rec, i)))
				}
				rec.Release()
			}
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return rows, rejects, len(splits)
}

// splitText is JSONL with what a byte boundary can fall into: a byte-order
// mark, rows with and without ids, empty and blank lines, CRLF ends, a bad
// line, a line longer than the reader's limit and one longer than many
// splits, multi-byte characters and no final newline.
func splitText(t testing.TB) string {
	var b strings.Builder
	b.WriteString("\uFEFF")
	fortunes, _ := os.ReadFile("/usr/share/games/fortunes/fortunes")
	paras := strings.Split(string(fortunes), "\n%\n")
	if len(paras) < 40 {
		if os.Getenv("CI") != "" {
			t.Fatal("fortunes not installed (apt-get install fortunes)")
		}
		paras = []string{"A fortune.", "Two lines\nof text.", "Ünïcödé — text ✓"}
	}
	for i, p := range paras[:min(len(paras), 60)] {
		q := sift.AppendJSONString(nil, p)
		switch i % 6 {
		case 0:
			fmt.Fprintf(&b, "{\"text\":%s}\n", q)
		case 1:
			fmt.Fprintf(&b, "{\"id\":\"r%d\",\"text\":%s}\r\n", i, q)
		case 2:
			fmt.Fprintf(&b, "\n   \n{\"text\":%s}\n", q)
		case 3:
			fmt.Fprintf(&b, "{\"text\":%s\n", q) // unterminated object
		case 4:
			fmt.Fprintf(&b, "{\"text\":%s,\"pad\":\"%s\"}\n", q, strings.Repeat("x", 5000)) // too long
		default:
			fmt.Fprintf(&b, "{\"id\":\"r%d\",\"text\":%s,\"meta\":{\"n\":%d}}\n", i, q, i)
		}
	}
	b.WriteString(`{"text":"last line, no newline"}`)
	return b.String()
}

func TestJSONLSplitsReadAsTheWholeFile(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	path := write(t, t.TempDir(), "in.jsonl", splitText(t))
	wantRows, wantRej := readAll(t, mem, 3, path)
	if len(wantRows) < 20 || len(wantRej) < 10 {
		t.Fatalf("fixture too small: %d rows, %d rejects", len(wantRows), len(wantRej))
	}
	fi, _ := os.Stat(path)
	for _, size := range []int64{61, 100, 997, 4096, 5003, fi.Size() - 1, fi.Size(), fi.Size() + 1} {
		rows, rej, n := readSplits(t, mem, path, size)
		if want := (fi.Size() + size - 1) / size; size < fi.Size() && int64(n) != want {
			t.Errorf("size %d: %d splits, want %d", size, n, want)
		}
		if !slices.Equal(rows, wantRows) {
			t.Errorf("size %d (%d splits): rows differ from the whole file's (%d vs %d)", size, n, len(rows), len(wantRows))
		}
		if !reflect.DeepEqual(rej, wantRej) {
			t.Errorf("size %d (%d splits): rejects differ from the whole file's:\n%v\nwant\n%v", size, n, rej, wantRej)
		}
	}
}

func TestParquetSplitsAreRowGroups(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	src := write(t, dir, "in.jsonl", splitText(t))
	pq := filepath.Join(dir, "in.parquet")
	copyTo(t, mem, pq, 5, src) // row groups of 4 rows
	wantRows, _ := readAll(t, mem, 3, pq)
	fi, _ := os.Stat(pq)
	for _, size := range []int64{1, 500, 2000, fi.Size()} {
		rows, rej, n := readSplits(t, mem, pq, size)
		if size == 1 && n != (len(wantRows)+3)/4 {
			t.Errorf("size 1: %d splits, want one per row group (%d)", n, (len(wantRows)+3)/4)
		}
		if !slices.Equal(rows, wantRows) || len(rej) != 0 {
			t.Errorf("size %d (%d splits): %d rows and %d rejects, want the whole file's %d rows", size, n, len(rows), len(rej), len(wantRows))
		}
	}
}

func TestSplitsOfUnsplittableFiles(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	text := splitText(t)
	src := write(t, dir, "src.jsonl", text)
	for _, name := range []string{"a.jsonl.gz", "a.jsonl.zst", "a.csv", "a.arrow"} {
		path := filepath.Join(dir, name)
		if name == "a.csv" {
			write(t, dir, name, "id,text\n"+strings.Repeat("1,\"some text\"\n", 100))
		} else {
			copyTo(t, mem, path, 7, src)
		}
		splits, err := dataset.Splits(path, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(splits) != 1 || !splits[0].Whole() {
			t.Errorf("%s: %+v, want the whole file", name, splits)
		}
		if _, err := dataset.OpenSplit(mem, dataset.Split{Path: path, Start: 10, End: 20}, dataset.WithBatchSize(3)); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: a byte range opened (%v), want an error naming the file", name, err)
		}
	}
	pq := filepath.Join(dir, "a.parquet")
	copyTo(t, mem, pq, 7, src)
	if _, err := dataset.OpenSplit(mem, dataset.Split{Path: pq, Start: 1, End: 1}); err == nil {
		t.Error("a split of no row group opened")
	}
	if _, err := dataset.Splits(filepath.Join(dir, "a.jsonl"), 0); err == nil {
		t.Error("split size 0 accepted")
	}
	if _, err := dataset.Splits(filepath.Join(dir, "missing.jsonl"), 10); err == nil {
		t.Error("a missing file split")
	}
}

// FuzzJSONLSplits: any bytes, cut at any size, read as the whole file.
func FuzzJSONLSplits(f *testing.F) {
	f.Add([]byte(splitText(f)[:2000]), int64(7))
	f.Add([]byte("\n\n{\"text\":\"a\"}\r\n\r\n{\"text\":\"b\"}"), int64(1))
	f.Add([]byte("\uFEFF{\"text\":\"x\"}\n"), int64(2))
	f.Fuzz(func(t *testing.T, data []byte, size int64) {
		if size <= 0 || len(data) == 0 || int64(len(data))/size > 64 {
			return // each split opens the file: keep to 64 of them
		}
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		path := write(t, t.TempDir(), "f.jsonl", string(data))
		wantRows, wantRej := readAll(t, mem, 3, path)
		rows, rej, n := readSplits(t, mem, path, size)
		if !slices.Equal(rows, wantRows) || !reflect.DeepEqual(rej, wantRej) {
			t.Fatalf("%d splits of %d bytes: %d rows, %d rejects; whole file: %d, %d", n, size, len(rows), len(rej), len(wantRows), len(wantRej))
		}
	})
}

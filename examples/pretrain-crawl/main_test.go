package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/klauspost/compress/zstd"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/dataset"
	"github.com/siftdata/sift/recipe"
)

// TestPretrainCrawl runs both passes and checks, from the files themselves,
// that no row is lost, that the Parquet output carries perplexity buckets and
// that the second pass drops every re-crawled document as a duplicate of a
// row the first pass kept.
func TestPretrainCrawl(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	res, err := run(io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	shards, _ := filepath.Glob(filepath.Join(res.dir, "shards", "*.jsonl.zst"))
	if len(shards) != 3 {
		t.Fatalf("shards: %v", shards)
	}
	kept := map[string]bool{}
	for pass, c := range []struct {
		rep    *recipe.Report
		inputs []string
	}{
		{res.first, shards},
		{res.second, []string{filepath.Join(res.dir, "new", "part-0000.jsonl.zst")}},
	} {
		in := 0
		for _, s := range c.inputs {
			in += zstdLines(t, s)
		}
		ids, buckets := readOutput(t, c.rep.Output)
		rejects := readRejects(t, c.rep.Rejects)
		st := c.rep.Stats
		if int64(in) != st.RowsIn || int64(len(ids)) != st.RowsOut || int64(len(rejects)) != st.RowsRejected || in != len(ids)+len(rejects) {
			t.Fatalf("pass %d: files hold %d in, %d out, %d rejected; stats say %+v", pass+1, in, len(ids), len(rejects), st)
		}
		for _, b := range []string{"head", "middle", "tail"} {
			if buckets[b] == 0 {
				t.Errorf("pass %d: no row in bucket %s: %v", pass+1, b, buckets)
			}
		}
		if pass == 0 {
			for _, id := range ids {
				kept[id] = true
			}
			if fi, err := os.Stat(filepath.Join(res.dir, "out", "index.simhash")); err != nil || fi.Size() == 0 {
				t.Fatalf("saved index: %v", err)
			}
			continue
		}
		for _, id := range res.recrawled {
			r, ok := rejects[id]
			if !ok || r.Stage != "simhash_dedup" || !kept[r.DuplicateOf] {
				t.Errorf("re-crawled %s: %+v, want a simhash_dedup reject naming a first-pass row", id, r)
			}
		}
		for _, id := range ids {
			if kept[id] {
				t.Errorf("%s kept by both passes", id)
			}
		}
	}
}

func zstdLines(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := zstd.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	n := 0
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// readOutput returns the ids of a Parquet output and its rows per bucket.
func readOutput(t *testing.T, path string) ([]string, map[string]int) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r, err := dataset.Open(mem, []string{path})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var ids []string
	buckets := map[string]int{}
	for {
		rec, rejects, err := r.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil || len(rejects) > 0 {
			t.Fatalf("reading %s: %v %v", path, err, rejects)
		}
		if rec == nil {
			continue
		}
		c := sift.ColsOf(rec)
		meta := rec.Column(rec.Schema().FieldIndices("meta")[0]).(*array.String)
		for i := 0; i < int(rec.NumRows()); i++ {
			ids = append(ids, c.ID.Value(i))
			// Columns stages add travel in meta in Parquet and Arrow files.
			var m struct {
				Bucket     string  `json:"bucket"`
				Perplexity float64 `json:"perplexity"`
			}
			if err := json.Unmarshal([]byte(meta.Value(i)), &m); err != nil || m.Perplexity <= 0 {
				t.Errorf("row %s: meta %q: %v", c.ID.Value(i), meta.Value(i), err)
			}
			buckets[m.Bucket]++
		}
		rec.Release()
	}
	return ids, buckets
}

type reject struct {
	Stage       string `json:"stage"`
	Reason      string `json:"reason"`
	DuplicateOf string `json:"duplicate_of"`
}

func readRejects(t *testing.T, path string) map[string]reject {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]reject{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r struct {
			ID string `json:"id"`
			reject
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		out[r.ID] = r.reject
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

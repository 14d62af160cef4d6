package dataset_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/dataset"
	"github.com/siftdata/sift/internal/realtext"
)

var _ sift.Sized = (*dataset.Reader)(nil)

// realCorpus writes about n bytes of real text as JSONL, skipping the test
// outside CI when the text is not installed.
func realCorpus(t *testing.T, n int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := realtext.Write(&buf, n); err != nil {
		if errors.Is(err, realtext.ErrMissing) && os.Getenv("CI") == "" {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestInputProgress reads real text from a JSONL file, its gzip copy and
// a CSV file batch by batch: the bytes done never go back, stay within the
// total, which is the files' size on disk, move within a file, and reach
// the total at the end.
func TestInputProgress(t *testing.T) {
	data := realCorpus(t, 1<<20)
	dir := t.TempDir()
	plain := filepath.Join(dir, "a.jsonl")
	gz := filepath.Join(dir, "b.jsonl.gz")
	csv := filepath.Join(dir, "c.csv")
	os.WriteFile(plain, data, 0o644)
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(data)
	zw.Close()
	os.WriteFile(gz, zb.Bytes(), 0o644)
	os.WriteFile(csv, []byte("id,text\n1,\"one, with a comma\"\n2,two\n"), 0o644)
	var want int64
	for _, p := range []string{plain, gz, csv} {
		fi, _ := os.Stat(p)
		want += fi.Size()
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r, err := dataset.Open(mem, []string{plain, gz, csv}, dataset.WithBatchSize(64))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var prev, between int64
	for {
		rec, _, err := r.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if rec != nil {
			rec.Release()
		}
		done, total := r.InputProgress()
		if total != want || done < prev || done > total {
			t.Fatalf("progress %d of %d after %d; files hold %d", done, total, prev, want)
		}
		if done > 0 && done < int64(len(data))/2 {
			between++
		}
		prev = done
	}
	if done, total := r.InputProgress(); done != total {
		t.Errorf("at the end %d of %d", done, total)
	}
	if between == 0 {
		t.Errorf("no progress inside the first file")
	}
}

// TestInputProgressFIFO: a FIFO's size is unknown, so is the total.
func TestInputProgressFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "in.jsonl")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err == nil {
			f.WriteString(`{"id":"1","text":"through a pipe"}` + "\n")
			f.Close()
		}
	}()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r, err := dataset.Open(mem, []string{fifo})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rec, _, err := r.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rec.Release()
	if done, total := r.InputProgress(); total != 0 || done != 0 {
		t.Errorf("progress %d of %d, want 0 of 0 (unknown)", done, total)
	}
}

package dataset_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/dataset"
)

func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "in.jsonl")
	os.WriteFile(in, []byte(`{"id":"a","text":"hello","lang":"en"}`+"\nnot json\n"), 0o644)

	mem := memory.NewGoAllocator()
	r, err := dataset.Open(mem, []string{in})
	if err != nil {
		panic(err)
	}
	defer r.Close()
	for {
		rec, rejects, err := r.Next(context.Background())
		if err == io.EOF {
			break
		}
		for _, rj := range rejects {
			fmt.Println("reject:", rj.Reason)
		}
		if rec != nil {
			for i := 0; i < int(rec.NumRows()); i++ {
				fmt.Println(string(sift.AppendRowJSON(nil, rec, i)))
			}
			rec.Release()
		}
	}
	// Output:
	// reject: parse_error
	// {"id":"a","text":"hello","lang":"en"}
}

func ExampleCreate() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	mem := memory.NewGoAllocator()
	w, err := dataset.Create(mem, filepath.Join(dir, "out.jsonl.zst"))
	if err != nil {
		panic(err)
	}
	b := sift.NewBuilder(mem)
	s := "written atomically"
	b.Append(sift.Row{ID: "1", Text: &s})
	rec := b.NewBatch()
	b.Release()
	defer rec.Release()
	if err := w.Write(context.Background(), rec); err != nil {
		w.Abort() // nothing is left at the path
		panic(err)
	}
	fmt.Println(w.Close())
	// Output: <nil>
}

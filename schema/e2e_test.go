package schema_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift/recipe"
	_ "github.com/siftdata/sift/schema"
)

// TestRecipeRun runs stage normalize and each output format through the
// real reader, recipe runner and writer, on the mixed golden input, and
// expects the golden output: the runner path and the tests' stand-in reader
// agree.
func TestRecipeRun(t *testing.T) {
	in, _ := filepath.Abs("testdata/golden/mixed.jsonl")
	for _, f := range []string{"unified", "openai", "sharegpt", "alpaca"} {
		t.Run(f, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			dir := t.TempDir()
			yml := "input: " + in + "\noutput: out.jsonl\nrejects: rejects.jsonl\nbatch_size: 3\noutput_format: " + f + "\nstages:\n  - normalize: {format: auto}\n"
			r, err := recipe.Parse([]byte(yml), dir)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := recipe.Run(context.Background(), r, recipe.RunOptions{Mem: mem}); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(dir, "out.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join("testdata/golden/mixed", f+".jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("sift run output:\n%s\nwant:\n%s", got, want)
			}
			rej, _ := os.ReadFile(filepath.Join(dir, "rejects.jsonl"))
			inLines, _ := os.ReadFile(in)
			if n, m, k := bytes.Count(inLines, []byte("\n")), bytes.Count(got, []byte("\n")), bytes.Count(rej, []byte("\n")); n != m+k {
				t.Fatalf("%d lines in, %d out + %d rejected", n, m, k)
			}
		})
	}
}

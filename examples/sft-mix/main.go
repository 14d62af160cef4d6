// Command sft-mix prepares a fine-tuning mix: Alpaca, ShareGPT and OpenAI chat
// files go through normalize, pii_redact, exact_dedup, simhash_dedup,
// length_filter on the assistant turns and perplexity band selection, and come
// out as one OpenAI chat JSONL file.
//
//	go run ./examples/sft-mix
//
// It copies its recipe and data to a new temporary directory, runs there,
// prints the funnel of rows through the stages and where the outputs are.
package main

import (
	"context"
	"embed"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/siftdata/sift/recipe"

	_ "github.com/siftdata/sift/clean"
	_ "github.com/siftdata/sift/dedup"
	_ "github.com/siftdata/sift/mining"
	_ "github.com/siftdata/sift/schema"
)

//go:embed recipe.yaml data
var files embed.FS

func main() {
	if _, _, err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sft-mix:", err)
		os.Exit(1)
	}
}

// run writes the example's files to a new temporary directory, runs the
// recipe there and prints the funnel to out. It returns the report and the
// directory.
func run(out io.Writer) (*recipe.Report, string, error) {
	dir, err := os.MkdirTemp("", "sift-sft-mix-")
	if err != nil {
		return nil, "", err
	}
	for _, name := range []string{"recipe.yaml", "data/alpaca.jsonl", "data/sharegpt.jsonl", "data/openai.jsonl"} {
		data, err := files.ReadFile(name)
		if err != nil {
			return nil, dir, err
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, dir, err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return nil, dir, err
		}
	}
	r, err := recipe.Load(filepath.Join(dir, "recipe.yaml"))
	if err != nil {
		return nil, dir, err
	}
	rep, err := recipe.Run(context.Background(), r, recipe.RunOptions{})
	if err != nil {
		return nil, dir, err
	}
	st := rep.Stats
	fmt.Fprintf(out, "%-14s %5s %5s %8s  %s\n", "stage", "in", "out", "rejected", "reasons")
	for _, s := range st.Stages {
		fmt.Fprintf(out, "%-14s %5d %5d %8d  %s\n", s.Name, s.RowsIn, s.RowsOut, s.RowsRejected, reasons(s.Rejected))
	}
	fmt.Fprintf(out, "\n%d rows in, %d out, %d rejected\n", st.RowsIn, st.RowsOut, st.RowsRejected)
	fmt.Fprintf(out, "training file: %s\nrejects:       %s\n", rep.Output, rep.Rejects)
	return rep, dir, nil
}

// reasons formats reject counts as "reason n, …" in a stable order.
func reasons(m map[string]int64) string {
	var parts []string
	for k, n := range m {
		parts = append(parts, fmt.Sprintf("%s %d", k, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

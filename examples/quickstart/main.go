// Command quickstart runs sift's quickstart recipe on the embedded sample
// dataset: English and Chinese text with too-short and too-long rows,
// duplicates, personal data, mixed SFT formats and a few malformed lines.
//
//	go run ./examples/quickstart
//
// It writes its outputs under a new temporary directory, prints where, and
// prints the run's report.
package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/siftdata/sift/recipe"

	_ "github.com/siftdata/sift/augment"
	_ "github.com/siftdata/sift/clean"
	_ "github.com/siftdata/sift/dedup"
	_ "github.com/siftdata/sift/mining"
	_ "github.com/siftdata/sift/schema"
)

var (
	//go:embed sample.jsonl
	sample []byte
	//go:embed recipe.yaml
	recipeYAML []byte
)

func main() {
	if _, err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run() (*recipe.Report, error) {
	dir, err := os.MkdirTemp("", "sift-quickstart-")
	if err != nil {
		return nil, err
	}
	for name, data := range map[string][]byte{"sample.jsonl": sample, "recipe.yaml": recipeYAML} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return nil, err
		}
	}
	r, err := recipe.Load(filepath.Join(dir, "recipe.yaml"))
	if err != nil {
		return nil, err
	}
	rep, err := recipe.Run(context.Background(), r, recipe.RunOptions{})
	if err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(rep.Stats, "", "  ")
	if err != nil {
		return rep, err
	}
	fmt.Printf("%s\n\nsift quickstart: %d rows in, %d added, %d out, %d rejected\n", out,
		rep.Stats.RowsIn, rep.Stats.RowsAdded, rep.Stats.RowsOut, rep.Stats.RowsRejected)
	fmt.Printf("outputs in %s:\n  %s\n  %s\n  %s\n", dir, rep.Output, rep.Rejects, filepath.Join(dir, "out", "report.html"))
	return rep, nil
}

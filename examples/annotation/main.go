// Command annotation runs sift's annotation loop on a small set of
// English and Chinese question-answer pairs:
//
//  1. export a stratified sample (by perplexity bucket) for Label Studio;
//
//  2. read three annotators' Label Studio export of that sample
//     (labels.json, committed) and print their agreement;
//
//  3. run a recipe that joins the labels onto the rows and keeps the rows
//     that reach the rubric.
//
//     go run ./examples/annotation
//
// It writes its outputs under a new temporary directory and prints where.
package main

import (
	"context"
	"embed"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift/annotate"
	"github.com/siftdata/sift/recipe"
)

//go:embed data.jsonl labels.json rubric.yaml recipe.yaml
var files embed.FS

// Sample settings: the committed labels.json holds the tasks this export
// produces.
const (
	sample   = 18
	stratify = "bucket"
	seed     = 7
)

func main() {
	if _, err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "annotation:", err)
		os.Exit(1)
	}
}

// result is what the example produced, for its test.
type result struct {
	dir    string
	export *annotate.ExportResult
	labels *annotate.Labels
	report *recipe.Report
}

func run(out *os.File) (*result, error) {
	dir, err := os.MkdirTemp("", "sift-annotation-")
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"data.jsonl", "labels.json", "rubric.yaml", "recipe.yaml"} {
		data, _ := files.ReadFile(name)
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return nil, err
		}
	}
	res := &result{dir: dir}
	rubric, err := annotate.LoadRubric(filepath.Join(dir, "rubric.yaml"))
	if err != nil {
		return nil, err
	}

	// 1. Export.
	res.export, err = annotate.Export(context.Background(), memory.DefaultAllocator,
		[]string{filepath.Join(dir, "data.jsonl")}, filepath.Join(dir, "export"),
		annotate.ExportOptions{Rubric: rubric, Sample: sample, Stratify: stratify, MinPerStratum: 3, Seed: seed})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "1. exported %d of %d rows for annotation:\n", res.export.Sampled, res.export.Rows)
	for _, s := range res.export.Strata {
		fmt.Fprintf(out, "   %-7s %2d of %2d\n", s.Value, s.Sampled, s.Rows)
	}
	for _, f := range res.export.Files {
		fmt.Fprintf(out, "   %s\n", f)
	}

	// 2. Agreement of the three annotators.
	res.labels, err = annotate.LoadLabels(filepath.Join(dir, "labels.json"), rubric)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "\n2. %d labels of %d rows by %d annotators:\n", res.labels.Len(), len(res.labels.IDs), len(res.labels.Annotators))
	agreement := res.labels.Agreement(annotate.AgreementOptions{Resamples: 1000, Seed: seed})
	if err := annotate.WriteAgreement(out, rubric, agreement); err != nil {
		return nil, err
	}

	// 3. Join and filter.
	r, err := recipe.Load(filepath.Join(dir, "recipe.yaml"))
	if err != nil {
		return nil, err
	}
	res.report, err = recipe.Run(context.Background(), r, recipe.RunOptions{})
	if err != nil {
		return res, err
	}
	st := res.report.Stats
	fmt.Fprintf(out, "\n3. recipe: %d rows in, %d kept, %d rejected\n", st.RowsIn, st.RowsOut, st.RowsRejected)
	for _, s := range st.Stages {
		fmt.Fprintf(out, "   %-14s in %2d out %2d rejected %v\n", s.Name, s.RowsIn, s.RowsOut, s.Rejected)
	}
	fmt.Fprintf(out, "outputs in %s\n", filepath.Join(dir, "out"))
	return res, nil
}

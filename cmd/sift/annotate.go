package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift/annotate"
	"github.com/siftdata/sift/dataset"
	"github.com/siftdata/sift/recipe"
)

const annotateUsage = `Usage:
  sift annotate export [--recipe RECIPE.yaml | INPUT...] --output DIR [--rubric FILE]
        [--sample N] [--stratify COLUMN] [--min-per-stratum N] [--seed S]
      Sample rows for annotation and write DIR/tasks.json (Label Studio
      import), DIR/config.xml (its labeling config) and DIR/template.csv,
      DIR/template.jsonl (for spreadsheets). --recipe exports the recipe's
      output. COLUMN is source, a column a stage added, or a meta member.
  sift annotate agreement FILE [--rubric FILE] [--bootstrap N] [--seed S]
        [--aggregate A] [--id-field KEY] [--skip-bad] [--json]
        [--disagreements OUT.jsonl --spread X]
      Print Krippendorff's alpha with its bootstrap 95 % interval, Cohen's
      kappa per annotator pair and annotator bias for a label file: a Label
      Studio JSON export (.json) or JSONL/CSV rows of id, annotator and one
      column per dimension.

Without --rubric the rubric is grammar 0-1, accuracy 0-3, completion 0-5.
`

// annotateCommand runs "sift annotate ARGS...".
func annotateCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, annotateUsage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "export":
		return annotateExport(ctx, args[1:], stdout, stderr)
	case "agreement":
		return annotateAgreement(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, annotateUsage)
		return nil
	}
	fmt.Fprint(stderr, annotateUsage)
	return fmt.Errorf("annotate: unknown command %q", args[0])
}

func loadRubric(path string) (annotate.Rubric, error) {
	if path == "" {
		return annotate.DefaultRubric(), nil
	}
	return annotate.LoadRubric(path)
}

func annotateExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sift annotate export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rec := fs.String("recipe", "", "export the output of this recipe")
	out := fs.String("output", "", "directory to write the export files into (required)")
	rubricPath := fs.String("rubric", "", "rubric file (YAML or JSON)")
	var o annotate.ExportOptions
	fs.IntVar(&o.Sample, "sample", 0, "rows to sample (0: all)")
	fs.StringVar(&o.Stratify, "stratify", "", "stratify the sample by this column or meta member")
	fs.IntVar(&o.MinPerStratum, "min-per-stratum", 1, "least rows sampled per stratum")
	fs.Uint64Var(&o.Seed, "seed", 0, "sample seed")
	inputs, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *rec != "" {
		if len(inputs) > 0 {
			return fmt.Errorf("annotate export: give --recipe or inputs, not both")
		}
		r, err := recipe.Load(*rec)
		if err != nil {
			return err
		}
		if r.Output == "" {
			return fmt.Errorf("annotate export: %s has no output", *rec)
		}
		inputs = []string{r.Path(r.Output)}
	}
	switch {
	case len(inputs) == 0:
		return fmt.Errorf("annotate export: no input (give files or --recipe)")
	case *out == "":
		return fmt.Errorf("annotate export: --output is required")
	}
	if inputs, err = dataset.Expand(inputs...); err != nil {
		return err
	}
	if o.Rubric, err = loadRubric(*rubricPath); err != nil {
		return err
	}
	res, err := annotate.Export(ctx, memory.DefaultAllocator, inputs, *out, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sampled %d of %d rows (seed %d)\n", res.Sampled, res.Rows, o.Seed)
	if res.Unreadable > 0 {
		fmt.Fprintf(stdout, "skipped %d unreadable input lines\n", res.Unreadable)
	}
	for _, s := range res.Strata {
		v := s.Value
		if v == "" {
			v = "(none)"
		}
		fmt.Fprintf(stdout, "  %s=%s: %d of %d\n", o.Stratify, v, s.Sampled, s.Rows)
	}
	fmt.Fprintf(stdout, "wrote %s\n", strings.Join(res.Files, ", "))
	return nil
}

func annotateAgreement(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sift annotate agreement", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rubricPath := fs.String("rubric", "", "rubric file (YAML or JSON)")
	var o annotate.AgreementOptions
	fs.IntVar(&o.Resamples, "bootstrap", 1000, "bootstrap resamples for the 95 % interval (0: none)")
	fs.Uint64Var(&o.Seed, "seed", 0, "bootstrap seed")
	agg := fs.String("aggregate", "median", "consensus for annotator bias: median, mean, min or majority")
	idField := fs.String("id-field", "id", "key of a Label Studio task's data that holds the row id")
	skip := fs.Bool("skip-bad", false, "skip bad labels (listed on stderr) instead of failing")
	asJSON := fs.Bool("json", false, "print the agreement as JSON, as in the run report")
	dis := fs.String("disagreements", "", "write rows whose labels spread by at least --spread to this JSONL file")
	spread := fs.Float64("spread", 0.5, "disagreement threshold, as a share of the dimension's range")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return fmt.Errorf("annotate agreement: want one label file, got %d", len(files))
	}
	a, err := annotate.ParseAggregate(*agg)
	if err != nil {
		return fmt.Errorf("--aggregate: %w", err)
	}
	o.Aggregate = a
	r, err := loadRubric(*rubricPath)
	if err != nil {
		return err
	}
	opts := []annotate.LoadOption{annotate.WithIDField(*idField)}
	if *skip {
		opts = append(opts, annotate.SkipBad())
	}
	labels, err := annotate.LoadLabels(files[0], r, opts...)
	if err != nil {
		return err
	}
	for _, p := range labels.Problems {
		fmt.Fprintf(stderr, "skipped: %v\n", p)
	}
	ag := labels.Agreement(o)
	if *dis != "" {
		f, err := dataset.CreateFile(*dis)
		if err != nil {
			return err
		}
		n, err := labels.WriteDisagreements(f, *spread)
		if err != nil {
			f.Abort()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "%d disagreements written to %s\n", n, *dis)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"labels": labels.Len(), "units": len(labels.IDs), "annotators": labels.Annotators, "agreement": ag})
	}
	fmt.Fprintf(stdout, "%s: %d labels of %d rows by %d annotators\n\n", files[0], labels.Len(), len(labels.IDs), len(labels.Annotators))
	return annotate.WriteAgreement(stdout, r, ag)
}

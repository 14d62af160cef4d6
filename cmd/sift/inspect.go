package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/siftdata/sift/recipe"
)

// inspectCmd profiles datasets: sift inspect FILE... [--json] [--report P].
func inspectCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: sift inspect FILE... [--json] [--report P.html] [--workers N] [--batch-size N] [--quiet] [--log-every D]")
		fs.PrintDefaults()
	}
	var o recipe.InspectOptions
	asJSON := fs.Bool("json", false, "print the profile as JSON instead of a table")
	fs.StringVar(&o.Report, "report", "", "also write a report: .html or .htm for a self-contained page with charts, else JSON")
	fs.IntVar(&o.Workers, "workers", 0, "workers for normalize (0: all cores)")
	fs.IntVar(&o.BatchSize, "batch-size", 0, "rows per batch (0: the reader's default)")
	quiet := fs.Bool("quiet", false, "no progress bar and no progress lines")
	logEvery := fs.Duration("log-every", defaultLogEvery, "without a terminal, log a progress line this often (0: never)")
	var files []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) == 0 {
		fs.Usage()
		return errors.New("inspect: want at least one file")
	}
	if o.Workers < 0 || o.BatchSize < 0 {
		return fmt.Errorf("inspect: --workers %d, --batch-size %d: want counts >= 0", o.Workers, o.BatchSize)
	}
	prog := newProgress(stderr, *quiet, *logEvery)
	if prog != nil {
		o.Observer = prog
	}
	rep, err := recipe.Inspect(ctx, files, o)
	prog.finish()
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep.Profile)
	}
	printProfile(stdout, rep.Profile)
	return nil
}

// printProfile writes p as readable tables.
func printProfile(w io.Writer, p *recipe.Profile) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "file\tformat\tbytes\trows\t")
	for _, f := range p.Files {
		size := "-"
		if f.Bytes >= 0 {
			size = fmt.Sprint(f.Bytes)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t\n", f.Path, f.Format, size, f.Rows)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nrows %d: %d profiled, %d unreadable, %d not mappable by normalize\n", p.Rows, p.Profiled, p.Unreadable, p.Unmapped)
	if p.Profiled == 0 {
		return
	}
	fmt.Fprintf(w, "shapes: %s\n", shares(p.Shapes, p.Profiled))
	if q := p.Length; q != nil {
		fmt.Fprintf(w, "length (characters): min %.0f, p10 %.0f, median %.0f, p90 %.0f, p99 %.0f, max %.0f, mean %.1f\n",
			q.Min, q.P10, q.P50, q.P90, q.P99, q.Max, q.Mean)
	}
	fmt.Fprintf(w, "script: %s\n", shares(p.Script, p.Profiled))
	if p.DistinctExact {
		fmt.Fprintf(w, "exact duplicates: %.2f%% (%.0f distinct texts, counted exactly)\n", 100*p.DuplicateRate, p.Distinct)
	} else {
		fmt.Fprintf(w, "exact duplicates: about %.2f%% (about %.0f distinct texts, ±%.1f%%)\n", 100*p.DuplicateRate, p.Distinct, 100*p.DistinctRelErr)
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "source\trows\tmedian length\tHan ≥ 50%\tduplicates\t")
	for _, s := range p.Sources {
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.1f%%\t%.2f%%\t\n", s.Source, s.Rows, s.MedianLen, 100*s.HanShare, 100*s.Duplicates)
	}
	tw.Flush()
}

// shares formats counts as "name 12.3% (n)", the largest first.
func shares(m map[string]int64, total int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %.1f%% (%d)", k, 100*float64(m[k])/float64(max(total, 1)), m[k]))
	}
	return strings.Join(parts, ", ")
}

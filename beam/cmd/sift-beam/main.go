// Command sift-beam runs sift recipes as Apache Beam pipelines.
//
//	sift-beam run RECIPE.yaml [--input P] [--output P] [--rejects P] [--report P] [--workers N] [--batch-size N]
//	    [--shards N] [--max-bucket N] [--max-group N] [--split-bytes N] [--cpuprofile F]
//	    [--runner prism|universal|flink|spark|dataflow] [Beam runner flags]
//
// The sift flags are sift run's; the output and rejects are written as
// --shards files each (out-00000-of-00004.jsonl, …). Every other flag is
// Beam's (--runner, --endpoint, --environment_type, --project, --region,
// --staging_location, …; see the README).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx" // registers every runner
	siftbeam "github.com/siftdata/sift/beam"
	"github.com/siftdata/sift/recipe"

	_ "github.com/siftdata/sift/augment"
	_ "github.com/siftdata/sift/clean"
	_ "github.com/siftdata/sift/dedup"
	_ "github.com/siftdata/sift/mining"
	_ "github.com/siftdata/sift/schema"
)

// prismGOGC is the collector's GOGC for a run on prism when GOGC is not
// set.
const prismGOGC = 300

func main() {
	// Beam's loopback mode (prism) leaves an empty temporary file behind
	// on every run (apache/beam#27569): the process gets a temporary
	// directory of its own, removed when it ends. Not a worker on a
	// cluster (Beam's container starts it with --worker=true): beam.Init
	// ends that process itself.
	var tmp string
	var err error
	if !slices.Contains(os.Args[1:], "--worker=true") {
		if tmp, err = os.MkdirTemp("", "sift-beam-tmp-"); err == nil {
			os.Setenv("TMPDIR", tmp)
		}
	}
	exit := func(code int) {
		if tmp != "" {
			os.RemoveAll(tmp)
		}
		os.Exit(code)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// A second channel tells which signal stopped the run: the process
	// exits with 128 + its number, as sift run does and shells expect.
	got := make(chan os.Signal, 1)
	signal.Notify(got, os.Interrupt, syscall.SIGTERM)
	err = cli(ctx, os.Args[1:])
	stop()
	select {
	case s := <-got:
		if err == nil {
			fmt.Fprintf(os.Stderr, "sift-beam: %v after the run had finished: outputs are complete\n", s)
		} else {
			fmt.Fprintf(os.Stderr, "sift-beam: %v: stopped, no output committed (%v)\n", s, err)
		}
		exit(128 + int(s.(syscall.Signal)))
	default:
	}
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "sift-beam:", err)
		}
		exit(1)
	}
	exit(0)
}

const usage = `sift-beam runs sift recipes on Apache Beam.

Usage:
  sift-beam run RECIPE.yaml [flags]   run a recipe (sift run's flags, --shards, and Beam's flags)
`

func cli(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "run" {
		fmt.Fprint(os.Stderr, usage)
		if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
			return flag.ErrHelp
		}
		return fmt.Errorf("unknown command %q", args[0])
	}
	// Beam registers its flags (--runner, --endpoint, …) on the command
	// line's flag set; sift's go there too so that one parse takes both.
	fs := flag.CommandLine
	var o siftbeam.Options
	var input string
	fs.StringVar(&input, "input", "", "input files, globs or directories (comma-separated)")
	fs.StringVar(&o.Output, "output", "", "output path (.jsonl[.gz|.zst], .parquet, .arrow); written as --shards files")
	fs.StringVar(&o.Rejects, "rejects", "", "rejects output path (JSONL); written as --shards files")
	fs.StringVar(&o.Report, "report", "", "report path (JSON)")
	fs.IntVar(&o.Workers, "workers", 0, "recorded in the report; the runner decides how many workers run, each using its cores (GOMAXPROCS)")
	fs.IntVar(&o.BatchSize, "batch-size", 0, "rows per batch (0: the recipe's)")
	fs.IntVar(&o.Shards, "shards", 1, "output and rejects files")
	fs.IntVar(&o.MaxBucket, "max-bucket", 1<<14, "most rows of a SimHash bucket held in memory before it is split")
	fs.Int64Var(&o.SplitBytes, "split-bytes", 0, "input files larger than this are read by several workers in parts of about this size (uncompressed JSONL by byte range, Parquet by row groups; 0: the input's size over 4 parts per worker, 1-64 MiB)")
	fs.IntVar(&o.MaxGroup, "max-group", 1<<20, "most entries of a group of SimHash buckets held in memory before it is split by bucket")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile (pprof) of this process: the whole pipeline on prism, only the job's submission on a cluster runner")
	var pos []string
	rest := args[1:]
	for {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos, rest = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	if len(pos) != 1 {
		return fmt.Errorf("want one recipe file, got %d arguments", len(pos))
	}
	if input != "" {
		o.Input = strings.Split(input, ",")
	}
	beam.Init() // a worker started by a runner runs here and never returns
	r, err := recipe.Load(pos[0])
	if err != nil {
		return err
	}
	runner := *runners.Runner
	if runner == "" {
		runner = "prism"
	}
	if runner == "prism" && os.Getenv("GOGC") == "" {
		// On prism this process is the runner and its workers: it holds
		// every element in flight, its own copies of them and the batches
		// being worked on, and the collector ran for a fifth of the CPU of
		// the dedup benchmark. A larger heap (RSS 400 -> 690 MB there) cut
		// its CPU by about a fifth.
		debug.SetGCPercent(prismGOGC)
	}
	if *cpuProfile != "" {
		// Checked with the job's files before it is created over one.
		o.Files = append(o.Files, recipe.FileUse{Key: "cpuprofile", Path: *cpuProfile, Write: true})
		if _, err := siftbeam.Plan(r, o); err != nil {
			return err
		}
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := siftbeam.Run(ctx, runner, r, o)
	if err != nil {
		return err
	}
	st := rep.Stats
	fmt.Fprintf(os.Stderr, "sift-beam: %d rows in, %d added, %d out, %d rejected in %.1fs\n", st.RowsIn, st.RowsAdded, st.RowsOut, st.RowsRejected, st.WallSeconds)
	for _, s := range st.Stages {
		fmt.Fprintf(os.Stderr, "  %-18s in %9d  out %9d  rejected %9d  added %6d\n", s.Name, s.RowsIn, s.RowsOut, s.RowsRejected, s.RowsAdded)
	}
	return nil
}

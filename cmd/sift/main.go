// Command sift runs data-cleaning recipes.
//
//	sift run RECIPE.yaml [--input P] [--output P] [--rejects P] [--report P] [--workers N] [--batch-size N]
//	         [--cpuprofile F] [--memprofile F] [--log-every D] [--quiet]
//	sift validate RECIPE.yaml
//	sift inspect FILE... [--json] [--report P]
//	sift stages
//	sift lm train|score ...
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"text/tabwriter"

	"github.com/siftdata/sift/dataset"
	"github.com/siftdata/sift/recipe"

	_ "github.com/siftdata/sift/augment"
	_ "github.com/siftdata/sift/clean"
	_ "github.com/siftdata/sift/dedup"
	_ "github.com/siftdata/sift/mining"
	_ "github.com/siftdata/sift/schema"
)

const usage = `sift cleans LLM training data.

Usage:
  sift run RECIPE.yaml [flags]   run a recipe (flags override it)
  sift validate RECIPE.yaml      check a recipe, its inputs, and build its stages
  sift inspect FILE... [flags]   profile a dataset: formats, shapes, lengths, scripts, duplicates, sources
  sift stages                    list stages with their parameters
  sift lm train|score ...        train or score an n-gram language model
  sift annotate export|agreement sample rows for Label Studio; measure annotator agreement
  sift version                   print the version
`

func main() {
	ctx, sig := cancelOnSignal()
	err := cli(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	if s := sig(); s != 0 {
		// Outputs were committed only if the run ended before it saw the
		// signal; either way the caller asked to stop, so say so.
		if err == nil {
			fmt.Fprintf(os.Stderr, "sift: %v after the run had finished: outputs are complete\n", s)
		} else {
			fmt.Fprintf(os.Stderr, "sift: %v: stopped, no output committed (%v)\n", s, err)
		}
		os.Exit(128 + int(s))
	}
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "sift:", strings.TrimPrefix(err.Error(), "sift: "))
		}
		os.Exit(1)
	}
}

// cancelOnSignal returns a context cancelled by SIGINT or SIGTERM (what
// docker, Kubernetes and systemd send), so that a run stops and removes its
// temporary files, and a function returning the signal received, or 0.
// A second signal ends the process at once; the next run then removes the
// temporary files left behind.
func cancelOnSignal() (context.Context, func() syscall.Signal) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	var got atomic.Int32
	go func() {
		s := <-ch
		got.Store(int32(s.(syscall.Signal)))
		signal.Stop(ch)
		cancel()
	}()
	return ctx, func() syscall.Signal { return syscall.Signal(got.Load()) }
}

func cli(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "run":
		return runCmd(ctx, args[1:], stderr)
	case "validate":
		return validateCmd(args[1:], stdout)
	case "inspect":
		return inspectCmd(ctx, args[1:], stdout, stderr)
	case "stages":
		return stagesCmd(stdout)
	case "lm":
		return lmCommand(ctx, args[1:], stdin, stdout, stderr)
	case "annotate":
		return annotateCommand(ctx, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "sift", recipe.Version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// parseRecipeArgs parses "RECIPE [flags]" with flags before or after it.
func parseRecipeArgs(fs *flag.FlagSet, args []string) (string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return "", err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != 1 {
		return "", fmt.Errorf("want one recipe file, got %d arguments", len(pos))
	}
	return pos[0], nil
}

// listFlag is a flag that may be repeated; each value may hold several
// comma-separated items.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, strings.Split(v, ",")...)
	return nil
}

func runCmd(ctx context.Context, args []string, stderr io.Writer) (err error) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o recipe.Overrides
	var input listFlag
	fs.Var(&input, "input", "input files, globs or directories (comma-separated or repeated)")
	fs.StringVar(&o.Output, "output", "", "output path (.jsonl[.gz|.zst], .parquet, .arrow; - for stdout)")
	fs.StringVar(&o.Rejects, "rejects", "", "rejects output path (JSONL)")
	fs.StringVar(&o.Report, "report", "", "report path: .html or .htm for a self-contained page with charts, else JSON")
	fs.IntVar(&o.Workers, "workers", 0, "workers per stateless stage (0: the recipe's, or all cores)")
	fs.IntVar(&o.BatchSize, "batch-size", 0, "rows per batch (default: the recipe's)")
	quiet := fs.Bool("quiet", false, "no progress bar, no progress lines and no summary")
	logEvery := fs.Duration("log-every", defaultLogEvery, "without a terminal, log a progress line this often (0: never)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile (pprof) of the run to this file")
	memProfile := fs.String("memprofile", "", "write a memory allocation profile (pprof) of the run to this file")
	path, err := parseRecipeArgs(fs, args)
	if err != nil {
		return err
	}
	var bad error
	fs.Visit(func(f *flag.Flag) {
		switch {
		case f.Name == "workers" && o.Workers < 0:
			bad = fmt.Errorf("--workers %d: want a count >= 0 (0: all cores)", o.Workers)
		case f.Name == "batch-size" && o.BatchSize <= 0:
			bad = fmt.Errorf("--batch-size %d: want a count > 0", o.BatchSize)
		}
	})
	if bad != nil {
		return bad
	}
	o.Input = input
	r, err := recipe.Load(path)
	if err != nil {
		return err
	}
	for _, p := range []struct{ key, path string }{{"cpuprofile", *cpuProfile}, {"memprofile", *memProfile}} {
		if p.path != "" {
			o.Files = append(o.Files, recipe.FileUse{Key: p.key, Path: p.path, Write: true})
		}
	}
	// A profile must not replace an input or another output: check before
	// the profile starts, since the CPU profile covers the whole run.
	if err := recipe.CheckFiles(r, o); err != nil {
		return err
	}
	stopProfiles, err := startProfiles(*cpuProfile, *memProfile)
	if err != nil {
		return err
	}
	defer func() {
		if perr := stopProfiles(); perr != nil && err == nil {
			err = perr
		}
	}()
	defer tuneGC(runHeadroom)()
	opts := recipe.RunOptions{Overrides: o}
	prog := newProgress(stderr, *quiet, *logEvery)
	if prog != nil {
		opts.Observer = prog
	}
	rep, err := recipe.Run(ctx, r, opts)
	prog.finish()
	if rep.Stats != nil && !*quiet {
		summary(stderr, rep, err == nil)
	}
	for _, w := range rep.Warnings {
		fmt.Fprintln(stderr, "sift: warning:", w)
	}
	return err
}

// startProfiles starts the CPU profile and returns the function that stops
// it and writes the allocation profile, each if its path is not empty. The
// profiles cover everything after the flags are parsed: loading models and
// building stages count, as they count in a run's CPU time.
func startProfiles(cpu, mem string) (stop func() error, err error) {
	// Through dataset.CreateFile, like every other output: a profile never
	// replaces a file half-written, and a FIFO or device is written in place.
	var cf *dataset.File
	if cpu != "" {
		if cf, err = dataset.CreateFile(cpu); err != nil {
			return nil, fmt.Errorf("cpuprofile: %w", err)
		}
		if err = pprof.StartCPUProfile(cf); err != nil {
			cf.Abort()
			return nil, fmt.Errorf("cpuprofile: %w", err)
		}
	}
	return func() error {
		if cf != nil {
			pprof.StopCPUProfile()
			if err := cf.Close(); err != nil {
				return fmt.Errorf("cpuprofile: %w", err)
			}
		}
		if mem == "" {
			return nil
		}
		f, err := dataset.CreateFile(mem)
		if err != nil {
			return fmt.Errorf("memprofile: %w", err)
		}
		// "allocs" samples every allocation of the run (bytes and counts,
		// by call stack), which is what costs throughput; the in-use view
		// is in the same file (go tool pprof -sample_index=inuse_space).
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			f.Abort()
			return fmt.Errorf("memprofile: %w", err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("memprofile: %w", err)
		}
		return nil
	}, nil
}

// summary prints the per-stage table and, if the run succeeded, where its
// outputs are.
func summary(w io.Writer, rep *recipe.Report, ok bool) {

	st := rep.Stats
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "stage\trows in\tadded\trows out\trejected\tbusy s\tcpu s\ttop reasons\t")
	cpu := st.WriteCPU
	for _, s := range st.Stages {
		cpu += s.CPU
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.2f\t%.2f\t%s\t\n", s.Name, s.RowsIn, s.RowsAdded, s.RowsOut, s.RowsRejected, s.Busy.Seconds(), s.CPU.Seconds(), topReasons(s.Rejected))
	}
	fmt.Fprintf(tw, "write\t\t\t\t\t\t%.2f\t\t\n", st.WriteCPU.Seconds())
	fmt.Fprintf(tw, "total\t%d\t%d\t%d\t%d\t%.2f\t%.2f\t\t\n", st.RowsIn, st.RowsAdded, st.RowsOut, st.RowsRejected, st.WallSeconds, cpu.Seconds())
	tw.Flush()
	if !ok {
		return
	}
	fmt.Fprintf(w, "output: %s\n", rep.Output)
	if rep.Rejects != "" {
		fmt.Fprintf(w, "rejects: %s\n", rep.Rejects)
	}
}

func topReasons(m map[string]int64) string {
	type kv struct {
		k string
		v int64
	}
	var l []kv
	for k, v := range m {
		l = append(l, kv{k, v})
	}
	sort.Slice(l, func(i, j int) bool { return l[i].v > l[j].v || l[i].v == l[j].v && l[i].k < l[j].k })
	var parts []string
	for i, x := range l {
		if i == 3 {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, fmt.Sprintf("%s=%d", x.k, x.v))
	}
	return strings.Join(parts, " ")
}

func validateCmd(args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("validate: want one recipe file")
	}
	r, err := recipe.Load(args[0])
	if err != nil {
		return err
	}
	if err := recipe.CheckFiles(r, recipe.Overrides{}); err != nil {
		return err
	}
	env := recipe.Env{Dir: r.Dir}
	if len(r.Input) > 0 {
		var in []string
		for _, p := range r.Input {
			in = append(in, r.Path(p))
		}
		if env.Inputs, err = dataset.Expand(in...); err != nil {
			return err
		}
	}
	steps, err := r.Steps(env) // builds every stage: models are loaded or trained
	if err != nil {
		return err
	}
	for _, s := range steps {
		if c, ok := s.Stage.(interface{ Abort() }); ok {
			c.Abort()
		}
	}
	for _, s := range steps {
		// Models load in the background; wait for them, to report a broken one.
		if l, ok := s.Stage.(recipe.Readier); ok {
			if err := l.Ready(); err != nil {
				return fmt.Errorf("stage %s: %w", s.Name, err)
			}
		}
	}
	fmt.Fprintf(stdout, "%s: ok (%d stages)\n", args[0], len(steps))
	return nil
}

func stagesCmd(stdout io.Writer) error {
	for _, d := range recipe.Defs() {
		fmt.Fprintf(stdout, "%s\n  %s\n", d.Name, d.Doc)
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		for _, p := range d.Params {
			fmt.Fprintf(tw, "    %s\t%s\tdefault %s\t%s\n", p.Name, p.Type, p.Default, p.Doc)
		}
		tw.Flush()
	}
	return nil
}

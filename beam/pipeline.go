package siftbeam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/dataset"
	"github.com/siftdata/sift/dedup"
	"github.com/siftdata/sift/mining"
	"github.com/siftdata/sift/recipe"
)

// Options are the run-time settings of a Beam run.
type Options struct {
	// Overrides replace the recipe's settings, as sift run's flags do.
	// Workers is recorded in the report; the runner decides how many
	// workers run, and each runs a bundle's elements on its cores
	// (GOMAXPROCS).
	recipe.Overrides
	// Shards is the number of output (and rejects) files; default 1.
	Shards int
	// MaxBucket is the most rows a SimHash bucket holds in a worker's
	// memory before it is split (default 16384); see the package doc.
	MaxBucket int
	// MaxGroup is the most entries (a row in a bucket) a group of
	// SimHash buckets holds in a worker's memory before it is split by
	// bucket (default 1<<20).
	MaxGroup int
	// SplitBytes is about how many bytes of an input file one worker
	// reads: larger uncompressed JSONL files are split by byte range and
	// Parquet files by row groups (default: see [autoSplit]).
	SplitBytes int64
}

// Kind is how a step runs on Beam.
type Kind int

// Kinds of steps.
const (
	RowLocal   Kind = iota // run on each batch by the passes over the input that reach it
	Exact                  // exact_dedup: group by hash
	Simhash                // simhash_dedup: group by band keys
	Percentile             // perplexity selecting by percentiles: score, merge t-digests, select
)

// Step is one step of a plan.
type Step struct {
	Name string
	Kind Kind
}

// Job is a recipe resolved for a Beam run: its files and steps.
type Job struct {
	Recipe  *recipe.Recipe
	Inputs  []string
	Output  string
	Rejects string
	Report  string
	Workers int
	Batch   int
	Shards  int
	Steps   []Step // the recipe's stages, then the output format's check if any
	Options Options
	// Scratch is a directory every worker can write, where the last pass
	// leaves the batches for the writers (empty: the system's temporary
	// directory, which only suits prism); [Run] makes one beside the
	// output and removes it after the job.
	Scratch string
}

// Plan resolves r with o and checks that every step can run on Beam: it
// builds each stage once, as sift run would, so configuration errors come
// out here with the field named. Stages that keep state across batches
// other than the dedup stages are refused.
func Plan(r *recipe.Recipe, o Options) (*Job, error) {
	pick := func(flag, rec string) string {
		if flag != "" {
			return flag
		}
		return r.Path(rec)
	}
	j := &Job{Recipe: r, Output: pick(o.Output, r.Output), Rejects: pick(o.Rejects, r.Rejects), Report: pick(o.Report, r.Report),
		Workers: r.Workers, Batch: r.BatchSize, Shards: max(1, o.Shards), Options: o}
	if o.Workers > 0 {
		j.Workers = o.Workers
	}
	if o.BatchSize > 0 {
		j.Batch = o.BatchSize
	}
	for _, f := range []struct {
		name string
		v    int64
	}{{"workers", int64(o.Workers)}, {"batch-size", int64(o.BatchSize)}, {"shards", int64(o.Shards)}, {"max-bucket", int64(o.MaxBucket)},
		{"max-group", int64(o.MaxGroup)}, {"split-bytes", o.SplitBytes}} {
		if f.v < 0 {
			return nil, fmt.Errorf("%s: %d, want > 0 (0: the default)", f.name, f.v)
		}
	}
	if j.Options.MaxBucket <= 0 {
		j.Options.MaxBucket = 1 << 14
	}
	if j.Options.MaxGroup <= 0 {
		j.Options.MaxGroup = 1 << 20
	}
	in := o.Input
	if len(in) == 0 {
		for _, p := range r.Input {
			in = append(in, r.Path(p))
		}
	}
	if len(in) == 0 {
		return nil, errors.New("input: no input given")
	}
	if j.Output == "" {
		return nil, errors.New("output: no output path given")
	}
	files, err := dataset.Expand(in...)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if _, err := dataset.FormatOf(f); err != nil {
			return nil, err
		}
	}
	j.Inputs = files
	if err := j.checkFiles(); err != nil {
		return nil, err
	}
	if j.Options.SplitBytes <= 0 {
		j.Options.SplitBytes = autoSplit(files, j.Workers)
	}
	if r.OutputFormat != "" {
		if f, _ := dataset.FormatOf(j.Output); f != dataset.JSONL {
			return nil, fmt.Errorf("output_format: %s output must be JSONL, not %s", r.OutputFormat, j.Output)
		}
	}
	ref := j.ref()
	n := len(r.Stages)
	if r.OutputFormat != "" {
		n++
	}
	for _, s := range r.Stages {
		if err := trainsOnInput(s); err != nil {
			return nil, err
		}
	}
	for pos := 0; pos < n; pos++ {
		st, err := ref.build(r, pos, memory.DefaultAllocator)
		if err != nil {
			return nil, err
		}
		if pos == len(r.Stages) && st.Stage == nil {
			break // a format without a check
		}
		k, err := kindOf(st)
		release(st.Stage, true)
		if err != nil {
			return nil, err
		}
		j.Steps = append(j.Steps, Step{Name: st.Name, Kind: k})
	}
	return j, nil
}

// Bounds of the split size chosen from the input (see [autoSplit]).
const (
	minSplit = 1 << 20
	maxSplit = 64 << 20
)

// autoSplit is the split size when none is given: the input's bytes over
// four splits per worker (runtime.NumCPU when workers is 0), between
// minSplit and maxSplit. The splits are what spreads the reading and the
// row-local steps over the workers, since a split's batches are not
// reshuffled (each reshuffle is two more crossings of the runner's data
// plane for every batch); several splits per worker even out uneven files.
func autoSplit(files []string, workers int) int64 {
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	var n int64
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
	}
	return min(max(n/int64(4*workers), minSplit), maxSplit)
}

func kindOf(st sift.Step) (Kind, error) {
	if p, ok := st.Stage.(percentiler); ok && len(p.Percentiles()) > 0 {
		return Percentile, nil
	}
	switch s := st.Stage.(type) {
	case *dedup.ExactDedup:
		return Exact, nil
	case *dedup.SimhashDedup:
		if s.HasReference() {
			return 0, fmt.Errorf("stage %s: reference is not supported on Beam", st.Name)
		}
		if !s.Chains() {
			return 0, fmt.Errorf("stage %s: chains: false is not supported on Beam (a row is compared with every earlier row, dropped or kept)", st.Name)
		}
		return Simhash, nil
	case sift.Flusher, sift.Sequential:
		return 0, fmt.Errorf("stage %s keeps state across batches (%T) and cannot run on Beam", st.Name, st.Stage)
	}
	return RowLocal, nil
}

// trainsOnInput refuses a perplexity stage that trains its model on the
// run's input: every worker would train on the whole input in Setup.
func trainsOnInput(s recipe.Stage) error {
	if s.Def.Name != "perplexity" {
		return nil
	}
	spec, err := s.Def.Decode(s.Node)
	if err != nil {
		return fmt.Errorf("stage %s: %w", s.Name, err)
	}
	if sp, ok := spec.(mining.Spec); ok && sp.Train != nil && sp.Train.Corpus == "input" {
		return fmt.Errorf("stage %s: train: {corpus: input} is not supported on Beam (each worker would train on the whole input): "+
			"train once with sift lm train --output model.arpa, or sift run, and give model: model.arpa", s.Name)
	}
	return nil
}

func (j *Job) ref() Ref {
	return Ref{Recipe: j.Recipe.Text, Dir: j.Recipe.Dir, Inputs: j.Inputs, Slots: len(j.Steps) + 1}
}

// Names returns the names of the run's steps as in its statistics: the
// reader's, then the plan's.
func (j *Job) Names() []string {
	n := []string{sift.ReadStage}
	for _, s := range j.Steps {
		n = append(n, s.Name)
	}
	return n
}

// Outputs returns the paths of the output and rejects shards.
func (j *Job) Outputs() []string {
	var out []string
	for i := 0; i < j.Shards; i++ {
		out = append(out, ShardPath(j.Output, i, j.Shards))
		if j.Rejects != "" {
			out = append(out, ShardPath(j.Rejects, i, j.Shards))
		}
	}
	return out
}

// checkFiles refuses a job whose shards or report would replace an input,
// the recipe, a file a stage names, or each other (an output and rejects
// path that are the same file), and shards that would not be files of a
// format sift writes (an output on a device such as /dev/null).
func (j *Job) checkFiles() error {
	var uses []recipe.FileUse
	for i := 0; i < j.Shards; i++ {
		uses = append(uses, recipe.FileUse{Key: "output", Path: ShardPath(j.Output, i, j.Shards), Write: true})
		if j.Rejects != "" {
			uses = append(uses, recipe.FileUse{Key: "rejects", Path: ShardPath(j.Rejects, i, j.Shards), Write: true})
		}
	}
	for _, u := range uses {
		if _, err := dataset.FormatOf(u.Path); err != nil {
			return fmt.Errorf("%s: written as shards: %w", u.Key, err)
		}
		if fi, err := os.Stat(u.Path); err == nil && !fi.Mode().IsRegular() {
			return fmt.Errorf("%s: %s is not a regular file", u.Key, u.Path)
		}
	}
	if j.Report != "" {
		uses = append(uses, recipe.FileUse{Key: "report", Path: j.Report, Write: true},
			recipe.FileUse{Key: "failed report", Path: recipe.FailedPath(j.Report), Write: true})
	}
	return recipe.CheckFileUses(j.Recipe, j.Inputs, append(uses, j.Options.Files...))
}

// Build adds the job's pipeline to scope s: read, steps, output and
// rejects shards, and the report (written to report, which must be set).
func (j *Job) Build(s beam.Scope, report string, started time.Time) {
	ref := j.ref()
	var files []File
	for i, f := range j.Inputs {
		files = append(files, File{Index: i, Path: f})
	}
	read := s.Scope("read")
	// Files are cut into ranges; a JSONL range's first line number is the
	// sum of the lines of the ranges before it, each counted on its own.
	ranges := beam.ParDo(read, &splitFn{Size: j.Options.SplitBytes}, beam.CreateList(read, files))
	counted := beam.ParDo(read, countLines, beam.Reshuffle(read, ranges))
	ranges = beam.ParDo(read, rangeKey, beam.ParDo(read, numberRanges, beam.GroupByKey(read, counted)))
	kinds := make([]Kind, len(j.Steps))
	for i, st := range j.Steps {
		kinds[i] = st.Kind
	}
	// Every step that needs the whole input is a pass over it up to the
	// step ([chain]): the ranges grouped with the decisions of the dedup
	// and percentile steps before it.
	var decided []beam.PCollection
	// The row-local steps before the first step that needs the whole
	// input run once, in its pass, which leaves their batches in the
	// scratch directory for the passes after it (see [chain.Prefix]).
	prefix := slices.IndexFunc(kinds, func(k Kind) bool { return k != RowLocal })
	cache := j.Scratch
	if prefix < 0 {
		prefix, cache = len(kinds), ""
	}
	pass := func(to int) chain {
		return chain{Ref: ref, BatchSize: j.Batch, Kinds: kinds, To: to, Prefix: prefix, Cache: cache}
	}
	// The passes before the last get the exact_dedup drops as positions
	// only; the last gets them whole (see [exactKeepFn]).
	var decidedLast []beam.PCollection
	group := func(sc beam.Scope, base []beam.PCollection, more ...beam.PCollection) beam.PCollection {
		ds := append(slices.Clone(base), more...)
		if len(ds) == 0 {
			ds = append(ds, beam.ParDo(sc, noDecisions, beam.Impulse(sc)))
		}
		return beam.CoGroupByKey(sc, ranges, beam.Flatten(sc, ds...))
	}
	var tallies, rejects []beam.PCollection
	for pos, st := range j.Steps {
		sc := s.Scope(st.Name)
		switch st.Kind {
		case Exact:
			keys, rej, t := beam.ParDo3(sc, &exactKeysFn{chain: pass(pos), Bits: j.exactBits()}, group(sc, decided))
			rejects, tallies = append(rejects, rej), append(tallies, t)
			drops, lite, kt := beam.ParDo3(sc, &exactKeepFn{Ref: ref, Pos: pos}, beam.GroupByKey(sc, keys))
			// The step's report is there even when no group is (empty input).
			seed := newTally(ref.Slots)
			seed.Steps[pos+1].Clusters = &Clusters{}
			tallies = append(tallies, kt, beam.Create(sc, seed))
			decided, decidedLast = append(decided, lite), append(decidedLast, drops)
		case Simhash:
			d, err := buildAs[*dedup.SimhashDedup](ref, pos)
			if err != nil {
				panic(err) // Plan built it already
			}
			cfg := d.IndexConfig()
			bits := j.simBits(cfg)
			keys, rej, t := beam.ParDo3(sc, &simKeysFn{chain: pass(pos), RangeBits: bits}, group(sc, decided))
			rejects, tallies = append(rejects, rej), append(tallies, t)
			var nears, asks []beam.PCollection
			for level := 0; level < 3; level++ {
				pf := &simPairsFn{Ref: ref, Step: pos + 1, Level: level, Limit: j.Options.MaxGroup, MaxBucket: j.Options.MaxBucket, RangeBits: bits, Cfg: cfg}
				if level > 0 {
					pf.Limit = j.Options.MaxBucket
				}
				near, ask, over, t := beam.ParDo4(sc, pf, beam.GroupByKey(sc, keys))
				nears, asks, tallies, keys = append(nears, near), append(asks, ask), append(tallies, t), over
			}
			checked := beam.ParDo(sc, &setsFn{chain: pass(pos)}, group(sc, decided, asks...))
			decided = append(append(decided, nears...), checked)
			decidedLast = append(append(decidedLast, nears...), checked)
			seed := newTally(ref.Slots)
			seed.Steps[pos+1].Clusters = &Clusters{}
			tallies = append(tallies, beam.Create(sc, seed))
		case Percentile:
			scored, rej, t := beam.ParDo3(sc, &scoreFn{chain: pass(pos)}, group(sc, decided))
			rejects, tallies = append(rejects, rej), append(tallies, t)
			scores := beam.CombinePerKey(sc, concatBlobs, scored)
			all := beam.Combine(sc, concatBlobs, beam.Flatten(sc, beam.ParDo(sc, splitDigest, scores), beam.Create(sc, Blobs{})))
			th := beam.ParDo(sc, &thresholdsFn{Ref: ref, Pos: pos}, all)
			spreadTh := beam.ParDo(sc, spread, beam.CoGroupByKey(sc, beam.ParDo(sc, rangeOnly, ranges), th))
			decided, decidedLast = append(decided, spreadTh), append(decidedLast, spreadTh)
		}
	}
	last := s.Scope("steps")
	format, _ := dataset.FormatOf(j.Output)
	lines := format == dataset.JSONL
	parts, rej, tal, keepers := beam.ParDo4(last, &passFn{chain: pass(len(j.Steps)), Scratch: j.Scratch, Lines: lines, Format: j.Recipe.OutputFormat},
		group(last, decidedLast))
	rejects = append(rejects, rej)
	// The simhash_dedup reports: clusters by the row each drop names.
	tallies = append(tallies, tal, beam.Create(s, newTally(ref.Slots)),
		beam.ParDo(last, &clusterFn{Slots: ref.Slots}, beam.GroupByKey(last, keepers)))

	out := s.Scope("write")
	shards := beam.ParDo(out, shardKey, beam.CreateList(out, seq(j.Shards)))
	byShard := beam.ParDo(out, &shardPartFn{N: j.Shards}, parts)
	tallies = append(tallies, beam.ParDo(out, &writeFn{Ref: ref, Path: j.Output, N: j.Shards, Format: j.Recipe.OutputFormat, Lines: lines, Scratch: j.Scratch},
		beam.CoGroupByKey(out, shards, byShard)))
	if j.Rejects != "" {
		byShard := beam.ParDo(out, &shardRejFn{N: j.Shards}, beam.Flatten(out, rejects...))
		tallies = append(tallies, beam.ParDo(out, &writeRejFn{Path: j.Rejects, N: j.Shards, Scratch: j.Scratch},
			beam.CoGroupByKey(out, shards, byShard)))
	}
	rep := s.Scope("report")
	total := beam.Combine(rep, mergeTally, beam.Flatten(rep, tallies...))
	beam.ParDo0(rep, &reportFn{Ref: ref, Names: j.Names(), Path: report, Output: j.Output, Rejects: j.Rejects,
		Workers: j.Workers, Batch: j.Batch, Started: started}, total)
}

// Rows per group the dedup steps aim at, estimated from the input's size
// (see [Job.estRows]); the groups' key bits follow.
const (
	exactRowsPerGroup = 1 << 18
	simRowsPerGroup   = 1 << 16
)

// exactBits is the number of top hash bits exact_dedup groups rows by:
// at least 8 groups, so that the work spreads over workers.
func (j *Job) exactBits() int { return rangeBits(j.estRows(), exactRowsPerGroup, 3, 24) }

// simBits is the number of top bucket bits simhash_dedup groups a band's
// buckets by: a row sends 2^Probes entries per band, mostly in one or two
// ranges.
func (j *Job) simBits(cfg dedup.IndexConfig) int {
	return rangeBits(j.estRows(), simRowsPerGroup, 2, cfg.BucketBits)
}

// estRows estimates the rows of the input from its size, at 256 bytes a
// row (compressed files 4 times their size); over-estimating only makes
// more, smaller groups.
func (j *Job) estRows() int64 {
	var n int64
	for _, f := range j.Inputs {
		fi, err := os.Stat(f)
		if err != nil {
			continue
		}
		b := fi.Size()
		if strings.HasSuffix(f, ".gz") || strings.HasSuffix(f, ".zst") {
			b *= 4
		}
		n += b / 256
	}
	return n
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// Run runs recipe r on Beam with the named runner ("prism", "universal",
// "dataflow", …; its flags are Beam's) and returns sift run's report.
// Outputs are written as shards (see [ShardPath]); when the job fails,
// the shards it wrote are removed, and the report, if asked for, is
// written with the error to its failed path ([recipe.FailedPath]). A plan
// refused before the job starts writes no report.
func Run(ctx context.Context, runner string, r *recipe.Recipe, o Options) (*recipe.Report, error) {
	started := time.Now().UTC()
	j, err := Plan(r, o)
	if err != nil {
		// No report is written: its path may be what the plan refused.
		return &recipe.Report{Recipe: r, Started: started, Versions: versions(), Error: err.Error()}, err
	}
	failed := func(err error) (*recipe.Report, error) {
		rep := &recipe.Report{Recipe: r, Inputs: j.Inputs, Output: j.Output, Rejects: j.Rejects, Workers: j.Workers, Batch: j.Batch,
			Started: started, Versions: versions(), Error: err.Error()}
		if j.Report != "" {
			WriteReport(recipe.FailedPath(j.Report), rep)
		}
		return rep, err
	}
	var unlock func()
	if j.Scratch, unlock, err = scratch(j.Output); err != nil {
		return failed(err)
	}
	defer unlock()
	defer os.RemoveAll(j.Scratch)
	// The job writes its report in the scratch directory, on a file system
	// every worker sees; it goes to the report's path only when the job
	// succeeded, so that a failed run keeps a good earlier report.
	report := filepath.Join(j.Scratch, "report.json")
	p, s := beam.NewPipelineWithRoot()
	j.Build(s, report, started)
	if _, err := beam.Run(ctx, runner, p); err != nil {
		if ctx.Err() != nil {
			// The runner's error names only what it was doing when it
			// stopped ("failed to get metrics").
			err = fmt.Errorf("stopped: %w (%v)", context.Cause(ctx), err)
		}
		rep, rerr := ReadReport(report)
		// Writers still running here (prism runs them in this process)
		// find the scratch directory gone and make nothing; those already
		// writing are waited for, then their shards removed.
		os.RemoveAll(j.Scratch)
		waitWriters(time.Minute)
		for _, f := range j.Outputs() {
			os.Remove(f)
		}
		if rerr != nil {
			return failed(err)
		}
		rep.Error = err.Error()
		if j.Report != "" {
			WriteReport(recipe.FailedPath(j.Report), rep)
		}
		return rep, err
	}
	rep, err := ReadReport(report)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if j.Report != "" {
		if err := copyFile(j.Report, report); err != nil {
			return rep, fmt.Errorf("report: %w", err)
		}
		os.Remove(recipe.FailedPath(j.Report)) // from an earlier run; the new report supersedes it
	}
	return rep, nil
}

// copyFile replaces dst with the bytes of src, atomically as
// [dataset.CreateFile] does.
func copyFile(dst, src string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	f, err := dataset.CreateFile(dst)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Abort()
		return err
	}
	return f.Close()
}

// scratch makes a scratch directory beside output (so on the file system
// the workers write the output to), or in the temporary directory when
// that is not possible (an output on a device), and locks it until unlock
// (or the process's end, however it ends). First it removes the scratch
// directories there that no live run holds: those of runs killed before
// they could clean up (SIGKILL, a crash, a lost machine), each about the
// size of its input.
func scratch(output string) (dir string, unlock func(), err error) {
	parent, prefix := filepath.Dir(output), ".sift-beam-scratch-"
	if err := os.MkdirAll(parent, 0o777); err == nil {
		removeStale(parent, prefix)
		dir, err = os.MkdirTemp(parent, prefix)
	}
	if dir == "" || err != nil {
		parent, prefix = os.TempDir(), "sift-beam-scratch-"
		removeStale(parent, prefix)
		if dir, err = os.MkdirTemp(parent, prefix); err != nil {
			return "", nil, err
		}
	}
	f, err := os.Open(dir)
	if err == nil {
		if err = dataset.TryLock(f); errors.Is(err, errors.ErrUnsupported) {
			err = nil
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("scratch directory %s: %w", dir, err)
	}
	return dir, func() { f.Close() }, nil
}

// staleAge is how old an unlocked scratch directory must be to be
// removed: a run makes its directory, then locks it.
const staleAge = 10 * time.Second

// removeStale removes the scratch directories (prefix) in parent that no
// live run holds.
func removeStale(parent, prefix string) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		if fi, err := e.Info(); err != nil || time.Since(fi.ModTime()) < staleAge {
			continue
		}
		d := filepath.Join(parent, e.Name())
		f, err := os.Open(d)
		if err != nil {
			continue
		}
		if dataset.TryLock(f) == nil {
			os.RemoveAll(d)
		}
		f.Close()
	}
}

// ReadReport reads a report written by a run.
func ReadReport(path string) (*recipe.Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rep := &recipe.Report{}
	if err := json.Unmarshal(b, rep); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rep, nil
}

func versions() map[string]string {
	v := map[string]string{"sift": recipe.Version(), "go": runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if strings.HasPrefix(d.Path, "github.com/apache/beam/") || strings.HasPrefix(d.Path, "github.com/apache/arrow-go/") {
				v[d.Path] = d.Version
			}
		}
	}
	return v
}

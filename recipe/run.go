package recipe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/dataset"
)

// OutputFormat converts unified rows into a trainer's format on write.
type OutputFormat struct {
	// Check rejects rows the format cannot express; nil if it can express all.
	Check sift.Stage
	// Encode writes one row as a JSON line.
	Encode dataset.EncodeFunc
}

var (
	fmtMu   sync.RWMutex
	formats = map[string]func() OutputFormat{}
)

// RegisterFormat makes an output format available as `output_format: name`.
// It panics if name is taken.
func RegisterFormat(name string, f func() OutputFormat) {
	fmtMu.Lock()
	defer fmtMu.Unlock()
	if _, dup := formats[name]; dup {
		panic("recipe: output format " + name + " registered twice")
	}
	formats[name] = f
}

func formatNames() string {
	fmtMu.RLock()
	defer fmtMu.RUnlock()
	var n []string
	for k := range formats {
		n = append(n, k)
	}
	sort.Strings(n)
	return strings.Join(n, ", ")
}

// Overrides replace recipe settings at run time (command-line flags). Paths
// here are used as given, not resolved against the recipe's directory.
type Overrides struct {
	Input                   []string
	Output, Rejects, Report string
	Workers, BatchSize      int // 0: keep the recipe's
	// Files are more files the caller itself reads or writes while the
	// recipe runs, such as profiles. They are checked for collisions with
	// every file of the run, like the files a stage names.
	Files []FileUse
}

// RunOptions are the run-time settings that are not part of a recipe.
type RunOptions struct {
	Overrides
	Mem      memory.Allocator // default memory.DefaultAllocator
	Observer sift.Observer
}

// Report is what a run writes to its report file.
type Report struct {
	Recipe   *Recipe           `json:"recipe"`
	Inputs   []string          `json:"inputs"`
	Output   string            `json:"output"`
	Rejects  string            `json:"rejects,omitempty"`
	Workers  int               `json:"workers"`
	Batch    int               `json:"batch_size"`
	Started  time.Time         `json:"started"`
	Versions map[string]string `json:"versions"`
	Stats    *sift.Stats       `json:"stats"`
	Warnings []string          `json:"warnings,omitempty"`
	Error    string            `json:"error,omitempty"`
	// Profile is what sift inspect found (see [Inspect]); nil for a run.
	Profile *Profile `json:"profile,omitempty"`

	rows *rowStats // for an HTML report: what it shows of the rows
}

// Run runs the recipe. Outputs appear only if the run succeeds. The report
// is returned (with partial stats) even on error.
//
// Before anything runs, Run checks the settings, expands the inputs and
// refuses to start if two roles share a file that one of them writes (see
// [FileSpec]); these errors write nothing. It then opens every output,
// which fails early on a path that cannot be written. After a successful
// run the report goes to its path (when the recipe or overrides name one)
// and a failed report left there by an earlier run is removed; after a
// failed or cancelled run it goes to the sibling path NAME.failed.EXT
// instead, so that the report of an earlier successful run stays beside
// its outputs. A report written to a stream (standard output, a device)
// is written there in either case.
func Run(ctx context.Context, r *Recipe, o RunOptions) (*Report, error) {
	mem := o.Mem
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	rep, reportPath := newReport(r, o.Overrides)
	if isHTML(reportPath) {
		rep.rows = newRowStats()
	}
	report, err := start(r, o, rep, reportPath)
	if err != nil {
		rep.Error = err.Error()
		return rep, err
	}
	return rep, report.end(rep, run(ctx, r, o, mem, rep))
}

// newReport starts the report of a run: the recipe's settings with the
// overrides applied. It also returns the report's path.
func newReport(r *Recipe, o Overrides) (*Report, string) {
	pick := func(flag, rec string) string {
		if flag != "" {
			return flag
		}
		return r.Path(rec)
	}
	rep := &Report{Recipe: r, Output: pick(o.Output, r.Output), Rejects: pick(o.Rejects, r.Rejects),
		Workers: r.Workers, Batch: r.BatchSize, Started: time.Now().UTC(), Versions: versions()}
	if o.Workers > 0 {
		rep.Workers = o.Workers
	}
	if o.BatchSize > 0 {
		rep.Batch = o.BatchSize
	}
	rep.Inputs = o.Input
	if len(rep.Inputs) == 0 {
		for _, in := range r.Input {
			rep.Inputs = append(rep.Inputs, r.Path(in))
		}
	}
	return rep, pick(o.Report, r.Report)
}

// CheckFiles does the file checks [Run] does before it starts, for the
// paths that the recipe and overrides name: the inputs exist, and no file
// that is written is also read or written by anything else.
func CheckFiles(r *Recipe, o Overrides) error {
	rep, reportPath := newReport(r, o)
	if len(rep.Inputs) > 0 {
		in, err := dataset.Expand(rep.Inputs...)
		if err != nil {
			return err
		}
		rep.Inputs = in
	}
	return checkFiles(r, rep, reportPath, o.Files)
}

// checkFiles refuses two roles sharing a file that one of them writes.
// rep.Inputs are expanded.
func checkFiles(r *Recipe, rep *Report, reportPath string, extra []FileUse) error {
	var uses []FileUse
	if rep.Output != "" {
		uses = append(uses, FileUse{Key: "output", Path: rep.Output, Write: true})
	}
	if rep.Rejects != "" {
		uses = append(uses, FileUse{Key: "rejects", Path: rep.Rejects, Write: true})
	}
	if reportPath != "" {
		uses = append(uses, FileUse{Key: "report", Path: reportPath, Write: true})
		if !dataset.IsStream(reportPath) {
			uses = append(uses, FileUse{Key: "failed report", Path: FailedPath(reportPath), Write: true})
		}
	}
	return checkUses(r, rep.Inputs, uses, extra)
}

// CheckFileUses refuses a run of r that reads the files inputs (expanded)
// and reads or writes uses (each named by its role in Key) when a file one
// role writes is also read or written by another: the recipe, an input,
// another use, or a file a stage names. It is [CheckFiles] for a runner that
// names the files it writes itself, such as sift's Beam module, which
// writes its output as shards.
func CheckFileUses(r *Recipe, inputs []string, uses []FileUse) error {
	return checkUses(r, inputs, uses, nil)
}

// checkUses checks the files of a run in the order its messages name
// them: the recipe, inputs, uses, the files stages name, then extra.
func checkUses(r *Recipe, inputs []string, uses, extra []FileUse) error {
	var files []fileRole
	if r.File != "" {
		files = append(files, newFileRole("recipe", r.File, false))
	}
	for _, p := range inputs {
		files = append(files, newFileRole("input", p, false))
	}
	for _, u := range uses {
		files = append(files, newFileRole(u.Key, u.Path, u.Write))
	}
	for _, s := range r.Stages {
		spec, err := s.Def.Decode(s.Node)
		if err != nil {
			return err
		}
		if fs, ok := spec.(FileSpec); ok {
			for _, u := range fs.Files() {
				files = append(files, newFileRole(s.Name+" "+u.Key, r.Path(u.Path), u.Write))
			}
		}
	}
	for _, u := range extra {
		files = append(files, newFileRole(u.Key, u.Path, u.Write))
	}
	return checkCollisions(files)
}

// start checks everything that can be checked before the run and opens
// the report, if any.
func start(r *Recipe, o RunOptions, rep *Report, reportPath string) (*reportFile, error) {
	switch {
	case o.Workers < 0:
		return nil, fmt.Errorf("workers: %d, want >= 0", o.Workers)
	case o.BatchSize < 0:
		return nil, fmt.Errorf("batch size: %d, want > 0", o.BatchSize)
	case len(rep.Inputs) == 0:
		return nil, errors.New("input: no input given")
	case rep.Output == "":
		return nil, errors.New("output: no output path given")
	}
	in, err := dataset.Expand(rep.Inputs...)
	if err != nil {
		return nil, err
	}
	rep.Inputs = in
	if err := checkFiles(r, rep, reportPath, o.Files); err != nil {
		return nil, err
	}
	if reportPath == "" {
		return nil, nil
	}
	return openReport(reportPath)
}

func run(ctx context.Context, r *Recipe, o RunOptions, mem memory.Allocator, rep *Report) (err error) {
	src, err := dataset.Open(mem, rep.Inputs, dataset.WithBatchSize(rep.Batch))
	if err != nil {
		return err
	}
	defer src.Close()
	var wopts []dataset.WriteOption
	var check *sift.Step
	if r.OutputFormat != "" {
		fmtMu.RLock()
		mk, ok := formats[r.OutputFormat]
		fmtMu.RUnlock()
		if !ok {
			return fmt.Errorf("output_format: unknown format %q (known: %s)", r.OutputFormat, formatNames())
		}
		if f, err := dataset.FormatOf(rep.Output); err == nil && f != dataset.JSONL || err != nil && !dataset.IsStream(rep.Output) {
			return fmt.Errorf("output_format: %s output must be JSONL, not %s", r.OutputFormat, rep.Output)
		}
		of := mk()
		if of.Check != nil {
			check = &sift.Step{Name: "format_" + r.OutputFormat, Stage: of.Check}
		}
		wopts = append(wopts, dataset.WithEncoder(of.Encode))
	}
	// Outputs are opened before the stages are built (which may train a
	// model for minutes), so an unwritable path fails at once.
	out, err := dataset.Create(mem, rep.Output, wopts...)
	if err != nil {
		return err
	}
	var rejects *dataset.File
	var steps []sift.Step
	stageFiles := &commits{}
	defer func() {
		if err != nil {
			out.Abort()
			if rejects != nil {
				rejects.Abort()
			}
			stageFiles.abort()
			for _, s := range steps {
				if a, ok := s.Stage.(interface{ Abort() }); ok {
					a.Abort()
				}
			}
		}
	}()
	if rep.Rejects != "" {
		if rejects, err = dataset.CreateFile(rep.Rejects); err != nil {
			return err
		}
	}
	if steps, err = r.Steps(Env{Dir: r.Dir, Inputs: src.Files(), Mem: mem, commits: stageFiles}); err != nil {
		return err
	}
	if check != nil {
		steps = append(steps, *check)
	}
	popts := []sift.Option{sift.WithSteps(steps...), sift.WithAllocator(mem), sift.WithWorkers(rep.Workers)}
	var rejectsTo io.Writer
	if rejects != nil {
		rejectsTo = rejects
	}
	if rep.rows != nil {
		rejectsTo = rep.rows.hook(steps, rejectsTo)
		popts = append(popts, sift.WithTap(rep.rows.tap))
	}
	if rejectsTo != nil {
		popts = append(popts, sift.WithRejects(rejectsTo))
	}
	if o.Observer != nil {
		popts = append(popts, sift.WithObserver(o.Observer))
	}
	rctx, fail := context.WithCancelCause(ctx)
	defer fail(nil)
	for _, s := range steps {
		if l, ok := s.Stage.(Readier); ok {
			go func() {
				if err := l.Ready(); err != nil {
					fail(fmt.Errorf("stage %s: %w", s.Name, err))
				}
			}()
		}
	}
	rep.Stats, err = sift.NewPipeline(src, out, popts...).Run(rctx)
	if err != nil {
		if ctx.Err() == nil && rctx.Err() != nil {
			err = context.Cause(rctx) // a stage's background load failed
		}
		return err
	}
	for _, s := range steps {
		if l, ok := s.Stage.(Readier); ok {
			if err = l.Ready(); err != nil {
				return fmt.Errorf("stage %s: %w", s.Name, err)
			}
		}
	}
	if err = context.Cause(ctx); err != nil {
		return err // cancelled as the input ended: commit nothing
	}
	// Every output is written in full before any is committed, so that a
	// full disk or a broken device leaves none of them.
	if err = out.Finish(); err != nil {
		return err
	}
	rep.Stats.WriteCPU += out.CPU() // encoding, in the background and at the end
	if rejects != nil {
		if err = rejects.Finish(); err != nil {
			return err
		}
	}
	for _, s := range steps {
		if c, ok := s.Stage.(io.Closer); ok {
			if err = c.Close(); err != nil {
				return fmt.Errorf("stage %s: %w", s.Name, err)
			}
		}
	}
	// Finishing can block (a FIFO nobody reads yet) long after the input
	// ended: a signal that came meanwhile still means commit nothing.
	if err = context.Cause(ctx); err != nil {
		return err
	}
	if err = stageFiles.commit(); err != nil {
		return err
	}
	if err = out.Close(); err != nil {
		return err
	}
	if rejects != nil {
		if err = rejects.Close(); err != nil {
			return err
		}
	}
	if n := rep.Stats.RowsRejected; n > 0 && rejects == nil {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d rejected rows were counted but not written: no rejects path (set rejects: or --rejects)", n))
	}
	return nil
}

// reportFile is the report, opened before the run.
type reportFile struct {
	path   string
	stream bool
	f      *dataset.File
}

func openReport(path string) (*reportFile, error) {
	f, err := dataset.CreateFile(path)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return &reportFile{path: path, stream: dataset.IsStream(path), f: f}, nil
}

// end records err, the run's outcome, in rep, writes rep (rf may be nil
// for no report file) and returns err, or the error writing the report.
func (rf *reportFile) end(rep *Report, err error) error {
	if err != nil {
		rep.Error = err.Error()
	}
	if rf != nil {
		if werr := rf.finish(rep, err != nil); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

// finish writes rep: to the report's path after a successful run, else to
// its failed path.
func (rf *reportFile) finish(rep *Report, failed bool) error {
	f := rf.f
	if failed && !rf.stream {
		f.Abort()
		var err error
		if f, err = dataset.CreateFile(FailedPath(rf.path)); err != nil {
			return err
		}
	}
	if err := encodeReport(f, rf.path, rep); err != nil {
		f.Abort()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if !failed && !rf.stream {
		os.Remove(FailedPath(rf.path)) // from an earlier run; the new report supersedes it
	}
	return nil
}

// encodeReport writes rep as HTML when path ends in .html or .htm, else
// as indented JSON.
func encodeReport(w io.Writer, path string, rep *Report) error {
	if isHTML(path) {
		return WriteHTML(w, rep)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// FailedPath is where the report of a failed run goes, so that it does
// not replace the report of an earlier good run: report.json becomes
// report.failed.json.
func FailedPath(path string) string {
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + ".failed" + ext
}

// Version is sift's version as recorded in the build, or "devel".
func Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			return v
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				return "devel-" + s.Value[:min(12, len(s.Value))]
			}
		}
	}
	return "devel"
}

// reportedDeps are the dependencies whose versions can change results.
var reportedDeps = []string{"github.com/apache/arrow-go", "github.com/klauspost/compress", "github.com/clipperhouse/uax29",
	"golang.org/x/text", "github.com/dlclark/regexp2", "github.com/xeipuuv/gojsonschema", "github.com/mfonda/simhash",
	"github.com/caio/go-tdigest"}

func versions() map[string]string {
	v := map[string]string{"sift": Version(), "go": runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			for _, p := range reportedDeps {
				if strings.HasPrefix(d.Path, p) {
					v[d.Path] = d.Version
				}
			}
		}
	}
	return v
}

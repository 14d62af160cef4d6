package recipe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	Error    string            `json:"error,omitempty"`
}

// Run runs the recipe. Outputs appear only if the run succeeds. The report
// is returned (with partial stats) even on error, and written when the
// recipe or overrides name a report path.
func Run(ctx context.Context, r *Recipe, o RunOptions) (*Report, error) {
	mem := o.Mem
	if mem == nil {
		mem = memory.DefaultAllocator
	}
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
	err := run(ctx, r, o, mem, rep)
	if err != nil {
		rep.Error = err.Error()
	}
	if path := pick(o.Report, r.Report); path != "" {
		if werr := writeReport(path, rep); werr != nil && err == nil {
			err = werr
		}
	}
	return rep, err
}

func run(ctx context.Context, r *Recipe, o RunOptions, mem memory.Allocator, rep *Report) (err error) {
	if len(rep.Inputs) == 0 {
		return errors.New("input: no input given")
	}
	if rep.Output == "" {
		return errors.New("output: no output path given")
	}
	src, err := dataset.Open(mem, rep.Inputs, dataset.WithBatchSize(rep.Batch))
	if err != nil {
		return err
	}
	defer src.Close()
	rep.Inputs = src.Files()
	steps, err := r.Steps(Env{Dir: r.Dir, Inputs: src.Files(), Mem: mem})
	if err != nil {
		return err
	}
	var wopts []dataset.WriteOption
	if r.OutputFormat != "" {
		fmtMu.RLock()
		mk, ok := formats[r.OutputFormat]
		fmtMu.RUnlock()
		if !ok {
			return fmt.Errorf("output_format: unknown format %q (known: %s)", r.OutputFormat, formatNames())
		}
		if f, _ := dataset.FormatOf(rep.Output); f != dataset.JSONL {
			return fmt.Errorf("output_format: %s output must be JSONL, not %s", r.OutputFormat, rep.Output)
		}
		of := mk()
		if of.Check != nil {
			steps = append(steps, sift.Step{Name: "format_" + r.OutputFormat, Stage: of.Check})
		}
		wopts = append(wopts, dataset.WithEncoder(of.Encode))
	}
	out, err := dataset.Create(mem, rep.Output, wopts...)
	if err != nil {
		return err
	}
	var rejects *dataset.File
	defer func() {
		if err != nil {
			out.Abort()
			if rejects != nil {
				rejects.Abort()
			}
			for _, s := range steps {
				if a, ok := s.Stage.(interface{ Abort() }); ok {
					a.Abort()
				}
			}
		}
	}()
	popts := []sift.Option{sift.WithSteps(steps...), sift.WithAllocator(mem), sift.WithWorkers(rep.Workers)}
	if rep.Rejects != "" {
		if rejects, err = dataset.CreateFile(rep.Rejects); err != nil {
			return err
		}
		popts = append(popts, sift.WithRejects(rejects))
	}
	if o.Observer != nil {
		popts = append(popts, sift.WithObserver(o.Observer))
	}
	rep.Stats, err = sift.NewPipeline(src, out, popts...).Run(ctx)
	if err != nil {
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
	for _, s := range steps {
		if c, ok := s.Stage.(io.Closer); ok {
			if err = c.Close(); err != nil {
				return fmt.Errorf("stage %s: %w", s.Name, err)
			}
		}
	}
	return nil
}

func writeReport(path string, rep *Report) error {
	f, err := dataset.CreateFile(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		f.Abort()
		return err
	}
	return f.Close()
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
	"golang.org/x/text", "github.com/dlclark/regexp2", "github.com/xeipuuv/gojsonschema", "github.com/mfonda/simhash"}

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

package siftbeam

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/dataset"
	"github.com/siftdata/sift/recipe"
)

// Ref is what a DoFn carries to build its steps on a worker: the recipe's
// text, the directory its relative paths resolve against, the run's input
// files and the number of tally slots (steps + 1).
type Ref struct {
	Recipe string
	Dir    string
	Inputs []string
	Slots  int
}

// parse parses the recipe the way the driver did.
func (r Ref) parse() (*recipe.Recipe, error) {
	return recipe.Parse([]byte(r.Recipe), r.Dir)
}

// build builds step pos of the plan: stage pos of the recipe, or its
// output format's check when pos is past the last stage.
func (r Ref) build(rec *recipe.Recipe, pos int, mem memory.Allocator) (sift.Step, error) {
	if pos < len(rec.Stages) {
		s := rec.Stages[pos]
		// Not First: a first stage may then read the whole input in its
		// constructor (perplexity's percentiles), which every worker
		// would do; the pipeline finds percentiles itself.
		st, err := s.Def.Build(s.Node, recipe.Env{Dir: rec.Dir, Inputs: r.Inputs, Mem: mem})
		if err != nil {
			return sift.Step{}, err
		}
		// A stage loading its model in the background is waited for
		// here, in the DoFn's setup, so that a broken model fails the
		// worker's setup by name rather than a bundle (or, for
		// Perplexities, with a panic).
		if l, ok := st.(recipe.Readier); ok {
			if err := l.Ready(); err != nil {
				return sift.Step{}, fmt.Errorf("stage %s: %w", s.Name, err)
			}
		}
		return sift.Step{Name: s.Name, Stage: st, Workers: s.Workers}, nil
	}
	f, err := recipe.Format(rec.OutputFormat)
	if err != nil {
		return sift.Step{}, err
	}
	return sift.Step{Name: "format_" + rec.OutputFormat, Stage: f.Check}, nil
}

// release closes (or aborts, when the run failed) a stage that holds
// resources.
func release(s sift.Stage, failed bool) error {
	if a, ok := s.(interface{ Abort() }); ok && failed {
		a.Abort()
		return nil
	}
	if c, ok := s.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// File is one input file and its index in the run's input list.
type File struct {
	Index int
	Path  string
}

// Range is one split of an input file (see [dataset.Split]): its file's
// index, its number within the file, and the lines that start in it
// (JSONL byte ranges, counted by [countLines] before any is read).
type Range struct {
	File  int
	N     int
	Split dataset.Split
	Lines int64
}

// splitFn cuts an input file into the ranges that workers read, of about
// Size bytes: uncompressed JSONL files by byte range, Parquet files by row
// groups, other files whole.
type splitFn struct{ Size int64 }

func (f *splitFn) ProcessElement(in File, emit func(int, Range)) error {
	splits, err := dataset.Splits(in.Path, f.Size)
	if err != nil {
		return named(in.Path, err)
	}
	if len(splits) > 1<<splitBits {
		return fmt.Errorf("%s: more than %d splits of %d bytes: raise --split-bytes", in.Path, 1<<splitBits, f.Size)
	}
	for i, s := range splits {
		emit(in.Index, Range{File: in.Index, N: i, Split: s})
	}
	return nil
}

// jsonlRange reports whether r is a byte range of a JSONL file, whose
// lines are numbered from the ranges before it.
func jsonlRange(r Range) bool {
	f, _ := dataset.FormatOf(r.Split.Path)
	return f == dataset.JSONL && !r.Split.Whole()
}

// countLines counts the lines starting in a JSONL byte range; each range
// reads only its own bytes.
func countLines(file int, r Range) (int, Range, error) {
	if jsonlRange(r) {
		n, err := r.Split.LineStarts()
		if err != nil {
			return 0, r, named(r.Split.Path, err)
		}
		r.Lines = n
	}
	return file, r, nil
}

// numberRanges gives a file's JSONL ranges the count of lines before each,
// so that rows without an id and rejects are numbered as in a whole-file
// read.
func numberRanges(_ int, ranges func(*Range) bool, emit func(Range)) {
	var rs []Range
	var r Range
	for ranges(&r) {
		rs = append(rs, r)
	}
	slices.SortFunc(rs, func(a, b Range) int { return cmp.Compare(a.N, b.N) })
	if len(rs) > 0 && jsonlRange(rs[0]) {
		splits, lines := make([]dataset.Split, len(rs)), make([]int64, len(rs))
		for i, r := range rs {
			splits[i], lines[i] = r.Split, r.Lines
		}
		dataset.NumberSplits(splits, lines)
		for i := range rs {
			rs[i].Split = splits[i]
		}
	}
	for _, r := range rs {
		emit(r)
	}
}

// named makes sure err names path.
func named(path string, err error) error {
	if strings.Contains(err.Error(), path) {
		return err
	}
	return fmt.Errorf("%s: %w", path, err)
}

// runStage runs st on b (for its step; b.Rec is owned and released here)
// as tally slot step, after drop has rejected rows (for the dedup stages,
// whose decisions were made elsewhere). It checks that no row was lost and
// returns the output, owned by the caller, or nil when no row is left.
func runStage(ctx context.Context, b *sift.Batch, st sift.Step, step int, key int64, t *Tally, rej func(RejLine), drop func(b *sift.Batch)) (arrow.RecordBatch, error) {
	rec := b.Rec
	defer rec.Release()
	in := rec.NumRows()
	s := &t.Steps[step]
	s.RowsIn += in
	s.BytesIn += sift.TextBytes(rec)
	var out arrow.RecordBatch
	var err error
	if drop != nil {
		drop(b)
		out, err = b.Keep(ctx, rec)
	} else {
		out, err = st.Stage.Process(ctx, b)
	}
	if err != nil {
		return nil, fmt.Errorf("stage %s: %w", st.Name, err)
	}
	var n int64
	if out != nil {
		n = out.NumRows()
		s.RowsOut += n
		s.BytesOut += sift.TextBytes(out)
	}
	s.RowsAdded += b.Added()
	for k, v := range b.Counts() {
		t.count(step, k, v)
	}
	rejLines(step, key, b.Rejects(), t, rej)
	if in+b.Added() != n+int64(len(b.Rejects())) {
		if out != nil {
			out.Release()
		}
		return nil, fmt.Errorf("stage %s: %w: %d in + %d added != %d out + %d rejected", st.Name, sift.ErrLost, in, b.Added(), n, len(b.Rejects()))
	}
	if n == 0 {
		if out != nil {
			out.Release()
		}
		return nil, nil
	}
	return out, nil
}

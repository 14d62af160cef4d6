package recipe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/caio/go-tdigest/v4"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/dataset"
	"github.com/siftdata/sift/internal/sketch"
	"github.com/zeebo/xxh3"
)

// InspectOptions configure [Inspect].
type InspectOptions struct {
	// Report is where to write the profile as a report: HTML for .html or
	// .htm, else JSON; "" for none. It is written like a run's report:
	// through a temporary file, never over an input, to NAME.failed.EXT if
	// inspecting fails.
	Report             string
	Workers, BatchSize int              // 0: all cores; the reader's default
	Mem                memory.Allocator // default memory.DefaultAllocator
	Observer           sift.Observer
}

// Profile is what [Inspect] finds in a dataset.
type Profile struct {
	Files []FileProfile `json:"files"`
	// Rows counts every record read; Unreadable those the reader could not
	// read and Unmapped those normalize could not map (both are in the
	// report's reject examples); Profiled the rest, which the figures
	// below describe.
	Rows       int64 `json:"rows"`
	Unreadable int64 `json:"unreadable"`
	Unmapped   int64 `json:"unmapped"`
	Profiled   int64 `json:"profiled"`
	// Shapes counts rows by the record format normalize detected: text,
	// alpaca, sharegpt, openai, pair.
	Shapes map[string]int64 `json:"shapes"`
	// Length is the distribution of the rows' text length in characters
	// (a conversation's turns joined by newlines); nil without rows.
	Length *Quantiles `json:"length_chars,omitempty"`
	// Script counts rows by their share of Han characters.
	Script map[string]int64 `json:"script"`
	// Distinct estimates the rows with distinct text (byte for byte, as
	// exact_dedup with normalize: none compares), and DuplicateRate the
	// share of rows an exact dedup would drop. DistinctExact says whether
	// the count is exact, else DistinctRelErr is its relative standard
	// error.
	Distinct       float64 `json:"distinct"`
	DistinctExact  bool    `json:"distinct_exact"`
	DistinctRelErr float64 `json:"distinct_rel_err"`
	DuplicateRate  float64 `json:"duplicate_rate"`
	// Sources break the rows down by their source field, the most
	// frequent first; past maxSources sources the rest are counted as one.
	Sources []SourceProfile `json:"sources"`
}

// FileProfile is one input file.
type FileProfile struct {
	Path   string         `json:"path"`
	Format dataset.Format `json:"format"`
	Bytes  int64          `json:"bytes"` // -1 when not a regular file
	Rows   int64          `json:"rows"`  // records read, unreadable ones included
}

// Quantiles summarize a distribution, estimated by a t-digest.
type Quantiles struct {
	Min  float64 `json:"min"`
	P10  float64 `json:"p10"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// SourceProfile is the rows of one source.
type SourceProfile struct {
	Source     string  `json:"source"`
	Rows       int64   `json:"rows"`
	MedianLen  float64 `json:"median_length_chars"`
	HanShare   float64 `json:"han_majority_share"` // rows with Han ≥ 50%, of the source's rows
	Duplicates float64 `json:"duplicate_rate"`     // within the source
}

// distinctK is the size of the duplicate-rate sketches (128 KiB each, one
// overall and one per source): exact below 16,384 distinct texts, the
// count ±0.8% (one standard error) above. Per source the same k, so that
// a source holding every row shows the overall rate.
const distinctK = 16384

// profileRows is what Inspect collects per row of its last step, in
// bounded memory: per source at most maxSources digests and sketches.
type profileRows struct {
	distinct *sketch.Distinct
	sum      float64 // of lengths, for the mean
	min, max float64
	bySource map[string]*sourceRows
}

type sourceRows struct {
	rows, hanMajority int64
	lengths           *tdigest.TDigest
	distinct          *sketch.Distinct
}

func newProfileRows() *profileRows {
	return &profileRows{distinct: sketch.NewDistinct(distinctK), min: math.Inf(1), max: math.Inf(-1), bySource: map[string]*sourceRows{}}
}

// add takes a row: its source (as counted in stepRows.sources), text
// (borrowed), length in characters and Han class.
func (p *profileRows) add(src, text string, n, class int) {
	h := xxh3.HashString(text)
	p.distinct.Add(h)
	p.sum += float64(n)
	p.min, p.max = math.Min(p.min, float64(n)), math.Max(p.max, float64(n))
	s := p.bySource[src]
	if s == nil {
		s = &sourceRows{lengths: sketch.NewDigest(), distinct: sketch.NewDistinct(distinctK)}
		p.bySource[strings.Clone(src)] = s
	}
	s.rows++
	if class == 2 {
		s.hanMajority++
	}
	s.lengths.Add(float64(n))
	s.distinct.Add(h)
}

// profileStep is the step whose output Inspect profiles.
const profileStep = "normalize"

// Inspect reads inputs (files, globs or directories) through stage
// normalize, which must be registered (package schema does it), and
// profiles them: files and their formats, record shapes, length and script
// mix, an estimate of the exact-duplicate rate, and a breakdown by source.
// Nothing is written but the report, if o names one. Memory is bounded:
// quantiles come from t-digests and the duplicate rate from a
// k-minimum-values sketch of the texts' hashes. A file that cannot be read
// fails Inspect with its name. The returned report holds the profile, and
// the stats of the read and normalize steps, also on error.
func Inspect(ctx context.Context, inputs []string, o InspectOptions) (*Report, error) {
	rep := &Report{Inputs: inputs, Workers: o.Workers, Batch: o.BatchSize, Started: time.Now().UTC(), Versions: versions()}
	var report *reportFile
	err := func() error {
		if len(inputs) == 0 {
			return errors.New("inspect: no input given")
		}
		if o.Workers < 0 || o.BatchSize < 0 {
			return fmt.Errorf("inspect: workers %d, batch size %d: want >= 0", o.Workers, o.BatchSize)
		}
		files, err := dataset.Expand(inputs...)
		if err != nil {
			return err
		}
		rep.Inputs = files
		if o.Report != "" {
			roles := []fileRole{newFileRole("report", o.Report, true)}
			if !dataset.IsStream(o.Report) {
				roles = append(roles, newFileRole("failed report", FailedPath(o.Report), true))
			}
			for _, f := range files {
				roles = append(roles, newFileRole("input", f, false))
			}
			if err := checkCollisions(roles); err != nil {
				return err
			}
			if report, err = openReport(o.Report); err != nil {
				return err
			}
		}
		return inspect(ctx, files, o, rep)
	}()
	return rep, report.end(rep, err)
}

func inspect(ctx context.Context, files []string, o InspectOptions, rep *Report) error {
	mem := o.Mem
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	def, ok := Lookup(profileStep)
	if !ok {
		return errors.New("inspect: stage normalize is not registered (import package schema)")
	}
	norm, err := def.Build(nil, Env{Mem: mem})
	if err != nil {
		return err
	}
	prof := &Profile{Shapes: map[string]int64{}, Script: map[string]int64{}, Sources: []SourceProfile{}, DistinctExact: true}
	rep.Profile = prof
	src := &fileChain{mem: mem, files: files, batch: o.BatchSize}
	defer src.Close()
	for _, f := range files {
		format, _ := dataset.FormatOf(f) // Expand checked it
		fp := FileProfile{Path: f, Format: format, Bytes: -1}
		if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() {
			fp.Bytes = fi.Size()
		}
		prof.Files = append(prof.Files, fp)
	}
	src.prof = prof
	rs := newRowStats()
	rs.profileStep = profileStep
	steps := []sift.Step{{Name: profileStep, Stage: norm, Workers: o.Workers}}
	rejects := rs.hook(steps, nil)
	rep.rows = rs
	opts := []sift.Option{sift.WithSteps(steps...), sift.WithAllocator(mem), sift.WithWorkers(o.Workers),
		sift.WithTap(rs.tap), sift.WithRejects(rejects)}
	if o.Observer != nil {
		opts = append(opts, sift.WithObserver(o.Observer))
	}
	discard := sift.SinkFunc(func(context.Context, arrow.RecordBatch) error { return nil })
	rep.Stats, err = sift.NewPipeline(src, discard, opts...).Run(ctx)
	if err != nil {
		return err
	}
	if err := context.Cause(ctx); err != nil {
		return err
	}
	prof.fill(rep.Stats, rs.steps[profileStep])
	return nil
}

// fill completes the profile from the run's stats and the profiled step.
func (prof *Profile) fill(st *sift.Stats, s *stepRows) {
	prof.Rows = st.RowsIn
	prof.Unreadable = st.Stages[0].RowsRejected
	prof.Unmapped = st.Stages[1].RowsRejected
	prof.Profiled = st.RowsOut
	for k, n := range st.Stages[1].Counters {
		if f, ok := strings.CutPrefix(k, "format."); ok {
			prof.Shapes[f] = n
		}
	}
	if s == nil || s.profile == nil || prof.Profiled == 0 {
		return
	}
	p := s.profile
	prof.Length = &Quantiles{Min: p.min, Max: p.max, Mean: p.sum / float64(prof.Profiled),
		P10: s.lengths.Quantile(0.1), P50: s.lengths.Quantile(0.5), P90: s.lengths.Quantile(0.9), P99: s.lengths.Quantile(0.99)}
	for i, c := range hanClasses {
		prof.Script[c] = s.han[i]
	}
	prof.Distinct, prof.DistinctExact, prof.DistinctRelErr = p.distinct.Estimate(), p.distinct.Exact(), p.distinct.RelErr()
	prof.DuplicateRate = dupRate(p.distinct, prof.Profiled)
	for name, sr := range p.bySource {
		prof.Sources = append(prof.Sources, SourceProfile{Source: name, Rows: sr.rows, MedianLen: sr.lengths.Quantile(0.5),
			HanShare: float64(sr.hanMajority) / float64(sr.rows), Duplicates: dupRate(sr.distinct, sr.rows)})
	}
	sort.Slice(prof.Sources, func(i, j int) bool {
		a, b := prof.Sources[i], prof.Sources[j]
		return a.Rows > b.Rows || a.Rows == b.Rows && a.Source < b.Source
	})
}

// dupRate is the share of rows beyond the first of each distinct text; an
// estimate above the rows (the sketch's error) counts as none.
func dupRate(d *sketch.Distinct, rows int64) float64 {
	if rows == 0 {
		return 0
	}
	return math.Max(0, 1-d.Estimate()/float64(rows))
}

// fileChain reads files one after the other, each through its own
// dataset.Reader, so that rows are counted per file. It is a sift.Source
// and sift.Sized.
type fileChain struct {
	mem   memory.Allocator
	files []string
	batch int
	prof  *Profile
	i     int             // file being read
	cur   *dataset.Reader // nil between files
	done  int64           // bytes of the files finished
}

func (c *fileChain) Next(ctx context.Context) (arrow.RecordBatch, []sift.Reject, error) {
	for c.i < len(c.files) {
		if c.cur == nil {
			var opts []dataset.ReadOption
			if c.batch > 0 {
				opts = append(opts, dataset.WithBatchSize(c.batch))
			}
			r, err := dataset.Open(c.mem, c.files[c.i:c.i+1], opts...)
			if err != nil {
				return nil, nil, err
			}
			c.cur = r
		}
		rec, rej, err := c.cur.Next(ctx)
		if err == io.EOF {
			err = c.cur.Close()
			c.cur = nil
			if b := c.prof.Files[c.i].Bytes; b > 0 {
				c.done += b
			}
			c.i++
			if err != nil {
				return nil, nil, err
			}
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		n := int64(len(rej))
		if rec != nil {
			n += rec.NumRows()
		}
		c.prof.Files[c.i].Rows += n
		return rec, rej, nil
	}
	return nil, nil, io.EOF
}

// InputProgress implements sift.Sized: 0 total when a file's size is
// unknown.
func (c *fileChain) InputProgress() (done, total int64) {
	for _, f := range c.prof.Files {
		if f.Bytes < 0 {
			return 0, 0
		}
		total += f.Bytes
	}
	done = c.done
	if c.cur != nil {
		d, _ := c.cur.InputProgress()
		done += d
	}
	return done, total
}

// Close closes the file being read, if any.
func (c *fileChain) Close() error {
	if c.cur == nil {
		return nil
	}
	err := c.cur.Close()
	c.cur = nil
	return err
}

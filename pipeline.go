package sift

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"golang.org/x/sync/errgroup"
)

// Source yields the input in order.
type Source interface {
	// Next returns the next batch, owned by the caller, and the input rows
	// that could not be read, as rejects. The batch may be nil when there
	// are only rejects. Next returns io.EOF after the last batch.
	Next(ctx context.Context) (arrow.RecordBatch, []Reject, error)
}

// Sink receives the output in order.
type Sink interface {
	// Write consumes rec, which is borrowed.
	Write(ctx context.Context, rec arrow.RecordBatch) error
}

// SinkFunc adapts a function to a [Sink].
type SinkFunc func(ctx context.Context, rec arrow.RecordBatch) error

// Write calls f(ctx, rec).
func (f SinkFunc) Write(ctx context.Context, rec arrow.RecordBatch) error { return f(ctx, rec) }

// Reporter is implemented by stages with end-of-run statistics of their own
// (for example dedup cluster sizes). Report is called once after the run;
// its result is stored, JSON-encoded, in the stage's [StageStats].
type Reporter interface {
	Report() any
}

// Step is a named stage in a pipeline.
type Step struct {
	Name  string
	Stage Stage
	// Workers is the number of goroutines running the stage; 0 means the
	// pipeline's default. Sequential and Flusher stages always get one,
	// except that a [Preparer]'s Prepare runs on this many.
	Workers int
}

// ErrLost is returned when rows disappear: a stage (or the run) ended with
// rows in + rows added != rows out + rows rejected.
var ErrLost = errors.New("sift: rows lost")

// Pipeline runs a source through steps into a sink.
type Pipeline struct {
	src     Source
	sink    Sink
	steps   []Step
	mem     memory.Allocator
	workers int
	depth   int
	rejects io.Writer
	tap     func(string, arrow.RecordBatch)
	obs     Observer
	tmpDir  string

	readRows, readBytes atomic.Int64 // progress, shared with the sink goroutine
	// For the observer: the input's bytes read and in all, rows written,
	// and each step's counts, by its StageStats (set before the steps
	// start, read-only after).
	inDone, inSize, rowsOut atomic.Int64
	live                    []liveStage
	liveBy                  map[*StageStats]*liveStage
	obsMu                   sync.Mutex
	words                   sync.Map // batch → *segCache: segmentation handed from step to step
}

// Option configures a [Pipeline].
type Option func(*Pipeline)

// WithStage appends a step running s under name.
func WithStage(name string, s Stage) Option {
	return WithSteps(Step{Name: name, Stage: s})
}

// WithSteps appends steps.
func WithSteps(steps ...Step) Option {
	return func(p *Pipeline) { p.steps = append(p.steps, steps...) }
}

// WithAllocator sets the allocator handed to stages. The default is
// memory.DefaultAllocator.
func WithAllocator(mem memory.Allocator) Option { return func(p *Pipeline) { p.mem = mem } }

// WithWorkers sets the default number of workers per stateless stage; 0
// means GOMAXPROCS.
func WithWorkers(n int) Option { return func(p *Pipeline) { p.workers = n } }

// WithQueueDepth sets how many batches may wait between two steps (default
// 2). Memory is bounded by batch size × (queue depth + workers) per step.
func WithQueueDepth(n int) Option { return func(p *Pipeline) { p.depth = n } }

// WithRejects sets where rejects are written, one JSON object per line, in
// step order and, within a step, in input order. Without it rejects are
// counted but not written, and stages' rejects carry no Record (the row's
// JSON is not built).
func WithRejects(w io.Writer) Option { return func(p *Pipeline) { p.rejects = w } }

// WithObserver sets an observer told of progress after every output batch.
func WithObserver(o Observer) Option { return func(p *Pipeline) { p.obs = o } }

// WithTap calls fn with each step's output batches (borrowed, for the
// duration of the call), the source's as step [ReadStage]. Calls for one
// step come in stream order from one goroutine; different steps' calls
// are concurrent. Run reports use it to sample rows without a stage.
func WithTap(fn func(step string, rec arrow.RecordBatch)) Option {
	return func(p *Pipeline) { p.tap = fn }
}

// WithTempDir sets where rejects are spooled during the run (default
// os.TempDir()). The spool files are unlinked as soon as they are created.
func WithTempDir(dir string) Option { return func(p *Pipeline) { p.tmpDir = dir } }

// NewPipeline returns a pipeline from src to sink.
func NewPipeline(src Source, sink Sink, opts ...Option) *Pipeline {
	p := &Pipeline{src: src, sink: sink, mem: memory.DefaultAllocator, depth: 2}
	for _, o := range opts {
		o(p)
	}
	if p.workers <= 0 {
		p.workers = runtime.GOMAXPROCS(0)
	}
	if p.depth <= 0 {
		p.depth = 1
	}
	return p
}

// ReadStage is the stage name of rejects made by the source.
const ReadStage = "read"

// Run runs the pipeline to the end of the source, or to the first error.
// It returns the run's statistics, which are partial on error. Run checks
// the conservation of rows and returns an error wrapping [ErrLost] if it
// fails.
func (p *Pipeline) Run(ctx context.Context) (*Stats, error) {
	start := time.Now()
	st := &Stats{Stages: make([]StageStats, len(p.steps)+1)}
	st.Stages[0] = StageStats{Name: ReadStage, Workers: 1}
	if p.obs != nil {
		p.live = make([]liveStage, len(st.Stages))
		p.liveBy = map[*StageStats]*liveStage{}
		p.live[0].name, p.live[0].workers = ReadStage, 1
		for i, s := range p.steps {
			p.live[i+1].name, p.live[i+1].workers = s.Name, p.workersFor(s)
			p.liveBy[&st.Stages[i+1]] = &p.live[i+1]
		}
	}
	spools := make([]*spool, len(p.steps)+1)
	for i := range spools {
		spools[i] = &spool{dir: p.tmpDir, enabled: p.rejects != nil}
		defer spools[i].close()
	}

	g, ctx := errgroup.WithContext(ctx)
	chans := make([]chan arrow.RecordBatch, len(p.steps)+1)
	for i := range chans {
		chans[i] = make(chan arrow.RecordBatch, p.depth)
	}
	g.Go(func() error {
		defer close(chans[0])
		return p.read(ctx, chans[0], &st.Stages[0], spools[0], start)
	})
	for i, step := range p.steps {
		ss := &st.Stages[i+1]
		ss.Name = step.Name
		ss.Workers = p.workersFor(step)
		g.Go(func() error {
			defer close(chans[i+1])
			return p.runStep(ctx, step, ss, spools[i+1], chans[i], chans[i+1])
		})
	}
	g.Go(func() error {
		for rec := range chans[len(p.steps)] {
			p.words.Delete(rec)
			var err error
			st.WriteCPU += CPUTime(func() { err = p.sink.Write(ctx, rec) })
			st.RowsOut += rec.NumRows()
			st.BytesOut += TextBytes(rec)
			rec.Release()
			if err != nil {
				return err
			}
			if p.obs != nil {
				p.rowsOut.Store(st.RowsOut)
				p.observe(start)
			}
		}
		return nil
	})
	err := g.Wait()
	for _, ch := range chans {
		drain(ch)
	}
	st.WallSeconds = time.Since(start).Seconds()
	st.total()
	if err != nil {
		return st, err
	}
	for i := range st.Stages {
		s := &st.Stages[i]
		if s.RowsIn+s.RowsAdded != s.RowsOut+s.RowsRejected {
			return st, fmt.Errorf("%w: stage %s: %d in + %d added != %d out + %d rejected", ErrLost, s.Name, s.RowsIn, s.RowsAdded, s.RowsOut, s.RowsRejected)
		}
	}
	if st.RowsIn+st.RowsAdded != st.RowsOut+st.RowsRejected {
		return st, fmt.Errorf("%w: run: %d in + %d added != %d out + %d rejected", ErrLost, st.RowsIn, st.RowsAdded, st.RowsOut, st.RowsRejected)
	}
	for i, step := range p.steps {
		if r, ok := step.Stage.(Reporter); ok {
			st.Stages[i+1].Report = r.Report()
		}
	}
	if p.rejects != nil {
		for _, s := range spools {
			if err := s.copyTo(p.rejects); err != nil {
				return st, fmt.Errorf("sift: writing rejects: %w", err)
			}
		}
	}
	return st, nil
}

func (p *Pipeline) workersFor(s Step) int {
	switch s.Stage.(type) {
	case Preparer:
	case Sequential, Flusher:
		return 1
	}
	if s.Workers > 0 {
		return s.Workers
	}
	return p.workers
}

func (p *Pipeline) read(ctx context.Context, out chan<- arrow.RecordBatch, ss *StageStats, sp *spool, start time.Time) error {
	sized, _ := p.src.(Sized)
	for {
		var rec arrow.RecordBatch
		var rejects []Reject
		var err error
		ss.CPU += CPUTime(func() { rec, rejects, err = p.src.Next(ctx) })
		if sized != nil && p.obs != nil && err == nil {
			done, total := sized.InputProgress()
			p.inDone.Store(done)
			p.inSize.Store(total)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if rec != nil {
				rec.Release()
			}
			return err
		}
		for i := range rejects {
			rejects[i].Stage = ReadStage
			ss.addReject(&rejects[i])
			if err := sp.write(&rejects[i]); err != nil {
				return err
			}
		}
		ss.RowsIn += int64(len(rejects))
		if rec != nil {
			n, size := rec.NumRows(), TextBytes(rec)
			ss.RowsIn += n
			ss.RowsOut += n
			ss.BytesOut += size
		}
		p.readRows.Store(ss.RowsIn)
		p.readBytes.Store(ss.BytesOut)
		if p.obs != nil {
			p.live[0].set(ss)
			p.observe(start)
		}
		if rec == nil {
			continue
		}
		if n := rec.NumRows(); n == 0 {
			rec.Release()
			continue
		}
		if p.tap != nil {
			p.tap(ReadStage, rec)
		}
		if err := send(ctx, out, rec); err != nil {
			return err
		}
	}
}

// result is one processed batch on its way to the step's collector.
type result struct {
	rec     arrow.RecordBatch
	rowsIn  int64
	bytesIn int64
	busy    time.Duration
	cpu     time.Duration // if timed
	timed   bool
	acc     *accum
	err     error
	// prepared is the batch a Preparer has prepared and not yet processed
	// (it holds a reference to its Rec); nil otherwise.
	prepared *Batch
}

// batch returns the Batch of s over rec, with the segmentation an earlier
// step handed on.
func (p *Pipeline) batch(s Step, rec arrow.RecordBatch) *Batch {
	b := NewBatch(p.mem, s.Name, rec)
	b.acc.noRecords = p.rejects == nil
	if c, ok := p.words.LoadAndDelete(rec); ok && rec != nil {
		b.words = c.(*segCache)
	}
	return b
}

// process runs s on rec, or flushes it, measuring its CPU time if timed.
func (p *Pipeline) process(ctx context.Context, s Step, rec arrow.RecordBatch, flush, timed bool) result {
	return p.run(ctx, s, p.batch(s, rec), flush, timed)
}

// measure calls fn and returns its CPU time if timed, else 0.
func measure(timed bool, fn func()) time.Duration {
	if !timed {
		fn()
		return 0
	}
	return CPUTime(fn)
}

// run runs s on b, or flushes it.
func (p *Pipeline) run(ctx context.Context, s Step, b *Batch, flush, timed bool) result {
	r := result{acc: b.acc, timed: timed}
	t := time.Now()
	r.cpu = measure(timed, func() {
		if flush {
			r.rec, r.err = s.Stage.(Flusher).Flush(ctx, b)
		} else {
			r.rowsIn, r.bytesIn = b.Rec.NumRows(), TextBytes(b.Rec)
			r.rec, r.err = s.Stage.Process(ctx, b)
		}
	})
	r.busy = time.Since(t)
	if r.err != nil {
		r.err = fmt.Errorf("stage %s: %w", s.Name, r.err)
	} else if c := b.carried(r.rec); c != nil && r.rec.NumRows() > 0 {
		p.words.Store(r.rec, c)
	}
	return r
}

// prepare runs the Preparer s on rec (retained until the result is
// finished), leaving Process to finish.
func (p *Pipeline) prepare(ctx context.Context, s Step, rec arrow.RecordBatch, timed bool) result {
	b := p.batch(s, rec)
	rec.Retain()
	r := result{acc: b.acc, prepared: b, timed: timed}
	t := time.Now()
	r.cpu = measure(timed, func() { b.prep, r.err = s.Stage.(Preparer).Prepare(ctx, b) })
	r.busy = time.Since(t)
	if r.err != nil {
		r.err = fmt.Errorf("stage %s: %w", s.Name, r.err)
	}
	return r
}

// finish runs Process on a prepared result, in stream order.
func (p *Pipeline) finish(ctx context.Context, s Step, r result) result {
	b := r.prepared
	defer b.Rec.Release()
	if r.err != nil {
		r.prepared = nil
		return r
	}
	f := p.run(ctx, s, b, false, r.timed)
	f.busy += r.busy
	f.cpu += r.cpu
	return f
}

// release releases what r holds.
func (r *result) release() {
	releaseRec(r.rec)
	if r.prepared != nil {
		r.prepared.Rec.Release()
	}
}

// runStep fans batches out to workers and collects results in input order.
func (p *Pipeline) runStep(ctx context.Context, s Step, ss *StageStats, sp *spool, in <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch) error {
	type job struct {
		rec   arrow.RecordBatch
		done  chan result
		timed bool // see timed
	}
	order := make(chan chan result, ss.Workers+p.depth)
	work := make(chan job)
	g, wctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(work)
		defer close(order)
		var n int64
		for rec := range in {
			done := make(chan result, 1)
			select {
			case order <- done:
			case <-wctx.Done():
				rec.Release()
				return wctx.Err()
			}
			select {
			case work <- job{rec, done, timed(n)}:
			case <-wctx.Done():
				rec.Release()
				return wctx.Err()
			}
			n++
		}
		return nil
	})
	_, prep := s.Stage.(Preparer)
	for range ss.Workers {
		g.Go(func() error {
			for j := range work {
				var r result
				if prep {
					r = p.prepare(wctx, s, j.rec, j.timed)
				} else {
					r = p.process(wctx, s, j.rec, false, j.timed)
				}
				j.rec.Release()
				j.done <- r
			}
			return nil
		})
	}
	lv := p.liveBy[ss]
	var cpu cpuEstimate
	collect := func(r result) error {
		if lv != nil {
			defer lv.set(ss)
		}
		ss.RowsIn += r.rowsIn
		ss.BytesIn += r.bytesIn
		ss.Busy += r.busy
		cpu.add(&r)
		ss.CPU = cpu.total
		ss.RowsAdded += r.acc.added
		for k, v := range r.acc.counts {
			if ss.Counters == nil {
				ss.Counters = map[string]int64{}
			}
			ss.Counters[k] += v
		}
		for i := range r.acc.rejects {
			ss.addReject(&r.acc.rejects[i])
			if err := sp.write(&r.acc.rejects[i]); err != nil {
				releaseRec(r.rec)
				return err
			}
		}
		if r.err != nil {
			releaseRec(r.rec)
			return r.err
		}
		if r.rec == nil {
			return nil
		}
		ss.RowsOut += r.rec.NumRows()
		ss.BytesOut += TextBytes(r.rec)
		if p.tap != nil && r.rec.NumRows() > 0 {
			p.tap(s.Name, r.rec)
		}
		if r.rec.NumRows() == 0 {
			r.rec.Release()
			return nil
		}
		if lv != nil {
			lv.set(ss) // before the batch can reach the sink, which observes
		}
		return send(ctx, out, r.rec)
	}
	var abandoned chan result // a future the collector stopped waiting for
	_, flusher := s.Stage.(Flusher)
	g.Go(func() error {
		for done := range order {
			var r result
			select {
			case r = <-done:
			case <-wctx.Done():
				abandoned = done
				return wctx.Err()
			}
			if r.prepared != nil {
				r = p.finish(wctx, s, r)
			}
			if err := collect(r); err != nil {
				return err
			}
		}
		if flusher && wctx.Err() == nil {
			return collect(p.process(wctx, s, nil, true, true))
		}
		return nil
	})
	err := g.Wait()
	// Workers have finished: any result not collected is waiting in its
	// future, unless its batch was never dispatched.
	release := func(done chan result) {
		select {
		case r := <-done:
			r.release()
		default:
		}
	}
	if abandoned != nil {
		release(abandoned)
	}
	for done := range order {
		release(done)
	}
	return err
}

// liveStage is one step's counts as the observer sees them. A mutex rather
// than one atomic per count keeps a snapshot whole: loaded one by one, a
// count stored after another could pair a new out with an old in.
type liveStage struct {
	name                string
	workers             int
	mu                  sync.Mutex
	in, added, out, rej int64
	busy                time.Duration
}

func (l *liveStage) set(ss *StageStats) {
	l.mu.Lock()
	l.in, l.added, l.out, l.rej, l.busy = ss.RowsIn, ss.RowsAdded, ss.RowsOut, ss.RowsRejected, ss.Busy
	l.mu.Unlock()
}

func (l *liveStage) progress() StageProgress {
	l.mu.Lock()
	defer l.mu.Unlock()
	return StageProgress{Name: l.name, Workers: l.workers, RowsIn: l.in, RowsAdded: l.added,
		RowsOut: l.out, RowsRejected: l.rej, Busy: l.busy}
}

// observe tells the observer where the run is. The snapshot is taken under
// the lock that orders the calls, so the observer never sees a count go
// back: two goroutines (the reader and the sink) observe.
func (p *Pipeline) observe(start time.Time) {
	p.obsMu.Lock()
	defer p.obsMu.Unlock()
	pr := Progress{RowsIn: p.readRows.Load(), RowsOut: p.rowsOut.Load(), BytesIn: p.readBytes.Load(),
		Elapsed: time.Since(start), InputDone: p.inDone.Load(), InputSize: p.inSize.Load(),
		Stages: make([]StageProgress, len(p.live))}
	for i := range p.live {
		pr.Stages[i] = p.live[i].progress()
	}
	p.obs.Observe(pr)
}

func releaseRec(r arrow.RecordBatch) {
	if r != nil {
		r.Release()
	}
}

func send(ctx context.Context, ch chan<- arrow.RecordBatch, rec arrow.RecordBatch) error {
	select {
	case ch <- rec:
		return nil
	case <-ctx.Done():
		rec.Release()
		return ctx.Err()
	}
}

func drain(ch chan arrow.RecordBatch) {
	for {
		select {
		case r, ok := <-ch:
			if !ok {
				return
			}
			r.Release()
		default:
			return
		}
	}
}

// spool keeps one step's rejects in a temporary file until the run ends, so
// the rejects output is ordered by step and then by input, whatever the
// batch size.
type spool struct {
	dir     string
	enabled bool
	f       *os.File
	w       *bufio.Writer
	buf     []byte
}

func (s *spool) write(r *Reject) error {
	if !s.enabled {
		return nil
	}
	if s.f == nil {
		f, err := os.CreateTemp(s.dir, "sift-rejects-*.jsonl")
		if err != nil {
			return fmt.Errorf("sift: spooling rejects: %w", err)
		}
		// Rejects hold raw rows, personal data included: the spool lives
		// on unlinked, so it is gone when the process is, however it ends.
		if err := os.Remove(f.Name()); err != nil {
			f.Close()
			return fmt.Errorf("sift: spooling rejects: %w", err)
		}
		s.f, s.w = f, bufio.NewWriterSize(f, 1<<16)
	}
	s.buf = append(r.AppendJSON(s.buf[:0]), '\n')
	_, err := s.w.Write(s.buf)
	return err
}

func (s *spool) copyTo(w io.Writer) error {
	if s.f == nil {
		return nil
	}
	if err := s.w.Flush(); err != nil {
		return err
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err := io.Copy(w, s.f)
	return err
}

func (s *spool) close() {
	if s.f != nil {
		s.f.Close()
	}
}

// AppendJSON appends r as the JSON object written to the rejects output.
func (r *Reject) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"id":`...)
	dst = AppendJSONString(dst, r.ID)
	dst = append(dst, `,"stage":`...)
	dst = AppendJSONString(dst, r.Stage)
	dst = append(dst, `,"reason":`...)
	dst = AppendJSONString(dst, r.Reason)
	dst = append(dst, `,"detail":`...)
	dst = AppendJSONString(dst, r.Detail)
	if r.DuplicateOf != "" {
		dst = append(dst, `,"duplicate_of":`...)
		dst = AppendJSONString(dst, r.DuplicateOf)
	}
	if r.Value != nil {
		dst = append(dst, `,"value":`...)
		dst = appendFloat(dst, *r.Value)
	}
	if len(r.Record) > 0 {
		dst = append(dst, `,"record":`...)
		dst = append(dst, r.Record...)
	}
	return append(dst, '}')
}

package siftbeam

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/dataset"
	"github.com/siftdata/sift/dedup"
	"github.com/siftdata/sift/recipe"
	"github.com/zeebo/xxh3"
)

// Rows are never shuffled to apply a decision. Reading an input range and
// running the row-local steps on it is deterministic and cheap next to
// moving its batches through the runner's data plane (on prism each
// shuffle copies every byte of a batch about five times), so every step
// that needs the whole input (a dedup step's keys, a percentile step's
// scores) gets its own pass over the input: the steps before it run again,
// applying the decisions of the dedup steps before it, which are grouped
// with the range holding their batch (a CoGroupByKey of the ranges, a few
// per worker, with small decision elements). The first pass reads the
// ranges and runs the row-local steps before it once (see
// [chain.Prefix]); the passes after it read the batches it left. The last
// pass runs every step and writes the rows.

// Decision is what a dedup step decided for one batch: the rows it drops
// (exact_dedup); or for the batches of one range, the near-duplicate
// pairs whose later row is in them (simhash_dedup), or borderline pairs
// whose earlier row is in them, waiting for its feature set (simhash_dedup's
// asks), each pair for the batch of that row, whatever Batch says (see
// [byBatch]); or, sent to every range, the thresholds of a percentile
// step: the values of its percentiles ([percentiler.Percentiles], in that
// order) and the rows they are over. Decisions are keyed by the input
// range of their batch ([splitOf]).
type Decision struct {
	Step  int32 // the step's plan position
	Batch int64
	Drops []Drop
	Pairs []Pair
	Pct   []float64
	Rows  int64

	raw []byte // its bytes, when it is packed ([packer])
}

// rangeKey keys a range as the decisions about its batches are keyed.
func rangeKey(r Range) (int64, Range) { return splitOf(partKey(r.File, r.N, 0)), r }

// noDecisions is the empty decisions of a pass before any dedup step.
func noDecisions(_ []byte, _ func(int64, Decision)) {}

// chain is a pass over the input: it reads the ranges grouped under one
// key and runs plan steps [0, To) on their batches. Row-local steps run,
// dedup steps apply the decisions sent to the batch, and percentile steps
// run with the thresholds sent to every range. Step To, when there is
// one, is built too, for the DoFn that embeds the chain.
//
// Nothing reaches a pass as a side input: on prism a stage reading one
// keeps the runner's scheduler spinning while it waits (2.3 of 8.9 CPU-s
// of the dedup benchmark with the percentile digests as a side input).
type chain struct {
	Ref       Ref
	BatchSize int
	Kinds     []Kind // the plan's steps
	To        int
	// Prefix is the number of row-local steps before the first step that
	// needs the whole input. With Cache (a directory every worker sees),
	// the first pass (To == Prefix) leaves the batches they leave in a
	// file per range there, and sends their rejects and tallies; the
	// passes after it read those batches instead of the input and run the
	// steps from Prefix on. Parsing the input and the row-local steps
	// before a dedup step (normalize, length_filter: the word
	// segmentation) were about a third of each pass's CPU.
	Prefix int
	Cache  string

	steps   []sift.Step
	reports map[int]json.RawMessage // percentile steps built with their thresholds: their reports
	fps     *sync.Pool              // of *fpScratch, for the jobs fingerprinting at once
	par     bundle
}

// fpScratch is what fingerprinting a text reuses.
type fpScratch struct {
	acc dedup.Accumulator
	fp  dedup.Fingerprint
}

func (c *chain) Setup() error {
	r, err := c.Ref.parse()
	if err != nil {
		return err
	}
	c.fps = &sync.Pool{New: func() any { return new(fpScratch) }}
	for pos := 0; pos <= c.To && pos < len(c.Kinds); pos++ {
		st, err := c.Ref.build(r, pos, memory.DefaultAllocator)
		if err != nil {
			return err
		}
		c.steps = append(c.steps, st)
	}
	return nil
}

func (c *chain) Teardown() error {
	var errs []error
	for _, s := range c.steps {
		errs = append(errs, release(s.Stage, false))
	}
	c.steps = nil
	return errors.Join(errs...)
}

// writes reports whether the pass leaves the prefix's batches in the
// cache; reads, whether it reads them from there.
func (c *chain) writes() bool { return c.Cache != "" && c.To == c.Prefix }
func (c *chain) reads() bool  { return c.Cache != "" && c.To > c.Prefix }

// cachePath is the file of the cache holding range r's batches.
func (c *chain) cachePath(r Range) string {
	return filepath.Join(c.Cache, fmt.Sprintf("prefix-%d-%d", r.File, r.N))
}

// sinks are where the last pass sends what the steps reject and count;
// other passes drop it, since the last pass counts every step once.
type sinks struct {
	rej    func(RejLine)
	tal    func(Tally)
	keeper func(pos int, r RowRef) // r is named as duplicate_of by plan step pos
	// none: nothing is sent, so a dedup step's drops are applied without
	// making their reject lines (each the row's JSON: they were a tenth of
	// the passes between the dedup steps and the last).
	none bool
}

// decisions collects the decisions grouped with a range.
func decisions(decs func(*Decision) bool) []Decision {
	var out []Decision
	var d Decision
	for decs(&d) {
		out = append(out, d)
		d = Decision{}
	}
	return out
}

// async starts the work of one element of a pass on the bundle's
// goroutines ([bundle]): work gets the element's ranges and decisions,
// taken from their iterators first, and the percentile steps before the
// pass are built with their thresholds before it starts, so that the
// jobs only read the steps. Work's outputs go through out ([later]).
func (c *chain) async(ranges func(*Range) bool, decs func(*Decision) bool, work func(ranges func(*Range) bool, decs []Decision, out func(func())) error) error {
	var rs []Range
	var r Range
	for ranges(&r) {
		rs, r = append(rs, r), Range{}
	}
	ds := decisions(decs)
	for _, d := range ds {
		if int(d.Step) < c.To && c.Kinds[d.Step] == Percentile {
			if err := c.percentiles(int(d.Step), d); err != nil {
				return err
			}
		}
	}
	return c.par.start(func(out func(func())) error {
		next := func(r *Range) bool {
			if len(rs) == 0 {
				return false
			}
			*r, rs = rs[0], rs[1:]
			return true
		}
		return work(next, ds, out)
	})
}

// byBatch returns d as decisions of one batch each: a decision of pairs
// may hold those of several batches of a range, each pair for its later
// row's batch, or its earlier row's with of (an ask). An element per batch
// was 3 400 elements on the dedup benchmark, each with the runner's and
// the SDK's overhead.
func byBatch(d Decision, of bool) []Decision {
	if len(d.Pairs) == 0 {
		return []Decision{d}
	}
	var out []Decision
	at := map[int64]int{}
	for _, p := range d.Pairs {
		k := p.Later.Key
		if of {
			k = p.Of.Key
		}
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, Decision{Step: d.Step, Batch: k})
		}
		out[i].Pairs = append(out[i].Pairs, p)
	}
	return out
}

// bySplit returns the pairs as decisions of step, one per range: those of
// the batches of the range split, where key says a pair's batch is.
func bySplit(step int32, pairs []Pair, key func(Pair) int64, emit func(int64, Decision)) {
	out := map[int64][]Pair{}
	for _, p := range pairs {
		k := splitOf(key(p))
		out[k] = append(out[k], p)
	}
	for _, k := range slices.Sorted(maps.Keys(out)) {
		emit(k, Decision{Step: step, Batch: key(out[k][0]), Pairs: out[k]})
	}
}

// later returns an emitter that hands v to emit when the job's outputs
// are handed on ([bundle.start]).
func later[T any](out func(func()), emit func(T)) func(T) {
	return func(v T) {
		if p, ok := any(&v).(packer); ok {
			p.pack()
		}
		out(func() { emit(v) })
	}
}

// later2 is [later] for emitters of key and value.
func later2[K, V any](out func(func()), emit func(K, V)) func(K, V) {
	return func(k K, v V) {
		if p, ok := any(&v).(packer); ok {
			p.pack()
		}
		out(func() { emit(k, v) })
	}
}

// packer is an element that encodes itself ahead of its coder, which
// then returns the bytes: [later] packs what a job emits on the job's
// goroutine, rather than leaving the encoding to the SDK's one goroutine
// per bundle, which calls the coders (on the dedup benchmark the SimHash
// chunks' encoding took 0.06 CPU-s there, with the cores otherwise idle).
type packer interface{ pack() }

// percentiles builds percentile step pos with the thresholds in d, once
// per worker.
func (c *chain) percentiles(pos int, d Decision) error {
	if c.reports[pos] != nil {
		return nil
	}
	p, ok := c.steps[pos].Stage.(percentiler)
	if !ok {
		return fmt.Errorf("siftbeam: step %d (%T) has no percentiles", pos, c.steps[pos].Stage)
	}
	qs := p.Percentiles()
	if len(d.Pct) != len(qs) {
		return fmt.Errorf("siftbeam: %d thresholds for the %d percentiles of step %d", len(d.Pct), len(qs), pos)
	}
	c.steps[pos].Stage = p.WithPercentiles(func(q float64) float64 {
		// The stage asks for its own percentiles only.
		return d.Pct[slices.Index(qs, q)]
	}, "tdigest", int(d.Rows))
	report := json.RawMessage("null")
	if rp, ok := c.steps[pos].Stage.(sift.Reporter); ok {
		var err error
		if report, err = json.Marshal(rp.Report()); err != nil {
			return err
		}
	}
	if c.reports == nil {
		c.reports = map[int]json.RawMessage{}
	}
	c.reports[pos] = report
	return nil
}

// run reads the ranges and hands each batch left after steps [0, To) to
// fn, as a batch for step To, which fn must not keep. Decisions of steps
// from To on are ignored. Only with sinks (the last pass) are rejects,
// tallies and keepers sent.
func (c *chain) run(ctx context.Context, ranges func(*Range) bool, decs []Decision, out *sinks, fn func(key int64, b *sift.Batch) error) error {
	batches := map[int64][]Decision{}
	want, pcts, wantPcts := 0, 0, 0
	for _, d := range decs {
		switch {
		case int(d.Step) >= c.To:
		case c.Kinds[d.Step] == Percentile:
			if err := c.percentiles(int(d.Step), d); err != nil {
				return err
			}
			pcts++
		default:
			for _, d := range byBatch(d, false) {
				batches[d.Batch] = append(batches[d.Batch], d)
				want++
			}
		}
	}
	for pos := 0; pos < c.To; pos++ {
		if c.Kinds[pos] == Percentile {
			wantPcts++
		}
	}
	t := newTally(c.Ref.Slots)
	s := sinks{rej: func(RejLine) {}, keeper: func(int, RowRef) {}, none: true}
	if out != nil {
		s = *out
	}
	used := 0
	var r Range
	for ranges(&r) {
		if pcts != wantPcts {
			return fmt.Errorf("siftbeam: %s, range %d: the thresholds of %d percentile steps, want %d", r.Split.Path, r.N, pcts, wantPcts)
		}
		var n int
		var err error
		if c.reads() {
			n, err = c.readCache(ctx, r, batches, &t, s, fn)
		} else {
			n, err = c.read(ctx, r, batches, &t, s, fn)
		}
		used += n
		if err != nil {
			return err
		}
		r = Range{}
	}
	if used != want {
		return fmt.Errorf("siftbeam: %d of %d decisions are about batches that are not there", want-used, want)
	}
	if out != nil {
		for pos, rp := range c.reports {
			t.Steps[pos+1].Report = rp
		}
		out.tal(t)
	}
	return nil
}

// read reads one range into batches of BatchSize rows and runs the steps
// on each. Rows that do not parse are rejects of step 0 ("read"); a file
// that cannot be read fails the job with its name. It returns how many of
// the decisions in batches it applied.
func (c *chain) read(ctx context.Context, in Range, batches map[int64][]Decision, t *Tally, s sinks, fn func(int64, *sift.Batch) error) (used int, err error) {
	mem := memory.DefaultAllocator
	path := in.Split.Path
	r, err := dataset.OpenSplit(mem, in.Split, dataset.WithBatchSize(c.BatchSize))
	if err != nil {
		return 0, named(path, err)
	}
	defer r.Close()
	var cache *cacheWriter
	if c.writes() {
		if cache, err = newCacheWriter(c.cachePath(in)); err != nil {
			return 0, err
		}
		defer func() { err = cache.close(err) }()
	}
	for seq := 0; ; seq++ {
		rec, rejects, err := r.Next(ctx)
		if err == io.EOF {
			return used, nil
		}
		if err != nil {
			return used, named(path, err)
		}
		if seq >= 1<<seqBits {
			if rec != nil {
				rec.Release()
			}
			return used, fmt.Errorf("%s: more than %d batches in one split: raise batch_size or lower --split-bytes", path, 1<<seqBits)
		}
		key := partKey(in.File, in.N, seq)
		for i := range rejects {
			rejects[i].Stage = sift.ReadStage
		}
		t.Steps[0].RowsIn += int64(len(rejects))
		rejLines(0, key, rejects, t, s.rej)
		if rec == nil {
			continue
		}
		n := rec.NumRows()
		t.Steps[0].RowsIn += n
		t.Steps[0].RowsOut += n
		t.Steps[0].BytesOut += sift.TextBytes(rec)
		ds := batches[key]
		used += len(ds)
		b, err := c.apply(ctx, key, rec, ds, t, s, 0)
		if err != nil {
			return used, err
		}
		if b == nil {
			continue
		}
		if cache != nil {
			err = cache.put(key, b.Rec)
		}
		if err == nil {
			err = fn(key, b)
		}
		b.Rec.Release()
		if err != nil {
			return used, err
		}
	}
}

// readCache reads range in's batches as the first pass left them in the
// cache and runs steps [Prefix, To) on each, as read does.
func (c *chain) readCache(ctx context.Context, in Range, batches map[int64][]Decision, t *Tally, s sinks, fn func(int64, *sift.Batch) error) (int, error) {
	path := c.cachePath(in)
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("siftbeam: the batches of %s, range %d: %w", in.Split.Path, in.N, err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	used := 0
	var head [16]byte
	for {
		if _, err := io.ReadFull(r, head[:]); err == io.EOF {
			return used, nil
		} else if err != nil {
			return used, fmt.Errorf("%s: %w", path, err)
		}
		key, n := int64(binary.LittleEndian.Uint64(head[:])), binary.LittleEndian.Uint64(head[8:])
		if n > 1<<40 {
			return used, fmt.Errorf("%s: a batch of %d bytes", path, n)
		}
		// A slice of its own: the batch decoded refers to it.
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return used, fmt.Errorf("%s: %w", path, err)
		}
		rec, err := decode(memory.DefaultAllocator, b)
		if err != nil {
			return used, fmt.Errorf("%s: %w", path, err)
		}
		ds := batches[key]
		used += len(ds)
		out, err := c.apply(ctx, key, rec, ds, t, s, c.Prefix)
		if err != nil {
			return used, err
		}
		if out == nil {
			continue
		}
		err = fn(key, out)
		out.Rec.Release()
		if err != nil {
			return used, err
		}
	}
}

// cacheWriter writes a range's batches to the cache: each its key and
// length (8 bytes each, little-endian), then its Arrow IPC stream
// ([encode]): it is read by every pass after the first, and the batches
// decoded from it refer to its bytes. The file is written under a
// temporary name and renamed when complete, so a pass after never reads
// part of one, and a retried first pass replaces it with the same bytes.
type cacheWriter struct {
	path string
	f    *os.File
	w    *bufio.Writer
}

func newCacheWriter(path string) (*cacheWriter, error) {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, err
	}
	return &cacheWriter{path: path, f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

func (w *cacheWriter) put(key int64, rec arrow.RecordBatch) error {
	b, err := encode(memory.DefaultAllocator, rec)
	if err != nil {
		return err
	}
	var head [16]byte
	binary.LittleEndian.PutUint64(head[:], uint64(key))
	binary.LittleEndian.PutUint64(head[8:], uint64(len(b)))
	if _, err := w.w.Write(head[:]); err != nil {
		return err
	}
	_, err = w.w.Write(b)
	return err
}

// close completes the file when err is nil and removes it otherwise.
func (w *cacheWriter) close(err error) error {
	if err == nil {
		err = w.w.Flush()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(w.f.Name(), w.path)
	}
	if err != nil {
		os.Remove(w.f.Name())
	}
	return err
}

// apply runs steps [from, To) on rec (owned) and returns what is left, as
// a batch for step To (its Rec owned by the caller), or nil. Each step's
// batch is the one before's [sift.Batch.Next], so that the text a step
// segmented is not segmented again by the steps after it (exact_dedup's
// keys reuse length_filter's words, as in sift run).
func (c *chain) apply(ctx context.Context, key int64, rec arrow.RecordBatch, ds []Decision, t *Tally, s sinks, from int) (*sift.Batch, error) {
	b := sift.NewBatch(memory.DefaultAllocator, c.name(from), rec)
	for pos := from; pos < c.To; pos++ {
		st := c.steps[pos]
		var out arrow.RecordBatch
		var err error
		switch c.Kinds[pos] {
		case Exact, Simhash:
			var drops []Drop
			var pairs []Pair
			for _, d := range ds {
				if int(d.Step) == pos {
					drops, pairs = append(drops, d.Drops...), append(pairs, d.Pairs...)
				}
			}
			if len(pairs) > 0 {
				if err := readSets(c.Cache, pairs); err != nil {
					b.Rec.Release()
					return nil, err
				}
				d := st.Stage.(*dedup.SimhashDedup)
				var keepers []RowRef
				fs := c.fps.Get().(*fpScratch)
				drops, keepers = nearDrops(d, sift.NewTextView(b.Rec, d.Roles()), pairs, &fs.acc, &fs.fp)
				c.fps.Put(fs)
				for _, k := range keepers {
					s.keeper(pos, k)
				}
			}
			slices.SortFunc(drops, func(a, b Drop) int { return cmp.Compare(a.Pos, b.Pos) })
			ex, _ := st.Stage.(*dedup.ExactDedup)
			out, err = runStage(ctx, b, sift.Step{Name: st.Name}, pos+1, key, t, s.rej, func(b *sift.Batch) {
				if s.none {
					b.OmitRecords()
				}
				for _, d := range drops {
					if len(d.Hash) == 16 && ex != nil {
						d.Detail = ex.DuplicateDetail(xxh3.Uint128{Hi: binary.BigEndian.Uint64(d.Hash), Lo: binary.BigEndian.Uint64(d.Hash[8:])})
					}
					b.RejectDuplicate(int(d.Pos), d.Of, d.Reason, d.Detail)
				}
			})
		default:
			out, err = runStage(ctx, b, st, pos+1, key, t, s.rej, nil)
		}
		if err != nil || out == nil {
			return nil, err
		}
		b = b.Next(c.name(pos+1), out)
	}
	return b, nil
}

// name is the name of plan step pos, or "" past the last.
func (c *chain) name(pos int) string {
	if pos < len(c.steps) {
		return c.steps[pos].Name
	}
	return ""
}

// Stored is a batch the last pass left for the writers in a file of the
// run's scratch directory: its key, where its bytes are, and its rows.
// The bytes are the batch's JSON lines when the output is JSONL
// ([passFn.Lines]), else the batch ([encode]).
type Stored struct {
	Key  int64
	Path string
	Off  int64
	Len  int64
	Rows int64
}

// StoredRej is reject lines a pass left one after another in a file of
// the scratch directory: those of one step and batch from the N-th on, in
// order (their sort key, see [RejLine]), Lens bytes each from Off. An
// element per line was 27 000 elements on the benchmark, each with the
// runner's and the SDK's overhead, twice (to the shards and the writers).
type StoredRej struct {
	Step int32
	Key  int64
	N    int32
	Path string
	Off  int64
	Lens []int32
}

// scratchFile is where a last pass appends its batches and reject lines,
// through a buffer (a write per reject line was a tenth of the last pass),
// written out by close, before anything reads the file.
type scratchFile struct {
	dir string
	f   *os.File
	w   *bufio.Writer
	off int64
}

// put appends b and returns where it is: the file's name in dir, or its
// path when dir is empty (the system's temporary directory). Only the
// name goes with every reject line through the runner.
func (s *scratchFile) put(b []byte) (string, int64, error) {
	if s.f == nil {
		f, err := os.CreateTemp(s.dir, "pass-*")
		if err != nil {
			return "", 0, err
		}
		s.f, s.w = f, bufio.NewWriterSize(f, 256<<10)
	}
	off := s.off
	if _, err := s.w.Write(b); err != nil {
		return "", 0, err
	}
	s.off += int64(len(b))
	if s.dir == "" {
		return s.f.Name(), off, nil
	}
	return filepath.Base(s.f.Name()), off, nil
}

func (s *scratchFile) close() error {
	if s.f == nil {
		return nil
	}
	err := s.w.Flush()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// passFn is the last pass: every step, then the batches that are left and
// the reject lines are appended to a file of its own in the Scratch
// directory (one per range and attempt), and only where they are goes to
// the writers. Through the runner, every byte of the output and the
// rejects crossed its data plane once more (on prism, the output was about
// half of a row-local run's CPU, and rejects of too long rows, whole
// records, can be a quarter of the input's bytes).
//
// For a JSONL output the pass stores each batch as the lines the writer
// would write (Lines, encoded as Format says): the writers, one per shard,
// run when every pass has ended, so encoding there was time with the
// other cores idle (about 0.1 s of the dedup benchmark's 1.4 s on prism).
type passFn struct {
	chain
	Scratch string
	Lines   bool
	Format  string
}

func (f *passFn) ProcessElement(ctx context.Context, _ int64, ranges func(*Range) bool, decs func(*Decision) bool,
	out func(Stored), rej func(StoredRej), tal func(Tally), keeper func(string, Keepers)) error {
	return f.async(ranges, decs, func(ranges func(*Range) bool, ds []Decision, then func(func())) (err error) {
		out, keeper := later(then, out), later2(then, keeper)
		st := &rejStore{file: scratchFile{dir: f.Scratch}, rej: later(then, rej)}
		defer func() { err = st.close(err) }()
		kept := map[string]*Keepers{}
		defer func() {
			if err == nil {
				for k, ks := range kept {
					keeper(k, *ks)
				}
			}
		}()
		named := func(pos int, r RowRef) {
			k := keeperKey(pos, splitOf(r.Key))
			if kept[k] == nil {
				kept[k] = &Keepers{}
			}
			kept[k].Refs = append(kept[k].Refs, r)
		}
		var enc dataset.EncodeFunc
		if f.Format != "" {
			of, err := recipe.Format(f.Format)
			if err != nil {
				return err
			}
			enc = of.Encode
		}
		var lines []byte
		return f.run(ctx, ranges, ds, &sinks{rej: st.put, tal: later(then, tal), keeper: named}, func(key int64, in *sift.Batch) error {
			b := lines
			if f.Lines {
				lines = dataset.AppendLines(lines[:0], in.Rec, enc)
				b = lines
			} else {
				var err error
				if b, err = encode(memory.DefaultAllocator, in.Rec); err != nil {
					return err
				}
			}
			path, off, err := st.file.put(b)
			if err != nil {
				return err
			}
			out(Stored{Key: key, Path: path, Off: off, Len: int64(len(b)), Rows: in.Rec.NumRows()})
			return nil
		})
	})
}

// FinishBundle hands on what the bundle's last elements emitted.
func (f *passFn) FinishBundle(_ func(Stored), _ func(StoredRej), _ func(Tally), _ func(string, Keepers)) error {
	return f.par.finish()
}

// rejStore appends reject lines to a scratch file and sends where they
// are, a run of lines of one step and batch at a time.
type rejStore struct {
	file scratchFile
	rej  func(StoredRej)
	err  error     // the first error of put
	run  StoredRej // the lines put and not yet sent
	end  int64     // where run ends in the file
}

func (s *rejStore) put(l RejLine) {
	path, off, err := s.file.put(l.JSON)
	if err != nil {
		s.err = cmp.Or(s.err, err)
		return
	}
	r := &s.run
	if len(r.Lens) == 0 || r.Step != l.Step || r.Key != l.Key || int(r.N)+len(r.Lens) != int(l.N) || r.Path != path || s.end != off {
		s.flush()
		*r = StoredRej{Step: l.Step, Key: l.Key, N: l.N, Path: path, Off: off}
	}
	r.Lens = append(r.Lens, int32(len(l.JSON)))
	s.end = off + int64(len(l.JSON))
}

// flush sends the run of lines put, if any.
func (s *rejStore) flush() {
	if len(s.run.Lens) > 0 {
		s.rej(s.run)
	}
	s.run = StoredRej{}
}

// close sends the last run, closes the file and returns the first of err,
// put's error and close's.
func (s *rejStore) close(err error) error {
	s.flush()
	cerr := s.file.close()
	return cmp.Or(err, s.err, cerr)
}

// keyPass runs one element of a pass before the last as a job of the
// bundle ([chain.async]): fn gets each batch left for step To, and the
// job's out for its outputs ([later]). With the cache, the first pass
// (see [chain.Prefix]) sends the rejects and tallies of the steps before
// it, through rej and tal; other passes but the last send none.
func (c *chain) keyPass(ctx context.Context, ranges func(*Range) bool, decs func(*Decision) bool, rej func(StoredRej), tal func(Tally),
	fn func(out func(func()), key int64, b *sift.Batch) error) error {
	return c.async(ranges, decs, func(ranges func(*Range) bool, ds []Decision, out func(func())) (err error) {
		st := &rejStore{file: scratchFile{dir: c.Cache}, rej: later(out, rej)}
		defer func() { err = st.close(err) }()
		var s *sinks
		if c.writes() {
			s = &sinks{rej: st.put, tal: later(out, tal), keeper: func(int, RowRef) {}}
		}
		return c.run(ctx, ranges, ds, s, func(key int64, b *sift.Batch) error { return fn(out, key, b) })
	})
}

package siftbeam

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/caio/go-tdigest/v4"
	"github.com/siftdata/sift"
)

// A perplexity step that selects by percentiles (band, top, bucket cuts)
// runs in two passes. The first scores every row and merges the scores
// into one t-digest across the workers; the second is the stage itself,
// built with thresholds at the digest's percentiles, which reaches every
// worker as a side input.
//
// The digest is deterministic whatever the runner's parallelism, so that
// the output is too: a t-digest depends on the order values are added in,
// so each input split's scores are added in batch order (a combine per
// split, holding the split's scores, 8 bytes a row), and the splits'
// digests are merged in input order (a global combine holding one digest,
// a few kB, per split), with a fixed seed.

// percentiler is what the perplexity stage offers a runner that finds
// percentiles itself (see package mining).
type percentiler interface {
	Percentiles() []float64
	Perplexities(rec arrow.RecordBatch) []float64
	WithPercentiles(pct func(q float64) float64, method string, rows int) sift.Stage
}

// digestCompression is the t-digest's compression: about 2× as many
// centroids, which hold interior quantiles within a small fraction of a
// percent of rank.
const digestCompression = 200

// Blobs is a list of keyed byte strings: scores of batches, or digests of
// splits. Lists are merged by concatenation, which does not depend on the
// order of merging; the keys order them when they are used.
type Blobs struct {
	K []int64
	B [][]byte
}

func concatBlobs(a, b Blobs) Blobs {
	return Blobs{K: append(a.K, b.K...), B: append(a.B, b.B...)}
}

// sorted returns the blobs ordered by key.
func (b Blobs) sorted() [][]byte {
	idx := make([]int, len(b.K))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return b.K[idx[i]] < b.K[idx[j]] })
	out := make([][]byte, len(idx))
	for i, x := range idx {
		out[i] = b.B[x]
	}
	return out
}

func newDigest() *tdigest.TDigest {
	d, err := tdigest.New(tdigest.Compression(digestCompression), tdigest.LocalRandomNumberGenerator(1))
	if err != nil {
		panic(err) // a valid constant compression
	}
	return d
}

// splitOf is the key of the input split batch key k belongs to.
func splitOf(k int64) int64 { return k >> seqBits }

// scoreFn emits the perplexities of a batch's rows with tokens, under
// the batch's split.
type scoreFn struct {
	Ref Ref
	Pos int

	p percentiler
}

func (f *scoreFn) Setup() error {
	r, err := f.Ref.parse()
	if err != nil {
		return err
	}
	st, err := f.Ref.build(r, f.Pos, memory.DefaultAllocator)
	if err != nil {
		return err
	}
	p, ok := st.Stage.(percentiler)
	if !ok {
		return fmt.Errorf("siftbeam: step %d (%T) has no percentiles", f.Pos, st.Stage)
	}
	f.p = p
	return nil
}

func (f *scoreFn) ProcessElement(p Part, emit func(int64, Blobs)) error {
	rec, err := decode(memory.DefaultAllocator, p.IPC)
	if err != nil {
		return err
	}
	defer rec.Release()
	var b []byte
	for _, v := range f.p.Perplexities(rec) {
		if !math.IsNaN(v) {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
	}
	emit(splitOf(p.Key), Blobs{K: []int64{p.Key}, B: [][]byte{b}})
	return nil
}

// splitDigest turns a split's scores, added in batch order, into a
// digest.
func splitDigest(split int64, scores Blobs) (Blobs, error) {
	d := newDigest()
	for _, b := range scores.sorted() {
		for i := 0; i+8 <= len(b); i += 8 {
			if err := d.Add(math.Float64frombits(binary.LittleEndian.Uint64(b[i:]))); err != nil {
				return Blobs{}, err
			}
		}
	}
	b, err := d.AsBytes()
	return Blobs{K: []int64{split}, B: [][]byte{b}}, err
}

// mergeDigests merges the splits' digests in input order.
func mergeDigests(all Blobs) (*tdigest.TDigest, error) {
	d := newDigest()
	for _, b := range all.sorted() {
		x, err := tdigest.FromBytes(bytes.NewReader(b), tdigest.Compression(digestCompression), tdigest.LocalRandomNumberGenerator(1))
		if err != nil {
			return nil, fmt.Errorf("siftbeam: a perplexity digest: %w", err)
		}
		if err := d.Merge(x); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// pplFn runs the perplexity step with thresholds at the percentiles of
// the merged digest (the side input), built once per worker.
type pplFn struct {
	Ref Ref
	Pos int

	p      percentiler
	st     sift.Step
	report json.RawMessage // the stage's report: its thresholds, the same on every worker
}

func (f *pplFn) Setup() error {
	s := scoreFn{Ref: f.Ref, Pos: f.Pos}
	if err := s.Setup(); err != nil {
		return err
	}
	f.p = s.p
	return nil
}

func (f *pplFn) ProcessElement(ctx context.Context, p Part, digests Blobs, out func(Part), rej func(RejLine), tal func(Tally)) error {
	if f.st.Stage == nil {
		d, err := mergeDigests(digests)
		if err != nil {
			return err
		}
		r, err := f.Ref.parse()
		if err != nil {
			return err
		}
		f.st = sift.Step{Name: r.Stages[f.Pos].Name,
			Stage: f.p.WithPercentiles(func(q float64) float64 { return d.Quantile(q / 100) }, "tdigest", int(d.Count()))}
		if rp, ok := f.st.Stage.(sift.Reporter); ok {
			if f.report, err = json.Marshal(rp.Report()); err != nil {
				return err
			}
		}
	}
	s := stepsFn{Ref: f.Ref, From: f.Pos, To: f.Pos + 1, steps: []sift.Step{f.st}}
	return s.ProcessElement(ctx, p, out, rej, func(t Tally) {
		t.Steps[f.Pos+1].Report = f.report
		tal(t)
	})
}

package siftbeam

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/caio/go-tdigest/v4"
	"github.com/siftdata/sift"
)

// A perplexity step that selects by percentiles (band, top, bucket cuts)
// runs in two passes. The first, a pass over the input up to the step
// ([chain]), scores every row, and the scores are merged into one t-digest
// across the workers; the values of the step's percentiles are sent with
// every input range to the passes after it, which run the stage itself
// with those thresholds.
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
// the batch's split. It is a pass over the input up to the step
// ([chain]).
type scoreFn struct{ chain }

func (f *scoreFn) ProcessElement(ctx context.Context, _ int64, ranges func(*Range) bool, decs func(*Decision) bool, emit func(int64, Blobs),
	rej func(StoredRej), tal func(Tally)) error {
	p, ok := f.steps[f.To].Stage.(percentiler)
	if !ok {
		return fmt.Errorf("siftbeam: step %d (%T) has no percentiles", f.To, f.steps[f.To].Stage)
	}
	return f.keyPass(ctx, ranges, decs, rej, tal, func(out func(func()), key int64, in *sift.Batch) error {
		var b []byte
		for _, v := range p.Perplexities(in.Rec) {
			if !math.IsNaN(v) {
				b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
			}
		}
		later2(out, emit)(splitOf(key), Blobs{K: []int64{key}, B: [][]byte{b}})
		return nil
	})
}

// FinishBundle hands on what the bundle's last elements emitted.
func (f *scoreFn) FinishBundle(_ func(int64, Blobs), _ func(StoredRej), _ func(Tally)) error {
	return f.par.finish()
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

// thresholdsFn merges the digests of all splits for percentile step Pos
// and finds the values of the step's percentiles, for every range
// ([spread]).
type thresholdsFn struct {
	Ref Ref
	Pos int

	p percentiler
}

func (f *thresholdsFn) Setup() error {
	st, err := buildAs[sift.Stage](f.Ref, f.Pos)
	if err != nil {
		return err
	}
	p, ok := st.(percentiler)
	if !ok {
		return fmt.Errorf("siftbeam: step %d (%T) has no percentiles", f.Pos, st)
	}
	f.p = p
	return nil
}

func (f *thresholdsFn) ProcessElement(all Blobs) (int64, Decision, error) {
	d, err := mergeDigests(all)
	if err != nil {
		return 0, Decision{}, err
	}
	x := Decision{Step: int32(f.Pos), Rows: int64(d.Count())}
	for _, q := range f.p.Percentiles() {
		x.Pct = append(x.Pct, d.Quantile(q/100))
	}
	return 0, x, nil
}

// rangeOnly keys a range's key under 0, to be joined with the thresholds.
func rangeOnly(k int64, _ Range) (int64, int64) { return 0, k }

// spread sends every threshold decision to every range.
func spread(_ int64, keys func(*int64) bool, ds func(*Decision) bool, emit func(int64, Decision)) {
	var all []Decision
	var d Decision
	for ds(&d) {
		all = append(all, d)
		d = Decision{}
	}
	var k int64
	for keys(&k) {
		for _, d := range all {
			emit(k, d)
		}
	}
}

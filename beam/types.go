package siftbeam

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/siftdata/sift"
)

// Part is a batch of rows in flight: an Arrow IPC stream of one record
// batch of the unified schema (plus any columns stages added). Key is
// file<<40 | split<<20 | batch number within the split (see [partKey]);
// with a row's position in the batch it orders rows as the input does.
type Part struct {
	Key int64
	IPC []byte
}

// Bits of a batch key: batches per split, splits per file.
const (
	seqBits   = 20
	splitBits = 20
)

// partKey returns the key of batch seq of split split of input file file.
func partKey(file, split, seq int) int64 {
	return int64(file)<<(seqBits+splitBits) | int64(split)<<seqBits | int64(seq)
}

// RejLine is one line of the rejects output, with its sort key: step (0 is
// the reader), batch key, and rank within the batch's rejects of the step.
type RejLine struct {
	Step int32
	Key  int64
	N    int32
	JSON []byte
}

// RowRef names a row: its batch, its position there, and its id.
type RowRef struct {
	Key int64
	Pos int32
	ID  string
}

// less orders rows as the input does.
func (r RowRef) less(o RowRef) bool { return r.Key < o.Key || r.Key == o.Key && r.Pos < o.Pos }

// Drop rejects the row at Pos of a batch as a duplicate of row Of (its
// id).
type Drop struct {
	Pos    int32
	Of     string
	Reason string
	Detail string
}

// StepTally counts what one step did to some batches.
type StepTally struct {
	RowsIn, RowsAdded, RowsOut, RowsRejected, BytesIn, BytesOut int64
	Rejected                                                    map[string]int64 `json:",omitempty"`
	Counters                                                    map[string]int64 `json:",omitempty"`
	Clusters                                                    *Clusters        `json:",omitempty"`
	Report                                                      json.RawMessage  `json:",omitempty"` // a stage's own report, the same from every worker (perplexity's thresholds)
}

// Clusters is what a dedup step found about its clusters (a keeper and
// its duplicates), summed over the groups that decide them.
type Clusters struct {
	N       int64  // keepers with at least one duplicate
	Largest int64  // rows in the largest cluster, keeper included
	Keeper  RowRef // its keeper: among equally large ones, the first in input order, as sift run picks
}

// merge adds o to c.
func (c *Clusters) merge(o *Clusters) *Clusters {
	if c == nil {
		return o
	}
	if o != nil {
		c.N += o.N
		if o.Largest > c.Largest || o.Largest == c.Largest && o.Keeper.less(c.Keeper) {
			c.Largest, c.Keeper = o.Largest, o.Keeper
		}
	}
	return c
}

// Tally counts what the steps did to some batches, index 0 being the
// reader; Written counts rows written to the output.
type Tally struct {
	Steps   []StepTally
	Written int64
}

func newTally(steps int) Tally { return Tally{Steps: make([]StepTally, steps)} }

func (t *Tally) reject(step int, reason string) {
	s := &t.Steps[step]
	s.RowsRejected++
	if s.Rejected == nil {
		s.Rejected = map[string]int64{}
	}
	s.Rejected[reason]++
}

func (t *Tally) count(step int, key string, n int64) {
	s := &t.Steps[step]
	if s.Counters == nil {
		s.Counters = map[string]int64{}
	}
	s.Counters[key] += n
}

func addMap(dst map[string]int64, src map[string]int64) map[string]int64 {
	if len(src) > 0 && dst == nil {
		dst = map[string]int64{}
	}
	for k, v := range src {
		dst[k] += v
	}
	return dst
}

// mergeTally adds b into a. It is the pipeline's stats combine.
func mergeTally(a, b Tally) Tally {
	if len(a.Steps) < len(b.Steps) {
		a, b = b, a
	}
	for i, s := range b.Steps {
		d := &a.Steps[i]
		d.RowsIn += s.RowsIn
		d.RowsAdded += s.RowsAdded
		d.RowsOut += s.RowsOut
		d.RowsRejected += s.RowsRejected
		d.BytesIn += s.BytesIn
		d.BytesOut += s.BytesOut
		d.Rejected = addMap(d.Rejected, s.Rejected)
		d.Counters = addMap(d.Counters, s.Counters)
		d.Clusters = d.Clusters.merge(s.Clusters)
		if d.Report == nil {
			d.Report = s.Report
		}
	}
	a.Written += b.Written
	return a
}

// Tallies are JSON-coded: their maps have no schema coder.
func encTally(t Tally) ([]byte, error) { return json.Marshal(t) }
func decTally(b []byte) (Tally, error) {
	var t Tally
	err := json.Unmarshal(b, &t)
	return t, err
}

func init() {
	beam.RegisterCoder(reflect.TypeOf(Tally{}), encTally, decTally)
}

// encode writes rec as an Arrow IPC stream.
func encode(mem memory.Allocator, rec arrow.RecordBatch) ([]byte, error) {
	// Sized at once: grown by doubling, the buffer was cleared and copied
	// about twice over (a tenth of a row-local Beam run's CPU).
	size := 4 << 10 // schema and message headers
	for _, c := range rec.Columns() {
		size += dataBytes(c.Data())
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	w := ipc.NewWriter(buf, ipc.WithSchema(rec.Schema()), ipc.WithAllocator(mem))
	if err := w.Write(rec); err != nil {
		w.Close()
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// dataBytes is about the bytes of d's buffers in an IPC message: each
// buffer padded to 8 bytes, children included.
func dataBytes(d arrow.ArrayData) int {
	n := 64
	for _, b := range d.Buffers() {
		if b != nil {
			n += b.Len() + 8
		}
	}
	for _, c := range d.Children() {
		n += dataBytes(c)
	}
	return n
}

// decode reads the one record batch of an IPC stream; the caller releases
// it.
func decode(mem memory.Allocator, b []byte) (arrow.RecordBatch, error) {
	r, err := ipc.NewReader(bytes.NewReader(b), ipc.WithAllocator(mem))
	if err != nil {
		return nil, fmt.Errorf("siftbeam: decoding a batch: %w", err)
	}
	defer r.Release()
	if !r.Next() {
		if err := r.Err(); err != nil {
			return nil, fmt.Errorf("siftbeam: decoding a batch: %w", err)
		}
		return nil, fmt.Errorf("siftbeam: decoding a batch: no record")
	}
	rec := r.RecordBatch()
	rec.Retain()
	return rec, nil
}

// rejLines turns a step's rejects of batch key into lines and counts them.
func rejLines(step int, key int64, rs []sift.Reject, t *Tally, emit func(RejLine)) {
	for i := range rs {
		t.reject(step, rs[i].Reason)
		emit(RejLine{Step: int32(step), Key: key, N: int32(i), JSON: rs[i].AppendJSON(nil)})
	}
}

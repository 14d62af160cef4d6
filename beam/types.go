package siftbeam

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"reflect"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/siftdata/sift"
)

// A batch of rows is keyed by file<<40 | split<<20 | batch number within
// the split (see [partKey]); with a row's position in the batch the key
// orders rows as the input does.

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
// Its JSON is borrowed (see [rejLines]).
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
	// Hash is exact_dedup's hash of the row (16 bytes, big-endian Hi and
	// Lo), from which the pass applying the drop makes Detail
	// ([dedup.ExactDedup.DuplicateDetail]); empty for others.
	Hash []byte
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

// encode writes rec as an Arrow IPC stream, uncompressed: batches do not
// cross the runner, they are left in scratch files, where LZ4 (which
// halved the bytes the runner copied when they did: row-local recipe on
// prism 3.3 CPU-s plain, 2.2 with LZ4) only costs CPU to write and read
// them (the dedup recipe's first pass and output: 0.1 and 0.03 CPU-s).
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
// it. The batch's buffers are slices of b, which must not change while the
// batch is in use (the runner decodes every element into a new slice).
func decode(mem memory.Allocator, b []byte) (arrow.RecordBatch, error) {
	r, err := ipc.NewReaderFromMessageReader(&messages{b: b}, ipc.WithAllocator(mem))
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

// messages reads the messages of an IPC stream held in memory without
// copying their bodies, as ipc.NewReader over a bytes.Reader would (a
// batch's bytes twice over in a worker's heap for every element decoded).
type messages struct {
	b   []byte
	msg *ipc.Message
}

// Message returns the next message, valid until the next call.
func (m *messages) Message() (msg *ipc.Message, err error) {
	defer func() {
		if r := recover(); r != nil { // a corrupt flatbuffer
			msg, err = nil, fmt.Errorf("invalid message metadata: %v", r)
		}
	}()
	if m.msg != nil {
		m.msg.Release()
		m.msg = nil
	}
	word := func() (uint32, error) {
		if len(m.b) < 4 {
			return 0, io.ErrUnexpectedEOF
		}
		v := binary.LittleEndian.Uint32(m.b)
		m.b = m.b[4:]
		return v, nil
	}
	n, err := word()
	if err != nil {
		return nil, err
	}
	if n == 0xFFFFFFFF { // the continuation marker, then the length
		if n, err = word(); err != nil {
			return nil, err
		}
	}
	if n == 0 {
		return nil, io.EOF
	}
	if n < 4 || uint64(n) > uint64(len(m.b)) {
		return nil, fmt.Errorf("message metadata of %d bytes, %d left", n, len(m.b))
	}
	meta := memory.NewBufferBytes(m.b[:n:n])
	m.b = m.b[n:]
	head := ipc.NewMessage(meta, memory.NewBufferBytes(nil))
	size := head.BodyLen()
	head.Release()
	if size < 0 || size > int64(len(m.b)) {
		return nil, fmt.Errorf("message body of %d bytes, %d left", size, len(m.b))
	}
	m.msg = ipc.NewMessage(meta, memory.NewBufferBytes(m.b[:size:size]))
	m.b = m.b[size:]
	return m.msg, nil
}

// Retain does nothing: the reader's messages live in b, which the garbage
// collector keeps.
func (m *messages) Retain() {}

// Release releases the last message.
func (m *messages) Release() {
	if m.msg != nil {
		m.msg.Release()
		m.msg = nil
	}
}

// rejLines turns a step's rejects of batch key into lines and counts them.
// A line's JSON is valid only during the call of emit: the lines are
// written into one buffer (each a row's JSON and more, they were a tenth
// of the bytes the dedup recipe allocated).
func rejLines(step int, key int64, rs []sift.Reject, t *Tally, emit func(RejLine)) {
	var buf []byte
	for i := range rs {
		t.reject(step, rs[i].Reason)
		buf = rs[i].AppendJSON(buf[:0])
		emit(RejLine{Step: int32(step), Key: key, N: int32(i), JSON: buf})
	}
}

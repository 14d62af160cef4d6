package sift

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift/internal/take"
)

// Stage transforms one batch of rows.
//
// b.Rec is borrowed: Process must not Release it, and must Retain it (or any
// of its columns) to keep it past the call. The returned batch is owned by
// the caller, who Releases it; nil means no rows. A stage that passes its
// input through returns [Batch.Pass].
//
// Every input row must be accounted for: it is either in the result or
// rejected with [Batch.Reject]. Rows the stage creates are declared with
// [Batch.Add]. The pipeline checks this and fails the run otherwise.
//
// Process may be called from several goroutines at once, on different
// batches, unless the stage implements [Sequential] or [Flusher].
type Stage interface {
	Process(ctx context.Context, b *Batch) (arrow.RecordBatch, error)
}

// StageFunc adapts a function to a [Stage].
type StageFunc func(ctx context.Context, b *Batch) (arrow.RecordBatch, error)

// Process calls f(ctx, b).
func (f StageFunc) Process(ctx context.Context, b *Batch) (arrow.RecordBatch, error) {
	return f(ctx, b)
}

// Sequential is implemented by stages that keep state across batches and
// must see every batch in stream order, one at a time. The pipeline runs
// them on a single worker.
type Sequential interface {
	Stage
	Sequential()
}

// Preparer is implemented by [Sequential] stages whose work on a batch is in
// two parts: one that looks at each batch alone (hashing, fingerprinting)
// and one that must see the batches in stream order (an index of the rows
// kept so far). The pipeline calls Prepare on several batches at once, on
// the step's workers, and then Process on each batch in stream order, one
// at a time, with what Prepare returned in [Batch.Prepared]. So the ordered
// part alone limits how fast a run with many workers goes.
//
// Prepare must not change the stage's state, nor reject or add rows. Process
// must work without Prepare, with Prepared nil, as it does when the stage is
// run by hand, in a [Chain] or by another engine.
type Preparer interface {
	Sequential
	Prepare(ctx context.Context, b *Batch) (any, error)
}

// Flusher is implemented by stages that hold rows back. Flush is called once
// after the last batch, with b.Rec nil, and returns the rows still held
// (owned by the caller; nil for none). A Flusher is run sequentially.
type Flusher interface {
	Stage
	Flush(ctx context.Context, b *Batch) (arrow.RecordBatch, error)
}

// Reject is a dropped row, as written to the rejects output.
type Reject struct {
	ID          string // the row's id
	Stage       string // the stage that dropped it ("read" for input errors)
	Reason      string // short machine code, e.g. "too_short"
	Detail      string // human text, e.g. "12 words < min 50"
	DuplicateOf string // id of the kept row, for duplicates
	// Value is the number the row was judged by, for stages that judge by
	// one (the perplexity stage's score), so that readers of the rejects
	// (jq, run reports) need not parse Detail; nil for none.
	Value  *float64
	Record []byte // the row as a JSON object, or the raw input line for input errors (as a JSON string)
}

// Batch is one unit of work handed to a stage, and collects what the stage
// reports about it: rejects, added rows and counters.
type Batch struct {
	// Rec is the input batch, borrowed for the duration of the call.
	Rec arrow.RecordBatch
	// Mem is the allocator for any Arrow memory the stage allocates.
	Mem memory.Allocator

	acc   *accum
	words *segCache // the segmentation of Rec, from an earlier step or made here
	prep  any       // what Preparer.Prepare returned for Rec
}

// Prepared returns what the stage's [Preparer.Prepare] returned for b, or
// nil when it was not called.
func (b *Batch) Prepared() any { return b.prep }

type accum struct {
	stage    string
	rejects  []Reject
	rejected map[arrow.RecordBatch]map[int]bool
	added    int64
	counts   map[string]int64
	carried  *segCache // the segmentation of the result, to hand on
	// noRecords leaves Reject.Record empty: the pipeline sets it when no
	// rejects output is configured, so nothing would read the row's JSON.
	noRecords bool
}

// NewBatch returns a Batch over rec (borrowed) for the stage called stage.
// The pipeline makes these; call it directly to drive a stage by hand, as
// tests do.
func NewBatch(mem memory.Allocator, stage string, rec arrow.RecordBatch) *Batch {
	return &Batch{Rec: rec, Mem: mem, acc: &accum{stage: stage}}
}

// Reject drops row of b.Rec with a reason code and human detail.
// It panics if row is out of range or was already rejected.
func (b *Batch) Reject(row int, reason, detail string) {
	b.RejectFrom(b.Rec, row, Reject{Reason: reason, Detail: detail})
}

// RejectDuplicate drops row of b.Rec as a duplicate of the kept row with id of.
func (b *Batch) RejectDuplicate(row int, of, reason, detail string) {
	b.RejectFrom(b.Rec, row, Reject{Reason: reason, Detail: detail, DuplicateOf: of})
}

// RejectFrom drops row of rec, a batch the stage held back (for Flush). Only
// r's Reason, Detail, DuplicateOf and Value are used. It panics if row is out of
// range or was already rejected.
func (b *Batch) RejectFrom(rec arrow.RecordBatch, row int, r Reject) {
	if row < 0 || int64(row) >= rec.NumRows() {
		panic(fmt.Sprintf("sift: stage %s rejected row %d of a %d-row batch", b.acc.stage, row, rec.NumRows()))
	}
	if b.acc.rejected == nil {
		b.acc.rejected = map[arrow.RecordBatch]map[int]bool{}
	}
	m := b.acc.rejected[rec]
	if m == nil {
		m = map[int]bool{}
		b.acc.rejected[rec] = m
	}
	if m[row] {
		panic(fmt.Sprintf("sift: stage %s rejected row %d twice", b.acc.stage, row))
	}
	m[row] = true
	r.ID = ColsOf(rec).ID.Value(row)
	r.Stage = b.acc.stage
	if !b.acc.noRecords {
		r.Record = AppendRowJSON(nil, rec, row)
	}
	b.acc.rejects = append(b.acc.rejects, r)
}

// OmitRecords leaves the Record of the rejects made from now on empty, for
// a runner that makes a stage's rejects where nothing reads them (sift's
// Beam module applies the dedup steps' decisions in every pass over the
// input, and only the last one writes the rejects).
func (b *Batch) OmitRecords() { b.acc.noRecords = true }

// Rejected reports whether row of b.Rec was rejected in this call.
func (b *Batch) Rejected(row int) bool { return b.acc.rejected[b.Rec][row] }

// Add declares n rows created by the stage (for example augmented copies).
func (b *Batch) Add(n int) { b.acc.added += int64(n) }

// Count adds n to the stage's counter key, reported in the run's stats.
func (b *Batch) Count(key string, n int64) {
	if b.acc.counts == nil {
		b.acc.counts = map[string]int64{}
	}
	b.acc.counts[key] += n
}

// Rejects returns the rows rejected so far in this call.
func (b *Batch) Rejects() []Reject { return b.acc.rejects }

// Added returns the rows declared with Add so far in this call.
func (b *Batch) Added() int64 { return b.acc.added }

// Counts returns the counters added so far in this call.
func (b *Batch) Counts() map[string]int64 { return b.acc.counts }

// Pass returns b.Rec retained, for stages that keep every row unchanged.
func (b *Batch) Pass() arrow.RecordBatch {
	b.Rec.Retain()
	b.carryTo(b.Rec, nil)
	return b.Rec
}

// Keep returns rec without the rows of b.Rec rejected in this call. rec must
// have b.Rec's rows in the same order (usually b.Rec itself or a rewrite of
// it); it is borrowed, and the result is owned by the caller.
func (b *Batch) Keep(ctx context.Context, rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	if rec.NumRows() != b.Rec.NumRows() {
		panic(fmt.Sprintf("sift: Keep on %d rows, input had %d", rec.NumRows(), b.Rec.NumRows()))
	}
	dropped := b.acc.rejected[b.Rec]
	if len(dropped) == 0 {
		rec.Retain()
		b.carryTo(rec, nil)
		return rec, nil
	}
	keep := make([]int, 0, int(rec.NumRows())-len(dropped))
	for i := 0; i < int(rec.NumRows()); i++ {
		if !dropped[i] {
			keep = append(keep, i)
		}
	}
	out, err := take.Record(ctx, b.Mem, rec, keep)
	if err == nil {
		b.carryTo(out, keep)
	}
	return out, err
}

// Chain returns a stage that runs stages one after another on each batch,
// as one step. Rejects and counters of all of them are reported under the
// chain's step name. The chain is sequential if any of its stages is; it
// does not support Flusher stages and panics if given one.
func Chain(stages ...Stage) Stage {
	seq := false
	for _, s := range stages {
		if _, ok := s.(Flusher); ok {
			panic("sift: Chain does not take Flusher stages")
		}
		_, ok := s.(Sequential)
		seq = seq || ok
	}
	c := chain(stages)
	if seq {
		return seqChain{c}
	}
	return c
}

type chain []Stage

func (c chain) Process(ctx context.Context, b *Batch) (arrow.RecordBatch, error) {
	cur := b.Pass()
	words := b.carried(cur)
	for _, s := range c {
		sub := *b
		sub.Rec, sub.words = cur, words
		next, err := s.Process(ctx, &sub)
		words = sub.carried(next)
		cur.Release()
		if err != nil {
			return nil, err
		}
		if next == nil {
			return nil, nil
		}
		cur = next
	}
	return cur, nil
}

type seqChain struct{ chain }

func (seqChain) Sequential() {}

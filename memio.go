package sift

import (
	"context"
	"io"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
)

// SliceSource is a Source yielding batches from memory, for tests and
// in-memory data.
type SliceSource struct{ recs []arrow.RecordBatch }

// NewSliceSource returns a source yielding recs in order. It takes ownership
// of recs: each one handed out is owned by the pipeline; Release frees the
// ones a stopped run did not take.
func NewSliceSource(recs ...arrow.RecordBatch) *SliceSource {
	return &SliceSource{recs: recs}
}

// Release releases the batches not handed out.
func (s *SliceSource) Release() {
	for _, r := range s.recs {
		r.Release()
	}
	s.recs = nil
}

// Next hands out the next batch.
func (s *SliceSource) Next(context.Context) (arrow.RecordBatch, []Reject, error) {
	if len(s.recs) == 0 {
		return nil, nil, io.EOF
	}
	r := s.recs[0]
	s.recs = s.recs[1:]
	return r, nil, nil
}

// Collector is a Sink that keeps every batch it is given, retained. Release
// it when done.
type Collector struct {
	mu   sync.Mutex
	Recs []arrow.RecordBatch
}

// Write retains rec.
func (c *Collector) Write(_ context.Context, rec arrow.RecordBatch) error {
	rec.Retain()
	c.mu.Lock()
	c.Recs = append(c.Recs, rec)
	c.mu.Unlock()
	return nil
}

// Rows returns all collected rows as JSON objects (see [AppendRowJSON]).
func (c *Collector) Rows() []string {
	var out []string
	for _, r := range c.Recs {
		for i := 0; i < int(r.NumRows()); i++ {
			out = append(out, string(AppendRowJSON(nil, r, i)))
		}
	}
	return out
}

// Release releases the collected batches.
func (c *Collector) Release() {
	for _, r := range c.Recs {
		r.Release()
	}
	c.Recs = nil
}

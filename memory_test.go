package sift_test

import (
	"context"
	"io"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
)

// peakAllocator tracks the most bytes allocated at once.
type peakAllocator struct {
	memory.Allocator
	cur, peak atomic.Int64
}

func (a *peakAllocator) add(n int) {
	c := a.cur.Add(int64(n))
	for p := a.peak.Load(); c > p && !a.peak.CompareAndSwap(p, c); p = a.peak.Load() {
	}
}

func (a *peakAllocator) Allocate(n int) []byte { a.add(n); return a.Allocator.Allocate(n) }
func (a *peakAllocator) Free(b []byte)         { a.add(-len(b)); a.Allocator.Free(b) }
func (a *peakAllocator) Reallocate(n int, b []byte) []byte {
	a.add(n - len(b))
	return a.Allocator.Reallocate(n, b)
}

// genSource makes n batches on demand, so the input never sits in memory.
type genSource struct {
	mem     memory.Allocator
	n, rows int
}

func (g *genSource) Next(context.Context) (arrow.RecordBatch, []sift.Reject, error) {
	if g.n == 0 {
		return nil, nil, io.EOF
	}
	g.n--
	return makeRows(g.mem, g.rows), nil, nil
}

func TestMemoryBoundedByBatchesInFlight(t *testing.T) {
	peakOf := func(batches int) int64 {
		mem := &peakAllocator{Allocator: memory.NewCheckedAllocator(memory.NewGoAllocator())}
		sink := sift.SinkFunc(func(context.Context, arrow.RecordBatch) error { return nil })
		_, err := sift.NewPipeline(&genSource{mem: mem, n: batches, rows: 64}, sink,
			sift.WithAllocator(mem), sift.WithWorkers(4), sift.WithQueueDepth(2),
			sift.WithStage("upper", sift.StageFunc(upper)), sift.WithStage("drop", sift.StageFunc(dropFives)),
		).Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if c := mem.cur.Load(); c != 0 {
			t.Fatalf("%d bytes still allocated", c)
		}
		return mem.peak.Load()
	}
	small, large := peakOf(100), peakOf(1500)
	// Fifteen times the input must not need more memory: only the batches
	// in flight (queue depth + workers per step) are alive.
	if large > small*3/2 {
		t.Errorf("peak memory grows with input: %d bytes for 100 batches, %d for 1500", small, large)
	}
	t.Logf("peak %d bytes (100 batches), %d bytes (1500 batches)", small, large)
}

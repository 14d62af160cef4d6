package clean

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
)

// BenchmarkRedact compares the stage with its prefilter ("sift") against
// running every pattern over the whole text ("naive"), on typical mixed
// English/Chinese prose (about 1.5 KB rows, one planted value and two
// decoys each), all recognizers on. The speed is text bytes per second.
func BenchmarkRedact(b *testing.B) {
	mem := memory.NewGoAllocator()
	g := newPIIGen(3)
	rows := make([]genRow, 256)
	for i := range rows {
		rows[i] = g.typicalRow()
	}
	rec := genBatches(b, mem, rows, len(rows))[0]
	defer rec.Release()
	st, err := NewRedactor()
	if err != nil {
		b.Fatal(err)
	}
	fast := st.(*Redactor)
	naive := *fast
	naive.naive = true
	for _, c := range []struct {
		name string
		r    *Redactor
	}{{"sift", fast}, {"naive", &naive}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(sift.TextBytes(rec))
			b.ReportAllocs()
			ctx := context.Background()
			for b.Loop() {
				out, err := c.r.Process(ctx, sift.NewBatch(mem, "pii_redact", rec))
				if err != nil {
					b.Fatal(err)
				}
				out.Release()
			}
		})
	}
}

package sift

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift/seg"
)

// segRows returns n rows of English, Chinese and mixed text, a third of
// them conversations of three turns.
func segRows(mem memory.Allocator, n int) arrow.RecordBatch {
	texts := []string{
		"The quick brown fox jumps over the lazy dog.",
		"版权所有，保留一切权利。Copyright 2024 Free Software Foundation, Inc.",
		"don't panic: it's 3.14 (or so) — ça va?",
		"",
		"one\r\ntwo\nthree  four\tfive",
	}
	b := NewBuilder(mem)
	defer b.Release()
	for i := range n {
		r := Row{ID: fmt.Sprintf("r%04d", i)}
		t := texts[i%len(texts)] + strings.Repeat(" word", i%7)
		if i%3 == 2 {
			r.Messages = []Message{{Role: "system", Content: texts[(i+1)%len(texts)]}, {Role: "user", Content: t}, {Role: "assistant", Content: "答案 " + t}}
		} else {
			r.Text = &t
		}
		b.Append(r)
	}
	return b.NewBatch()
}

// checkWords fails unless every view of b gives the words seg gives.
func checkWords(t *testing.T, b *Batch) {
	for _, roles := range []Roles{AllRoles, RoleUser, RoleAssistant | RoleSystem} {
		v := b.TextView(roles)
		for i := 0; i < int(b.Rec.NumRows()); i++ {
			if got, want := v.Words(i), seg.AppendWords(nil, v.Text(i)); !slices.Equal(got, want) {
				t.Errorf("row %d roles %v: Words %v, seg %v", i, roles, got, want)
			}
			v.PartWords(i, func(msg int, s string, got []seg.Segment) {
				if want := seg.AppendWords(nil, s); !slices.Equal(got, want) {
					t.Errorf("row %d part %d: PartWords %v, seg %v", i, msg, got, want)
				}
			})
		}
	}
}

// TestSharedWords runs words through a filter, a rewrite and a stage that
// adds a column, on tiny and large batches and several workers: every
// stage must see the words of its own text, and a stage after one that
// kept the text must get them computed already.
func TestSharedWords(t *testing.T) {
	for _, chain := range []bool{false, true} {
		for _, batch := range []int{1, 7, 500} {
			t.Run(fmt.Sprintf("chain=%v/batch=%d", chain, batch), func(t *testing.T) {
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				defer mem.AssertSize(t, 0)
				rec := segRows(mem, 300)
				defer rec.Release()
				var rows []arrow.RecordBatch
				for i := int64(0); i < rec.NumRows(); i += int64(batch) {
					rows = append(rows, rec.NewSlice(i, min(i+int64(batch), rec.NumRows())))
				}
				var reused, fresh atomic.Int64
				count := func(b *Batch) { // how many of b's texts arrive segmented
					c, cols := b.segs(), ColsOf(b.Rec)
					add := func(p int) {
						if c.parts[p] != nil {
							reused.Add(1)
						} else {
							fresh.Add(1)
						}
					}
					for i := 0; i < c.rows; i++ {
						if !cols.Messages.IsValid(i) {
							add(i)
							continue
						}
						start, end := cols.Messages.ValueOffsets(i)
						for j := start; j < end; j++ {
							add(c.msg(int(j)))
						}
					}
				}
				drop := StageFunc(func(ctx context.Context, b *Batch) (arrow.RecordBatch, error) {
					checkWords(t, b)
					ids := ColsOf(b.Rec).ID
					for i := 0; i < ids.Len(); i++ {
						if strings.HasSuffix(ids.Value(i), "3") {
							b.Reject(i, "ends_in_3", "")
						}
					}
					return b.Keep(ctx, b.Rec)
				})
				rewrite := StageFunc(func(ctx context.Context, b *Batch) (arrow.RecordBatch, error) {
					count(b)
					checkWords(t, b)
					out := RewriteText(b.Mem, b.Rec, RoleUser, func(row, _ int, s string) string {
						if row%2 == 0 {
							return strings.ReplaceAll(s, " ", "_")
						}
						return s
					})
					defer out.Release()
					return b.Keep(ctx, out)
				})
				last := StageFunc(func(ctx context.Context, b *Batch) (arrow.RecordBatch, error) {
					checkWords(t, b)
					return b.Pass(), nil
				})
				var steps []Step
				if chain {
					steps = []Step{{Name: "all", Stage: Chain(drop, rewrite, last)}}
				} else {
					steps = []Step{{Name: "drop", Stage: drop}, {Name: "rewrite", Stage: rewrite}, {Name: "last", Stage: last}}
				}
				var out Collector
				defer out.Release()
				p := NewPipeline(NewSliceSource(rows...), &out, WithAllocator(mem), WithWorkers(3), WithSteps(steps...))
				if _, err := p.Run(context.Background()); err != nil {
					t.Fatal(err)
				}
				if reused.Load() == 0 || fresh.Load() != 0 {
					t.Errorf("after the filter %d parts arrived segmented, %d not; want all", reused.Load(), fresh.Load())
				}
			})
		}
	}
}

// TestCPUExcludesWaiting: a stage that sleeps is busy for the sleep but
// uses next to no CPU, and one that computes uses CPU.
func TestCPUExcludesWaiting(t *testing.T) {
	if _, ok := threadCPU(); !ok {
		t.Skip("no per-thread CPU clock on this system")
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := segRows(mem, 40)
	defer rec.Release()
	rows := cut(rec, 10)
	sleep := StageFunc(func(ctx context.Context, b *Batch) (arrow.RecordBatch, error) {
		time.Sleep(20 * time.Millisecond)
		return b.Pass(), nil
	})
	spin := StageFunc(func(ctx context.Context, b *Batch) (arrow.RecordBatch, error) {
		for t0, _ := threadCPU(); ; {
			if t1, _ := threadCPU(); t1-t0 > 10*time.Millisecond {
				break
			}
		}
		return b.Pass(), nil
	})
	var out Collector
	defer out.Release()
	st, err := NewPipeline(NewSliceSource(rows...), &out, WithAllocator(mem), WithWorkers(1),
		WithStage("sleep", sleep), WithStage("spin", spin)).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s := st.Stages[1]; s.Busy < 80*time.Millisecond || s.CPU > 20*time.Millisecond {
		t.Errorf("sleeping stage: busy %v, cpu %v; want ≥ 80ms busy, next to no CPU", s.Busy, s.CPU)
	}
	if s := st.Stages[2]; s.CPU < 40*time.Millisecond {
		t.Errorf("spinning stage: cpu %v, want ≥ 40ms", s.CPU)
	}
}

// cut cuts rec into batches of n rows, each a new reference.
func cut(rec arrow.RecordBatch, n int64) []arrow.RecordBatch {
	var rows []arrow.RecordBatch
	for i := int64(0); i < rec.NumRows(); i += n {
		rows = append(rows, rec.NewSlice(i, min(i+n, rec.NumRows())))
	}
	return rows
}

// TestCPUEstimate: past its first calls a step is timed one call in
// timedEvery and the others are estimated; a stage that spins for CPU time
// in proportion to its batch's text is charged that time within a few
// per cent, and one that sleeps next to none.
func TestCPUEstimate(t *testing.T) {
	if _, ok := threadCPU(); !ok {
		t.Skip("no per-thread CPU clock on this system")
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := segRows(mem, 240)
	defer rec.Release()
	const perByte = 2 * time.Microsecond
	want := time.Duration(TextBytes(rec)+rec.NumRows()) * perByte
	sleep := StageFunc(func(ctx context.Context, b *Batch) (arrow.RecordBatch, error) {
		time.Sleep(2 * time.Millisecond)
		return b.Pass(), nil
	})
	spin := StageFunc(func(ctx context.Context, b *Batch) (arrow.RecordBatch, error) {
		runtime.LockOSThread() // the same thread's clock throughout
		defer runtime.UnlockOSThread()
		d := time.Duration(TextBytes(b.Rec)+b.Rec.NumRows()) * perByte
		for t0, _ := threadCPU(); ; {
			if t1, _ := threadCPU(); t1-t0 >= d {
				break
			}
		}
		return b.Pass(), nil
	})
	for _, workers := range []int{1, 2} {
		var out Collector
		st, err := NewPipeline(NewSliceSource(cut(rec, 5)...), &out, // 48 batches, taken by the source
			WithAllocator(mem), WithWorkers(workers),
			WithStage("sleep", sleep), WithStage("spin", spin)).Run(context.Background())
		out.Release()
		if err != nil {
			t.Fatal(err)
		}
		if s := st.Stages[1]; s.CPU > 10*time.Millisecond {
			t.Errorf("workers %d: sleeping stage: cpu %v, want next to none", workers, s.CPU)
		}
		if got := st.Stages[2].CPU; got < want*95/100 || got > want*110/100 {
			t.Errorf("workers %d: spinning stage: cpu %v, want %v ± 5 %%", workers, got, want)
		}
	}
}

// TestNextCarriesWords drives a filter, a rewrite and a stage after it by
// hand, each batch made by the one before's Next, as a runner outside the
// pipeline does: the words of every text the rewrite kept arrive computed,
// those it rewrote do not, and every stage sees the words of its own text.
func TestNextCarriesWords(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := segRows(mem, 60)
	ctx := context.Background()
	b := NewBatch(mem, "drop", rec)
	b.TextView(AllRoles).Words(0) // a stage segments as it pleases
	checkWords(t, b)
	for i := 0; i < int(rec.NumRows()); i += 4 {
		b.Reject(i, "every_fourth", "")
	}
	kept, err := b.Keep(ctx, rec)
	rec.Release()
	if err != nil {
		t.Fatal(err)
	}
	b = b.Next("rewrite", kept)
	if b.Rec != kept || b.words == nil {
		t.Fatalf("Next: batch over %p with words %v, want the kept rows' with the filter's words", b.Rec, b.words != nil)
	}
	checkWords(t, b)
	out := RewriteText(mem, kept, AllRoles, func(row, _ int, s string) string {
		if row%2 == 0 {
			return "x " + s
		}
		return s
	})
	res, err := b.Keep(ctx, out)
	out.Release()
	kept.Release()
	if err != nil {
		t.Fatal(err)
	}
	defer res.Release()
	b = b.Next("last", res)
	cols := ColsOf(res)
	for i := 0; i < int(res.NumRows()); i++ {
		if cols.Messages.IsValid(i) {
			continue
		}
		if got, want := b.words.parts[i] != nil, i%2 == 1; got != want {
			t.Errorf("row %d: words carried %v, want %v (rewritten rows are segmented again)", i, got, want)
		}
	}
	checkWords(t, b)
	if n := NewBatch(mem, "other", res).Next("after", res); n.words != nil {
		t.Error("Next of a batch whose stage handed nothing on carries words")
	}
}

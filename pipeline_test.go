package sift_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
)

// makeRows returns n rows mixing text and conversation rows.
func makeRows(mem memory.Allocator, n int) arrow.RecordBatch {
	b := sift.NewBuilder(mem)
	defer b.Release()
	for i := range n {
		r := sift.Row{ID: fmt.Sprintf("r%04d", i)}
		if i%3 == 2 {
			r.Messages = []sift.Message{{Role: "user", Content: fmt.Sprintf("question %d", i)}, {Role: "assistant", Content: "answer 你好"}}
		} else {
			s := strings.Repeat("word ", i%11) + "end"
			r.Text = &s
		}
		if i%4 == 0 {
			r.Meta = fmt.Sprintf(`{"n":%d}`, i)
		}
		b.Append(r)
	}
	return b.NewBatch()
}

// batches slices rec into batches of size n (each owned by the caller).
func batches(rec arrow.RecordBatch, n int) []arrow.RecordBatch {
	var out []arrow.RecordBatch
	for i := int64(0); i < rec.NumRows(); i += int64(n) {
		out = append(out, rec.NewSlice(i, min(i+int64(n), rec.NumRows())))
	}
	return out
}

// dropEvery rejects rows whose index in the stream is divisible by k; it
// looks only at ids, so it is stateless.
func dropFives(ctx context.Context, b *sift.Batch) (arrow.RecordBatch, error) {
	ids := sift.ColsOf(b.Rec).ID
	for i := 0; i < ids.Len(); i++ {
		if strings.HasSuffix(ids.Value(i), "5") {
			b.Reject(i, "ends_in_5", "id "+ids.Value(i))
		}
	}
	return b.Keep(ctx, b.Rec)
}

func upper(_ context.Context, b *sift.Batch) (arrow.RecordBatch, error) {
	return sift.RewriteText(b.Mem, b.Rec, sift.RoleUser, func(_, _ int, s string) string { return strings.ToUpper(s) }), nil
}

// twice emits every row twice, declaring the copies.
func twice(ctx context.Context, b *sift.Batch) (arrow.RecordBatch, error) {
	out := sift.NewBuilder(b.Mem)
	defer out.Release()
	v := sift.NewTextView(b.Rec, sift.AllRoles)
	c := v.Cols()
	for i := 0; i < int(b.Rec.NumRows()); i++ {
		for k := range 2 {
			s := strings.Clone(v.Text(i))
			out.Append(sift.Row{ID: fmt.Sprintf("%s#%d", c.ID.Value(i), k), Text: &s})
		}
	}
	b.Add(int(b.Rec.NumRows()))
	return out.NewBatch(), nil
}

// seen is sequential: it rejects rows whose text it has seen before.
type seen struct{ m map[string]string }

func (s *seen) Sequential() {}
func (s *seen) Process(ctx context.Context, b *sift.Batch) (arrow.RecordBatch, error) {
	v := sift.NewTextView(b.Rec, sift.AllRoles)
	for i := 0; i < int(b.Rec.NumRows()); i++ {
		t := v.Text(i)
		if of, ok := s.m[t]; ok {
			b.RejectDuplicate(i, of, "duplicate", "same text")
			continue
		}
		s.m[strings.Clone(t)] = v.Cols().ID.Value(i)
	}
	return b.Keep(ctx, b.Rec)
}

var _ sift.Sequential = (*seen)(nil)

func runAll(t *testing.T, mem memory.Allocator, workers, batch int) (string, string, *sift.Stats) {
	t.Helper()
	rec := makeRows(mem, 500)
	defer rec.Release()
	var out sift.Collector
	defer out.Release()
	var rej bytes.Buffer
	p := sift.NewPipeline(sift.NewSliceSource(batches(rec, batch)...), &out,
		sift.WithAllocator(mem), sift.WithWorkers(workers), sift.WithRejects(&rej), sift.WithTempDir(t.TempDir()),
		sift.WithObserver(sift.ObserverFunc(func(p sift.Progress) {
			if p.RowsIn == 0 || p.BytesIn == 0 {
				t.Errorf("progress %+v before any row was read", p)
			}
		})),
		sift.WithStage("drop", sift.StageFunc(dropFives)),
		sift.WithStage("upper", sift.StageFunc(upper)),
		sift.WithStage("twice", sift.StageFunc(twice)),
		sift.WithStage("seen", &seen{m: map[string]string{}}),
	)
	st, err := p.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(out.Rows(), "\n"), rej.String(), st
}

func TestDeterministicAcrossWorkersAndBatchSizes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	wantOut, wantRej, st := runAll(t, mem, 1, 1000)
	if st.RowsIn != 500 || st.RowsAdded == 0 || st.RowsRejected == 0 {
		t.Fatalf("unexpected stats %+v", st)
	}
	if st.RowsIn+st.RowsAdded != st.RowsOut+st.RowsRejected {
		t.Fatalf("conservation: %+v", st)
	}
	for _, workers := range []int{1, 4} {
		for _, batch := range []int{1, 7, 1000} {
			t.Run(fmt.Sprintf("workers=%d/batch=%d", workers, batch), func(t *testing.T) {
				out, rej, _ := runAll(t, mem, workers, batch)
				if out != wantOut {
					t.Error("output differs")
				}
				if rej != wantRej {
					t.Error("rejects differ")
				}
			})
		}
	}
	if !strings.Contains(wantRej, `"duplicate_of":"r0000#0"`) || !strings.Contains(wantRej, `"reason":"ends_in_5"`) {
		t.Errorf("rejects lack expected rows:\n%.500s", wantRej)
	}
}

func TestLostRowsFailTheRun(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := makeRows(mem, 10)
	silent := sift.StageFunc(func(_ context.Context, b *sift.Batch) (arrow.RecordBatch, error) {
		return b.Rec.NewSlice(1, b.Rec.NumRows()), nil // drops row 0 without a reject
	})
	_, err := sift.NewPipeline(sift.NewSliceSource(rec), sift.SinkFunc(func(context.Context, arrow.RecordBatch) error { return nil }),
		sift.WithAllocator(mem), sift.WithStage("silent", silent)).Run(context.Background())
	if !errors.Is(err, sift.ErrLost) || !strings.Contains(err.Error(), "silent") {
		t.Fatalf("err = %v, want ErrLost naming the stage", err)
	}
}

func TestFirstErrorStopsEverything(t *testing.T) {
	for _, tc := range []struct {
		name string
		at   int // batch index that fails
	}{{"first", 0}, {"middle", 5}} {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			rec := makeRows(mem, 200)
			bs := batches(rec, 10)
			rec.Release()
			n := 0
			boom := errors.New("boom")
			failing := sift.StageFunc(func(_ context.Context, b *sift.Batch) (arrow.RecordBatch, error) {
				if sift.ColsOf(b.Rec).ID.Value(0) == fmt.Sprintf("r%04d", tc.at*10) {
					return nil, boom
				}
				return b.Pass(), nil
			})
			sink := sift.SinkFunc(func(context.Context, arrow.RecordBatch) error { n++; return nil })
			src := sift.NewSliceSource(bs...)
			defer src.Release()
			_, err := sift.NewPipeline(src, sink, sift.WithAllocator(mem), sift.WithWorkers(3),
				sift.WithStage("pass", sift.StageFunc(upper)), sift.WithStage("fail", failing)).Run(context.Background())
			if !errors.Is(err, boom) || !strings.Contains(err.Error(), "stage fail") {
				t.Fatalf("err = %v", err)
			}
			if n > tc.at {
				t.Errorf("sink saw %d batches after failure at %d", n, tc.at)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := makeRows(mem, 100)
	bs := batches(rec, 5)
	rec.Release()
	ctx, cancel := context.WithCancel(context.Background())
	sink := sift.SinkFunc(func(context.Context, arrow.RecordBatch) error { cancel(); return nil })
	src := sift.NewSliceSource(bs...)
	defer src.Release()
	_, err := sift.NewPipeline(src, sink, sift.WithAllocator(mem), sift.WithWorkers(2),
		sift.WithStage("upper", sift.StageFunc(upper))).Run(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// holdAll keeps every batch until Flush and then drops the odd rows.
type holdAll struct{ held []arrow.RecordBatch }

func (h *holdAll) Process(_ context.Context, b *sift.Batch) (arrow.RecordBatch, error) {
	h.held = append(h.held, b.Pass())
	return nil, nil
}

func (h *holdAll) Flush(ctx context.Context, b *sift.Batch) (arrow.RecordBatch, error) {
	out := sift.NewBuilder(b.Mem)
	defer out.Release()
	for _, r := range h.held {
		v := sift.NewTextView(r, sift.AllRoles)
		for i := 0; i < int(r.NumRows()); i++ {
			if i%2 == 1 {
				b.RejectFrom(r, i, sift.Reject{Reason: "odd", Detail: "held and dropped"})
				continue
			}
			s := strings.Clone(v.Text(i))
			out.Append(sift.Row{ID: v.Cols().ID.Value(i), Text: &s})
		}
		r.Release()
	}
	return out.NewBatch(), nil
}

func TestFlusher(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := makeRows(mem, 30)
	var out sift.Collector
	defer out.Release()
	var rej bytes.Buffer
	st, err := sift.NewPipeline(sift.NewSliceSource(batches(rec, 4)...), &out, sift.WithAllocator(mem), sift.WithWorkers(4),
		sift.WithRejects(&rej), sift.WithStage("hold", &holdAll{})).Run(context.Background())
	rec.Release()
	if err != nil {
		t.Fatal(err)
	}
	if got := len(out.Rows()); got != 15 || st.RowsRejected != 15 {
		t.Fatalf("kept %d, rejected %d; want 15 and 15", got, st.RowsRejected)
	}
	if n := strings.Count(rej.String(), `"reason":"odd"`); n != 15 {
		t.Errorf("%d odd rejects written", n)
	}
}

func TestChain(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := makeRows(mem, 40)
	defer rec.Release()
	st := sift.Chain(sift.StageFunc(dropFives), sift.StageFunc(upper))
	b := sift.NewBatch(mem, "chain", rec)
	out, err := st.Process(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	if got := out.NumRows() + int64(len(b.Rejects())); got != 40 {
		t.Errorf("out+rejects = %d, want 40", got)
	}
	if len(b.Rejects()) != 4 || b.Rejects()[0].Stage != "chain" {
		t.Errorf("rejects %+v", b.Rejects())
	}
	if _, ok := sift.Chain(sift.StageFunc(upper), &seen{}).(sift.Sequential); !ok {
		t.Error("chain with a sequential stage is not sequential")
	}
}

func ExamplePipeline() {
	mem := memory.NewGoAllocator()
	b := sift.NewBuilder(mem)
	for _, s := range []string{"a short one", "a row long enough to keep"} {
		b.Append(sift.Row{ID: s[:7], Text: &s})
	}
	rec := b.NewBatch()
	b.Release()

	minWords := sift.StageFunc(func(ctx context.Context, b *sift.Batch) (arrow.RecordBatch, error) {
		v := sift.NewTextView(b.Rec, sift.AllRoles)
		for i := 0; i < int(b.Rec.NumRows()); i++ {
			if n := len(strings.Fields(v.Text(i))); n < 4 {
				b.Reject(i, "too_short", fmt.Sprintf("%d words", n))
			}
		}
		return b.Keep(ctx, b.Rec)
	})
	var out sift.Collector
	defer out.Release()
	var rejects bytes.Buffer
	st, err := sift.NewPipeline(sift.NewSliceSource(rec), &out, sift.WithAllocator(mem),
		sift.WithStage("min_words", minWords), sift.WithRejects(&rejects)).Run(context.Background())
	if err != nil {
		panic(err)
	}
	fmt.Println(out.Rows())
	fmt.Print(rejects.String())
	fmt.Println(st.RowsIn, st.RowsOut, st.RowsRejected)
	// Output:
	// [{"id":"a row l","text":"a row long enough to keep"}]
	// {"id":"a short","stage":"min_words","reason":"too_short","detail":"3 words","record":{"id":"a short","text":"a short one"}}
	// 2 1 1
}

// TestRejectRecordsOnlyWhenWritten: a reject carries the row's JSON when a
// rejects output is set, and costs nothing to build when none is.
func TestRejectRecordsOnlyWhenWritten(t *testing.T) {
	for _, withRejects := range []bool{false, true} {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		rec := makeRows(mem, 20)
		var out sift.Collector
		var records []string
		check := sift.StageFunc(func(ctx context.Context, b *sift.Batch) (arrow.RecordBatch, error) {
			kept, err := dropFives(ctx, b)
			for _, r := range b.Rejects() {
				records = append(records, string(r.Record))
			}
			return kept, err
		})
		opts := []sift.Option{sift.WithAllocator(mem), sift.WithTempDir(t.TempDir()), sift.WithStage("drop", check)}
		var rej bytes.Buffer
		if withRejects {
			opts = append(opts, sift.WithRejects(&rej))
		}
		st, err := sift.NewPipeline(sift.NewSliceSource(rec), &out, opts...).Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.RowsRejected != 2 || len(records) != 2 {
			t.Fatalf("rejects %d, records seen %d, want 2", st.RowsRejected, len(records))
		}
		for _, r := range records {
			if withRejects != strings.HasPrefix(r, `{"id":"r00`) {
				t.Errorf("with rejects output %v: record %q", withRejects, r)
			}
		}
		if withRejects && !strings.Contains(rej.String(), `"record":{"id":"r0005"`) {
			t.Errorf("rejects output lacks the record: %s", rej.String())
		}
		out.Release()
		mem.AssertSize(t, 0)
	}
}

// TestOmitRecords: a batch driven by hand makes its rejects' records
// until OmitRecords, and none after; the rejects are otherwise the same.
func TestOmitRecords(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := makeRows(mem, 4)
	defer rec.Release()
	b := sift.NewBatch(mem, "dedup", rec)
	b.RejectDuplicate(1, "r0000", "duplicate", "same text")
	b.OmitRecords()
	b.RejectDuplicate(3, "r0002", "duplicate", "same text")
	rs := b.Rejects()
	if len(rs) != 2 || !strings.HasPrefix(string(rs[0].Record), `{"id":"r0001"`) || rs[1].Record != nil {
		t.Fatalf("rejects %+v: want the first with its record, the second without", rs)
	}
	if rs[1].ID != "r0003" || rs[1].DuplicateOf != "r0002" || rs[1].Stage != "dedup" {
		t.Errorf("reject %+v", rs[1])
	}
	kept, err := b.Keep(context.Background(), rec)
	if err != nil {
		t.Fatal(err)
	}
	defer kept.Release()
	if kept.NumRows() != 2 {
		t.Errorf("kept %d rows, want 2", kept.NumRows())
	}
}

// TestObserverStages checks the per-step counts the observer is told:
// named in run order, never decreasing, never more out and rejected than
// in and added, and at most the final stats.
func TestObserverStages(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := makeRows(mem, 500)
	defer rec.Release()
	var out sift.Collector
	defer out.Release()
	var seen []sift.Progress
	p := sift.NewPipeline(sift.NewSliceSource(batches(rec, 7)...), &out, sift.WithAllocator(mem), sift.WithWorkers(3),
		sift.WithObserver(sift.ObserverFunc(func(p sift.Progress) { seen = append(seen, p) })),
		sift.WithStage("drop", sift.StageFunc(dropFives)),
		sift.WithStage("twice", sift.StageFunc(twice)),
	)
	st, err := p.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) < 500/7 {
		t.Fatalf("%d observations for %d batches", len(seen), 500/7+1)
	}
	prev := seen[0]
	for _, pr := range seen {
		if len(pr.Stages) != 3 || pr.Stages[0].Name != sift.ReadStage || pr.Stages[1].Name != "drop" || pr.Stages[2].Name != "twice" {
			t.Fatalf("stages %+v", pr.Stages)
		}
		for i, s := range pr.Stages {
			q, f := prev.Stages[i], st.Stages[i]
			if s.RowsIn < q.RowsIn || s.RowsOut < q.RowsOut || s.RowsRejected < q.RowsRejected || s.Busy < q.Busy {
				t.Errorf("%s went back: %+v after %+v", s.Name, s, q)
			}
			if s.RowsOut+s.RowsRejected > s.RowsIn+s.RowsAdded || s.RowsIn > f.RowsIn || s.RowsRejected > f.RowsRejected {
				t.Errorf("%s: %+v, final %+v", s.Name, s, f)
			}
		}
		if pr.RowsOut < prev.RowsOut || pr.RowsOut > pr.Stages[2].RowsOut {
			t.Errorf("rows out %d, last step's %d", pr.RowsOut, pr.Stages[2].RowsOut)
		}
		prev = pr
	}
	last := seen[len(seen)-1]
	if last.RowsOut != st.RowsOut || last.Stages[1].RowsRejected != st.Stages[1].RowsRejected {
		t.Errorf("last observation %+v, final stats out %d, drop rejected %d", last, st.RowsOut, st.Stages[1].RowsRejected)
	}
}

// firstSeen is a Preparer: Prepare lists each batch's ids on any worker,
// Process keeps the first row of each id suffix digit, in stream order,
// from the list when there is one.
type firstSeen struct {
	seen     map[byte]bool
	prepared atomic.Int64
	fail     string // an id whose Prepare fails
}

func (*firstSeen) Sequential() {}

func (f *firstSeen) Prepare(ctx context.Context, b *sift.Batch) (any, error) {
	f.prepared.Add(1)
	ids := sift.ColsOf(b.Rec).ID
	out := make([]string, ids.Len())
	for i := range out {
		if out[i] = ids.Value(i); out[i] == f.fail {
			return nil, fmt.Errorf("row %s", out[i])
		}
	}
	return out, nil
}

func (f *firstSeen) Process(ctx context.Context, b *sift.Batch) (arrow.RecordBatch, error) {
	ids, _ := b.Prepared().([]string)
	for i := range int(b.Rec.NumRows()) {
		id := sift.ColsOf(b.Rec).ID.Value(i)
		if ids != nil && ids[i] != id {
			return nil, fmt.Errorf("prepared %q for row %q", ids[i], id)
		}
		if d := id[len(id)-1]; f.seen[d] {
			b.Reject(i, "seen", "")
		} else {
			f.seen[d] = true
		}
	}
	return b.Keep(ctx, b.Rec)
}

// TestPreparer checks that a Preparer's Prepare runs on the step's workers
// and Process in stream order with what Prepare returned, with the same
// result as Process alone, and that a failing Prepare fails the run by the
// step's name and leaks nothing.
func TestPreparer(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := makeRows(mem, 300)
	defer rec.Release()
	run := func(st sift.Stage, workers int) ([]string, *sift.Stats, error) {
		var out sift.Collector
		defer out.Release()
		src := sift.NewSliceSource(batches(rec, 7)...)
		defer src.Release() // the batches a failed run did not take
		s, err := sift.NewPipeline(src, &out, sift.WithAllocator(mem), sift.WithWorkers(workers),
			sift.WithStage("first", st)).Run(context.Background())
		var ids []string
		for _, r := range out.Recs {
			for i := range int(r.NumRows()) {
				ids = append(ids, sift.ColsOf(r).ID.Value(i))
			}
		}
		return ids, s, err
	}
	alone, _, err := run(sift.StageFunc((&firstSeen{seen: map[byte]bool{}}).Process), 1) // not a Preparer
	if err != nil {
		t.Fatal(err)
	}
	if len(alone) != 10 {
		t.Fatalf("kept %v, want one per last digit", alone)
	}
	for _, workers := range []int{1, 3} {
		f := &firstSeen{seen: map[byte]bool{}}
		got, st, err := run(f, workers)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, alone) || f.prepared.Load() != 43 || st.Stages[1].Workers != workers || st.Stages[1].RowsRejected != 290 {
			t.Errorf("%d workers: kept %v, %d batches prepared, stats %+v", workers, got, f.prepared.Load(), st.Stages[1])
		}
	}
	_, _, err = run(&firstSeen{seen: map[byte]bool{}, fail: "r0123"}, 3)
	if err == nil || !strings.Contains(err.Error(), "stage first: row r0123") {
		t.Errorf("failing Prepare: %v", err)
	}
	// A sink failing while prepared batches wait: they are released (the
	// checked allocator above), and the run fails with the sink's error.
	src := sift.NewSliceSource(batches(rec, 3)...)
	defer src.Release()
	n := 0
	sink := sift.SinkFunc(func(context.Context, arrow.RecordBatch) error {
		if n++; n == 2 {
			return errors.New("disk full")
		}
		return nil
	})
	_, err = sift.NewPipeline(src, sink, sift.WithAllocator(mem), sift.WithWorkers(3), sift.WithQueueDepth(4),
		sift.WithStage("first", &firstSeen{seen: map[byte]bool{}}), sift.WithStage("pass", sift.StageFunc(func(_ context.Context, b *sift.Batch) (arrow.RecordBatch, error) { return b.Pass(), nil }))).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("failing sink: %v", err)
	}
}

package mining

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/mining/lm"
	"github.com/siftdata/sift/recipe"
)

func confDir(t testing.TB) string {
	dir := filepath.Join("..", "..", "shared", "lm-conformance")
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		t.Skipf("no KenLM conformance data at %s", dir)
	}
	return dir
}

func testLines(t testing.TB) []string {
	b, err := os.ReadFile(filepath.Join(confDir(t), "test.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func model4(t testing.TB) *lm.Model {
	m, err := lm.Load(filepath.Join(confDir(t), "model.4.arpa.gz"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// textBatches builds batches of at most size rows, one text per row.
func textBatches(mem memory.Allocator, texts []string, size int) []arrow.RecordBatch {
	bld := sift.NewBuilder(mem)
	defer bld.Release()
	var recs []arrow.RecordBatch
	for i := range texts {
		bld.Append(sift.Row{ID: strconv.Itoa(i), Text: &texts[i]})
		if bld.Len() == size || i == len(texts)-1 {
			recs = append(recs, bld.NewBatch())
		}
	}
	return recs
}

func run(t *testing.T, mem memory.Allocator, st sift.Stage, recs []arrow.RecordBatch, workers int) ([]string, string, *sift.Stats) {
	t.Helper()
	var col sift.Collector
	defer col.Release()
	var rej bytes.Buffer
	src := sift.NewSliceSource(recs...)
	defer src.Release()
	p := sift.NewPipeline(src, &col, sift.WithStage("perplexity", st),
		sift.WithAllocator(mem), sift.WithWorkers(workers), sift.WithRejects(&rej))
	stats, err := p.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return col.Rows(), rej.String(), stats
}

func TestStageMatchesKenLM(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	want, err := os.ReadFile(filepath.Join(confDir(t), "query.4.sentence.txt"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := New(model4(t))
	if err != nil {
		t.Fatal(err)
	}
	rows, _, _ := run(t, mem, st, textBatches(mem, testLines(t), 7), 2)
	for i, l := range strings.Split(strings.TrimSpace(string(want)), "\n") {
		var total float64
		var oov int
		fmt.Sscanf(l, "Total: %g OOV: %d", &total, &oov)
		var row struct {
			Log10 float64 `json:"lm_log10"`
			PPL   float64 `json:"perplexity"`
		}
		json.Unmarshal([]byte(rows[i]), &row)
		if float32(row.Log10) != float32(total) {
			t.Errorf("row %d: lm_log10 %v, KenLM %v", i, row.Log10, total)
		}
	}
}

func TestSelection(t *testing.T) {
	m := model4(t)
	lines := testLines(t)
	var pop []float64
	var sc lm.Scratch
	for _, l := range lines {
		pop = append(pop, Score(m, lm.Whitespace, l, &sc).Perplexity())
	}
	sorted := slices.Sorted(slices.Values(pop))
	for _, tc := range []struct {
		name    string
		opts    []Option
		lo, hi  float64
		reasons []string
	}{
		{"band", []Option{WithBand(70, 98)}, percentile(sorted, 70), percentile(sorted, 98), []string{ReasonBelow, ReasonAbove}},
		{"top", []Option{WithTop(0.25)}, percentile(sorted, 75), math.Inf(1), []string{ReasonBelow}},
		{"range", []Option{WithRange(50, 200)}, 50, 200, []string{ReasonBelow, ReasonAbove}},
		{"band+range", []Option{WithBand(10, 90), WithRange(100, 0)}, 100, percentile(sorted, 90), []string{ReasonBelow, ReasonAbove}},
	} {
		for _, method := range []string{"exact", "tdigest"} {
			t.Run(tc.name+"/"+method, func(t *testing.T) {
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				defer mem.AssertSize(t, 0)
				opts := slices.Clone(tc.opts)
				if method == "exact" {
					opts = append(opts, WithPopulation(slices.Clone(pop)))
				}
				st, err := New(m, append(opts, WithCalibration(100))...)
				if err != nil {
					t.Fatal(err)
				}
				rows, rej, stats := run(t, mem, st, textBatches(mem, lines, 13), 2)
				rep := st.(sift.Reporter).Report().(Report)
				if rep.Method != method && tc.name != "range" {
					t.Errorf("method %q, want %q", rep.Method, method)
				}
				lo, hi := tc.lo, tc.hi
				if rep.LowerPPL != nil {
					lo = *rep.LowerPPL
				}
				if rep.UpperPPL != nil {
					hi = *rep.UpperPPL
				}
				if method == "exact" && (math.Abs(lo-tc.lo) > 1e-9 || hi != tc.hi && math.Abs(hi-tc.hi) > 1e-9) {
					t.Errorf("thresholds [%v, %v], want [%v, %v]", lo, hi, tc.lo, tc.hi)
				}
				kept := 0
				for _, p := range pop {
					if p >= lo && p <= hi {
						kept++
					}
				}
				if len(rows) != kept || stats.Stages[1].RowsRejected != int64(len(pop)-kept) {
					t.Errorf("kept %d rows, want %d", len(rows), kept)
				}
				for _, r := range tc.reasons {
					if !strings.Contains(rej, `"reason":"`+r+`"`) {
						t.Errorf("no %s reject", r)
					}
				}
				// Each reject carries its perplexity, outside the band.
				for _, l := range strings.Split(strings.TrimSpace(rej), "\n") {
					var r struct{ Value *float64 }
					if err := json.Unmarshal([]byte(l), &r); err != nil || r.Value == nil || *r.Value >= lo && *r.Value <= hi {
						t.Errorf("reject without a value outside [%v, %v]: %s", lo, hi, l)
						break
					}
				}
			})
		}
	}
}

// TestDeterministic runs the calibrating stage with different batch sizes
// and worker counts: the output must not change.
func TestDeterministic(t *testing.T) {
	m := model4(t)
	lines := testLines(t)
	var first string
	for _, size := range []int{1, 7, 64, 1000} {
		for _, workers := range []int{1, 4} {
			t.Run(fmt.Sprintf("batch%d/workers%d", size, workers), func(t *testing.T) {
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				defer mem.AssertSize(t, 0)
				st, err := New(m, WithBand(20, 80), WithBuckets(30, 60), WithCalibration(50))
				if err != nil {
					t.Fatal(err)
				}
				rows, rej, _ := run(t, mem, st, textBatches(mem, lines, size), workers)
				got := strings.Join(rows, "\n") + rej
				if first == "" {
					first = got
				} else if got != first {
					g, f := strings.Split(got, "\n"), strings.Split(first, "\n")
					for i := range min(len(g), len(f)) {
						if g[i] != f[i] {
							t.Errorf("output differs at line %d:\n%s\n%s", i, g[i], f[i])
							break
						}
					}
				}
				if !strings.Contains(got, `"bucket":"middle"`) {
					t.Error("no bucket column")
				}
			})
		}
	}
}

func TestConversationsAndEmpty(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	m := model4(t)
	lines := testLines(t)
	bld := sift.NewBuilder(mem)
	defer bld.Release()
	empty, multi := "  \n\n", lines[0]+"\n\n"+lines[1]+"\n"
	bld.Append(sift.Row{ID: "conv", Messages: []sift.Message{{Role: "user", Content: "qqzz xxyy"}, {Role: "assistant", Content: lines[0]}}})
	bld.Append(sift.Row{ID: "empty", Text: &empty})
	bld.Append(sift.Row{ID: "multi", Text: &multi})
	rec := bld.NewBatch()
	defer rec.Release()
	st, _ := New(m)
	b := sift.NewBatch(mem, "perplexity", rec)
	out, err := st.Process(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	var sc lm.Scratch
	r0, r1 := m.ScoreText(lm.Whitespace, lines[0], &sc), m.ScoreText(lm.Whitespace, lines[1], &sc)
	log10 := out.Column(6).(*array.Float64)
	tokens := out.Column(7).(*array.Int64)
	if log10.Value(0) != r0.Log10 || tokens.Value(0) != int64(r0.Tokens) {
		t.Errorf("conversation scored %v/%d, want the assistant turn %v/%d", log10.Value(0), tokens.Value(0), r0.Log10, r0.Tokens)
	}
	if log10.IsValid(1) || tokens.Value(1) != 0 {
		t.Error("empty row has a score")
	}
	if math.Abs(log10.Value(2)-(r0.Log10+r1.Log10)) > 1e-9 || tokens.Value(2) != int64(r0.Tokens+r1.Tokens) {
		t.Errorf("two lines scored %v/%d", log10.Value(2), tokens.Value(2))
	}
	if len(b.Rejects()) != 0 && out.NumRows() != 3-int64(len(b.Rejects())) {
		t.Error("rows lost")
	}
}

func TestConfigErrors(t *testing.T) {
	m := model4(t)
	for _, tc := range []struct {
		opt  Option
		want string
	}{
		{WithBand(80, 20), "band:"},
		{WithTop(0), "top:"},
		{WithTop(1.5), "top:"},
		{WithRange(10, 5), "min_ppl, max_ppl:"},
		{WithBuckets(60, 30), "buckets:"},
		{WithRoles(0), "roles:"},
		{WithCalibration(0), "calibration:"},
	} {
		if _, err := New(m, tc.opt); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}

func TestRecipeSelfTrain(t *testing.T) {
	dir := t.TempDir()
	var in bytes.Buffer
	for i, l := range testLines(t) {
		fmt.Fprintf(&in, `{"id":"%d","messages":[{"role":"user","content":"q"},{"role":"assistant","content":%q}]}`+"\n", i, l)
	}
	path := filepath.Join(dir, "in.jsonl")
	os.WriteFile(path, in.Bytes(), 0o644)
	d, ok := recipe.Lookup("perplexity")
	if !ok {
		t.Fatal("perplexity not registered")
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	st, err := d.Build(nil, recipe.Env{Dir: dir, Inputs: []string{path}, Mem: mem})
	if err == nil || !strings.Contains(err.Error(), "model, train") {
		t.Fatalf("no model: error %v", err)
	}
	spec := Spec{Train: &TrainSpec{Order: 3, Corpus: "input"}, Tokenizer: "words", Select: "band", Band: []float64{70, 98}, Roles: []string{"assistant"}, Calibration: 10}
	s, err := build(spec, recipe.Env{Dir: dir, Inputs: []string{path}, First: true, Mem: mem})
	if err != nil {
		t.Fatal(err)
	}
	rep := s.(sift.Reporter).Report().(Report)
	if rep.Method != "exact" || rep.Rows != 304 || rep.LowerPPL == nil || rep.UpperPPL == nil {
		t.Errorf("report %+v", rep)
	}
	_ = st
}

package annotate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/dataset"
	"github.com/siftdata/sift/recipe"

	_ "github.com/siftdata/sift/schema" // the normalize stage and output formats
)

// writeFixture writes n rows (text and conversation rows, some with meta,
// one whose meta already holds an annotations member) and labels for most
// of them by three annotators, plus labels of two ids no row has.
func writeFixture(t *testing.T, dir string, n int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 6))
	var rows, labels, plain bytes.Buffer
	plain.WriteString("id,annotator,grammar,accuracy,completion\n")
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("r%03d", i)
		switch i % 4 {
		case 0:
			fmt.Fprintf(&rows, `{"id":%q,"text":"row %d text","lang":"en"}`+"\n", id, i)
		case 1:
			fmt.Fprintf(&rows, `{"id":%q,"messages":[{"role":"user","content":"q%d"},{"role":"assistant","content":"a%d"}]}`+"\n", id, i, i)
		case 2:
			fmt.Fprintf(&rows, `{"id":%q,"text":"第 %d 行","annotations":{"old":true},"tag":"x"}`+"\n", id, i)
		default:
			fmt.Fprintf(&rows, `{"id":%q,"text":"plain %d"}`+"\n", id, i)
		}
		if i%7 == 6 {
			continue // unlabelled
		}
		truth := [3]int{rng.IntN(2), rng.IntN(4), rng.IntN(6)}
		for a := 0; a < 3; a++ {
			if i%5 == 4 && a == 2 || i%11 == 10 && a > 0 {
				continue // two annotators only, or one
			}
			g, acc, c := truth[0], truth[1]+rng.IntN(3)-1, truth[2]+rng.IntN(3)-1
			acc, c = min(max(acc, 0), 3), min(max(c, 0), 5)
			errType := "null"
			if acc < 2 {
				errType = []string{`"knowledge_gap"`, `"logic_error"`}[rng.IntN(2)]
			}
			comp := fmt.Sprint(c)
			if rng.IntN(10) == 0 {
				comp = "null" // a missing value
			}
			fmt.Fprintf(&labels, `{"id":%q,"annotator":"ann%d","grammar":%d,"accuracy":%d,"completion":%s,"error_type":%s}`+"\n", id, a+1, g, acc, comp, errType)
			fmt.Fprintf(&plain, "%s,ann%d,%d,%d,%s\n", id, a+1, g, acc, strings.ReplaceAll(comp, "null", ""))
		}
	}
	labels.WriteString(`{"id":"ghost-1","annotator":"ann1","grammar":1}` + "\n")
	labels.WriteString(`{"id":"ghost-2","annotator":"ann2","grammar":0}` + "\n")
	for name, data := range map[string][]byte{"rows.jsonl": rows.Bytes(), "labels.jsonl": labels.Bytes(), "default.csv": plain.Bytes()} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rubric, _ := os.ReadFile("testdata/rubric.yaml")
	os.WriteFile(filepath.Join(dir, "rubric.yaml"), rubric, 0o644)
}

const testRecipe = `input: rows.jsonl
output: out/OUT
rejects: out/rejects.jsonl
report: out/report.json
stages:
  - annotations:
      file: labels.jsonl
      rubric: rubric.yaml
      aggregate: AGG
      min_annotators: 2
      unlabeled: keep
      bootstrap: 200
      disagreements: out/disagreements.jsonl
  - rubric_filter:
      rubric: rubric.yaml
      min: {accuracy: 2}
      weights: {grammar: 2, completion: 1}
      min_score: 4
      unlabeled: reject
`

func runRecipe(t *testing.T, dir, agg, out string, workers, batch int) (*recipe.Report, string) {
	t.Helper()
	text := strings.NewReplacer("AGG", agg, "OUT", out).Replace(testRecipe)
	r, err := recipe.Parse([]byte(text), dir)
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rep, err := recipe.Run(context.Background(), r, recipe.RunOptions{Mem: mem, Overrides: recipe.Overrides{Workers: workers, BatchSize: batch}})
	if err != nil {
		t.Fatal(err)
	}
	st := rep.Stats
	for _, s := range st.Stages {
		if s.RowsIn+s.RowsAdded != s.RowsOut+s.RowsRejected {
			t.Fatalf("stage %s loses rows: %+v", s.Name, s)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "out", out))
	if err != nil {
		t.Fatal(err)
	}
	rej, _ := os.ReadFile(filepath.Join(dir, "out", "rejects.jsonl"))
	return rep, string(data) + "\n--rejects--\n" + string(rej)
}

// TestRecipe runs annotations + rubric_filter through recipe.Run and
// checks the output against the labels, the rejects, the report, and that
// the bytes do not depend on workers or batch size.
func TestRecipe(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir, 120)
	labels, err := LoadLabels(filepath.Join(dir, "labels.jsonl"), testRubric(t))
	if err != nil {
		t.Fatal(err)
	}
	rep, first := runRecipe(t, dir, "median", "kept.jsonl", 1, 1024)
	for _, wb := range [][2]int{{2, 1}, {4, 7}, {3, 1000}} {
		if _, again := runRecipe(t, dir, "median", "kept.jsonl", wb[0], wb[1]); again != first {
			t.Fatalf("workers %d batch %d: output differs", wb[0], wb[1])
		}
	}
	// Every kept row's labels and raw labels match the label file.
	out, rejects, _ := strings.Cut(first, "\n--rejects--\n")
	kept := 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var row struct {
			ID     string `json:"id"`
			Labels map[string]*struct {
				Score  any
				N      int
				Spread float64
			} `json:"labels"`
			Annotations map[string]map[string]any `json:"annotations"`
			Old         any                       `json:"old"`
		}
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatal(err)
		}
		kept++
		u := labels.Unit(row.ID)
		if u < 0 || labels.NumLabels(u) < 2 {
			t.Fatalf("row %s kept without two labels", row.ID)
		}
		if len(row.Annotations) != labels.NumLabels(u) {
			t.Errorf("row %s: %d raw labels in meta, want %d", row.ID, len(row.Annotations), labels.NumLabels(u))
		}
		for d, dim := range labels.Rubric {
			var vals []float64
			for _, lb := range labels.Of(u) {
				if v := lb.Values[d]; !math.IsNaN(v) {
					vals = append(vals, v)
				}
			}
			got := row.Labels[dim.Name]
			if len(vals) == 0 {
				if got != nil {
					t.Errorf("row %s %s: %v, want null", row.ID, dim.Name, got)
				}
				continue
			}
			score, spread := Combine(dim, Median, vals)
			var want any = score
			if dim.Kind == Nominal {
				want = dim.Format(score)
			}
			if got == nil || got.N != len(vals) || got.Spread != spread || fmt.Sprint(got.Score) != fmt.Sprint(want) {
				t.Errorf("row %s %s: %+v, want score %v n %d spread %v", row.ID, dim.Name, got, want, len(vals), spread)
			}
		}
		if s := row.Labels["accuracy"].Score.(float64); s < 2 {
			t.Errorf("row %s kept with accuracy %v", row.ID, s)
		}
	}
	st := rep.Stats
	if st.RowsIn != 120 || int64(kept) != st.RowsOut || st.Stages[2].Rejected[BelowRubric] == 0 || st.Stages[2].Rejected[Unlabeled] == 0 {
		t.Fatalf("stats: %+v; kept %d", st.Stages, kept)
	}
	for _, want := range []string{`"reason":"below_rubric","detail":"accuracy `, `"reason":"unlabeled","detail":"no labels"`, `; score `} {
		if !strings.Contains(rejects, want) {
			t.Errorf("no reject with %s", want)
		}
	}
	jr := st.Stages[1].Report.(*JoinReport)
	if jr.UnmatchedIDs != 2 || jr.UnmatchedExamples[0] != "ghost-1" || jr.Labels != labels.Len() || jr.Disagreements == nil {
		t.Errorf("report %+v", jr)
	}
	for _, name := range labels.Rubric.Names() {
		a := jr.Agreement[name]
		if name == "fluency" { // nobody scored it
			if a.Units != 0 || !math.IsNaN(float64(a.Alpha)) || a.Note == "" {
				t.Errorf("%s agreement %+v", name, a)
			}
			continue
		}
		if a == nil || a.Annotators != 3 || !(a.CILow <= a.Alpha && a.Alpha <= a.CIHigh) {
			t.Errorf("%s agreement %+v", name, a)
		}
	}
	if c := st.Stages[1].Counters; c["too_few_annotators"] == 0 || c["unlabeled"] == 0 {
		t.Errorf("counters %v", c)
	}
	// The report file holds the agreement under the stage.
	data, _ := os.ReadFile(filepath.Join(dir, "out", "report.json"))
	if !bytes.Contains(data, []byte(`"agreement": {`)) || !bytes.Contains(data, []byte(`"ci_low"`)) {
		t.Errorf("report file without agreement")
	}
	// Parquet carries the labels column, and reading it back puts it in meta.
	runRecipe(t, dir, "mean", "kept.parquet", 2, 16)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	src, err := dataset.Open(mem, []string{filepath.Join(dir, "out", "kept.parquet")})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	rec, _, err := src.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	if m := sift.ColsOf(rec).Meta.Value(0); !strings.Contains(m, `"labels":{"grammar":{"score":`) || !strings.Contains(m, `"annotations":{"ann1":`) {
		t.Errorf("parquet row meta %s", m)
	}
}

// TestRerunReplaces runs the annotations stage over its own output: the
// meta member and the labels column are replaced, not doubled.
func TestRerunReplaces(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir, 40)
	_, first := runRecipe(t, dir, "min", "kept.jsonl", 1, 8)
	os.Rename(filepath.Join(dir, "out", "kept.jsonl"), filepath.Join(dir, "rows.jsonl"))
	_, second := runRecipe(t, dir, "min", "kept.jsonl", 1, 8)
	a, _, _ := strings.Cut(first, "\n--rejects--\n")
	b, _, _ := strings.Cut(second, "\n--rejects--\n")
	if a != b {
		t.Fatalf("rerun changed the rows:\n%s\n---\n%s", a, b)
	}
	if strings.Contains(a, `"old":true`) {
		t.Errorf("the input's annotations member survived")
	}
}

func TestFilterConfigErrors(t *testing.T) {
	r := testRubric(t)
	one := 1.0
	for _, c := range []struct {
		opts []FilterOption
		want string
	}{
		{nil, "give per-dimension minimums, a min_score, or both"},
		{[]FilterOption{WithMin(map[string]float64{"tone": 1})}, `min: "tone" is not a rubric dimension`},
		{[]FilterOption{WithMin(map[string]float64{"error_type": 1})}, `min: "error_type" is nominal`},
		{[]FilterOption{WithWeights(map[string]float64{"grammar": 1})}, "weights: given without min_score"},
		{[]FilterOption{WithWeights(map[string]float64{"error_type": 1}), WithMinScore(one)}, `weights: "error_type" is nominal`},
	} {
		if _, err := NewFilter(r, c.opts...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
}

func TestJoinConfigErrors(t *testing.T) {
	l, err := LoadLabels("testdata/rows.jsonl", testRubric(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		opts []JoinOption
		want string
	}{
		{[]JoinOption{WithAggregate("mode")}, `aggregate: "mode" is not one of median, mean, min, majority`},
		{[]JoinOption{WithMinAnnotators(0)}, "min_annotators: 0, want >= 1"},
		{[]JoinOption{WithDisagreements("x", 2)}, "spread: 2, want a share in [0, 1]"},
		{[]JoinOption{WithAgreementOptions(AgreementOptions{Resamples: -1})}, "bootstrap: -1"},
	} {
		if _, err := NewJoin(l, c.opts...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
}

// TestChatFormatSideFields: the openai export format writes the labels
// column and the raw labels beside the conversation.
func TestChatFormatSideFields(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir, 24)
	text := "input: rows.jsonl\noutput: out/chat.jsonl\noutput_format: openai\nstages:\n  - normalize: {}\n  - annotations: {file: labels.jsonl, rubric: rubric.yaml, bootstrap: 0}\n"
	r, err := recipe.Parse([]byte(text), dir)
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	if _, err := recipe.Run(context.Background(), r, recipe.RunOptions{Mem: mem}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "out", "chat.jsonl"))
	if !strings.Contains(string(data), `{"id":"r001","messages":[{"role":"user","content":"q1"},{"role":"assistant","content":"a1"}],"annotations":{"ann1":`) ||
		!strings.Contains(string(data), `,"labels":{"grammar":{"score":`) {
		t.Errorf("openai output:\n%s", data)
	}
}

// TestDefaultRubricRecipe runs both stages with the default rubric (CSV
// labels) and a weighted total with the default weights.
func TestDefaultRubricRecipe(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir, 60)
	text := "input: rows.jsonl\noutput: out/kept.jsonl\nrejects: out/rejects.jsonl\nstages:\n  - annotations: {file: default.csv, unlabeled: reject, bootstrap: 100}\n  - rubric_filter: {min_score: 6}\n"
	r, err := recipe.Parse([]byte(text), dir)
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rep, err := recipe.Run(context.Background(), r, recipe.RunOptions{Mem: mem})
	if err != nil {
		t.Fatal(err)
	}
	st := rep.Stats
	if st.RowsOut == 0 || st.Stages[2].Rejected[BelowRubric] == 0 || st.RowsIn != st.RowsOut+st.RowsRejected {
		t.Fatalf("%+v", st.Stages)
	}
	out, _ := os.ReadFile(filepath.Join(dir, "out", "kept.jsonl"))
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var row struct {
			Labels map[string]*struct{ Score float64 } `json:"labels"`
		}
		json.Unmarshal([]byte(line), &row)
		total := 0.0
		for _, d := range []string{"grammar", "accuracy", "completion"} {
			if row.Labels[d] == nil {
				t.Fatalf("kept a row without %s: %s", d, line)
			}
			total += row.Labels[d].Score
		}
		if total < 6 {
			t.Errorf("kept a row scoring %v < 6: %s", total, line)
		}
	}
	rej, _ := os.ReadFile(filepath.Join(dir, "out", "rejects.jsonl"))
	if !strings.Contains(string(rej), `< min_score 6"`) {
		t.Errorf("no min_score reject")
	}
	if a := st.Stages[1].Report.(*JoinReport).Agreement["completion"]; a.Kind != Ordinal || a.Resamples == 0 {
		t.Errorf("completion agreement %+v", a)
	}
}

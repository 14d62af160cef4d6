package annotate

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestAllocate(t *testing.T) {
	for _, c := range []struct {
		sizes  map[string]int
		n, min int
		want   map[string]int
		err    string
	}{
		{map[string]int{"a": 50, "b": 30, "c": 20}, 10, 1, map[string]int{"a": 5, "b": 3, "c": 2}, ""},
		{map[string]int{"a": 90, "b": 9, "c": 1}, 10, 2, map[string]int{"a": 7, "b": 2, "c": 1}, ""}, // c has only 1
		{map[string]int{"a": 1000, "b": 5}, 20, 3, map[string]int{"a": 17, "b": 3}, ""},
		{map[string]int{"a": 1, "b": 1, "c": 1}, 10, 1, map[string]int{"a": 1, "b": 1, "c": 1}, ""}, // all
		{map[string]int{"a": 34, "b": 33, "c": 33}, 10, 1, map[string]int{"a": 4, "b": 3, "c": 3}, ""},
		{map[string]int{"a": 10, "b": 10, "c": 10}, 5, 2, nil, "sample 5 is smaller than 3 strata × minimum 2 (6 rows)"},
		{map[string]int{"a": 10}, 0, 1, map[string]int{"a": 10}, ""},
	} {
		var names []string
		for s := range c.sizes {
			names = append(names, s)
		}
		sortStrings(names)
		got, err := allocate(names, c.sizes, c.n, c.min)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%v: error %v, want %s", c.sizes, err, c.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v n=%d min=%d: %v %v, want %v", c.sizes, c.n, c.min, got, err, c.want)
		}
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// exportRows writes n rows in three sources, in the given order.
func exportRows(t *testing.T, path string, order []int) {
	var sb strings.Builder
	for _, i := range order {
		src := []string{"web", "books", "chat"}[i%3]
		if i%3 == 2 {
			fmt.Fprintf(&sb, `{"id":"e%d","messages":[{"role":"user","content":"q %d"},{"role":"assistant","content":"a %d"}],"source":%q,"bucket":"b%d"}`+"\n", i, i, i, src, i%2)
		} else {
			fmt.Fprintf(&sb, `{"id":"e%d","text":"text %d","source":%q,"bucket":"b%d"}`+"\n", i, i, src, i%2)
		}
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func exportedIDs(t *testing.T, dir string) []string {
	data, err := os.ReadFile(filepath.Join(dir, TasksFile))
	if err != nil {
		t.Fatal(err)
	}
	var tasks []struct {
		Data struct{ ID, Text string } `json:"data"`
	}
	if err := json.Unmarshal(data, &tasks); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, x := range tasks {
		ids = append(ids, x.Data.ID)
	}
	sortStrings(ids)
	return ids
}

// TestExportDeterministic: the sample depends on seed and ids only.
func TestExportDeterministic(t *testing.T) {
	dir := t.TempDir()
	n := 300
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	exportRows(t, filepath.Join(dir, "a.jsonl"), order)
	rand.New(rand.NewPCG(1, 1)).Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
	exportRows(t, filepath.Join(dir, "b.jsonl"), order)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	var got [][]string
	for _, in := range []string{"a.jsonl", "b.jsonl"} {
		for _, by := range []string{"source", "bucket"} {
			out := filepath.Join(dir, in+by)
			res, err := Export(context.Background(), mem, []string{filepath.Join(dir, in)}, out, ExportOptions{Sample: 30, Stratify: by, Seed: 9, MinPerStratum: 2})
			if err != nil {
				t.Fatal(err)
			}
			if res.Sampled != 30 || res.Rows != n || len(res.Strata) < 2 || len(res.Files) != 4 {
				t.Fatalf("%+v", res)
			}
			for _, s := range res.Strata {
				if s.Sampled != s.Rows*30/n {
					t.Errorf("%s stratum %s: %d of %d", by, s.Value, s.Sampled, s.Rows)
				}
			}
			got = append(got, exportedIDs(t, out))
		}
	}
	if !reflect.DeepEqual(got[0], got[2]) || !reflect.DeepEqual(got[1], got[3]) {
		t.Fatalf("the sample depends on input order:\n%v\n%v", got[0], got[2])
	}
	other, err := Export(context.Background(), mem, []string{filepath.Join(dir, "a.jsonl")}, filepath.Join(dir, "seed10"), ExportOptions{Sample: 30, Stratify: "source", Seed: 10})
	if err != nil || other.Sampled != 30 || reflect.DeepEqual(exportedIDs(t, filepath.Join(dir, "seed10")), got[0]) {
		t.Fatalf("another seed gives the same sample (%v)", err)
	}
	// The labeling config is well-formed XML with one control per dimension.
	cfg, _ := os.ReadFile(filepath.Join(dir, "a.jsonlsource", ConfigFile))
	var view struct {
		Choices []struct {
			Name   string `xml:"name,attr"`
			Choice []struct {
				Value string `xml:"value,attr"`
			} `xml:"Choice"`
		} `xml:"Choices"`
	}
	if err := xml.Unmarshal(cfg, &view); err != nil || len(view.Choices) != 3 || view.Choices[2].Name != "completion" || len(view.Choices[2].Choice) != 6 {
		t.Fatalf("config %s: %+v %v", cfg, view, err)
	}
}

// TestRoundTrip: export a sample, answer every task in Label Studio's
// export format (what Label Studio writes after annotators submit), read
// it back, and compare with the scores given. The CSV template, filled in,
// reads back the same.
func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	order := make([]int, 60)
	for i := range order {
		order[i] = i
	}
	exportRows(t, filepath.Join(dir, "in.jsonl"), order)
	r := testRubric(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	out := filepath.Join(dir, "export")
	if _, err := Export(context.Background(), mem, []string{filepath.Join(dir, "in.jsonl")}, out, ExportOptions{Rubric: r, Sample: 12, Stratify: "source", Seed: 3}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(out, TasksFile))
	var tasks []map[string]any
	if err := json.Unmarshal(data, &tasks); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string][]string{}
	var csv strings.Builder
	csv.WriteString("id,annotator,grammar,accuracy,completion,error_type,fluency\n")
	for i, task := range tasks {
		id := task["data"].(map[string]any)["id"].(string)
		if !strings.HasPrefix(task["data"].(map[string]any)["text"].(string), "text ") && !strings.HasPrefix(task["data"].(map[string]any)["text"].(string), "[user]\nq ") {
			t.Fatalf("task text %v", task["data"])
		}
		want[id] = map[string][]string{}
		var anns []any
		for a := 1; a <= 3; a++ {
			g, acc, c, e, fl := (i+a)%2, (i*a)%4, (i+2*a)%6, []string{"knowledge_gap", "logic_error", "ethics"}[(i+a)%3], 1+float64((i*7+a)%13)/2
			anns = append(anns, map[string]any{"id": i*10 + a, "completed_by": a, "was_cancelled": false, "result": []any{
				map[string]any{"from_name": "grammar", "to_name": "text", "type": "choices", "value": map[string]any{"choices": []string{fmt.Sprint(g)}}},
				map[string]any{"from_name": "accuracy", "to_name": "text", "type": "choices", "value": map[string]any{"choices": []string{fmt.Sprint(acc)}}},
				map[string]any{"from_name": "completion", "to_name": "text", "type": "choices", "value": map[string]any{"choices": []string{fmt.Sprint(c)}}},
				map[string]any{"from_name": "error_type", "to_name": "text", "type": "choices", "value": map[string]any{"choices": []string{e}}},
				map[string]any{"from_name": "fluency", "to_name": "text", "type": "number", "value": map[string]any{"number": fl}},
			}})
			vals := []string{fmt.Sprint(g), fmt.Sprint(acc), fmt.Sprint(c), e, fmtNum(fl)}
			want[id][fmt.Sprint(a)] = vals
			fmt.Fprintf(&csv, "%s,%d,%s\n", id, a, strings.Join(vals, ","))
		}
		task["annotations"] = anns
		task["id"] = 100 + i
	}
	back, _ := json.MarshalIndent(tasks, "", "  ")
	os.WriteFile(filepath.Join(dir, "export.json"), back, 0o644)
	os.WriteFile(filepath.Join(dir, "filled.csv"), []byte(csv.String()), 0o644)
	for _, f := range []string{"export.json", "filled.csv"} {
		l, err := LoadLabels(filepath.Join(dir, f), r)
		if err != nil {
			t.Fatal(err)
		}
		if got := dump(l); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: round trip\n got %v\nwant %v", f, got, want)
		}
	}
	// The untouched templates read back as blank: no labels, no errors.
	for _, f := range []string{TemplateCSV, TemplateJSONL} {
		l, err := LoadLabels(filepath.Join(out, f), r)
		if err != nil || l.Len() != 0 || l.Blank != 12 {
			t.Fatalf("%s: %v, %d labels, %d blank", f, err, l.Len(), l.Blank)
		}
	}
}

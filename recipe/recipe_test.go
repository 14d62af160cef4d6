package recipe_test

import (
	"strings"
	"testing"

	"github.com/siftdata/sift/recipe"

	_ "github.com/siftdata/sift/clean"
)

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string // substrings of the error
	}{
		{"unknown top key", "input: a.jsonl\noutptu: b.jsonl\n", []string{"[2:1]", "outptu", "allowed: input, output"}},
		{"unknown stage", "stages:\n  - lenght_filter: {}\n", []string{"[2:5]", `unknown stage "lenght_filter"`, "length_filter"}},
		{"unknown param", "stages:\n  - length_filter: {unit: words, mni: 3}\n", []string{"[2:", "mni", "allowed: unit, min, max, roles"}},
		{"wrong type", "stages:\n  - length_filter:\n      min: lots\n", []string{"[3:12]", "min"}},
		{"two stages in one item", "stages:\n  - length_filter: {}\n    perplexity_x: {}\n", []string{"names two stages"}},
		{"bad batch size", "batch_size: -1\n", []string{"batch_size"}},
		{"stages not a list", "stages: {length_filter: {}}\n", []string{"[1:9]", "want a list"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := recipe.Parse([]byte(tc.yaml), "")
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestBuildErrorsNameTheField(t *testing.T) {
	r, err := recipe.Parse([]byte("stages:\n  - length_filter: {unit: lines}\n  - length_filter: {min: 10, max: 5}\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Steps(recipe.Env{})
	if err == nil || !strings.Contains(err.Error(), "[2:20] stage length_filter: unit:") {
		t.Errorf("err = %v", err)
	}
}

func TestParse(t *testing.T) {
	r, err := recipe.Parse([]byte(`
input: [a/*.jsonl, b.parquet]
output: out.parquet
workers: 3
stages:
  - length_filter: {unit: chars, min: 2}
    workers: 2
  - length_filter
`), "/data")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Input) != 2 || r.Workers != 3 || r.BatchSize != 1024 || len(r.Stages) != 2 || r.Stages[0].Workers != 2 {
		t.Fatalf("parsed %+v", r)
	}
	if got := r.Path(r.Output); got != "/data/out.parquet" {
		t.Errorf("Path = %s", got)
	}
	steps, err := r.Steps(recipe.Env{})
	if err != nil || len(steps) != 2 || steps[1].Name != "length_filter" {
		t.Fatalf("steps %v, %v", steps, err)
	}
}

func TestDefsListParams(t *testing.T) {
	d, ok := recipe.Lookup("length_filter")
	if !ok {
		t.Fatal("length_filter not registered")
	}
	want := map[string]string{"unit": "words", "min": "50", "max": "1024"}
	for _, p := range d.Params {
		if w, ok := want[p.Name]; ok && p.Default != w {
			t.Errorf("%s default %q, want %q", p.Name, p.Default, w)
		}
		if p.Doc == "" {
			t.Errorf("%s has no doc", p.Name)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("input: a.jsonl\noutput: b.parquet\nstages:\n  - length_filter: {min: 3}\n")
	f.Add("stages: [length_filter, {length_filter: {unit: chars}, workers: 2}]\n")
	f.Add("stages:\n  - : x\n")
	f.Fuzz(func(t *testing.T, y string) {
		r, err := recipe.Parse([]byte(y), "")
		if err == nil {
			r.Steps(recipe.Env{}) // must not panic either
		}
	})
}

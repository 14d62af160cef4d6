package annotate

import (
	"os"
	"strings"
	"testing"

	"github.com/siftdata/sift/recipe"
)

func TestDefaultRubric(t *testing.T) {
	r := DefaultRubric()
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name     string
		min, max float64
	}{{"grammar", 0, 1}, {"accuracy", 0, 3}, {"completion", 0, 5}}
	for i, w := range want {
		d := r[i]
		if d.Name != w.name || d.Min != w.min || d.Max != w.max || d.Kind != Ordinal || d.Description == "" || d.DescriptionZH == "" {
			t.Errorf("dimension %d: %+v", i, d)
		}
	}
}

func TestParseRubric(t *testing.T) {
	r, err := LoadRubric("testdata/rubric.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(r) != 5 || r[3].Kind != Nominal || r[3].Category("ethics") != 2 || r[4].Kind != Interval || r[0].Kind != Ordinal {
		t.Fatalf("%+v", r)
	}
	// JSON, and a bare list, read the same.
	j, err := ParseRubric([]byte(`[{"name": "grammar", "min": 0, "max": 1}, {"name": "error_type", "kind": "nominal", "values": ["a", "b"]}]`))
	if err != nil || len(j) != 2 || j[1].Values[1] != "b" {
		t.Fatalf("%+v %v", j, err)
	}
}

// TestRubricErrors: invalid rubrics are errors with [line:column] of the
// offending dimension.
func TestRubricErrors(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"- {name: a, min: 3, max: 3}", "[1:3] a: min 3 >= max 3"},
		{"rubric:\n  - {name: a, min: 0, max: 1}\n  - {name: a, min: 0, max: 2}", "[3:5] a: duplicate dimension name"},
		{"- {name: a, kind: likert, min: 0, max: 1}", `[1:3] a: unknown kind "likert" (known: ordinal, nominal, interval, ratio)`},
		{"- {name: a, kind: nominal, values: [x]}", "[1:3] a: a nominal dimension needs at least two values"},
		{"- {name: a, kind: nominal, values: [x, x]}", `[1:3] a: value "x" is empty or repeated`},
		{"- {name: a, kind: nominal, values: [x, y], min: 0}", "[1:3] a: a nominal dimension takes values, not min and max"},
		{"- {name: a, min: 0}", "[1:3] a: min and max are required"},
		{"- {min: 0, max: 1}", "[1:3] dimension 1: no name"},
		{"- {name: a, kind: ratio, min: -1, max: 1}", "[1:3] a: a ratio dimension cannot go below 0"},
		{"- {name: a, min: 0, max: 1, scale: 5}", `unknown field "scale"`},
		{"- {name: a, min: zero, max: 1}", "[1:"},
		{"name: a", "[1:5] rubric: want a list of dimensions"},
		{"[]", "rubric: no dimensions"},
	} {
		_, err := ParseRubric([]byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.yaml, err, c.want)
		}
	}
}

// TestRubricInRecipe checks an inline rubric in a recipe: a nominal
// dimension works, and errors point into the recipe.
func TestRubricInRecipe(t *testing.T) {
	ok := "input: x.jsonl\noutput: y.jsonl\nstages:\n  - rubric_filter:\n      rubric:\n        - {name: grammar, min: 0, max: 1}\n        - {name: error_type, kind: nominal, values: [a, b]}\n      min: {grammar: 1}\n"
	r, err := recipe.Parse([]byte(ok), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Steps(recipe.Env{}); err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(ok, "{name: grammar, min: 0, max: 1}", "{name: grammar, min: 2, max: 1}", 1)
	if _, err := recipe.Parse([]byte(bad), t.TempDir()); err == nil || !strings.Contains(err.Error(), "[6:11] grammar: min 2 >= max 1") {
		t.Errorf("error %v, want [6:11] grammar: min 2 >= max 1", err)
	}
	file := "input: x.jsonl\noutput: y.jsonl\nstages:\n  - rubric_filter: {rubric: missing.yaml, min: {grammar: 1}}\n"
	r, err = recipe.Parse([]byte(file), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Steps(recipe.Env{Dir: r.Dir}); err == nil || !strings.Contains(err.Error(), "[4:20] stage rubric_filter: rubric: open") {
		t.Errorf("error %v, want the missing rubric file", err)
	}
}

// FuzzRubric: any input gives a valid rubric or an error, never a panic.
func FuzzRubric(f *testing.F) {
	data, err := os.ReadFile("testdata/rubric.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`[{"name": "a", "kind": "nominal", "values": ["x", "y"]}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRubric(data)
		if err == nil {
			if verr := r.Validate(); verr != nil {
				t.Fatalf("accepted an invalid rubric: %v", verr)
			}
		}
	})
}

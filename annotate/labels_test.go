package annotate

import (
	"errors"
	"math"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func testRubric(t testing.TB) Rubric {
	t.Helper()
	r, err := LoadRubric("testdata/rubric.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// dump renders labels as id → annotator → values, for comparison.
func dump(l *Labels) map[string]map[string][]string {
	out := map[string]map[string][]string{}
	for u, id := range l.IDs {
		out[id] = map[string][]string{}
		for _, lb := range l.Of(u) {
			var vs []string
			for d, v := range lb.Values {
				if math.IsNaN(v) {
					vs = append(vs, "-")
				} else {
					vs = append(vs, l.Rubric[d].Format(v))
				}
			}
			out[id][l.Annotators[lb.Annotator]] = vs
		}
	}
	return out
}

// TestFormatsAgree reads the same labels as a Label Studio export, JSONL
// and CSV, and checks all three give the same labels.
func TestFormatsAgree(t *testing.T) {
	r := testRubric(t)
	want := map[string]map[string][]string{
		"doc-1": {
			"1":                {"1", "3", "4", "-", "6.5"},
			"ann2@example.org": {"1", "2", "5", "logic_error", "-"},
		},
		"42": {"3": {"0", "-", "-", "ethics", "-"}},
	}
	for _, f := range []string{"testdata/ls.json", "testdata/rows.jsonl", "testdata/rows.csv"} {
		l, err := LoadLabels(f, r)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if got := dump(l); !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %v\nwant %v", f, got, want)
		}
		if l.Blank != 1 || l.Len() != 3 {
			t.Errorf("%s: %d labels, %d blank; want 3 and 1 (the empty result / row)", f, l.Len(), l.Blank)
		}
	}
}

// TestBadLabels is the bad-input table: every bad label is an error naming
// the file and line, or with SkipBad a problem of the right kind.
func TestBadLabels(t *testing.T) {
	r := testRubric(t)
	ls := func(result string) string {
		return "[\n {\"data\": {\"id\": \"a\"},\n  \"annotations\": [\n   {\"completed_by\": 1,\n    \"result\": [\n     " + result + "\n    ]}\n  ]}\n]\n"
	}
	for _, c := range []struct {
		name, file, data string
		line             int    // 0: a fatal error even with SkipBad
		kind, msg        string // problem kind, message part
	}{
		{"ls out of range", "x.json", ls(`{"from_name": "accuracy", "value": {"choices": ["4"]}}`), 6, "out_of_range", "accuracy: 4 out of range [0, 3]"},
		{"ls negative number", "x.json", ls(`{"from_name": "fluency", "value": {"number": -1}}`), 6, "out_of_range", "fluency: -1 out of range [1, 7]"},
		{"ls unknown dimension", "x.json", ls(`{"from_name": "tone", "value": {"choices": ["1"]}}`), 6, "unknown_dimension", `from_name "tone" is not a rubric dimension`},
		{"ls unknown category", "x.json", ls(`{"from_name": "error_type", "value": {"choices": ["typo"]}}`), 6, "bad_value", `error_type: "typo" is not one of`},
		{"ls two choices", "x.json", ls(`{"from_name": "grammar", "value": {"choices": ["0", "1"]}}`), 6, "bad_value", "2 choices, want one"},
		{"ls not a number", "x.json", ls(`{"from_name": "grammar", "value": {"choices": ["yes"]}}`), 6, "bad_value", "not a number"},
		{"ls no value", "x.json", ls(`{"from_name": "grammar", "type": "textarea", "value": {"text": ["ok"]}}`), 6, "bad_value", "has no choices, rating or number"},
		{"ls missing id", "x.json", "[{\"data\": {\"text\": \"t\"}, \"annotations\": []}]", 1, "missing_id", "task data.id: missing"},
		{"ls duplicate", "x.json", "[\n{\"data\": {\"id\": \"a\"}, \"annotations\": [{\"completed_by\": 1, \"result\": [{\"from_name\": \"grammar\", \"value\": {\"choices\": [\"1\"]}}]}]},\n{\"data\": {\"id\": \"a\"}, \"annotations\": [{\"completed_by\": 1, \"result\": [{\"from_name\": \"grammar\", \"value\": {\"choices\": [\"0\"]}}]}]}\n]", 3, "duplicate", `annotator "1" labelled "a" twice (first at line 2)`},
		{"ls malformed", "x.json", "[\n{\"data\": {\"id\": \"a\"},\n \"annotations\": [}\n]", 0, "", "x.json:3: malformed JSON"},
		{"ls truncated", "x.json", "[\n{\"data\": {\"id\": \"a\"}", 0, "", "x.json:2: malformed JSON"},
		{"ls not a list", "x.json", `{"data": {}}`, 0, "", "x.json:1: malformed JSON: want a JSON list of Label Studio tasks"},
		{"ls wrong type", "x.json", "[\n{\"data\": {\"id\": \"a\"}, \"annotations\": 3}]", 0, "", "x.json:2: malformed JSON"},
		{"jsonl out of range", "x.jsonl", "{\"id\": \"a\", \"annotator\": \"p\", \"grammar\": 1}\n{\"id\": \"b\", \"annotator\": \"p\", \"completion\": 6}\n", 2, "out_of_range", "completion: 6 out of range [0, 5]"},
		{"jsonl unknown dimension", "x.jsonl", "{\"id\": \"a\", \"annotator\": \"p\", \"tone\": 1}\n", 1, "unknown_dimension", `"tone" is not a rubric dimension`},
		{"jsonl duplicate", "x.jsonl", "{\"id\": \"a\", \"annotator\": \"p\", \"grammar\": 1}\n\n{\"id\": \"a\", \"annotator\": \"p\", \"grammar\": 0}\n", 3, "duplicate", "twice (first at line 1)"},
		{"jsonl missing annotator", "x.jsonl", "{\"id\": \"a\", \"grammar\": 1}\n", 1, "missing_annotator", "without an annotator"},
		{"jsonl missing id", "x.jsonl", "{\"annotator\": \"p\", \"grammar\": 1}\n", 1, "missing_id", "id: missing"},
		{"jsonl malformed", "x.jsonl", "{\"id\": \"a\", \"annotator\": \"p\", \"grammar\": 1}\n{\"id\": \"b\",\n", 0, "", "x.jsonl:2: malformed JSON"},
		{"jsonl array", "x.jsonl", "[1]\n", 0, "", "x.jsonl:1: malformed JSON"},
		{"csv out of range", "x.csv", "id,annotator,grammar\na,p,1\nb,p,2\n", 3, "out_of_range", "grammar: 2 out of range [0, 1]"},
		{"csv bad number", "x.csv", "id,annotator,accuracy\na,p,two\n", 2, "bad_value", `accuracy: "two" is not a number`},
		{"csv unknown column", "x.csv", "id,annotator,tone\n", 0, "", `x.csv:1: column "tone" is not a rubric dimension`},
		{"csv no id column", "x.csv", "annotator,grammar\np,1\n", 0, "", "x.csv:1: no id column"},
		{"csv ragged", "x.csv", "id,annotator,grammar\na,p\n", 0, "", "x.csv: malformed CSV: record on line 2: wrong number of fields"},
		{"unknown format", "x.txt", "", 0, "", "unknown label format"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseLabels([]byte(c.data), c.file, r)
			if err == nil {
				t.Fatal("no error")
			}
			if c.line > 0 && !strings.HasPrefix(err.Error(), c.file+":"+itoa(c.line)+": ") || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %q, want %s:%d: …%s…", err, c.file, c.line, c.msg)
			}
			var p Problem
			if c.line > 0 && (!errors.As(err, &p) || p.Kind != c.kind) {
				t.Fatalf("error %#v, want a %s problem", err, c.kind)
			}
			l, err := ParseLabels([]byte(c.data), c.file, r, SkipBad())
			if c.line == 0 {
				if err == nil {
					t.Fatal("SkipBad: no error for malformed input")
				}
				return
			}
			if err != nil {
				t.Fatalf("SkipBad: %v", err)
			}
			if len(l.Problems) != 1 || l.Problems[0].Kind != c.kind || l.Problems[0].Line != c.line {
				t.Fatalf("SkipBad problems %+v, want one %s at line %d", l.Problems, c.kind, c.line)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestDuplicateKeepsFirst checks that with SkipBad the first label of a
// duplicate pair is kept, whatever else the unit has.
func TestDuplicateKeepsFirst(t *testing.T) {
	data := "{\"id\": \"a\", \"annotator\": \"p\", \"grammar\": 1}\n{\"id\": \"b\", \"annotator\": \"p\", \"grammar\": 1}\n{\"id\": \"a\", \"annotator\": \"q\", \"grammar\": 0}\n{\"id\": \"a\", \"annotator\": \"p\", \"grammar\": 0}\n"
	l, err := ParseLabels([]byte(data), "d.jsonl", DefaultRubric(), SkipBad())
	if err != nil {
		t.Fatal(err)
	}
	got := dump(l)
	want := map[string]map[string][]string{"a": {"p": {"1", "-", "-"}, "q": {"0", "-", "-"}}, "b": {"p": {"1", "-", "-"}}}
	if !reflect.DeepEqual(got, want) || len(l.Problems) != 1 || l.Problems[0].Line != 4 {
		t.Fatalf("got %v, problems %+v", got, l.Problems)
	}
	if l.NumLabels(0) != 2 || l.NumLabels(1) != 1 {
		t.Fatalf("label counts %d, %d", l.NumLabels(0), l.NumLabels(1))
	}
}

// FuzzLabelStudio feeds arbitrary bytes to the Label Studio reader: it
// must never panic, errors must name the file and a line, and whatever it
// accepts must be valid labels.
func FuzzLabelStudio(f *testing.F) {
	for _, p := range []string{"testdata/ls.json", "../examples/annotation/labels.json"} {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`[{"data":{"id":"a"},"annotations":[{"completed_by":1,"result":[{"from_name":"grammar","value":{"rating":1}}]}]}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{"data":{"id":1e400}}]`))
	r, err := LoadRubric("testdata/rubric.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, opts := range [][]LoadOption{nil, {SkipBad()}} {
			l, err := ParseLabels(data, "f.json", r, opts...)
			if err != nil {
				if !strings.HasPrefix(err.Error(), "f.json:") {
					t.Fatalf("error without file and line: %v", err)
				}
				continue
			}
			for u := range l.IDs {
				seen := map[int]bool{}
				for _, lb := range l.Of(u) {
					if seen[lb.Annotator] {
						t.Fatalf("duplicate annotator kept in unit %d", u)
					}
					seen[lb.Annotator] = true
					for d, v := range lb.Values {
						if !math.IsNaN(v) {
							if err := r[d].Check(v); err != nil {
								t.Fatalf("accepted a bad label: %v", err)
							}
						}
					}
				}
			}
		}
	})
}

// TestLabelsMemory measures the heap cost of loaded labels, the figure in
// the Labels doc comment.
func TestLabelsMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	var sb strings.Builder
	const units = 30000
	for u := 0; u < units; u++ {
		for a := 0; a < 3; a++ {
			sb.WriteString(`{"id":"doc-`)
			sb.WriteString(itoa(u))
			sb.WriteString(`","annotator":"ann`)
			sb.WriteString(itoa(a))
			sb.WriteString(`","grammar":1,"accuracy":2,"completion":3}` + "\n")
		}
	}
	data := []byte(sb.String())
	sb.Reset()
	before := heapInUse()
	l, err := ParseLabels(data, "m.jsonl", DefaultRubric())
	if err != nil {
		t.Fatal(err)
	}
	after := heapInUse()
	runtime.KeepAlive(data)
	per := float64(after-before) / float64(l.Len())
	t.Logf("%d labels: %.1f bytes per label, %.1f M labels per GB", l.Len(), per, 1e9/per/1e6)
	if per > 75 {
		t.Errorf("%.1f bytes per label, want <= 75 (the documented ~60, ~16 M per GB)", per)
	}
}

// FuzzLabelRows feeds arbitrary bytes to the JSONL and CSV readers, with
// the same checks as FuzzLabelStudio.
func FuzzLabelRows(f *testing.F) {
	for _, p := range []string{"testdata/rows.jsonl", "testdata/rows.csv"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("id,annotator,grammar\n\"a\nb\",p,1\n"))
	r, err := LoadRubric("testdata/rubric.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, name := range []string{"f.jsonl", "f.csv"} {
			l, err := ParseLabels(data, name, r, SkipBad())
			if err != nil {
				if !strings.HasPrefix(err.Error(), name+":") {
					t.Fatalf("error without the file: %v", err)
				}
				continue
			}
			for u := range l.IDs {
				for _, lb := range l.Of(u) {
					for d, v := range lb.Values {
						if !math.IsNaN(v) && r[d].Check(v) != nil {
							t.Fatalf("accepted a bad label %v for %s", v, r[d].Name)
						}
					}
				}
			}
		}
	})
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAnnotateCLI runs "sift annotate export" and "sift annotate agreement"
// on the annotation example's files, as a user would.
func TestAnnotateCLI(t *testing.T) {
	ex := filepath.Join("..", "..", "examples", "annotation")
	dir := t.TempDir()
	var out, errb bytes.Buffer
	err := cli(context.Background(), []string{"annotate", "export", filepath.Join(ex, "data.jsonl"), "--rubric", filepath.Join(ex, "rubric.yaml"),
		"--sample", "18", "--stratify", "bucket", "--min-per-stratum", "3", "--seed", "7", "--output", dir}, nil, &out, &errb)
	if err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	if !strings.Contains(out.String(), "sampled 18 of 36 rows") || !strings.Contains(out.String(), "bucket=tail: 6 of 12") {
		t.Errorf("export output:\n%s", out.String())
	}
	for _, f := range []string{"tasks.json", "config.xml", "template.csv", "template.jsonl"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	// --recipe exports the recipe's output: here the same file, so the same tasks.
	abs, _ := filepath.Abs(filepath.Join(ex, "data.jsonl"))
	rec := filepath.Join(dir, "r.yaml")
	os.WriteFile(rec, []byte("input: in.jsonl\noutput: "+abs+"\n"), 0o644)
	dir2 := filepath.Join(dir, "viarecipe")
	if err := cli(context.Background(), []string{"annotate", "export", "--recipe", rec, "--rubric", filepath.Join(ex, "rubric.yaml"),
		"--sample", "18", "--stratify", "bucket", "--min-per-stratum", "3", "--seed", "7", "--output", dir2}, nil, &out, &errb); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(filepath.Join(dir, "tasks.json"))
	b, _ := os.ReadFile(filepath.Join(dir2, "tasks.json"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("--recipe export differs from the direct one")
	}
	out.Reset()
	dis := filepath.Join(dir, "dis.jsonl")
	err = cli(context.Background(), []string{"annotate", "agreement", filepath.Join(ex, "labels.json"), "--rubric", filepath.Join(ex, "rubric.yaml"),
		"--seed", "7", "--json", "--disagreements", dis, "--spread", "0.5"}, nil, &out, &errb)
	if err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	var rep struct {
		Labels    int
		Agreement map[string]struct {
			Kind   string
			Alpha  *float64
			CILow  *float64 `json:"ci_low"`
			CIHigh *float64 `json:"ci_high"`
		}
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if a := rep.Agreement["error_type"]; rep.Labels != 53 || a.Kind != "nominal" || a.Alpha == nil || *a.CILow > *a.Alpha || *a.Alpha > *a.CIHigh {
		t.Errorf("agreement %s", out.String())
	}
	if data, _ := os.ReadFile(dis); !bytes.Contains(data, []byte(`"dimension":"grammar"`)) {
		t.Errorf("disagreements %s", data)
	}
	// Without the example's rubric, its error_type results are an error
	// with file and line.
	err = cli(context.Background(), []string{"annotate", "agreement", filepath.Join(ex, "labels.json")}, nil, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), `labels.json:391: from_name "error_type" is not a rubric dimension`) {
		t.Errorf("error %v", err)
	}
}

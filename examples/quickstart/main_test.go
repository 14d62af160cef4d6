package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/siftdata/sift/recipe"
)

// TestQuickstart runs the quickstart and checks that every registered stage
// takes part and that no row is lost.
func TestQuickstart(t *testing.T) {
	st := runQuickstart(t).Stats
	if st.RowsIn+st.RowsAdded != st.RowsOut+st.RowsRejected || st.RowsAdded == 0 {
		t.Errorf("stats %+v", st)
	}
	used := map[string]bool{}
	for _, s := range st.Stages {
		used[s.Name] = true
		acted := s.RowsRejected > 0 || s.RowsAdded > 0
		for _, n := range s.Counters {
			acted = acted || n > 0
		}
		if !acted {
			t.Errorf("stage %s neither dropped, added nor counted anything: the sample should exercise it", s.Name)
		}
	}
	for _, name := range recipe.Names() {
		if !used[name] {
			t.Errorf("stage %s is registered but not in the quickstart", name)
		}
	}
}

// TestQuickstartDeterministic runs the whole recipe, every stage, at
// different worker counts and batch sizes and compares the bytes.
func TestQuickstartDeterministic(t *testing.T) {
	golden, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, data := range map[string][]byte{"sample.jsonl": sample, "recipe.yaml": recipeYAML} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir) // relative paths, so ids of unreadable lines are stable
	r, err := recipe.Load("recipe.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	for _, o := range []recipe.Overrides{{Workers: 1, BatchSize: 1}, {Workers: 4, BatchSize: 7}, {Workers: 2, BatchSize: 1000}} {
		name := fmt.Sprintf("w%d-b%d", o.Workers, o.BatchSize)
		o.Output, o.Rejects = name+".jsonl", name+".rejects.jsonl"
		if _, err := recipe.Run(context.Background(), r, recipe.RunOptions{Overrides: o}); err != nil {
			t.Fatal(err)
		}
		out, _ := os.ReadFile(o.Output)
		rej, _ := os.ReadFile(o.Rejects)
		got := append(out, rej...)
		if want == nil {
			want = got
			checkGolden(t, filepath.Join(golden, "clean.jsonl"), out)
			checkGolden(t, filepath.Join(golden, "rejects.jsonl"), rej)
		} else if !bytes.Equal(got, want) {
			t.Errorf("%s: output or rejects differ from workers 1, batch 1", name)
		}
	}
}

var update = flag.Bool("update", false, "rewrite the golden files")

// checkGolden compares got with the golden file, or rewrites it with -update.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from this run's output (go test -update rewrites it after review)", filepath.Base(path))
	}
}

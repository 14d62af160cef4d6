package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/siftdata/sift/recipe"
)

// TestQuickstart runs the quickstart and checks that every registered stage
// takes part and that no row is lost.
func TestQuickstart(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	devnull, _ := os.Open(os.DevNull)
	defer devnull.Close()
	stdout := os.Stdout
	os.Stdout = devnull
	rep, err := run()
	os.Stdout = stdout
	if err != nil {
		t.Fatal(err)
	}
	st := rep.Stats
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
	dir := t.TempDir()
	for name, data := range map[string][]byte{"sample.jsonl": sample, "recipe.yaml": recipeYAML} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, err := recipe.Load(filepath.Join(dir, "recipe.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	for _, o := range []recipe.Overrides{{Workers: 1, BatchSize: 1}, {Workers: 4, BatchSize: 7}, {Workers: 2, BatchSize: 1000}} {
		name := fmt.Sprintf("w%d-b%d", o.Workers, o.BatchSize)
		o.Output = filepath.Join(dir, name+".jsonl")
		o.Rejects = filepath.Join(dir, name+".rejects.jsonl")
		if _, err := recipe.Run(context.Background(), r, recipe.RunOptions{Overrides: o}); err != nil {
			t.Fatal(err)
		}
		out, _ := os.ReadFile(o.Output)
		rej, _ := os.ReadFile(o.Rejects)
		got := append(out, rej...)
		if want == nil {
			want = got
		} else if !bytes.Equal(got, want) {
			t.Errorf("%s: output or rejects differ from workers 1, batch 1", name)
		}
	}
}

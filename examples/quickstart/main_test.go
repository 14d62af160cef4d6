package main

import (
	"os"
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

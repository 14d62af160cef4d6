package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/siftdata/sift/annotate"
)

// TestExample runs the example: the export samples exactly the rows the
// committed Label Studio fixture labels (the round trip), the agreement is
// computed for every dimension, the recipe conserves rows, and the rubric
// filter keeps only rows that reach the minimums.
func TestExample(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	devnull, err := os.Create(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	res, err := run(devnull)
	if err != nil {
		t.Fatal(err)
	}
	// Round trip: exported ids = labelled ids.
	data, err := os.ReadFile(filepath.Join(res.dir, "export", annotate.TasksFile))
	if err != nil {
		t.Fatal(err)
	}
	var tasks []struct {
		Data struct{ ID string } `json:"data"`
	}
	if err := json.Unmarshal(data, &tasks); err != nil {
		t.Fatal(err)
	}
	var exported []string
	for _, x := range tasks {
		exported = append(exported, x.Data.ID)
	}
	labelled := slices.Clone(res.labels.IDs)
	slices.Sort(exported)
	slices.Sort(labelled)
	if !slices.Equal(exported, labelled) {
		t.Fatalf("exported %v, labelled %v: regenerate labels.json for the sample", exported, labelled)
	}
	if len(res.labels.Annotators) != 3 || res.labels.Len() != 53 {
		t.Errorf("%d annotators, %d labels; want 3 and 53 (one skipped task, one cancelled annotation)", len(res.labels.Annotators), res.labels.Len())
	}
	st := res.report.Stats
	if st.RowsIn+st.RowsAdded != st.RowsOut+st.RowsRejected {
		t.Fatalf("rows lost: %+v", st)
	}
	join := st.Stages[1].Report.(*annotate.JoinReport)
	for _, d := range []string{"grammar", "accuracy", "completion", "error_type"} {
		a := join.Agreement[d]
		if a == nil || a.Annotators != 3 || !(float64(a.Alpha) > 0 && float64(a.Alpha) <= 1) {
			t.Errorf("%s: %+v", d, a)
		}
	}
	if st.Stages[1].Rejected[annotate.Unlabeled] != 18 || st.Stages[2].Rejected[annotate.BelowRubric] == 0 || st.RowsOut == 0 {
		t.Errorf("stages %+v", st.Stages)
	}
	kept, _ := os.ReadFile(filepath.Join(res.dir, "out", "kept.jsonl"))
	for _, line := range strings.Split(strings.TrimSpace(string(kept)), "\n") {
		var row struct {
			Labels map[string]*struct{ Score any } `json:"labels"`
		}
		json.Unmarshal([]byte(line), &row)
		for dim, min := range map[string]float64{"grammar": 1, "accuracy": 2, "completion": 3} {
			if s, ok := row.Labels[dim].Score.(float64); !ok || s < min {
				t.Errorf("kept a row with %s %v: %s", dim, row.Labels[dim].Score, line)
			}
		}
	}
}

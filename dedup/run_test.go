package dedup

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/siftdata/sift/recipe"
)

// TestQualityThroughRecipe is the done-when as a user runs it: the
// evaluation sample as JSONL through recipe.Run with `simhash_dedup: {}`
// at default settings, scored from the rejects file's duplicate_of.
func TestQualityThroughRecipe(t *testing.T) {
	docs := evalCorpus(t, 300)
	dir := t.TempDir()
	in, err := os.Create(filepath.Join(dir, "in.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range docs {
		b, _ := json.Marshal(map[string]string{"id": fmt.Sprint(i), "text": d.text})
		fmt.Fprintf(in, "%s\n", b)
	}
	in.Close()
	r, err := recipe.Parse([]byte("input: in.jsonl\noutput: out.jsonl\nrejects: rejects.jsonl\nbatch_size: 100\nstages:\n  - simhash_dedup: {}\n"), dir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := recipe.Run(context.Background(), r, recipe.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(rep.Rejects)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var dups, found, wrong, dropped int
	seen := map[int]bool{}
	for _, d := range docs {
		if seen[d.cluster] {
			dups++
		}
		seen[d.cluster] = true
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var rj struct {
			ID, Reason  string
			DuplicateOf string `json:"duplicate_of"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rj); err != nil {
			t.Fatal(err)
		}
		var row, keeper int
		fmt.Sscan(rj.ID, &row)
		fmt.Sscan(rj.DuplicateOf, &keeper)
		if rj.Reason != "near_duplicate" || rj.DuplicateOf == "" {
			t.Fatalf("reject %s", sc.Bytes())
		}
		dropped++
		if docs[keeper].cluster == docs[row].cluster && keeper < row {
			found++
		} else {
			wrong++
		}
	}
	recall, precision := float64(found)/float64(dups), 1-float64(wrong)/float64(dropped)
	t.Logf("%d rows: recall %.4f, precision %.5f (%d wrong of %d drops)", len(docs), recall, precision, wrong, dropped)
	if recall < 0.97 || precision < 0.999 {
		t.Errorf("recall %.4f precision %.5f, want ≥ 0.97 and ≥ 0.999", recall, precision)
	}
	if rep.Stats.RowsIn != int64(len(docs)) || rep.Stats.RowsOut+rep.Stats.RowsRejected != rep.Stats.RowsIn {
		t.Errorf("stats %+v", rep.Stats)
	}
}

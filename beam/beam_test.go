package siftbeam

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/siftdata/sift"
	_ "github.com/siftdata/sift/augment"
	_ "github.com/siftdata/sift/clean"
	"github.com/siftdata/sift/dataset"
	_ "github.com/siftdata/sift/dedup"
	"github.com/siftdata/sift/mining"
	"github.com/siftdata/sift/mining/lm"
	"github.com/siftdata/sift/recipe"
	_ "github.com/siftdata/sift/schema"
)

func TestMain(m *testing.M) { ptest.Main(m) }

// fortunes returns the fortunes of the named files as texts, failing under
// CI and skipping elsewhere when they are missing.
func fortunes(t testing.TB, names ...string) []string {
	var out []string
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("/usr/share/games/fortunes", n))
		if err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("fixture: %v", err)
			}
			t.Skipf("fixture: %v", err)
		}
		for _, f := range strings.Split(string(b), "\n%\n") {
			if f = strings.TrimSpace(f); f != "" {
				out = append(out, f)
			}
		}
	}
	return out
}

// writeJSONL writes rows {id, text} to path, and a bad line after every
// 97th row when bad is set.
func writeJSONL(t testing.TB, path string, ids []string, texts []string, bad bool) {
	var b bytes.Buffer
	for i, tx := range texts {
		j, _ := json.Marshal(map[string]string{"id": ids[i], "text": tx})
		b.Write(j)
		b.WriteByte('\n')
		if bad && i%97 == 0 {
			b.WriteString("{\"id\": \"broken" + ids[i] + "\", \"text\": \n")
		}
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// mutate returns s with one word in twenty (at least one) changed,
// deterministically.
func mutate(s string, r *rand.Rand) string {
	w := strings.Fields(s)
	for range max(1, len(w)/20) {
		i := r.IntN(len(w))
		w[i] = strings.ToUpper(w[i][:1]) + "x" + w[i][1:]
	}
	return strings.Join(w, " ")
}

// corpus writes three uneven input files and an empty one from real text,
// with planted exact duplicates (reformatted) and near-duplicates, and
// returns the paths.
func corpus(t testing.TB, dir string, n int) []string {
	texts := fortunes(t, "fortunes", "literature", "riddles", "computers")
	r := rand.New(rand.NewPCG(1, 2))
	texts = texts[:min(n, len(texts))]
	var all, ids []string
	for i, tx := range texts {
		all, ids = append(all, tx), append(ids, fmt.Sprintf("f%05d", i))
		switch {
		case i%11 == 3:
			all, ids = append(all, strings.ToUpper(tx)+" !"), append(ids, fmt.Sprintf("f%05d-dup", i))
		case i%7 == 5 && len(strings.Fields(tx)) >= 20:
			all, ids = append(all, mutate(tx, r)), append(ids, fmt.Sprintf("f%05d-near", i))
		}
	}
	r.Shuffle(len(all), func(i, j int) { all[i], all[j], ids[i], ids[j] = all[j], all[i], ids[j], ids[i] })
	cut1, cut2 := len(all)/7, len(all)*3/4
	paths := []string{filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl"), filepath.Join(dir, "c.jsonl"), filepath.Join(dir, "d.jsonl")}
	writeJSONL(t, paths[0], ids[:cut1], all[:cut1], true)
	writeJSONL(t, paths[1], ids[cut1:cut2], all[cut1:cut2], false)
	writeJSONL(t, paths[2], nil, nil, false)
	writeJSONL(t, paths[3], ids[cut2:], all[cut2:], true)
	return paths
}

// lines reads the JSON lines of the files matching glob, sorted.
func lines(t testing.TB, glob string) []string {
	files, err := filepath.Glob(glob)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<26)
		for sc.Scan() {
			out = append(out, sc.Text())
		}
		fh.Close()
	}
	sort.Strings(out)
	return out
}

type rejKey struct{ ID, Stage, Reason, DuplicateOf string }

func rejectSet(t testing.TB, ls []string) map[rejKey]bool {
	m := map[rejKey]bool{}
	for _, l := range ls {
		var r struct {
			ID, Stage, Reason string
			DuplicateOf       string `json:"duplicate_of"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		m[rejKey{r.ID, r.Stage, r.Reason, r.DuplicateOf}] = true
	}
	return m
}

// runBoth runs stages on inputs through sift run and through Beam on prism
// (reading files in parts of split bytes; 0: the default).
func runBoth(t *testing.T, stages string, inputs []string, shards int, split int64) (local, beam *recipe.Report, dir string) {
	dir = t.TempDir()
	text := "batch_size: 64\nstages:\n" + stages
	r, err := recipe.Parse([]byte(text), dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	local, err = recipe.Run(ctx, r, recipe.RunOptions{Overrides: recipe.Overrides{Input: inputs,
		Output: filepath.Join(dir, "local", "out.jsonl"), Rejects: filepath.Join(dir, "local", "rejects.jsonl")}})
	if err != nil {
		t.Fatal(err)
	}
	beam, err = Run(ctx, "prism", r, Options{Overrides: recipe.Overrides{Input: inputs,
		Output: filepath.Join(dir, "beam", "out.jsonl"), Rejects: filepath.Join(dir, "beam", "rejects.jsonl")}, Shards: shards, SplitBytes: split})
	if err != nil {
		t.Fatal(err)
	}
	return local, beam, dir
}

// TestEquivalence runs the row-local and exact stages through sift run and
// through Beam on prism: same kept rows (same bytes once sorted), same
// rejects (id, stage, reason, duplicate_of), same statistics.
func TestEquivalence(t *testing.T) {
	inputs := corpus(t, t.TempDir(), 1500)
	local, beam, dir := runBoth(t, `  - normalize: {}
  - length_filter: {unit: words, min: 5, max: 200}
  - exact_dedup: {}
  - pii_redact: {}
  - augment_synonyms: {ratio: 0.2, copies: 1, seed: 3}
`, inputs, 3, 0)
	lo, bo := lines(t, filepath.Join(dir, "local", "out.jsonl")), lines(t, filepath.Join(dir, "beam", "out-*-of-00003.jsonl"))
	if len(lo) == 0 || !slices.Equal(lo, bo) {
		t.Fatalf("outputs differ: %d local rows, %d beam rows", len(lo), len(bo))
	}
	lr, br := rejectSet(t, lines(t, filepath.Join(dir, "local", "rejects.jsonl"))), rejectSet(t, lines(t, filepath.Join(dir, "beam", "rejects-*-of-00003.jsonl")))
	if len(lr) == 0 || len(lr) != len(br) {
		t.Fatalf("%d local rejects, %d beam rejects", len(lr), len(br))
	}
	for k := range lr {
		if !br[k] {
			t.Errorf("local reject %+v not in beam's", k)
		}
	}
	for i, ls := range local.Stats.Stages {
		bs := beam.Stats.Stages[i]
		if ls.Name != bs.Name || ls.RowsIn != bs.RowsIn || ls.RowsOut != bs.RowsOut || ls.RowsAdded != bs.RowsAdded || ls.RowsRejected != bs.RowsRejected {
			t.Errorf("stage %d: local %+v\nbeam %+v", i, ls, bs)
		}
		if ls.Name == "exact_dedup" {
			// The same report, but for the index's memory (no worker holds
			// the whole index).
			lr, br := asMap(t, ls.Report), asMap(t, bs.Report)
			delete(lr, "index_bytes")
			delete(br, "index_bytes")
			if lr["clusters"] == float64(0) || !reflect.DeepEqual(lr, br) {
				t.Errorf("exact_dedup report: local %v\nbeam %v", lr, br)
			}
		}
	}
	t.Logf("rows in %d, out %d, rejected %d, added %d", beam.Stats.RowsIn, beam.Stats.RowsOut, beam.Stats.RowsRejected, beam.Stats.RowsAdded)
}

// TestSplitInputs reads large files in parts: a JSONL file of rows without
// ids (numbered by line) and bad lines, cut into byte ranges, and a Parquet
// file of many row groups. Output and rejects equal sift run's.
func TestSplitInputs(t *testing.T) {
	texts := fortunes(t, "fortunes", "literature", "riddles")
	dir := t.TempDir()
	var b bytes.Buffer
	for i, tx := range texts {
		j, _ := json.Marshal(map[string]string{"text": tx})
		b.Write(j)
		b.WriteByte('\n')
		if i%50 == 7 {
			b.WriteString("{\"text\": \"cut off\n\n")
		}
	}
	big := filepath.Join(dir, "big.jsonl")
	if err := os.WriteFile(big, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	pq := filepath.Join(dir, "big.parquet")
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	src, err := dataset.Open(mem, []string{big})
	if err != nil {
		t.Fatal(err)
	}
	w, err := dataset.Create(mem, pq, dataset.WithChunkRows(40))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sift.NewPipeline(src, w, sift.WithAllocator(mem)).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(w.Close(), src.Close()); err != nil {
		t.Fatal(err)
	}
	inputs := []string{big, pq}
	const split = 8 << 10
	for _, in := range inputs {
		s, err := dataset.Splits(in, split)
		if err != nil || len(s) < 4 {
			t.Fatalf("%s: %d splits (%v), want at least 4", in, len(s), err)
		}
		t.Logf("%s: %d splits", filepath.Base(in), len(s))
	}
	// The row-local steps before the dedup step run in its pass, which
	// leaves their batches for the last; with none before it, the pass
	// leaves the batches as read, and the last runs the steps after it.
	for _, stages := range []string{`  - normalize: {}
  - length_filter: {unit: words, min: 5, max: 200}
  - exact_dedup: {}
`, `  - exact_dedup: {}
  - normalize: {}
  - length_filter: {unit: words, min: 5, max: 200}
`} {
		_, _, out := runBoth(t, stages, inputs, 2, split)
		lo, bo := lines(t, filepath.Join(out, "local", "out.jsonl")), lines(t, filepath.Join(out, "beam", "out-*-of-00002.jsonl"))
		if len(lo) < 500 || !slices.Equal(lo, bo) {
			t.Fatalf("%s: outputs differ: %d local rows, %d beam rows", stages, len(lo), len(bo))
		}
		lr, br := lines(t, filepath.Join(out, "local", "rejects.jsonl")), lines(t, filepath.Join(out, "beam", "rejects-*-of-00002.jsonl"))
		if len(lr) < 20 || !slices.Equal(lr, br) {
			t.Fatalf("%s: rejects differ: %d local, %d beam", stages, len(lr), len(br))
		}
	}
}

// asMap is v as a JSON object.
func asMap(t *testing.T, v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// baseID is the id of the original a planted copy was made from.
func baseID(id string) string { b, _, _ := strings.Cut(id, "-"); return b }

// nearQuality scores the near_duplicate rejects against the planted
// near-duplicates: recall over the planted pairs whose both rows reached
// the stage, precision over the rejects.
func nearQuality(t *testing.T, rejects []string, planted int) (recall, precision float64, n int) {
	good := 0
	for k := range rejectSet(t, rejects) {
		if k.Reason != "near_duplicate" {
			continue
		}
		n++
		if baseID(k.ID) == baseID(k.DuplicateOf) {
			good++
		}
	}
	return float64(good) / float64(planted), float64(good) / float64(max(n, 1)), n
}

func keptIDs(t *testing.T, ls []string) map[string]bool {
	m := map[string]bool{}
	for _, l := range ls {
		var r struct{ ID string }
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		m[r.ID] = true
	}
	return m
}

// TestMultiStage is the done-when recipe, normalize → length_filter →
// exact_dedup → simhash_dedup → pii_redact: identical results up to
// simhash_dedup's documented difference (a row whose only earlier
// near-duplicate was itself dropped is dropped on Beam, kept locally),
// bounded here by 1 % of the rows, with recall and precision on the
// planted near-duplicates for both.
func TestMultiStage(t *testing.T) {
	inputs := corpus(t, t.TempDir(), 3000)
	local, beam, dir := runBoth(t, `  - normalize: {}
  - length_filter: {unit: words, min: 5, max: 400}
  - exact_dedup: {}
  - simhash_dedup: {}
  - pii_redact: {}
`, inputs, 2, 0)
	lo, bo := lines(t, filepath.Join(dir, "local", "out.jsonl")), lines(t, filepath.Join(dir, "beam", "out-*-of-00002.jsonl"))
	lk, bk := keptIDs(t, lo), keptIDs(t, bo)
	diff := 0
	for id := range lk {
		if !bk[id] {
			diff++
		}
	}
	for id := range bk {
		if !lk[id] {
			diff++
		}
	}
	// Planted near pairs whose both rows passed length_filter.
	all := keptIDs(t, append(slices.Clone(lo), lines(t, filepath.Join(dir, "local", "rejects.jsonl"))...))
	planted := 0
	for id := range all {
		if strings.HasSuffix(id, "-near") && all[baseID(id)] {
			planted++
		}
	}
	lrej, brej := lines(t, filepath.Join(dir, "local", "rejects.jsonl")), lines(t, filepath.Join(dir, "beam", "rejects-*-of-00002.jsonl"))
	lr, lp, ln := nearQuality(t, lrej, planted)
	br, bp, bn := nearQuality(t, brej, planted)
	t.Logf("%d rows kept locally, %d on Beam, %d differ; %d planted near pairs; local: %d dropped, recall %.3f precision %.3f; beam: %d dropped, recall %.3f precision %.3f",
		len(lk), len(bk), diff, planted, ln, lr, lp, bn, br, bp)
	if diff*500 > len(lk) {
		t.Errorf("kept sets differ in %d rows, more than 0.2 %% of %d", diff, len(lk))
	}
	if planted == 0 || br < lr-0.02 || bp < lp-0.02 {
		t.Errorf("beam recall %.3f (local %.3f), precision %.3f", br, lr, bp)
	}
	// The stage reports: both dedup steps report clusters on Beam; the
	// near-duplicate ones differ from sift run's only as the kept sets do.
	for i, bs := range beam.Stats.Stages {
		if bs.Name != "simhash_dedup" && bs.Name != "exact_dedup" {
			continue
		}
		br, lr := asMap(t, bs.Report), asMap(t, local.Stats.Stages[i].Report)
		n, d, c, big := br["kept"], br["duplicates"], br["clusters"].(float64), br["largest_cluster"].(float64)
		if n != float64(bs.RowsOut) || d != float64(bs.RowsRejected) || c < 1 || c > d.(float64) || big < 2 || br["largest_keeper"] == "" {
			t.Errorf("%s report on Beam: %v (rows out %d, rejected %d)", bs.Name, br, bs.RowsOut, bs.RowsRejected)
		}
		if lc := lr["clusters"].(float64); math.Abs(c-lc) > float64(diff+1) {
			t.Errorf("%s: %v clusters on Beam, %v locally, %d kept rows differ", bs.Name, c, lc, diff)
		}
	}
	// Everything but the near-duplicate decisions is identical.
	bset := rejectSet(t, brej)
	for k := range rejectSet(t, lrej) {
		if k.Reason != "near_duplicate" && !bset[k] {
			t.Errorf("local reject %+v not in beam's", k)
		}
	}
}

// lmModel trains a trigram model on some fortune files (not those the
// tests score) and writes it as ARPA, returning its path.
func lmModel(t *testing.T) string {
	var text []byte
	for _, n := range []string{"people", "computers", "science", "love"} {
		text = append(text, strings.Join(fortunes(t, n), "\n")...)
		text = append(text, '\n')
	}
	dir := t.TempDir()
	corpus, model := filepath.Join(dir, "train.txt"), filepath.Join(dir, "model.arpa")
	if err := os.WriteFile(corpus, text, 0o644); err != nil {
		t.Fatal(err)
	}
	m, _, err := mining.Train(context.Background(), memory.DefaultAllocator, 3, lm.Whitespace, sift.RoleAssistant, []string{corpus})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := m.WriteARPA(&b); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(model, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return model
}

// TestPercentiles runs perplexity with band and bucket percentiles on
// Beam: each threshold, from the t-digest merged across workers, must be
// within 1 % of rank of the exact percentile (the share of rows below
// it), and the output must not depend on the batch size.
func TestPercentiles(t *testing.T) {
	model := lmModel(t)
	texts := fortunes(t, "fortunes", "literature", "riddles", "wisdom")
	ids := make([]string, len(texts))
	for i := range ids {
		ids[i] = fmt.Sprintf("f%05d", i)
	}
	in := t.TempDir()
	cut := len(texts) / 3
	inputs := []string{filepath.Join(in, "a.jsonl"), filepath.Join(in, "b.jsonl")}
	writeJSONL(t, inputs[0], ids[:cut], texts[:cut], false)
	writeJSONL(t, inputs[1], ids[cut:], texts[cut:], false)
	var outs [][]string
	for _, batch := range []int{50, 300} {
		dir := t.TempDir()
		r, err := recipe.Parse([]byte(fmt.Sprintf(`batch_size: %d
stages:
  - perplexity: {model: %s, select: band, band: [30, 70], bucket: true, buckets: [20, 60]}
`, batch, model)), dir)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Run(context.Background(), "prism", r, Options{Overrides: recipe.Overrides{Input: inputs,
			Output: filepath.Join(dir, "out.jsonl"), Rejects: filepath.Join(dir, "rejects.jsonl")}, Shards: 2})
		if err != nil {
			t.Fatal(err)
		}
		n := float64(rep.Stats.Stages[1].Counters["scored"])
		rej := rep.Stats.Stages[1].Rejected
		out := lines(t, filepath.Join(dir, "out-*-of-00002.jsonl"))
		tail := 0
		for _, l := range out {
			if strings.Contains(l, `"bucket":"tail"`) {
				tail++
			}
		}
		ranks := map[float64]float64{
			30: float64(rej["ppl_below_band"]) / n,
			70: 1 - float64(rej["ppl_above_band"])/n,
			60: 1 - float64(rej["ppl_above_band"]+int64(tail))/n,
		}
		t.Logf("batch %d: %v scored rows; rank of each percentile's threshold: %v", batch, n, ranks)
		if n != float64(len(texts)) {
			t.Errorf("%v rows scored, want %d", n, len(texts))
		}
		for q, rank := range ranks {
			if math.Abs(rank-q/100) > 0.01 {
				t.Errorf("batch %d: p%v threshold at rank %.4f", batch, q, rank)
			}
		}
		// The stage's report: the thresholds every worker applied.
		sr := asMap(t, rep.Stats.Stages[1].Report)
		lo, _ := sr["lower_ppl"].(float64)
		hi, _ := sr["upper_ppl"].(float64)
		cuts, _ := sr["bucket_ppl"].([]any)
		if sr["method"] != "tdigest" || sr["rows"] != n || !(lo > 1 && hi > lo) || len(cuts) != 2 {
			t.Errorf("batch %d: perplexity report %v", batch, sr)
		}
		outs = append(outs, out)
	}
	if !slices.Equal(outs[0], outs[1]) {
		t.Errorf("outputs differ with the batch size")
	}
}

// TestTrainOnInputRefused: a model trained on the run's input would be
// trained by every worker; Plan refuses it naming the step and the way
// out.
func TestNegativeOptionsRefused(t *testing.T) {
	dir := t.TempDir()
	r, err := recipe.Parse([]byte("stages:\n  - normalize: {}\n"), dir)
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "in.jsonl")
	writeJSONL(t, in, []string{"a"}, []string{"some text"}, false)
	for name, o := range map[string]Options{"shards": {Shards: -1}, "max-bucket": {MaxBucket: -2}, "max-group": {MaxGroup: -3}, "split-bytes": {SplitBytes: -4}} {
		o.Input, o.Output = []string{in}, filepath.Join(dir, "out.jsonl")
		if _, err := Plan(r, o); err == nil || !strings.HasPrefix(err.Error(), name+":") {
			t.Errorf("%s negative: %v, want an error naming it", name, err)
		}
	}
}

// TestChainsOffRefused: simhash_dedup without chains keeps a row whose
// only earlier near-duplicate was dropped, which Beam's groups cannot
// tell; the job is refused before it starts, naming the setting.
func TestChainsOffRefused(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	writeJSONL(t, in, []string{"a"}, []string{"one two three"}, false)
	for text, refused := range map[string]bool{"{chains: false}": true, "{chains: true}": false, "{}": false} {
		r, err := recipe.Parse([]byte("stages:\n  - simhash_dedup: "+text+"\n"), dir)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Plan(r, Options{Overrides: recipe.Overrides{Input: []string{in}, Output: filepath.Join(dir, "out.jsonl")}})
		if refused != (err != nil) || refused && !strings.Contains(err.Error(), "stage simhash_dedup: chains: false") {
			t.Errorf("simhash_dedup %s: error %v", text, err)
		}
	}
}

func TestTrainOnInputRefused(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	writeJSONL(t, in, []string{"a"}, []string{"one two three"}, false)
	r, err := recipe.Parse([]byte("stages:\n  - perplexity: {train: {order: 2, corpus: input}}\n"), dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Plan(r, Options{Overrides: recipe.Overrides{Input: []string{in}, Output: filepath.Join(dir, "out.jsonl")}})
	if err == nil || !strings.Contains(err.Error(), "stage perplexity: train") || !strings.Contains(err.Error(), "model:") {
		t.Fatalf("error %v", err)
	}
}

// TestUnreadableFile: a file that cannot be read fails the job with its
// name, beside a good file and an empty one, and the failed job leaves no
// output shards.
func TestUnreadableFile(t *testing.T) {
	dir := t.TempDir()
	good, empty, bad := filepath.Join(dir, "good.jsonl"), filepath.Join(dir, "empty.jsonl"), filepath.Join(dir, "bad.jsonl.gz")
	writeJSONL(t, good, []string{"a", "b"}, []string{"one two three four five", "six seven eight nine ten"}, false)
	writeJSONL(t, empty, nil, nil, false)
	if err := os.WriteFile(bad, []byte("this is not gzip data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := recipe.Parse([]byte("stages:\n  - normalize: {}\n"), dir)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	// A good report of an earlier run stays; the failed run's goes beside it.
	report, earlier := filepath.Join(dir, "report.json"), []byte(`{"earlier": "good"}`)
	if err := os.WriteFile(report, earlier, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), "prism", r, Options{Overrides: recipe.Overrides{Input: []string{good, empty, bad},
		Output: filepath.Join(out, "out.jsonl"), Rejects: filepath.Join(out, "rejects.jsonl"), Report: report}, Shards: 2})
	if err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("error %v, want one naming %s", err, bad)
	}
	if left, _ := filepath.Glob(filepath.Join(out, "*")); len(left) > 0 {
		t.Errorf("the failed job left %v", left)
	}
	if b, _ := os.ReadFile(report); !bytes.Equal(b, earlier) {
		t.Errorf("the earlier report became %q", b)
	}
	if rep, err := ReadReport(recipe.FailedPath(report)); err != nil || !strings.Contains(rep.Error, bad) {
		t.Errorf("failed report %+v (%v), want the error naming %s", rep, err, bad)
	}
}

// TestPathsRefused: a job whose shards or report would replace an input,
// each other or a device, or whose options are out of range, is refused
// before it starts, naming what is wrong, and writes nothing: not even
// the report.
func TestPathsRefused(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	writeJSONL(t, in, []string{"a"}, []string{"one two three"}, false)
	shardIn := filepath.Join(dir, "s-00000-of-00001.jsonl")
	writeJSONL(t, shardIn, []string{"b"}, []string{"four five six"}, false)
	fifo := filepath.Join(dir, "f-00000-of-00001.jsonl")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := recipe.Parse([]byte("stages:\n  - normalize: {}\n"), dir)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.jsonl")
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"report is the input", Options{Overrides: recipe.Overrides{Input: []string{in}, Output: out, Report: in}}, "input " + in + " and report " + in + " are the same file"},
		{"rejects are the output", Options{Overrides: recipe.Overrides{Input: []string{in}, Output: out, Rejects: out}}, "are the same file"},
		{"a shard is the input", Options{Overrides: recipe.Overrides{Input: []string{shardIn}, Output: filepath.Join(dir, "s.jsonl")}}, "input " + shardIn + " and output"},
		{"output on a device", Options{Overrides: recipe.Overrides{Input: []string{in}, Output: os.DevNull}}, "output: written as shards"},
		{"a shard is a FIFO", Options{Overrides: recipe.Overrides{Input: []string{in}, Output: filepath.Join(dir, "f.jsonl")}}, "is not a regular file"},
		{"workers negative", Options{Overrides: recipe.Overrides{Input: []string{in}, Output: out, Workers: -3}}, "workers: -3"},
		{"batch size negative", Options{Overrides: recipe.Overrides{Input: []string{in}, Output: out, BatchSize: -1}}, "batch-size: -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Report = cmp.Or(tc.o.Report, filepath.Join(dir, "report.json"))
			_, err := Run(context.Background(), "prism", r, tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
			if b, _ := os.ReadFile(in); !strings.Contains(string(b), "one two three") {
				t.Errorf("the input became %q", b)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 3 {
				t.Errorf("the refused job left %v", left)
			}
		})
	}
}

// TestStopped checks that a job whose context is cancelled (sift-beam's,
// on SIGINT or SIGTERM) fails saying why, and leaves no shards and no
// scratch directory.
func TestStopped(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	writeJSONL(t, in, []string{"a", "b"}, []string{"one two three four five", "six seven eight nine ten"}, false)
	r, err := recipe.Parse([]byte("stages:\n  - normalize: {}\n"), dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("interrupt signal received"))
	out := filepath.Join(dir, "out")
	rep, err := Run(ctx, "prism", r, Options{Overrides: recipe.Overrides{Input: []string{in},
		Output: filepath.Join(out, "out.jsonl"), Report: filepath.Join(dir, "report.json")}})
	if err == nil || !strings.HasPrefix(err.Error(), "stopped: interrupt signal received") {
		t.Fatalf("error %v, want one saying the job was stopped by the signal", err)
	}
	if rep == nil || !strings.HasPrefix(rep.Error, "stopped: ") {
		t.Errorf("report %+v, want the error in it", rep)
	}
	if left, _ := filepath.Glob(filepath.Join(out, "*")); len(left) > 0 {
		t.Errorf("the stopped job left %v", left)
	}
}

// TestStaleScratchRemoved: a run removes the scratch directories beside
// its output that no live run holds (a killed run's), and leaves one a
// live run has locked and one just made.
func TestStaleScratchRemoved(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	writeJSONL(t, in, []string{"a"}, []string{"one two three"}, false)
	out := filepath.Join(dir, "out")
	old := time.Now().Add(-2 * staleAge)
	mk := func(name string, at time.Time) string {
		d := filepath.Join(out, name)
		if err := os.MkdirAll(d, 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "part"), make([]byte, 1000), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(d, at, at); err != nil {
			t.Fatal(err)
		}
		return d
	}
	killed, live, fresh := mk(".sift-beam-scratch-killed", old), mk(".sift-beam-scratch-live", old), mk(".sift-beam-scratch-fresh", time.Now())
	f, err := os.Open(live)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := dataset.TryLock(f); err != nil {
		t.Fatal(err)
	}
	r, err := recipe.Parse([]byte("stages:\n  - normalize: {}\n"), dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), "prism", r, Options{Overrides: recipe.Overrides{Input: []string{in}, Output: filepath.Join(out, "out.jsonl")}}); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(out, ".sift-beam-scratch-*"))
	if !slices.Equal(left, []string{fresh, live}) {
		t.Errorf("scratch directories left %v, want %v (not %s)", left, []string{fresh, live}, killed)
	}
}

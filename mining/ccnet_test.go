package mining

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift/recipe"
)

// TestStageCCNetChain runs the stage from a recipe on a cc_net-style pair,
// a KenLM probing binary over SentencePiece pieces and the SentencePiece
// model, and checks every row's log10 against KenLM's query on spm_encode's
// pieces.
func TestStageCCNetChain(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join(confDir(t), "sentencepiece"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	f, err := os.Open(filepath.Join(dir, "sp.3.probing.bin.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	bin, _ := io.ReadAll(zr)
	os.WriteFile(filepath.Join(tmp, "sp.3.bin"), bin, 0o644)
	r, err := recipe.Parse([]byte(fmt.Sprintf(`stages:
  - perplexity: {model: sp.3.bin, tokenizer: sentencepiece, sentencepiece: %s}
`, filepath.Join(dir, "sp.unigram.model"))), tmp)
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	steps, err := r.Steps(recipe.Env{Dir: tmp, Mem: mem})
	if err != nil {
		t.Fatal(err)
	}
	text, _ := os.ReadFile(filepath.Join(dir, "sp_test.txt"))
	want, _ := os.ReadFile(filepath.Join(dir, "sp.query.3.sentence.txt"))
	lines := strings.Split(strings.TrimSuffix(string(text), "\n"), "\n")
	rows, _, _ := run(t, mem, steps[0].Stage, textBatches(mem, lines, 5), 2)
	totals := strings.Split(strings.TrimSpace(string(want)), "\n")
	if len(rows) != len(totals) {
		t.Fatalf("%d rows, %d KenLM totals", len(rows), len(totals))
	}
	for i, l := range totals {
		var total float64
		var oov int
		fmt.Sscanf(l, "Total: %g OOV: %d", &total, &oov)
		var row struct {
			Log10 float64 `json:"lm_log10"`
		}
		json.Unmarshal([]byte(rows[i]), &row)
		if float32(row.Log10) != float32(total) {
			t.Errorf("row %d: lm_log10 %v, KenLM %v", i, row.Log10, total)
		}
	}
	for _, bad := range []string{"{model: sp.3.bin, tokenizer: sentencepiece}", "{model: sp.3.bin, sentencepiece: x.model}", "{model: sp.3.bin, normalize: nfc}"} {
		r, _ := recipe.Parse([]byte("stages:\n  - perplexity: "+bad+"\n"), tmp)
		if _, err := r.Steps(recipe.Env{Dir: tmp, Mem: mem}); err == nil || !strings.Contains(err.Error(), "tokenizer, sentencepiece, normalize:") {
			t.Errorf("%s: error %v", bad, err)
		}
	}
}

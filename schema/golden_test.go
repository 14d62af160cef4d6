package schema

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenOptions are the normalize options of each golden input.
var goldenOptions = map[string][]Option{
	"custom": {WithMapping(Mapping{
		ID: "uid", Messages: "dialog.turns", Role: "speaker", Content: "says", System: "dialog.persona",
		Roles: map[string]string{"person": "user", "bot": "assistant"},
	})},
}

// TestGolden runs every testdata/golden/<name>.jsonl through normalize and
// the export check of each output format, and compares the written output
// and rejects with testdata/golden/<name>/<format>.jsonl and rejects.jsonl.
// The output must not depend on batch size or worker count.
func TestGolden(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/golden/*.jsonl")
	if len(inputs) == 0 {
		t.Fatal("no golden inputs")
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".jsonl")
		t.Run(name, func(t *testing.T) {
			var rejects []byte
			for _, f := range outputFormats {
				out, rej := runGolden(t, in, f, goldenOptions[name], 4, 2)
				out1, rej1 := runGolden(t, in, f, goldenOptions[name], 1, 3)
				if !bytes.Equal(out, out1) || !bytes.Equal(rej, rej1) {
					t.Errorf("%s: output differs between batch size 4 × 2 workers and 1 × 3", f)
				}
				for _, l := range bytes.SplitAfter(rej, []byte("\n")) {
					var r struct{ Stage string }
					if json.Unmarshal(l, &r) == nil && (f == Unified || r.Stage != "normalize") {
						rejects = append(rejects, l...)
					}
				}
				golden(t, filepath.Join("testdata/golden", name, string(f)+".jsonl"), out)
			}
			golden(t, filepath.Join("testdata/golden", name, "rejects.jsonl"), rejects)
		})
	}
}

func runGolden(t *testing.T, path string, f Format, opts []Option, size, workers int) (out, rejects []byte) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	norm, err := NewNormalizer(opts...)
	if err != nil {
		t.Fatal(err)
	}
	exp, err := NewExport(f)
	if err != nil {
		t.Fatal(err)
	}
	var col sift.Collector
	defer col.Release()
	var rej bytes.Buffer
	recs := readFile(t, mem, path, size)
	p := sift.NewPipeline(sift.NewSliceSource(recs...), &col,
		sift.WithStage("normalize", norm), sift.WithStage("export_"+string(f), exp),
		sift.WithAllocator(mem), sift.WithWorkers(workers), sift.WithRejects(&rej))
	if _, err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	enc, err := Encoder(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range col.Recs {
		for i := range int(r.NumRows()) {
			out = append(enc(out, r, i), '\n')
		}
	}
	return out, rej.Bytes()
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			t.Errorf("%s line %d:\n got %s\nwant %s", path, i+1, gl, wl)
			return
		}
	}
}

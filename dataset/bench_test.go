package dataset_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/dataset"
)

// corpus writes n JSONL rows of generated English and Chinese text.
func corpus(b *testing.B, n int) (string, int64) {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	en := strings.Fields("the of and to in data model training clean text language token filter row batch stream arrow quality")
	zh := []rune("数据清洗模型训练语言文本质量过滤流批处理中文字词")
	var sb strings.Builder
	for i := range n {
		var t strings.Builder
		for range 40 + rng.IntN(200) {
			if rng.IntN(4) == 0 {
				t.WriteRune(zh[rng.IntN(len(zh))])
			} else {
				t.WriteString(en[rng.IntN(len(en))])
				t.WriteByte(' ')
			}
		}
		fmt.Fprintf(&sb, `{"id":"doc-%d","text":%q,"url":"https://example.org/%d","score":%.3f}`+"\n", i, t.String(), i, rng.Float64())
	}
	p := filepath.Join(b.TempDir(), "corpus.jsonl")
	if err := os.WriteFile(p, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	return p, int64(sb.Len())
}

// BenchmarkJSONLToParquet is the pass-through read → write path, with 0, 1
// and 4 pass-through stages to show the engine's overhead per stage.
func BenchmarkJSONLToParquet(b *testing.B) {
	in, size := corpus(b, 20000)
	out := filepath.Join(b.TempDir(), "out.parquet")
	pass := sift.StageFunc(func(_ context.Context, b *sift.Batch) (arrow.RecordBatch, error) { return b.Pass(), nil })
	for _, stages := range []int{0, 1, 4} {
		b.Run(fmt.Sprintf("stages=%d", stages), func(b *testing.B) {
			mem := memory.NewGoAllocator()
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				r, err := dataset.Open(mem, []string{in})
				if err != nil {
					b.Fatal(err)
				}
				w, err := dataset.Create(mem, out)
				if err != nil {
					b.Fatal(err)
				}
				opts := []sift.Option{sift.WithAllocator(mem), sift.WithWorkers(1)}
				for i := range stages {
					opts = append(opts, sift.WithStage(fmt.Sprint("pass", i), pass))
				}
				if _, err := sift.NewPipeline(r, w, opts...).Run(context.Background()); err != nil {
					b.Fatal(err)
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
				r.Close()
			}
		})
	}
}

package recipe_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/siftdata/sift/internal/realtext"
	"github.com/siftdata/sift/mining/lm"
	"github.com/siftdata/sift/recipe"

	_ "github.com/siftdata/sift/augment"
	_ "github.com/siftdata/sift/clean"
	_ "github.com/siftdata/sift/dedup"
	_ "github.com/siftdata/sift/mining"
	_ "github.com/siftdata/sift/schema"
)

// The whole-recipe benchmark: the six steps added one at a time, on a
// real-text corpus (package realtext) as JSONL.zst in, Parquet out, and
// the perplexity step with a 3-gram ARPA model trained beforehand on the
// first 19 MB of the corpus's text. Each step's figure is the CPU time
// (user + system) of the run, so the step's own cost is the difference
// from the line before (reported as step-MB/cpu-s when that line ran
// earlier in the same process).
//
//	go test -run XXX -bench Pipeline -benchtime 1x -count 3 ./recipe
//
// SIFT_BENCH_MB sets the corpus size in MB (default 72).
var pipelineSteps = []struct{ name, stage string }{
	{"normalize", "normalize: {}"},
	{"length_filter", "length_filter: {unit: words, min: 5, max: 10000}"},
	{"exact_dedup", "exact_dedup: {}"},
	{"simhash_dedup", "simhash_dedup: {}"},
	{"pii_redact", "pii_redact: {}"},
	{"augment_synonyms", "augment_synonyms: {copies: 1, ratio: 0.1}"},
	{"perplexity", "perplexity: {model: model3.arpa, select: annotate}"},
}

type benchCorpus struct {
	dir   string
	bytes int64 // JSONL bytes before compression
	err   error
}

var (
	corpusOnce sync.Once
	corpus     benchCorpus
)

// pipelineCorpus writes the corpus and the model once per test process.
func pipelineCorpus(b *testing.B) benchCorpus {
	corpusOnce.Do(func() {
		mb := 72
		if s := os.Getenv("SIFT_BENCH_MB"); s != "" {
			var err error
			if mb, err = strconv.Atoi(s); err != nil || mb < 1 {
				corpus.err = fmt.Errorf("SIFT_BENCH_MB=%q: want a positive whole number", s)
				return
			}
		}
		dir, err := os.MkdirTemp("", "sift-bench-")
		if err != nil {
			corpus.err = err
			return
		}
		corpus.dir = dir
		corpus.bytes, corpus.err = writeBenchCorpus(dir, int64(mb)*1e6)
		if corpus.err == nil {
			corpus.err = writeBenchModel(dir, 19e6)
		}
	})
	if errors.Is(corpus.err, realtext.ErrMissing) && os.Getenv("CI") == "" {
		b.Skip(corpus.err)
	}
	if corpus.err != nil {
		b.Fatal(corpus.err)
	}
	return corpus
}

func writeBenchCorpus(dir string, size int64) (int64, error) {
	f, err := os.Create(filepath.Join(dir, "corpus.jsonl.zst"))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	zw, err := zstd.NewWriter(f)
	if err != nil {
		return 0, err
	}
	st, err := realtext.Write(zw, size)
	if err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	return st.Bytes, f.Close()
}

// writeBenchModel trains the 3-gram model on the first size bytes of the
// corpus's documents, one sentence per line. No-break spaces become
// spaces: sift's trainer keeps them inside tokens, which its ARPA reader
// then rejects as duplicate n-grams.
func writeBenchModel(dir string, size int) error {
	docs, err := realtext.Documents()
	if err != nil {
		return err
	}
	var text strings.Builder
	for _, d := range docs {
		for l := range strings.Lines(strings.ReplaceAll(d, "\u00a0", " ")) {
			if l = strings.TrimSpace(l); l != "" {
				text.WriteString(l)
				text.WriteByte('\n')
			}
		}
		if text.Len() >= size {
			break
		}
	}
	tr, err := lm.NewTrainer(3, lm.WithTempDir(dir))
	if err != nil {
		return err
	}
	tok, err := lm.ParseTokenizer("whitespace")
	if err != nil {
		return err
	}
	if err := tr.AddText(strings.NewReader(text.String()), tok); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "model3.arpa"))
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	if _, err := tr.WriteARPA(context.Background(), w); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// processCPU returns the CPU time (user + system) of the process so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runBenchRecipe runs the first n steps with the given workers b.N times
// and returns the CPU and wall time of one run.
func runBenchRecipe(b *testing.B, c benchCorpus, n, workers int) (cpu, wall time.Duration) {
	var y strings.Builder
	fmt.Fprintf(&y, "input: corpus.jsonl.zst\noutput: out-%d.parquet\nworkers: %d\nstages:\n", n, workers)
	for _, s := range pipelineSteps[:n] {
		fmt.Fprintf(&y, "  - %s\n", s.stage)
	}
	r, err := recipe.Parse([]byte(y.String()), c.dir)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(c.bytes)
	b.ReportAllocs()
	runtime.GC() // not to charge this run for the garbage of the last
	b.ResetTimer()
	cpu0, t0 := processCPU(b), time.Now()
	for range b.N {
		if _, err := recipe.Run(context.Background(), r, recipe.RunOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	return (processCPU(b) - cpu0) / time.Duration(b.N), time.Since(t0) / time.Duration(b.N)
}

// BenchmarkPipeline reports MB of JSONL per CPU-second for the recipe up
// to each step, on one worker, and the wall-time speed-up of two workers
// on two cores over one worker on one core, on the whole recipe:
//
//	go test -run XXX -bench 'Pipeline/all' -benchtime 1x -count 3 ./recipe
func BenchmarkPipeline(b *testing.B) {
	c := pipelineCorpus(b)
	mb := float64(c.bytes) / 1e6
	last := map[int]time.Duration{} // the latest CPU time of each line (with -count, lines repeat)
	for n := 1; n <= len(pipelineSteps); n++ {
		name := pipelineSteps[n-1].name
		if n == 1 {
			name = "base"
		}
		b.Run(name, func(b *testing.B) {
			cpu, _ := runBenchRecipe(b, c, n, 1)
			b.ReportMetric(cpu.Seconds(), "cpu-s")
			b.ReportMetric(mb/cpu.Seconds(), "MB/cpu-s")
			if prev := last[n-1]; prev > 0 && cpu > prev {
				b.ReportMetric(mb/(cpu-prev).Seconds(), "step-MB/cpu-s")
			}
			last[n] = cpu
		})
	}
	// --workers alone does not bound the cores: every step runs in its own
	// goroutines, so one worker per step already keeps two cores busy at
	// times. The speed-up of two workers is therefore measured against one
	// worker on one core (GOMAXPROCS=1), each line on as many cores as
	// workers.
	var wall1 time.Duration
	for _, w := range []int{1, 2} {
		b.Run(fmt.Sprintf("all/workers=%d", w), func(b *testing.B) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(w))
			_, wall := runBenchRecipe(b, c, len(pipelineSteps), w)
			if w == 1 {
				wall1 = wall
			} else if wall1 > 0 {
				b.ReportMetric(wall1.Seconds()/wall.Seconds(), "speedup")
			}
		})
	}
}

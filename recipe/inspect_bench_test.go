package recipe_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/siftdata/sift/internal/realtext"
	"github.com/siftdata/sift/recipe"
)

var (
	inspectOnce   sync.Once
	inspectCorpus benchCorpus
)

// BenchmarkInspect profiles the real-text corpus (JSONL.zst, the size of
// SIFT_BENCH_MB, default 72) with the HTML report, and reports the CPU
// time of a profile (user + system, of the whole process):
//
//	go test -run XXX -bench Inspect -benchtime 1x -count 3 ./recipe
func BenchmarkInspect(b *testing.B) {
	inspectOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sift-inspect-bench-")
		if err != nil {
			inspectCorpus.err = err
			return
		}
		inspectCorpus.dir = dir
		mb := 72
		if v := os.Getenv("SIFT_BENCH_MB"); v != "" {
			if mb, err = strconv.Atoi(v); err != nil || mb < 1 {
				inspectCorpus.err = fmt.Errorf("SIFT_BENCH_MB=%q: want a positive whole number", v)
				return
			}
		}
		inspectCorpus.bytes, inspectCorpus.err = writeBenchCorpus(dir, int64(mb)*1e6)
	})
	c := inspectCorpus
	if errors.Is(c.err, realtext.ErrMissing) && os.Getenv("CI") == "" {
		b.Skip(c.err)
	}
	if c.err != nil {
		b.Fatal(c.err)
	}
	in := []string{filepath.Join(c.dir, "corpus.jsonl.zst")}
	b.SetBytes(c.bytes)
	b.ReportAllocs()
	cpu0 := processCPU(b)
	for b.Loop() {
		rep, err := recipe.Inspect(context.Background(), in, recipe.InspectOptions{Report: filepath.Join(b.TempDir(), "p.html")})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Profile.Profiled == 0 {
			b.Fatal("nothing profiled")
		}
	}
	cpu := (processCPU(b) - cpu0) / time.Duration(b.N)
	b.ReportMetric(cpu.Seconds(), "cpu-s")
	b.ReportMetric(float64(c.bytes)/1e6/cpu.Seconds(), "MB/cpu-s")
}

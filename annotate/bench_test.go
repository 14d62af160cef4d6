package annotate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
)

// fortunes returns the fortune cookies of Debian's fortunes package: real
// English text, a few hundred bytes per entry.
func fortunes(tb testing.TB) []string {
	files, _ := filepath.Glob("/usr/share/games/fortunes/*")
	var out []string
	for _, f := range files {
		if filepath.Ext(f) != "" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, e := range strings.Split(string(data), "\n%\n") {
			if e = strings.TrimSpace(e); e != "" {
				out = append(out, e)
			}
		}
	}
	if len(out) < 1000 {
		if os.Getenv("CI") != "" {
			tb.Fatal("fortunes not installed (apt-get install fortunes)")
		}
		tb.Skip("fortunes not installed (apt-get install fortunes)")
	}
	return out
}

// BenchmarkJoin measures the annotations stage on the data side: rows of
// real text (fortunes, in batches of 1024) joined with three annotators'
// labels each, bytes counted as the rows' text.
func BenchmarkJoin(b *testing.B) {
	docs := fortunes(b)
	mem := memory.NewGoAllocator() // the checked allocator's bookkeeping would dominate

	var labels strings.Builder
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range docs {
		for a := 0; a < 3; a++ {
			fmt.Fprintf(&labels, `{"id":"f%d","annotator":"ann%d","grammar":%d,"accuracy":%d,"completion":%d}`+"\n", i, a, rng.IntN(2), rng.IntN(4), rng.IntN(6))
		}
	}
	l, err := ParseLabels([]byte(labels.String()), "b.jsonl", DefaultRubric())
	if err != nil {
		b.Fatal(err)
	}
	j, err := NewJoin(l)
	if err != nil {
		b.Fatal(err)
	}
	var batches []arrow.RecordBatch
	var n int64
	bl := sift.NewBuilder(mem)
	for i, d := range docs {
		bl.Append(sift.Row{ID: fmt.Sprintf("f%d", i), Text: &d, Meta: `{"file":"fortunes"}`})
		n += int64(len(d))
		if bl.Len() == 1024 || i == len(docs)-1 {
			batches = append(batches, bl.NewBatch())
		}
	}
	bl.Release()
	defer func() {
		for _, r := range batches {
			r.Release()
		}
	}()
	b.SetBytes(n)
	b.ReportAllocs()
	ctx := context.Background()
	cpu := cpuSeconds()
	for b.Loop() {
		for _, rec := range batches {
			out, err := j.Process(ctx, sift.NewBatch(mem, "annotations", rec))
			if err != nil {
				b.Fatal(err)
			}
			out.Release()
		}
	}
	// CPU time, not wall time: the benchmark machine is shared.
	b.ReportMetric(float64(n)*float64(b.N)/1e6/(cpuSeconds()-cpu), "MB/cpu-s")
	b.ReportMetric(float64(n)/float64(len(docs)), "bytes/row")
}

// cpuSeconds is the process's user + system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// units1M is 1 M units scored 0–5 by three annotators who agree roughly,
// with 5 % of values missing.
func units1M() Units {
	rng := rand.New(rand.NewPCG(2, 3))
	u := Units{Off: make([]int, 1, 1_000_001)}
	for j := 0; j < 1_000_000; j++ {
		truth := rng.IntN(6)
		for c := 0; c < 3; c++ {
			if rng.IntN(20) == 0 {
				continue
			}
			u.Vals = append(u.Vals, float64(min(max(truth+rng.IntN(3)-1, 0), 5)))
			u.Coder = append(u.Coder, int32(c))
		}
		u.Off = append(u.Off, len(u.Vals))
	}
	return u
}

// BenchmarkAlpha1M is ordinal alpha of 1 M units × 3 annotators, from the
// raw values.
func BenchmarkAlpha1M(b *testing.B) {
	u := units1M()
	b.ReportAllocs()
	cpu := cpuSeconds()
	for b.Loop() {
		Alpha(u, Ordinal)
	}
	b.ReportMetric((cpuSeconds()-cpu)/float64(b.N), "cpu-s/op")
}

// BenchmarkBootstrap1M is the 1,000-resample bootstrap interval of ordinal
// alpha on 1 M units × 3 annotators, including reducing the units to
// patterns.
func BenchmarkBootstrap1M(b *testing.B) {
	u := units1M()
	b.ReportAllocs()
	cpu := cpuSeconds()
	for b.Loop() {
		newCoincidences(u, Ordinal).bootstrap(1000, 1)
	}
	b.ReportMetric((cpuSeconds()-cpu)/float64(b.N), "cpu-s/op")
}

// BenchmarkBootstrapDirect is the same bootstrap drawing units one by one
// (the sampler used when there are more than 4096 distinct unit patterns),
// on 100 k units.
func BenchmarkBootstrapDirect100k(b *testing.B) {
	u := units1M()
	u.Off = u.Off[:100_001]
	defer func(l int) { directLimit = l }(directLimit)
	directLimit = 0
	b.ReportAllocs()
	cpu := cpuSeconds()
	for b.Loop() {
		newCoincidences(u, Ordinal).bootstrap(1000, 1)
	}
	b.ReportMetric((cpuSeconds()-cpu)/float64(b.N), "cpu-s/op")
}

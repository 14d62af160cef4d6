package lm

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system CPU time: the machine these
// benchmarks run on is shared, so wall time says little.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkScoreLarge scores the text file SIFT_LM_BENCH_TEXT with the
// model SIFT_LM_BENCH_MODEL (ARPA or binary), loaded once, and reports
// tokens per CPU second (tokens include </s>, as KenLM counts them).
func BenchmarkScoreLarge(b *testing.B) {
	mp, tp := os.Getenv("SIFT_LM_BENCH_MODEL"), os.Getenv("SIFT_LM_BENCH_TEXT")
	if mp == "" || tp == "" {
		b.Skip("set SIFT_LM_BENCH_MODEL and SIFT_LM_BENCH_TEXT")
	}
	m, err := Load(mp)
	if err != nil {
		b.Fatal(err)
	}
	text, err := os.ReadFile(tp)
	if err != nil {
		b.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(text), "\n"), "\n")
	var sc Scratch
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	b.ResetTimer()
	tokens := 0
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		for _, l := range lines {
			tokens += m.ScoreText(Whitespace, l, &sc).Tokens
		}
	}
	cpu = cpuTime() - cpu
	b.ReportMetric(float64(tokens)/cpu.Seconds(), "tokens/cpu-s")
}

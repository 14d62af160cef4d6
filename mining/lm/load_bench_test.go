package lm

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// benchModel returns the ARPA file named by SIFT_LM_BENCH_ARPA (a large
// model, e.g. one trained with sift lm train on Debian text), or the
// conformance 4-gram model.
func benchModel(b *testing.B) string {
	if p := os.Getenv("SIFT_LM_BENCH_ARPA"); p != "" {
		return p
	}
	return filepath.Join(confDir(b), "model.4.arpa.gz")
}

// BenchmarkLoadARPA parses an ARPA file into the probing layout.
func BenchmarkLoadARPA(b *testing.B) {
	path := benchModel(b)
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		if _, err := ReadModel(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
	cpu = cpuTime() - cpu
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(len(data))/1e6*float64(b.N)/cpu.Seconds(), "MB/cpu-s")
}

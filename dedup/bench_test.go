package dedup

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"runtime"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"

	"github.com/mfonda/simhash"
)

// benchDocs returns English evaluation paragraphs (the base documents of
// the evaluation corpus) for benchmarks.
func benchDocs(b *testing.B) ([]string, int64) {
	var docs []string
	var n int64
	for _, d := range evalCorpus(b, 2000) {
		if !d.zh && d.rate == 0 {
			docs = append(docs, d.text)
			n += int64(len(d.text))
		}
	}
	return docs, n
}

// mfondaWords is the word pattern of simhash.NewWordFeatureSet.
var mfondaWords = regexp.MustCompile(`[\w']+(?:\://[\w\./]+){0,1}`)

// BenchmarkFingerprint compares sift's fingerprint (NFKC + case fold,
// segmentation, words into a 128-bit SimHash, word 3-grams into the
// sketch: the defaults) with the textbook
// pipeline of github.com/mfonda/simhash (lower case, regexp words,
// simhash.Shingle(3), 64-bit SimhashBytes) on the same documents. MB/cpu-s
// counts the process's CPU time: on a shared machine, wall time measures
// the neighbours (the garbage collector's work for mfonda's allocations is
// counted too).
func BenchmarkFingerprint(b *testing.B) {
	docs, n := benchDocs(b)
	b.Run("sift", func(b *testing.B) {
		sh, _ := NewShingler(DefaultWordN, DefaultCharN, DefaultSketchWordN, DefaultSketchCharN)
		var a Accumulator
		var fp Fingerprint
		b.SetBytes(n)
		b.ReportAllocs()
		cpu := processCPU()
		for b.Loop() {
			for _, d := range docs {
				a.Reset(DefaultIndex.Lanes)
				sh.Add(d, &a)
				a.Fingerprint(&fp)
			}
		}
		b.ReportMetric(float64(n)*float64(b.N)/1e6/(processCPU()-cpu).Seconds(), "MB/cpu-s")
	})
	b.Run("mfonda", func(b *testing.B) {
		b.SetBytes(n)
		b.ReportAllocs()
		cpu := processCPU()
		for b.Loop() {
			for _, d := range docs {
				words := mfondaWords.FindAll(bytes.ToLower([]byte(d)), -1)
				simhash.SimhashBytes(simhash.Shingle(3, words))
			}
		}
		b.ReportMetric(float64(n)*float64(b.N)/1e6/(processCPU()-cpu).Seconds(), "MB/cpu-s")
	})
}

// synthFingerprints returns n seeded pseudo-random fingerprints standing
// in for precomputed ones of distinct documents; every tenth is a near
// copy of an earlier one: a few of its weakest SimHash bits flipped and a
// quarter of its sketch bins changed.
func synthFingerprints(n int) []Fingerprint {
	rng := rand.New(rand.NewPCG(9, 9))
	fps := make([]Fingerprint, n)
	for i := range fps {
		fp := &fps[i]
		if i%10 == 9 {
			*fp = fps[rng.IntN(i)]
			for j := range fp.Margin {
				if fp.Margin[j] < 2 && rng.IntN(3) == 0 {
					fp.Sig[j/64] ^= 1 << (j % 64)
				}
			}
			for range len(fp.Sketch) / 4 {
				fp.Sketch[rng.IntN(len(fp.Sketch))] = uint8(rng.IntN(15)+1) | uint8(rng.IntN(15)+1)<<4
			}
			continue
		}
		for l := range fp.Sig {
			fp.Sig[l] = rng.Uint64()
		}
		for j := range fp.Margin {
			fp.Margin[j] = uint8(rng.IntN(16))
		}
		for j := range fp.Sketch {
			fp.Sketch[j] = uint8(1 + rng.IntN(255))
		}
	}
	return fps
}

// BenchmarkIndex queries and inserts 1M (and 100k) precomputed
// fingerprints, as the stage does (drops below estimate 1 indexed as
// near-copies), and reports documents per second and
// memory per kept document: B/doc is the growth of the heap (index, ids
// and their file's buffers; the file itself is on disk), index-B/doc what
// Index.Bytes counts.
func BenchmarkIndex(b *testing.B) {
	fps := synthFingerprints(1_000_000)
	ids := make([]string, len(fps))
	for i := range ids {
		ids[i] = fmt.Sprintf("doc-%07d", i)
	}
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				x, _ := NewIndex(DefaultIndex)
				kept, found := 0, 0
				for i := range fps[:n] {
					if k, sim, ok := x.Query(&fps[i]); ok {
						found++
						if sim < 1 { // as the stage does with chains
							x.AddNear(&fps[i], ids[i], k)
						}
						continue
					}
					x.Add(&fps[i], ids[i])
					kept++
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(kept), "B/doc")
				b.ReportMetric(float64(x.Bytes())/float64(kept), "index-B/doc")
				b.ReportMetric(float64(found)/float64(n/10), "found/copies")
				x.Close()
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "docs/s")
			b.ReportMetric(float64(n)*float64(b.N)/(processCPU()-cpu).Seconds(), "docs/cpu-s")
		})
	}
}

// BenchmarkStage runs simhash_dedup end to end on the evaluation corpus
// (base documents and their edited copies, English and Chinese).
func BenchmarkStage(b *testing.B) {
	docs := evalCorpus(b, 2000)
	texts := make([]string, len(docs))
	var n int64
	for i, d := range docs {
		texts[i] = d.text
		n += int64(len(d.text))
	}
	mem := memory.NewGoAllocator()
	rec := rows(mem, texts)
	defer rec.Release()
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		st, _ := NewSimhashDedup()
		bt := sift.NewBatch(mem, "simhash_dedup", rec)
		out, err := st.Process(context.Background(), bt)
		if err != nil {
			b.Fatal(err)
		}
		out.Release()
	}
	b.ReportMetric(float64(len(texts))*float64(b.N)/b.Elapsed().Seconds(), "docs/s")
}

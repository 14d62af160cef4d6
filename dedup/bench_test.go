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
// segmentation, word 3-shingles, 256-bit SimHash) with the textbook
// pipeline of github.com/mfonda/simhash (lower case, regexp words,
// simhash.Shingle(3), 64-bit SimhashBytes) on the same documents.
func BenchmarkFingerprint(b *testing.B) {
	docs, n := benchDocs(b)
	b.Run("sift", func(b *testing.B) {
		sh, _ := NewShingler(DefaultWordN, DefaultCharN)
		var a Accumulator
		b.SetBytes(n)
		b.ReportAllocs()
		for b.Loop() {
			for _, d := range docs {
				a.Reset(4)
				sh.Hashes(d, a.Add)
				a.Sig(nil)
			}
		}
	})
	b.Run("mfonda", func(b *testing.B) {
		b.SetBytes(n)
		b.ReportAllocs()
		for b.Loop() {
			for _, d := range docs {
				words := mfondaWords.FindAll(bytes.ToLower([]byte(d)), -1)
				simhash.SimhashBytes(simhash.Shingle(3, words))
			}
		}
	})
}

// sigs returns n pseudo-random signatures with margins, seeded, standing
// in for precomputed fingerprints of distinct documents; every tenth is a
// near copy (a few weak bits flipped) of an earlier one.
func sigs(n int) ([]Sig, [][]int32) {
	rng := rand.New(rand.NewPCG(9, 9))
	s := make([]Sig, n)
	m := make([][]int32, n)
	for i := range s {
		m[i] = make([]int32, 256)
		for j := range m[i] {
			m[i][j] = int32(rng.IntN(40))
		}
		if i%10 == 9 {
			s[i] = s[rng.IntN(i)]
			for range 12 {
				b := rng.IntN(256)
				s[i][b/64] ^= 1 << (b % 64)
			}
			continue
		}
		for l := range s[i] {
			s[i][l] = rng.Uint64()
		}
	}
	return s, m
}

// BenchmarkIndex queries and inserts 1M precomputed signatures, as the
// stage does, and reports memory per kept document.
func BenchmarkIndex(b *testing.B) {
	const n = 1_000_000
	s, m := sigs(n)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("doc-%07d", i)
	}
	b.ReportAllocs()
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		x, _ := NewIndex(DefaultIndex)
		kept := 0
		for i := range s {
			if _, _, ok := x.Query(s[i], m[i]); !ok {
				x.Add(s[i], ids[i])
				kept++
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(kept), "B/doc")
		b.ReportMetric(float64(x.Bytes())/float64(kept), "index-B/doc")
		runtime.KeepAlive(x)
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

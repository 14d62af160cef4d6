package dedup

import (
	"bytes"
	"context"
	"regexp"
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
		sh, _ := NewShingler(DefaultWordN, DefaultCharN, DefaultSketchWordN, DefaultSketchCharN)
		var a Accumulator
		var fp Fingerprint
		b.SetBytes(n)
		b.ReportAllocs()
		for b.Loop() {
			for _, d := range docs {
				a.Reset(4)
				sh.Add(d, &a)
				a.Fingerprint(&fp)
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

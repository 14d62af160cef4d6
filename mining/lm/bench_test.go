package lm

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// BenchmarkScore scores the conformance test sentences with lmplz's 4-gram
// model and the whitespace tokenizer, and reports tokens per second
// (tokens include </s>, as KenLM counts them).
func BenchmarkScore(b *testing.B) {
	m := loadFixture(b, "model.4.arpa.gz")
	text := string(readFixture(b, "test.txt"))
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	var sc Scratch
	tokens := 0
	for _, l := range lines {
		tokens += m.ScoreText(Whitespace, l, &sc).Tokens
	}
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range lines {
			m.ScoreText(Whitespace, l, &sc)
		}
	}
	b.ReportMetric(float64(tokens)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkTrain trains an order-3 model on the conformance training text.
func BenchmarkTrain(b *testing.B) {
	train := readFixture(b, "train.txt.gz")
	b.SetBytes(int64(len(train)))
	b.ReportAllocs()
	for b.Loop() {
		tr, _ := NewTrainer(3)
		tr.AddText(bytes.NewReader(train), Whitespace)
		if _, _, err := tr.Model(); err != nil {
			b.Fatal(err)
		}
	}
}

// genCorpus writes about tokens words of synthetic text: a second-order
// Markov source over 5000 pseudo-words where each two-word context prefers
// eight successors and otherwise draws from a Zipf distribution, with
// sentence lengths around 14. It has real n-gram structure and no
// third-party origin.
func genCorpus(tokens int) []byte {
	r := rand.New(rand.NewPCG(6, 531))
	syll := []string{"ka", "lo", "mi", "ra", "te", "vu", "sho", "ne", "pa", "zi", "or", "um", "el", "ba", "fi", "du"}
	vocab := make([]string, 5000)
	for i := range vocab {
		w := ""
		for x := i + 16; x > 0; x /= 16 {
			w += syll[x%16]
		}
		vocab[i] = w
	}
	zipf := rand.NewZipf(r, 1.1, 2, uint64(len(vocab)-1))
	var b bytes.Buffer
	for n := 0; n < tokens; {
		length := 3 + r.IntN(23)
		p2, p1 := uint64(0), uint64(0)
		for i := 0; i < length; i++ {
			var w uint64
			if r.IntN(2) == 0 {
				h := (p2*5003+p1)*0x9e3779b97f4a7c15 + uint64(r.IntN(8))
				w = (h >> 20) % uint64(len(vocab))
			} else {
				w = zipf.Uint64()
			}
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(vocab[w])
			p2, p1 = p1, w+1
		}
		b.WriteByte('\n')
		n += length
	}
	return b.Bytes()
}

// BenchmarkTrain531k trains an order-3 model on 531k generated tokens, the
// corpus size of the lmplz measurement (3.8 s, 1.17 GB RSS).
func BenchmarkTrain531k(b *testing.B) {
	corpus := genCorpus(531000)
	b.SetBytes(int64(len(corpus)))
	for b.Loop() {
		tr, _ := NewTrainer(3)
		tr.AddText(bytes.NewReader(corpus), Whitespace)
		_, st, err := tr.Model()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(st.Tokens), "tokens")
	}
}

// BenchmarkTrainRealText trains models of orders 3 to 5 on the corpus named
// by SIFT_LM_CORPUS (e.g. from go run ./mining/lm/internal/realtext) and
// writes the ARPA to io.Discard, with the default budget and with 256 MiB.
func BenchmarkTrainRealText(b *testing.B) {
	path := os.Getenv("SIFT_LM_CORPUS")
	if path == "" {
		b.Skip("SIFT_LM_CORPUS is not set")
	}
	corpus, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	for _, order := range []int{3, 4, 5} {
		for _, mem := range []int64{1 << 30, 256 << 20} {
			b.Run(fmt.Sprintf("order=%d/memory=%dM", order, mem>>20), func(b *testing.B) {
				b.SetBytes(int64(len(corpus)))
				b.ReportAllocs()
				for b.Loop() {
					tr, _ := NewTrainer(order, WithMemory(mem), WithTempDir(b.TempDir()))
					if err := tr.AddText(bytes.NewReader(corpus), Whitespace); err != nil {
						b.Fatal(err)
					}
					st, err := tr.WriteARPA(context.Background(), io.Discard)
					if err != nil {
						b.Fatal(err)
					}
					b.ReportMetric(float64(st.Spills), "spills")
				}
			})
		}
	}
}

package lm

import (
	"bytes"
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

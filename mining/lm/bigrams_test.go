package lm

import (
	"math/rand/v2"
	"testing"
)

// Bigrams.Score is Model.Score after one word, for every 2-gram of the
// model, pairs it does not hold, <unk> on either side and the sentence
// start, on the plain and the quantized trie.
func TestBigrams(t *testing.T) {
	ref := loadFixture(t, "model.4.arpa.gz")
	for _, name := range []string{"model.4.trie.bin.gz", "model.4.trie-q8.bin.gz", "model.4.probing.bin.gz"} {
		t.Run(name, func(t *testing.T) {
			m, _ := binaryFixture(t, "kenlm-binary/"+name)
			b := m.Bigrams()
			if m.Format() == "probing" {
				if b != nil {
					t.Fatal("Bigrams of a probing model")
				}
				return
			}
			v := uint32(m.VocabSize())
			type pair struct{ prev, w uint32 }
			var pairs []pair
			g := ref.grams[1]
			for i := 0; i+2 <= len(g); i += 2 {
				pairs = append(pairs, pair{m.Index(ref.vocab[g[i]]), m.Index(ref.vocab[g[i+1]])})
			}
			held := len(pairs)
			r := rand.New(rand.NewPCG(1, 2))
			for range 20000 {
				pairs = append(pairs, pair{r.Uint32N(v), r.Uint32N(v)})
			}
			for w := range v {
				pairs = append(pairs, pair{NoWord, w}, pair{0, w}, pair{w, 0})
			}
			bad := 0
			for i, p := range pairs {
				s := m.BeginState()
				if p.prev != NoWord {
					s = State{}
					m.Score(&s, p.prev)
				}
				want, order := m.Score(&s, p.w)
				if i < held && order != 2 {
					t.Fatalf("%v: order %d: not a 2-gram of the model", p, order)
				}
				if got := b.Score(p.prev, p.w); got != want {
					if bad++; bad <= 5 {
						t.Errorf("%v: %v, want %v", p, got, want)
					}
				}
			}
			t.Logf("%d pairs, %d of them 2-grams", len(pairs), held)
		})
	}
}

func BenchmarkBigrams(b *testing.B) {
	b.ReportAllocs()
	m, _ := binaryFixture(b, "kenlm-binary/model.4.trie.bin.gz")
	bg := m.Bigrams()
	v := uint32(m.VocabSize())
	r := rand.New(rand.NewPCG(1, 2))
	ids := make([]uint32, 1<<12)
	for i := range ids {
		ids[i] = r.Uint32N(v)
	}
	b.Run("Model.Score", func(b *testing.B) {
		var sum float32
		for i := 0; b.Loop(); i++ {
			s := State{}
			m.Score(&s, ids[i&4095])
			p, _ := m.Score(&s, ids[(i+1)&4095])
			sum += p
		}
	})
	b.Run("Bigrams.Score", func(b *testing.B) {
		var sum float32
		for i := 0; b.Loop(); i++ {
			sum += bg.Score(ids[i&4095], ids[(i+1)&4095])
		}
	})
}

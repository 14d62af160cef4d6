package augment

import (
	_ "embed"
	"math"
	"sync"

	"github.com/siftdata/sift/mining/lm"
)

//go:generate go run ./internal/genlm -wordnet /usr/share/wordnet -go /usr/local/go/src -o data/english-lm.bin

// RareWord stands for every word of the context model's training text used
// fewer than three times, and so for every word it does not know.
const RareWord = "<rare>"

// englishLMData is a bigram model of WordNet 3.0's glosses and examples and
// of Go's source comments, a KenLM trie written by internal/genlm.
//
//go:embed data/english-lm.bin
var englishLMData []byte

// englishRareTypes is how many distinct words the training text spells
// RareWord (genlm prints it): a rare word gets 1/englishRareTypes of the
// class's probability.
const englishRareTypes = 52867

// fitModel scores how well a word fits between its neighbours.
type fitModel struct {
	m       *lm.Model
	pairs   *lm.Bigrams // m's 2-grams in a hash table, for fitMemo
	rare    uint32
	rarePen float32 // log10 of a rare word's share of RareWord
}

// englishFit returns the embedded context model, read in place on first use.
var englishFit = sync.OnceValue(func() *fitModel {
	m, err := lm.ReadBinary(englishLMData)
	if err != nil {
		panic("augment: embedded context model is corrupt: " + err.Error())
	}
	return &fitModel{m: m, pairs: m.Bigrams(), rare: m.Index(RareWord), rarePen: -float32(math.Log10(englishRareTypes))}
})

// id returns the model's id of the lower-case word and the log10 penalty
// that splits RareWord's probability among the rare words.
func (f *fitModel) id(lower string) (uint32, float32) {
	if id := f.m.Index(lower); id != 0 {
		return id, 0
	}
	return f.rare, f.rarePen
}

// noWord is the id passed for a missing neighbour (a text edge).
const noWord = ^uint32(0)

// after returns the context after the word with id prev (noWord: the
// start of a text).
func (f *fitModel) after(prev uint32) lm.State {
	if prev == noWord {
		return f.m.BeginState()
	}
	var s lm.State
	f.m.Score(&s, prev)
	return s
}

// score returns log10 p(w | ctx) p(next | w) for the word w, with its id
// and rare-word penalty, in context ctx (from after), followed by the word
// with id next (noWord for a text edge).
func (f *fitModel) score(ctx lm.State, w wordID, next uint32) float32 {
	lp, _ := f.m.Score(&ctx, w.id)
	lp += w.pen
	if next != noWord {
		l2, _ := f.m.Score(&ctx, next)
		lp += l2
	}
	return lp
}

package lm

import (
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"math/bits"
)

// MaxOrder is the highest n-gram order a Model can hold.
const MaxOrder = 6

// Special vocabulary entries. <unk> always has id 0.
const (
	Unk = "<unk>"
	BOS = "<s>"
	EOS = "</s>"
)

// unkDefault is KenLM's log10 probability for <unk> when a model has none.
const unkDefault = -100

// ErrFormat is wrapped by every error about a malformed ARPA file.
var ErrFormat = errors.New("lm: malformed ARPA")

// Model is a back-off n-gram language model with log10 probabilities, as
// read from an ARPA file or estimated by a [Trainer]. Scoring follows
// KenLM's query exactly: float32 arithmetic, interpolated back-off, <s>
// as context only, unknown words scored as <unk>.
//
// A Model is immutable and safe for concurrent use.
type Model struct {
	order int
	vocab []string // id -> word; id 0 is <unk>
	words wordTable
	uni   []entry     // unigrams by word id
	tabs  []gramTable // tabs[n-2] holds the n-grams, n = 2..order
	grams [][]uint32  // grams[n-1]: the n-grams' word ids, n per gram, in ARPA order
	bos   uint32
	eos   uint32
}

type entry struct{ prob, backoff float32 }

// Order returns the model's n-gram order.
func (m *Model) Order() int { return m.order }

// VocabSize returns the number of words in the vocabulary, including
// <unk>, <s> and </s>.
func (m *Model) VocabSize() int { return len(m.vocab) }

// Counts returns the number of n-grams of each order, unigrams first.
func (m *Model) Counts() []int {
	c := make([]int, m.order)
	for i := range c {
		c[i] = len(m.grams[i]) / (i + 1)
	}
	return c
}

// Index returns the id of word, or 0 (the id of <unk>) if it is unknown.
func (m *Model) Index(word string) uint32 { return m.words.find(word, m.vocab) }

// Word returns the word with id.
func (m *Model) Word(id uint32) string { return m.vocab[id] }

// Prob returns the stored log10 probability and back-off of the n-gram
// words (oldest first), and whether the model has it.
func (m *Model) Prob(words ...string) (prob, backoff float32, ok bool) {
	if len(words) == 0 || len(words) > m.order {
		return 0, 0, false
	}
	ids := make([]uint32, len(words))
	for i, w := range words {
		ids[i] = m.Index(w)
		if ids[i] == 0 && w != Unk {
			return 0, 0, false
		}
	}
	e, ok := m.lookup(ids)
	return e.prob, e.backoff, ok
}

func (m *Model) lookup(ids []uint32) (entry, bool) {
	if len(ids) == 1 {
		return m.uni[ids[0]], true
	}
	return m.tabs[len(ids)-2].find(keyOf(ids))
}

// State is the context a word is scored in: up to order-1 previous words,
// most recent first, with their back-offs. The zero State is the empty
// context; [Model.BeginState] is the context at the start of a sentence.
type State struct {
	n       int
	words   [MaxOrder - 1]uint32
	backoff [MaxOrder - 1]float32
}

// BeginState returns the context <s>.
func (m *Model) BeginState() State {
	var s State
	if m.order > 1 {
		s.n = 1
		s.words[0] = m.bos
		s.backoff[0] = m.uni[m.bos].backoff
	}
	return s
}

// Score returns log10 p(w | *s) and the length of the longest matching
// n-gram (1 for unknown words), and advances *s past w. w is a word id
// from [Model.Index]; 0 is <unk>.
func (m *Model) Score(s *State, w uint32) (log10 float32, order int) {
	prob := m.uni[w].prob
	order = 1
	in := *s
	if w == 0 {
		s.n = 0 // no n-gram contains <unk>
	} else {
		s.words[0], s.backoff[0], s.n = w, m.uni[w].backoff, min(1, m.order-1)
		h := hashWord(w)
		for j := 0; j < in.n; j++ {
			h = hashExtend(h, in.words[j])
			e, ok := m.tabs[j].find(h)
			if !ok {
				break
			}
			prob, order = e.prob, j+2
			if j+1 < m.order-1 {
				s.words[j+1], s.backoff[j+1], s.n = in.words[j], e.backoff, j+2
			}
		}
	}
	for j := order - 1; j < in.n; j++ {
		prob += in.backoff[j]
	}
	return prob, order
}

// Result is the score of one or more sentences, as KenLM's query reports it.
type Result struct {
	// Log10 is the total log10 probability, summed in float32 per sentence
	// like KenLM.
	Log10 float64
	// Tokens counts the scored tokens: words plus one </s> per sentence.
	Tokens int
	// OOV counts unknown words, and OOVLog10 is their share of Log10.
	OOV      int
	OOVLog10 float64
}

// Add adds r2 to r.
func (r *Result) Add(r2 Result) {
	r.Log10 += r2.Log10
	r.Tokens += r2.Tokens
	r.OOV += r2.OOV
	r.OOVLog10 += r2.OOVLog10
}

// Perplexity is 10^(-Log10/Tokens), KenLM's "perplexity including OOVs".
func (r Result) Perplexity() float64 { return math.Pow(10, -r.Log10/float64(r.Tokens)) }

// PerplexityNoOOV is KenLM's "perplexity excluding OOVs": unknown words
// and their probability are left out.
func (r Result) PerplexityNoOOV() float64 {
	return math.Pow(10, -(r.Log10-r.OOVLog10)/float64(r.Tokens-r.OOV))
}

// Token is one scored token, for per-token output.
type Token struct {
	Word  string
	ID    uint32 // 0 for unknown words
	Order int    // length of the matched n-gram
	Log10 float32
}

// Sentence scores tokens as one sentence: the context starts at <s> and
// </s> is scored at the end. If fn is not nil it is called for every
// token, </s> included.
func (m *Model) Sentence(tokens []string, fn func(Token)) Result {
	st := m.BeginState()
	var total float32
	var r Result
	for _, t := range tokens {
		id := m.words.find(t, m.vocab)
		p, o := m.Score(&st, id)
		total += p
		if id == 0 {
			r.OOV++
			r.OOVLog10 += float64(p)
		}
		if fn != nil {
			fn(Token{t, id, o, p})
		}
	}
	p, o := m.Score(&st, m.eos)
	total += p
	if fn != nil {
		fn(Token{EOS, m.eos, o, p})
	}
	r.Log10, r.Tokens = float64(total), len(tokens)+1
	return r
}

// ScoreText tokenizes line with tok and scores it as one sentence. sc
// holds buffers reused between calls.
func (m *Model) ScoreText(tok Tokenizer, line string, sc *Scratch) Result {
	return m.Sentence(tok.Tokens(sc, line), nil)
}

// gramTable is an open-addressing hash table from 64-bit n-gram keys to
// entries. Like KenLM's probing model it keeps only the key, not the words:
// two n-grams of one order with the same 64-bit hash are rejected when the
// model is built, and a lookup of an absent n-gram matches a present one
// with probability about len/2^64.
type gramTable struct {
	slots []slot
	mask  uint64
}

type slot struct {
	key uint64 // 0 = empty
	e   entry
}

func newGramTable(n int) gramTable {
	size := uint64(1) << bits.Len(uint(n*2)) // load factor ≤ 0.5
	return gramTable{slots: make([]slot, size), mask: size - 1}
}

func (t *gramTable) insert(key uint64, e entry) bool {
	for i := key & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.key == key {
			return false
		}
		if s.key == 0 {
			*s = slot{key, e}
			return true
		}
	}
}

func (t *gramTable) find(key uint64) (entry, bool) {
	for i := key & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.key == key {
			return s.e, true
		}
		if s.key == 0 {
			return entry{}, false
		}
	}
}

// Keys of n-grams are built from the newest word back, the order in which
// Score extends a match.
func hashWord(w uint32) uint64 { return mix(uint64(w) + 1) }

func hashExtend(h uint64, w uint32) uint64 {
	return mix(h ^ (uint64(w)+1)*0x9e3779b97f4a7c15)
}

// mix is the splitmix64 finalizer; it never maps a nonzero input to 0.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	if x == 0 {
		x = 1
	}
	return x
}

// wordTable maps words to ids by open addressing on a seeded string hash.
type wordTable struct {
	seed  maphash.Seed
	slots []wslot
	mask  uint64
}

type wslot struct {
	hash uint64
	id   uint32
	used bool
}

func newWordTable(vocab []string) (wordTable, error) {
	size := uint64(1) << bits.Len(uint(len(vocab)*2))
	t := wordTable{seed: maphash.MakeSeed(), slots: make([]wslot, size), mask: size - 1}
	for id, w := range vocab {
		h := maphash.String(t.seed, w)
		i := h & t.mask
		for ; t.slots[i].used; i = (i + 1) & t.mask {
			if t.slots[i].hash == h && vocab[t.slots[i].id] == w {
				return t, fmt.Errorf("duplicate word %q", w)
			}
		}
		t.slots[i] = wslot{h, uint32(id), true}
	}
	return t, nil
}

func (t *wordTable) find(w string, vocab []string) uint32 {
	h := maphash.String(t.seed, w)
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if !s.used {
			return 0
		}
		if s.hash == h && vocab[s.id] == w {
			return s.id
		}
	}
}

// build makes a Model from its vocabulary (vocab[0] must be <unk>) and
// n-grams: ids[n-1] holds the n-grams of order n (n ids each, oldest first),
// probs[n-1] and backoffs[n-1] their values. Unigrams must be all of vocab,
// in id order. It reports the first duplicate n-gram by order and index.
func build(vocab []string, ids [][]uint32, probs, backoffs [][]float32) (*Model, error) {
	m := &Model{order: len(ids), vocab: vocab, grams: ids}
	var err error
	if m.words, err = newWordTable(vocab); err != nil {
		return nil, err
	}
	m.uni = make([]entry, len(vocab))
	for i := range vocab {
		m.uni[i] = entry{probs[0][i], backoffs[0][i]}
	}
	m.bos, m.eos = m.Index(BOS), m.Index(EOS)
	for n := 2; n <= m.order; n++ {
		t := newGramTable(len(probs[n-1]))
		g := ids[n-1]
		for i := range probs[n-1] {
			e := entry{prob: probs[n-1][i]}
			if n < m.order {
				e.backoff = backoffs[n-1][i]
			}
			if !t.insert(keyOf(g[i*n:i*n+n]), e) {
				return nil, fmt.Errorf("duplicate %d-gram %d", n, i+1)
			}
		}
		m.tabs = append(m.tabs, t)
	}
	return m, nil
}

func keyOf(ids []uint32) uint64 {
	n := len(ids)
	h := hashWord(ids[n-1])
	for i := n - 2; i >= 0; i-- {
		h = hashExtend(h, ids[i])
	}
	return h
}

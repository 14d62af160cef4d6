package lm

import "math/bits"

// Bigrams holds the 2-grams and unigram weights of a trie model in a hash
// table, for callers that score single words after single words: a look-up
// costs one probe of the table where the trie costs a search of the
// word's contexts, a few cache misses.
type Bigrams struct {
	uni   []uniWeights // by word id
	slots []bigramSlot // open addressing, linear probing
	shift uint8
	vocab uint64
	bos   uint32
}

type uniWeights struct{ prob, backoff float32 }

// bigramSlot is one 2-gram: key prev*vocab+w+1 (0: empty) and its log10
// probability.
type bigramSlot struct {
	key  uint32
	prob float32
}

// Bigrams returns the model's 2-grams as a hash table, or nil if the model
// is not a trie (KenLM binary) of order 2 or more, or has 65,536 words or
// more.
func (m *Model) Bigrams() *Bigrams {
	t := m.trie
	if t == nil || t.order < 2 || m.counts[0] >= 1<<16 {
		return nil
	}
	v := uint64(m.counts[0])
	b := &Bigrams{uni: make([]uniWeights, v), vocab: v, bos: m.bos}
	n := uint64(m.counts[1])
	size := uint64(1) << 4
	for size < n+n/2 {
		size <<= 1
	}
	b.slots = make([]bigramSlot, size)
	b.shift = uint8(64 - bits.Len64(size-1))
	arr := &t.long
	if t.order > 2 {
		arr = &t.mid[0]
	}
	for w := range v {
		p, bo, begin, end := t.unigram(uint32(w))
		b.uni[w] = uniWeights{p, bo}
		for i := begin; i < end && i < arr.entries; i++ {
			prev := arr.read(i*arr.totalBits, arr.wordBits)
			var prob float32
			if t.order > 2 {
				prob, _ = t.midWeights(0, i)
			} else {
				prob = t.longProb(i)
			}
			key := uint32(prev*v + w + 1)
			j := b.slot(key)
			for b.slots[j].key != 0 && b.slots[j].key != key {
				j = (j + 1) & (size - 1)
			}
			b.slots[j] = bigramSlot{key, prob}
		}
	}
	return b
}

func (b *Bigrams) slot(key uint32) uint64 { return uint64(key) * 0x9e3779b97f4a7c15 >> b.shift }

// Score returns log10 p(w | prev) as [Model.Score] gives it for w in the
// state after prev alone, prev being [NoWord] for the start of a sentence
// (the state [Model.BeginState]). Like Score it panics if prev or w is
// not an id of the model.
func (b *Bigrams) Score(prev, w uint32) float32 {
	if prev == NoWord {
		prev = b.bos
	}
	u := b.uni[w]
	switch {
	case prev == 0:
		return u.prob // after <unk> the context is empty
	case w == 0:
		return u.prob + b.uni[prev].backoff
	}
	key := uint32(uint64(prev)*b.vocab + uint64(w) + 1)
	mask := uint64(len(b.slots) - 1)
	for j := b.slot(key); ; j = (j + 1) & mask {
		switch s := b.slots[j]; s.key {
		case key:
			return s.prob
		case 0:
			return u.prob + b.uni[prev].backoff
		}
	}
}

// NoWord is the previous word of [Bigrams.Score] at the start of a
// sentence.
const NoWord = ^uint32(0)

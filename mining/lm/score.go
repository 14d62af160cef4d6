package lm

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strings"
	"unsafe"
)

// The whitespace tokenizer's scoring path, fused: a line is scanned,
// each word hashed, looked up and scored in one loop, without a token
// slice. It computes exactly what Sentence(Whitespace.Tokens(line), nil)
// does; TestScoreWordsSame holds it to that.

const (
	lo8 = 0x0101010101010101
	hi8 = 0x8080808080808080
)

// le64 reads 8 bytes of s at i as a little-endian number; i+8 <= len(s).
func le64(s string, i int) uint64 {
	return binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s), len(s))[i:])
}

// wordEnd returns the end of the word that starts at i: the first
// delimiter (isDelim) at or after i, or len(s).
func wordEnd(s string, i int) int { return fieldEnd(s, i, &isDelim) }

// fieldEnd returns the first index at or after i where delim is true, or
// len(s); delim must be false for every byte from 0x21 up. It tests eight
// bytes at a time for bytes below 0x21.
func fieldEnd(s string, i int, delim *[256]bool) int {
	for i+8 <= len(s) {
		w := le64(s, i)
		// The lowest flagged byte is the first below 0x21: borrows only
		// flag bytes above it.
		low := (w - 0x21*lo8) &^ w & hi8
		if low == 0 {
			i += 8
			continue
		}
		i += bits.TrailingZeros64(low) / 8
		if delim[s[i]] {
			return i
		}
		i++ // a control character inside the word
	}
	for i < len(s) && !delim[s[i]] {
		i++
	}
	return i
}

// murmurIn is murmurHash64A(s[i:j]). It reads the last partial block
// with one load from s where s has the room.
func murmurIn(s string, i, j int) uint64 {
	const m, r = 0xc6a4a7935bd1e995, 47
	h := uint64(j-i) * m
	for ; i+8 <= j; i += 8 {
		k := le64(s, i)
		k *= m
		k ^= k >> r
		k *= m
		h ^= k
		h *= m
	}
	if rest := uint(j - i); rest > 0 {
		var k uint64
		switch {
		case i+8 <= len(s):
			k = le64(s, i) & (1<<(8*rest) - 1)
		case j >= 8:
			k = le64(s, j-8) >> (64 - 8*rest)
		default:
			for n := int(rest) - 1; n >= 0; n-- {
				k = k<<8 | uint64(s[i+n])
			}
		}
		h ^= k
		h *= m
	}
	h ^= h >> r
	h *= m
	h ^= h >> r
	return h
}

// scoreChunk is how many words scoring looks up ahead.
const scoreChunk = 32

// lookahead holds a chunk of words between the steps of scoring: their
// hashes, ids and unigram entries, and for every n-gram ending at a word
// its key and its first bucket, read before any word is scored. The reads
// of a chunk do not depend on each other, so the processor overlaps their
// cache misses; scoring then finds the buckets in cache. In a pipeline the
// model's tables are mostly out of cache between batches, and probing them
// one lookup at a time waited for each miss in turn.
type lookahead struct {
	hash        [scoreChunk]uint64
	voff, first [scoreChunk]uint64 // vocabulary: first bucket, key found there
	ids         [scoreChunk]uint32
	uni         [scoreChunk][2]uint32 // prob and back-off bits
	// For the n-gram of order j+2 ending at word i: its key, its first
	// bucket and the key found there.
	key, off, nfirst [scoreChunk][MaxOrder - 1]uint64
	// start marks the first word (or </s>) of a sentence after the
	// first; end marks a sentence's </s>, which has no hash.
	start, end [scoreChunk]bool
}

// at returns the 8 bytes at off in t, an offset below buckets*width.
func (t *hashTable) at(off uint64) uint64 { return *(*uint64)(unsafe.Add(t.base, off)) }

// hashed records the hash of the next word of the chunk and reads its
// first vocabulary bucket.
func (la *lookahead) hashed(v *vocabIndex, i int, h uint64) {
	la.hash[i] = h
	if v.probe.buckets > 0 {
		off := v.probe.home(h)
		la.voff[i], la.first[i] = off, v.probe.at(off)
	}
}

// resolve is the second half of lookup: it finds the id of
// every hashed word of the chunk from the buckets read, as
// vocabIndex.find would.
func (la *lookahead) resolve(v *vocabIndex, eos uint32, n int) {
	t := &v.probe
	for i := range n {
		var id uint32
		h := la.hash[i]
		switch {
		case la.end[i]:
			la.ids[i] = eos
			continue
		case v.sorted != nil || t.buckets == 0:
			id = v.findHash(h)
		case la.first[i] == h:
			id = t.u32(la.voff[i] + 8)
		case la.first[i] != 0:
			if off, ok := t.findFrom(h, t.next(la.voff[i])); ok {
				id = t.u32(off + 8)
			}
		}
		if id >= v.size {
			id = 0
		}
		la.ids[i] = id
	}
}

// next returns the offset of the bucket after the one at off.
func (t *hashTable) next(off uint64) uint64 {
	if off += t.width; off == t.buckets*t.width {
		off = 0
	}
	return off
}

// ngrams reads the unigram entries of the chunk's n words and the first
// buckets of the n-grams ending at them, s being the state before the
// first and begin the state a sentence starts in. The context of a word is
// every word before it in its sentence back to the last <unk>: no n-gram
// contains <unk>.
func (la *lookahead) ngrams(p *probing, s, begin *State, n int) {
	ctx := *s
	for i, w := range la.ids[:n] {
		if la.start[i] {
			ctx = *begin
		}
		la.uni[i] = *(*[2]uint32)(unsafe.Pointer((*[8]byte)(p.uni[uint64(w)*8:])))
		if w == 0 {
			ctx.n = 0
			continue
		}
		h := uint64(w)
		for j, u := range ctx.words[:ctx.n] {
			h = combineHash(h, u)
			t := &p.long
			if j+2 < p.order {
				t = &p.mid[j]
			}
			off := t.home(h)
			la.key[i][j], la.off[i][j], la.nfirst[i][j] = h, off, t.at(off)
		}
		if p.order > 1 {
			copy(ctx.words[1:p.order-1], ctx.words[:])
			ctx.words[0], ctx.n = w, min(ctx.n+1, p.order-1)
		}
	}
}

// find is t.find for the n-gram of order j+2 ending at word i.
func (la *lookahead) find(t *hashTable, i, j int) (uint64, bool) {
	switch la.nfirst[i][j] {
	case la.key[i][j]:
		return la.off[i][j], true
	case 0:
		return 0, false
	}
	return t.findFrom(la.key[i][j], t.next(la.off[i][j]))
}

// score is probing.score for word i of the chunk, with its lookups read
// ahead: the same steps, kept apart because the hot loop cannot afford an
// indirect call per lookup. TestScoreSame holds the two to each other.
func (la *lookahead) score(p *probing, s *State, i int) (float32, int) {
	w := la.ids[i]
	u := la.uni[i]
	prob := negf(u[0])
	order := 1
	in := *s
	if w == 0 {
		s.n = 0 // no n-gram contains <unk>
	} else {
		s.words[0], s.backoff[0], s.n = w, math.Float32frombits(u[1]), min(1, p.order-1)
		for j := 0; j < in.n; j++ {
			if j+2 == p.order {
				if off, ok := la.find(&p.long, i, j); ok {
					prob, order = negf(p.long.u32(off+8)), p.order
				}
				break
			}
			t := &p.mid[j]
			off, ok := la.find(t, i, j)
			if !ok {
				break
			}
			prob, order = negf(t.u32(off+8)), j+2
			s.words[j+1], s.backoff[j+1], s.n = in.words[j], math.Float32frombits(t.u32(off+12)), j+2
		}
	}
	for j := order - 1; j < in.n; j++ {
		prob += in.backoff[j]
	}
	return prob, order
}

// run scores sentences for the probing layout, as Sentence does: next
// fills la with the next words and </s> entries (la.hashed, la.end,
// la.start) and returns how many, up to scoreChunk, 0 at the end. done is
// called with each sentence's result, fn (if not nil) with each token,
// tokens giving the chunk's words for it.
func (p *probing) run(m *Model, la *lookahead, next func() int, tokens func(i int) string, fn func(Token), done func(Result)) {
	begin := m.BeginState()
	st := begin
	var total float32
	var r Result
	count := 0
	for {
		n := next()
		if n == 0 {
			return
		}
		la.resolve(&m.words, m.eos, n)
		la.ngrams(p, &st, &begin, n)
		for i := range n {
			if la.start[i] {
				st, total, r, count = begin, 0, Result{}, 0
			}
			pr, o := la.score(p, &st, i)
			total += pr
			if la.end[i] {
				if fn != nil {
					fn(Token{EOS, m.eos, o, pr})
				}
				r.Log10, r.Tokens = float64(total), count+1
				done(r)
				continue
			}
			count++
			id := la.ids[i]
			if id == 0 {
				r.OOV++
				r.OOVLog10 += float64(pr)
			}
			if fn != nil {
				fn(Token{tokens(i), id, o, pr})
			}
		}
	}
}

// word puts the word with hash h at i in the chunk, starting a sentence
// if start.
func (la *lookahead) word(v *vocabIndex, i int, h uint64, start bool) {
	la.hashed(v, i, h)
	la.start[i], la.end[i] = start, false
}

// eos puts a </s> at i in the chunk, starting a sentence if start (a
// sentence without words).
func (la *lookahead) eos(i int, start bool) { la.start[i], la.end[i] = start, true }

// scoreWords is Sentence(Whitespace.Tokens(line), nil) for the probing
// layout: the line is scanned and hashed a chunk at a time, without a
// token slice.
func (p *probing) scoreWords(m *Model, line string, la *lookahead) Result {
	i, ended := 0, false
	next := func() int {
		n := 0
		for n < scoreChunk && !ended {
			if i < len(line) && isDelim[line[i]] {
				i++
				continue
			}
			if i == len(line) {
				la.eos(n, false)
				ended = true
			} else {
				j := wordEnd(line, i)
				la.word(&m.words, n, murmurIn(line, i, j), false)
				i = j
			}
			n++
		}
		return n
	}
	var r Result
	p.run(m, la, next, nil, nil, func(s Result) { r = s })
	return r
}

// scoreLines is ScoreLines with the whitespace tokenizer for the probing
// layout: chunks run across lines, so that short lines share the wait for
// cache misses.
func (p *probing) scoreLines(m *Model, text string, la *lookahead) Result {
	i, end := 0, -1 // end: where the line being scanned ends, -1 between lines
	start := false
	next := func() int {
		n := 0
		for n < scoreChunk {
			if end < 0 {
				if i >= len(text) {
					break
				}
				end = i + strings.IndexByte(text[i:], '\n')
				if end < i {
					end = len(text)
				}
				if strings.TrimSpace(text[i:end]) == "" {
					i, end = end+1, -1
					continue
				}
				start = true
			}
			if i < end && isDelim[text[i]] {
				i++
				continue
			}
			if i == end {
				la.eos(n, start)
				i, end = end+1, -1
			} else {
				j := wordEnd(text[:end], i)
				la.word(&m.words, n, murmurIn(text, i, j), start)
				i = j
			}
			start = false
			n++
		}
		return n
	}
	var doc Result
	p.run(m, la, next, nil, nil, func(s Result) { doc.Add(s) })
	return doc
}

// scoreTokens is Sentence for the probing layout.
func (p *probing) scoreTokens(m *Model, tokens []string, la *lookahead, fn func(Token)) Result {
	var chunk []string
	ended := false
	next := func() int {
		if ended {
			return 0
		}
		chunk = tokens[:min(scoreChunk, len(tokens))]
		tokens = tokens[len(chunk):]
		for i, t := range chunk {
			la.word(&m.words, i, murmurHash64A(t), false)
		}
		n := len(chunk)
		if n < scoreChunk {
			la.eos(n, false)
			ended = true
			n++
		}
		return n
	}
	var r Result
	p.run(m, la, next, func(i int) string { return chunk[i] }, fn, func(s Result) { r = s })
	return r
}

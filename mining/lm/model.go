package lm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strings"
	"sync"
	"unsafe"
)

// MaxOrder is the highest n-gram order a Model can hold, KenLM's default
// KENLM_MAX_ORDER.
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
// read from an ARPA file or a KenLM binary file, or estimated by a
// [Trainer]. Scoring follows KenLM's query exactly: float32 arithmetic,
// interpolated back-off, <s> as context only, unknown words scored as
// <unk>.
//
// Models from ARPA files and from a [Trainer] use KenLM's probing layout in
// memory (the hash tables that build_binary's default "probing" writes), so
// they take the memory KenLM's probing model does. Binary models are mapped
// read-only and used in place.
//
// A Model is immutable and safe for concurrent use.
type Model struct {
	order  int
	counts []int
	words  vocabIndex
	probe  *probing // the n-grams: exactly one of probe and trie is set
	trie   *trie
	bos    uint32
	eos    uint32
	format string

	// vocab maps ids to words. Models read from binary files fill it on
	// first use from strs, the file's NUL-terminated words.
	vocab     []string
	vocabOnce sync.Once
	strs      []byte

	// grams[n-1] holds the n-grams' word ids, n per gram, in ARPA order. Only
	// trained models keep them, for WriteARPA.
	grams [][]uint32
}

type entry struct{ prob, backoff float32 }

// Order returns the model's n-gram order.
func (m *Model) Order() int { return m.order }

// Format describes where the model came from: "ARPA", "trained", or the
// KenLM binary data structure ("probing", "trie", "quantized trie").
func (m *Model) Format() string { return m.format }

// VocabSize returns the number of words in the vocabulary, including
// <unk>, <s> and </s>.
func (m *Model) VocabSize() int { return m.counts[0] }

// Counts returns the number of n-grams of each order, unigrams first.
func (m *Model) Counts() []int { return append([]int(nil), m.counts...) }

// Index returns the id of word, or 0 (the id of <unk>) if it is unknown.
// Like KenLM it compares 64-bit hashes of words, not the words.
func (m *Model) Index(word string) uint32 { return m.words.find(word) }

// Word returns the word with id, or "" if the model is a binary file
// without its vocabulary.
func (m *Model) Word(id uint32) string {
	m.vocabOnce.Do(m.fillVocab)
	if int(id) >= len(m.vocab) {
		return ""
	}
	return m.vocab[id]
}

// fillVocab copies a binary model's words into m.vocab; KenLM writes them
// after the tables, <unk> first, in id order.
func (m *Model) fillVocab() {
	if m.vocab != nil || m.strs == nil {
		return
	}
	v := make([]string, 0, m.counts[0])
	s := m.strs
	for len(v) < m.counts[0] {
		i := 0
		for i < len(s) && s[i] != 0 {
			i++
		}
		if i == len(s) {
			break
		}
		v = append(v, string(s[:i]))
		s = s[i+1:]
	}
	m.vocab = v
}

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

// lookup returns the entry of the n-gram ids, oldest first.
func (m *Model) lookup(ids []uint32) (entry, bool) {
	if m.trie != nil {
		return m.trie.lookup(ids)
	}
	return m.probe.lookup(ids)
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
		e, _ := m.lookup([]uint32{m.bos})
		s.backoff[0] = e.backoff
	}
	return s
}

// Score returns log10 p(w | *s) and the length of the longest matching
// n-gram (1 for unknown words), and advances *s past w. w is a word id
// from [Model.Index]; 0 is <unk>.
func (m *Model) Score(s *State, w uint32) (log10 float32, order int) {
	if m.trie != nil {
		return m.trie.score(s, w)
	}
	return m.probe.score(s, w)
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
	if m.probe != nil {
		var la lookahead
		return m.probe.scoreTokens(m, tokens, &la, fn)
	}
	return m.sentenceByWord(tokens, fn)
}

// sentenceByWord is Sentence one word at a time with Score: the trie's
// way, and for the probing layout the reference its faster paths are
// tested against.
func (m *Model) sentenceByWord(tokens []string, fn func(Token)) Result {
	st := m.BeginState()
	var total float32
	var r Result
	for _, t := range tokens {
		id := m.words.find(t)
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
	if m.probe != nil {
		if sc.la == nil {
			sc.la = new(lookahead)
		}
		if _, ok := tok.(whitespace); ok {
			return m.probe.scoreWords(m, line, sc.la)
		}
		return m.probe.scoreTokens(m, tok.Tokens(sc, line), sc.la, nil)
	}
	return m.Sentence(tok.Tokens(sc, line), nil)
}

// ScoreLines scores text as a document, each line a sentence, and returns
// the sum of the lines' results: every line (up to a '\n' or the end) that
// holds more than white space (unicode.IsSpace) is scored as [Model.ScoreText]
// scores it, and the others are skipped, as cc_net skips empty lines. sc
// holds buffers reused between calls.
func (m *Model) ScoreLines(tok Tokenizer, text string, sc *Scratch) Result {
	if _, ok := tok.(whitespace); ok && m.probe != nil {
		if sc.la == nil {
			sc.la = new(lookahead)
		}
		return m.probe.scoreLines(m, text, sc.la)
	}
	var r Result
	for len(text) > 0 {
		l, rest, _ := strings.Cut(text, "\n")
		if strings.TrimSpace(l) != "" {
			r.Add(m.ScoreText(tok, l, sc))
		}
		text = rest
	}
	return r
}

// ne reads and writes the probing layout in the machine's byte order, as
// KenLM does: a binary file from a machine of the other order fails the
// header's sanity check.
var ne = binary.NativeEndian

// negf decodes a stored log10 probability. KenLM's probing tables keep a
// flag in the sign bit of probabilities, which are never positive.
func negf(bits uint32) float32 { return math.Float32frombits(bits | 1<<31) }

// combineHash extends the key of an n-gram by one older word, as KenLM's
// CombineWordHash does; the key of a unigram is its word id.
func combineHash(h uint64, w uint32) uint64 {
	return h*8978948897894561157 ^ (uint64(w)+1)*17894857484156487943
}

// keyOf returns the probing key of the n-gram ids, oldest first.
func keyOf(ids []uint32) uint64 {
	n := len(ids)
	h := uint64(ids[n-1])
	for i := n - 2; i >= 0; i-- {
		h = combineHash(h, ids[i])
	}
	return h
}

// murmurHash64A is Austin Appleby's MurmurHash64A with seed 0: KenLM's
// vocabulary hash on little-endian 64-bit machines.
func murmurHash64A[S ~string | ~[]byte](s S) uint64 {
	const m, r = 0xc6a4a7935bd1e995, 47
	h := uint64(len(s)) * m
	for ; len(s) >= 8; s = s[8:] {
		k := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		k *= m
		k ^= k >> r
		k *= m
		h ^= k
		h *= m
	}
	if len(s) > 0 {
		for i := len(s) - 1; i >= 0; i-- {
			h ^= uint64(s[i]) << (8 * i)
		}
		h *= m
	}
	h ^= h >> r
	h *= m
	h ^= h >> r
	return h
}

// hashTable is KenLM's util::ProbingHashTable over a byte array: entries
// of width bytes that start with a native-endian uint64 key, 0 marking an
// empty bucket, linear probing from key mod buckets.
type hashTable struct {
	data    []byte
	base    unsafe.Pointer // &data[0]: lookups read entries without bounds checks
	buckets uint64
	width   uint64
	// mhi, mlo is ⌈2¹²⁸/buckets⌉ mod 2¹²⁸, for home's remainder by
	// multiplication (Lemire, Kaser and Kurz, "Faster remainder by direct
	// computation", 2019): a 64-bit division costs several times more.
	mhi, mlo uint64
}

// probingBuckets is KenLM's bucket count for n entries.
func probingBuckets(n uint64, multiplier float32) uint64 {
	return max(n+1, uint64(multiplier*float32(n)))
}

// makeHashTable makes a table of buckets entries of width bytes over data,
// which must hold exactly buckets*width bytes.
func makeHashTable(data []byte, buckets, width uint64) hashTable {
	t := hashTable{data: data, base: unsafe.Pointer(unsafe.SliceData(data)), buckets: buckets, width: width}
	if buckets > 0 {
		// ⌊(2¹²⁸-1)/buckets⌋ + 1, which wraps to 0 for one bucket: every
		// key's remainder is then 0, as it should be.
		hi := ^uint64(0) / buckets
		lo, _ := bits.Div64(^uint64(0)%buckets, ^uint64(0), buckets)
		var c uint64
		t.mlo, c = bits.Add64(lo, 1, 0)
		t.mhi = hi + c
	}
	return t
}

// home returns the offset of key's first bucket.
func (t *hashTable) home(key uint64) uint64 { return t.bucket(key) * t.width }

// bucket returns key mod buckets, the index of key's first bucket.
func (t *hashTable) bucket(key uint64) uint64 {
	c, lo := bits.Mul64(t.mlo, key)
	hi := c + t.mhi*key
	r, a := bits.Mul64(hi, t.buckets)
	b, _ := bits.Mul64(lo, t.buckets)
	_, carry := bits.Add64(a, b, 0)
	return r + carry
}

func newHashTable(n int, width uint64) hashTable {
	b := probingBuckets(uint64(n), 1.5)
	t := makeHashTable(make([]byte, b*width), b, width)
	adviseHuge(t.data)
	return t
}

// find returns the offset of key's entry. The probe count is bounded so
// that a corrupt full table cannot loop. Offsets stay below
// buckets*width, so the unchecked reads stay inside data.
func (t *hashTable) find(key uint64) (uint64, bool) {
	return t.findFrom(key, t.home(key))
}

// findFrom is find starting at the bucket at off.
func (t *hashTable) findFrom(key, off uint64) (uint64, bool) {
	end := t.buckets * t.width
	for range t.buckets {
		k := *(*uint64)(unsafe.Add(t.base, off))
		if k == key {
			return off, true
		}
		if k == 0 {
			return 0, false
		}
		if off += t.width; off == end {
			off = 0
		}
	}
	return 0, false
}

// u32 reads the uint32 at off, an offset find returned plus 8 or 12.
func (t *hashTable) u32(off uint64) uint32 { return *(*uint32)(unsafe.Add(t.base, off)) }

// insert returns the offset of a new entry for key, or false if key is
// present.
func (t *hashTable) insert(key uint64) (uint64, bool) { return t.insertFrom(key, t.home(key)) }

// insertFrom is insert starting at the bucket at off, key's home.
func (t *hashTable) insertFrom(key, off uint64) (uint64, bool) {
	for {
		switch ne.Uint64(t.data[off:]) {
		case key:
			return off, false
		case 0:
			ne.PutUint64(t.data[off:], key)
			return off, true
		}
		off = t.next(off)
	}
}

// vocabIndex maps words to ids by their MurmurHash64A: KenLM's probing
// vocabulary (a hash table of 12-byte hash, id entries) or its sorted one
// (the hashes in order, id = position + 1), as the data structure chose.
type vocabIndex struct {
	probe  hashTable
	sorted []byte
	size   uint32 // ids at or above size (a corrupt file) read as <unk>
}

func (v *vocabIndex) find(w string) uint32 { return v.findHash(murmurHash64A(w)) }

// findHash is find for the word with hash h.
func (v *vocabIndex) findHash(h uint64) uint32 {
	var id uint32
	if v.sorted != nil {
		s := v.sorted
		if i, ok := uniformFind(0, uint64(len(s)/8), h, func(i uint64) uint64 { return ne.Uint64(s[i*8:]) }); ok {
			id = uint32(i + 1)
		}
	} else if off, ok := v.probe.find(h); ok {
		id = v.probe.u32(off + 8)
	}
	if id >= v.size {
		return 0
	}
	return id
}

// uniformFind returns the first index in [lo, hi) whose key is k, key
// giving the keys, which are sorted and spread about evenly over their
// range (hashes, word ids), or false. Like KenLM's sorted searches it
// guesses where k lies from the keys at the ends of the range, which takes
// a few reads where bisection takes log₂(hi-lo), each likely a cache miss;
// after a few guesses that do not close in it bisects. Keys out of order
// (a corrupt file) give a wrong answer but no panic and no endless loop.
func uniformFind(lo, hi, k uint64, key func(i uint64) uint64) (uint64, bool) {
	for guesses := 0; lo < hi; guesses++ {
		a, b := key(lo), key(hi-1)
		var mid uint64
		switch {
		case k < a || k > b:
			return 0, false
		case k == a:
			return lo, true
		case k == b:
			mid = hi - 1
		case guesses < 4:
			// a < k < b, so k-a < b-a and the quotient is below hi-1-lo:
			// lo <= mid < hi-1.
			x, y := bits.Mul64(k-a, hi-1-lo)
			q, _ := bits.Div64(x, y, b-a)
			mid = lo + q
		default:
			mid = lo + (hi-lo)/2
		}
		switch km := key(mid); {
		case km == k:
			for mid > lo && key(mid-1) == k {
				mid--
			}
			return mid, true
		case km < k:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return 0, false
}

// probing is KenLM's probing data structure: unigrams in an array by word
// id (prob, backoff float32 pairs), the middle orders in hash tables of
// 16-byte entries (key, prob, backoff), the highest order in one of 12-byte
// entries (key, prob).
type probing struct {
	order int
	uni   []byte
	mid   []hashTable
	long  hashTable
}

func (p *probing) lookup(ids []uint32) (entry, bool) {
	n := len(ids)
	if n == 1 {
		if uint64(ids[0])*8+8 > uint64(len(p.uni)) {
			return entry{}, false
		}
		u := p.uni[ids[0]*8:]
		return entry{negf(ne.Uint32(u)), math.Float32frombits(ne.Uint32(u[4:]))}, true
	}
	key := keyOf(ids)
	if n == p.order {
		off, ok := p.long.find(key)
		if !ok {
			return entry{}, false
		}
		return entry{prob: negf(ne.Uint32(p.long.data[off+8:]))}, true
	}
	t := &p.mid[n-2]
	off, ok := t.find(key)
	if !ok {
		return entry{}, false
	}
	return entry{negf(ne.Uint32(t.data[off+8:])), math.Float32frombits(ne.Uint32(t.data[off+12:]))}, true
}

func (p *probing) score(s *State, w uint32) (float32, int) {
	u := p.uni[uint64(w)*8:][:8]
	prob := negf(ne.Uint32(u))
	order := 1
	in := *s
	if w == 0 {
		s.n = 0 // no n-gram contains <unk>
	} else {
		s.words[0], s.backoff[0], s.n = w, math.Float32frombits(ne.Uint32(u[4:])), min(1, p.order-1)
		h := uint64(w)
		for j := 0; j < in.n; j++ {
			h = combineHash(h, in.words[j])
			if j+2 == p.order {
				if off, ok := p.long.find(h); ok {
					prob, order = negf(p.long.u32(off+8)), p.order
				}
				break
			}
			t := &p.mid[j]
			off, ok := t.find(h)
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

// build makes a Model in the probing layout from its vocabulary (vocab[0]
// must be <unk>) and n-grams: ids[n-1] holds the n-grams of order n (n ids
// each, oldest first), probs[n-1] and backoffs[n-1] their values. Unigrams
// must be all of vocab, in id order. It reports the first duplicate n-gram
// by order and index. The model keeps ids for WriteARPA.
func build(vocab []string, ids [][]uint32, probs, backoffs [][]float32) (*Model, error) {
	counts := make([]int, len(ids))
	for n := range counts {
		counts[n] = len(probs[n])
	}
	b := newBuilder(counts)
	for i, w := range vocab {
		if _, err := b.word(w); err != nil {
			return nil, err
		}
		b.unigram(uint32(i), probs[0][i], backoffs[0][i])
	}
	for n := 2; n <= len(ids); n++ {
		g := ids[n-1]
		for i := range probs[n-1] {
			var bo float32
			if n < len(ids) {
				bo = backoffs[n-1][i]
			}
			if !b.add(g[i*n:i*n+n], probs[n-1][i], bo) {
				return nil, fmt.Errorf("duplicate %d-gram %d", n, i+1)
			}
		}
	}
	m := b.model("trained")
	m.grams = ids
	return m, nil
}

// builder fills a probing Model: words first (<unk> first), then the
// n-grams of higher orders.
type builder struct {
	m          *Model
	p          *probing
	lastSuffix [MaxOrder]uint64 // by order, the key of the last suffix flagged
	q          [queueSize]gram  // see queue
	nq         int
}

// newBuilder sizes the tables for counts[n-1] n-grams of each order;
// counts[0] may leave out <unk>.
func newBuilder(counts []int) *builder {
	order := len(counts)
	p := &probing{order: order, uni: make([]byte, (counts[0]+2)*8)}
	for n := 2; n < order; n++ {
		p.mid = append(p.mid, newHashTable(counts[n-1], 16))
	}
	if order > 1 {
		p.long = newHashTable(counts[order-1], 12)
	}
	m := &Model{order: order, counts: make([]int, order), probe: p, vocab: make([]string, 0, counts[0]+1)}
	m.words = vocabIndex{probe: newHashTable(counts[0], 12)}
	return &builder{m: m, p: p}
}

// word gives w the next id; <unk> must come first.
func (b *builder) word(w string) (uint32, error) {
	m := b.m
	id := uint32(len(m.vocab))
	if id > 0 {
		v := &m.words
		off, fresh := v.probe.insert(murmurHash64A(w))
		if !fresh {
			if old := ne.Uint32(v.probe.data[off+8:]); m.vocab[old] == w {
				return 0, fmt.Errorf("duplicate unigram %q", w)
			}
			return 0, fmt.Errorf("word %q has the 64-bit hash of another", w)
		}
		ne.PutUint32(v.probe.data[off+8:], id)
	} else if w != Unk {
		panic("lm: builder: first word is not <unk>")
	}
	m.vocab = append(m.vocab, w)
	m.words.size = id + 1
	m.counts[0] = len(m.vocab)
	return id, nil
}

// Flags kept in the probing tables, as KenLM's build_binary sets them: a
// probability's sign bit is cleared when the n-gram extends to the left (it
// is the suffix of a longer n-gram); a zero back-off is -0 when the n-gram
// extends to no longer one on the right (it is no context) and +0 when it
// does. Scoring ignores both; they make the tables byte for byte KenLM's.
const (
	signBit  = 1 << 31
	negZero  = signBit
	posZero  = 0
	flagMask = ^uint32(signBit)
)

// backoffBits stores a zero back-off as "no extension".
func backoffBits(bo float32) uint32 {
	if bo == 0 {
		return negZero
	}
	return math.Float32bits(bo)
}

// unigram stores a unigram; unlike the other orders, KenLM keeps the sign
// of a unigram's probability as read, so that <s>'s 0 reads as extending
// to the left.
func (b *builder) unigram(id uint32, prob, backoff float32) {
	ne.PutUint32(b.p.uni[id*8:], math.Float32bits(prob))
	ne.PutUint32(b.p.uni[id*8+4:], backoffBits(backoff))
}

// gram is an n-gram waiting in a builder's queue, with the keys and
// first buckets of its own entry, its suffix's and its context's.
type gram struct {
	ids      [MaxOrder]uint32
	n        int
	prob, bo float32
	index    int // for errors: the n-gram's position in its order
	line     int // for errors: the caller's line number
	key      [3]uint64
	off      [3]uint64
	first    [3]uint64 // the keys read at off, only to bring them into cache
}

// queueSize is how many n-grams a builder queues before storing them.
const queueSize = 64

// add stores an n-gram of order 2 or more, or reports false if an n-gram
// with the same key is present.
func (b *builder) add(ids []uint32, prob, backoff float32) bool {
	g := gram{n: len(ids), prob: prob, bo: backoff}
	copy(g.ids[:], ids)
	b.locate(&g)
	return b.store(&g)
}

// queue adds an n-gram to the queue, storing the queue when it is full.
// It returns the first n-gram that was a duplicate, or nil.
func (b *builder) queue(ids []uint32, prob, backoff float32, index, line int) *gram {
	g := &b.q[b.nq]
	g.n, g.prob, g.bo, g.index, g.line = len(ids), prob, backoff, index, line
	copy(g.ids[:], ids)
	b.nq++
	if b.nq == queueSize {
		return b.flush()
	}
	return nil
}

// flush stores the queued n-grams in order, after reading the buckets all
// of them will probe. Those reads do not depend on each other, so the
// processor overlaps their cache misses, where storing n-grams one by one
// waits for each miss in turn. It returns the first duplicate, or nil.
func (b *builder) flush() *gram {
	q := b.q[:b.nq]
	b.nq = 0
	for i := range q {
		b.locate(&q[i])
	}
	for i := range q {
		if !b.store(&q[i]) {
			return &q[i]
		}
	}
	return nil
}

// table returns the probing table of order n ≥ 2.
func (p *probing) table(n int) *hashTable {
	if n == p.order {
		return &p.long
	}
	return &p.mid[n-2]
}

// locate computes the keys of g, its suffix and its context, and reads
// their first buckets (a unigram's entry for a unigram).
func (b *builder) locate(g *gram) {
	ids := g.ids[:g.n]
	b.locate1(g, 0, ids)
	b.locate1(g, 1, ids[1:])
	b.locate1(g, 2, ids[:g.n-1])
}

func (b *builder) locate1(g *gram, k int, ids []uint32) {
	if len(ids) == 1 {
		g.key[k] = uint64(ids[0])
		g.first[k] = uint64(b.p.uni[ids[0]*8])
		return
	}
	t := b.p.table(len(ids))
	g.key[k] = keyOf(ids)
	g.off[k] = t.home(g.key[k])
	g.first[k] = t.at(g.off[k])
}

// store stores a located n-gram, or reports false if an n-gram with the
// same key is present.
func (b *builder) store(g *gram) bool {
	n := g.n
	t := b.p.table(n)
	off, fresh := t.insertFrom(g.key[0], g.off[0])
	if !fresh {
		return false
	}
	ne.PutUint32(t.data[off+8:], math.Float32bits(g.prob)|signBit)
	if n < b.p.order {
		ne.PutUint32(t.data[off+12:], backoffBits(g.bo))
	}
	b.m.counts[n-1]++
	// The suffix extends to the left, the context to the right. ARPA files
	// sorted by suffix repeat it line after line: flag it once.
	if sk := g.key[1]; n == 2 || sk != b.lastSuffix[n-1] {
		b.lastSuffix[n-1] = sk
		if p := b.flags(g, 1); p != nil {
			ne.PutUint32(p, ne.Uint32(p)&flagMask)
		}
	}
	if p := b.flags(g, 2); p != nil && ne.Uint32(p[4:]) == negZero {
		ne.PutUint32(p[4:], posZero)
	}
	return true
}

// flags returns the stored prob and back-off of g's suffix (k = 1) or
// context (k = 2), or nil if the model lacks it.
func (b *builder) flags(g *gram, k int) []byte {
	if g.n == 2 {
		id := g.ids[0]
		if k == 1 {
			id = g.ids[1]
		}
		return b.p.uni[id*8:][:8]
	}
	t := &b.p.mid[g.n-3]
	if off, ok := t.findFrom(g.key[k], g.off[k]); ok {
		return t.data[off+8:][:8]
	}
	return nil
}

func (b *builder) model(format string) *Model {
	m := b.m
	m.format = format
	m.bos, m.eos = m.Index(BOS), m.Index(EOS)
	return m
}

// unsafeString returns b as a string without copying, for lookups that do
// not keep it.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

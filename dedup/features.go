package dedup

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
	"unsafe"

	"github.com/siftdata/sift/seg"
	"github.com/zeebo/xxh3"
)

// Default shingle sizes, chosen on the evaluation corpus (see
// docs/dedup.md): short shingles for the SimHash, which must stay close
// under edits to find candidates, and longer ones for the sketch, which
// must tell near-duplicates from documents sharing common words.
const (
	DefaultWordN       = 1 // words per SimHash feature in spaced text
	DefaultCharN       = 1 // characters per SimHash feature in Han/Kana runs
	DefaultSketchWordN = 3 // words per sketch feature in spaced text
	DefaultSketchCharN = 3 // characters per sketch feature in Han/Kana runs
)

// maxN bounds shingle sizes: windows live in a fixed array.
const maxN = 8

// Shingler turns text into features: word n-grams for space-delimited text
// and character n-grams for runs of Han and Kana characters (each of which
// package seg makes a word of its own), with one size for SimHash features
// and one for sketch features. The text is normalized first: NFKC, case
// folded, and only word-like segments kept, so punctuation and white space
// runs do not matter. A run shorter than n gives one feature holding the
// whole run.
//
// A Shingler keeps buffers between calls and is not safe for concurrent use.
type Shingler struct {
	n     [2][2]int // [simhash, sketch][spaced, ideographic] sizes
	norm  normalizer
	words []seg.Segment // tokens of the text, when segmented here
	cur   []seg.Segment // tokens of the text being shingled
	hs    []uint64      // their hashes
	runs  []tokenRun
	tok   []byte // compat: bytes of the current window
}

// tokenRun is a range of tokens of one script class.
type tokenRun struct {
	end  int // one past its last token
	ideo bool
}

// NewShingler returns a Shingler with wordN words (charN characters in
// Han/Kana runs) per SimHash feature and sketchWordN words (sketchCharN
// characters) per sketch feature. Sizes must be in [1, 8]; the error names
// the offending one ("word_ngram", "char_ngram", "sketch_word_ngram",
// "sketch_char_ngram").
func NewShingler(wordN, charN, sketchWordN, sketchCharN int) (*Shingler, error) {
	x := &Shingler{n: [2][2]int{{wordN, charN}, {sketchWordN, sketchCharN}}}
	for i, name := range []string{"word_ngram", "char_ngram", "sketch_word_ngram", "sketch_char_ngram"} {
		if n := x.n[i/2][i%2]; n < 1 || n > maxN {
			return nil, fmt.Errorf("%s: %d not in [1, %d]", name, n, maxN)
		}
	}
	return x, nil
}

// Hashes calls fn with the 64-bit hash of every SimHash feature of s, in
// text order. Repeated features are reported each time. Token hashes are
// XXH3's (see hashTokens); a shingle's hash mixes its token hashes in order.
func (x *Shingler) Hashes(s string, fn func(h uint64)) {
	x.tokens(x.norm.normalize(s), nil, sink{fn: func(kind int, w []uint64, _ []byte) {
		if kind == 0 {
			fn(shingleHash(w))
		}
	}})
}

// Add adds the features of s to a: SimHash features with [Accumulator.Add]
// and sketch features with [Accumulator.AddSet].
func (x *Shingler) Add(s string, a *Accumulator) {
	x.tokens(x.norm.normalize(s), nil, sink{acc: a})
}

// AddWords is [Shingler.Add] for s whose word-like segments
// ([seg.AppendWords]) are words, for example from [sift.TextView.Words].
// When s is pure ASCII, normalizing only lowers its letters, so words are
// also the tokens of the normalized text and s is not segmented again.
func (x *Shingler) AddWords(s string, words []seg.Segment, a *Accumulator) {
	t, ascii := x.norm.normalizeASCII(s)
	if !ascii {
		words = nil
	}
	x.tokens(t, words, sink{acc: a})
}

// hashTokens puts in hs[i] the hash of token words[i] of t. Tokens of up
// to 16 bytes (nearly all) take XXH3's mixing of 9 to 16 bytes, applied
// to the token zero-padded to 16 bytes and its length, with no branch on
// the length; longer tokens are hashed by XXH3. t must have 16 bytes of
// capacity after its end, which the normalizer's result has.
func hashTokens(hs []uint64, t string, words []seg.Segment) {
	for i, sg := range words {
		l := int(sg.End - sg.Start)
		if l > 16 {
			hs[i] = xxh3.HashString(t[sg.Start:sg.End])
			continue
		}
		b := unsafe.Slice(unsafe.StringData(t[sg.Start:]), 16)
		lo := binary.LittleEndian.Uint64(b) & (1<<(8*min(l, 8)) - 1)
		hi := binary.LittleEndian.Uint64(b[8:]) & (1<<(8*max(l-8, 0)) - 1)
		// XXH3's 64-bit hash of 9 to 16 bytes with its default secret.
		lo ^= 0x1f67b3b7a4a44072 ^ 0x78e5c0cc4ee679cb
		hi ^= 0x2172ffcc7dd05a82 ^ 0x8e2443f7744608b8
		m1, m0 := bits.Mul64(lo, hi)
		x := uint64(l) + bits.ReverseBytes64(lo) + hi + (m1 ^ m0)
		x ^= x >> 37
		x *= 0x165667919e3779f9
		hs[i] = x ^ x>>32
	}
}

// shingleHash combines token hashes; a single token's hash (XXH3, well
// mixed already) stands for itself.
func shingleHash(w []uint64) uint64 {
	if len(w) == 1 {
		return w[0]
	}
	h := w[0]
	for _, t := range w[1:] {
		h = h*0x9E3779B97F4A7C15 + t
	}
	return mix64(h)
}

// CompatFeatures calls fn with the bytes of every SimHash feature of s as
// github.com/mfonda/simhash spells a shingle: its tokens joined by one
// space (what simhash.Shingle builds). feat is valid only during the call.
func (x *Shingler) CompatFeatures(s string, fn func(feat []byte)) {
	x.tokens(x.norm.normalize(s), nil, sink{compat: true, fn: func(kind int, _ []uint64, feat []byte) {
		if kind == 0 {
			fn(feat)
		}
	}})
}

// sink receives the windows of [Shingler.tokens]: an Accumulator directly
// (the hot path, no indirect calls), or fn with the window's token hashes,
// or in compat mode with the window's text (SimHash windows only).
type sink struct {
	acc    *Accumulator
	compat bool
	fn     func(kind int, w []uint64, feat []byte)
}

// tokens splits normalized text t into word-like tokens, grouped in runs
// of the same script class, and sends every window of SimHash (kind 0)
// and sketch (kind 1) size to out, run by run. Tokens are collected first
// so that the window loops run without indirect calls. words are the
// word-like segments of t, or nil to segment t here.
func (x *Shingler) tokens(t string, words []seg.Segment, out sink) {
	if words == nil {
		x.words = seg.AppendWords(x.words[:0], t)
		words = x.words
	}
	x.cur = words
	x.hs, x.runs = x.hs[:0], x.runs[:0]
	if len(words) == 0 {
		return
	}
	if !out.compat {
		x.hs = slices.Grow(x.hs, len(words))[:len(words)]
		hashTokens(x.hs, t, words)
	}
	ideo := false
	for _, sg := range words {
		if sg.Kind == seg.Ideo {
			ideo = true
			break
		}
	}
	if !ideo { // spaced text only: one run
		x.runs = append(x.runs, tokenRun{end: len(words)})
	} else {
		for n, sg := range words {
			if ideo := sg.Kind == seg.Ideo; len(x.runs) == 0 || x.runs[len(x.runs)-1].ideo != ideo {
				x.runs = append(x.runs, tokenRun{n, ideo})
			}
			x.runs[len(x.runs)-1].end = n + 1
		}
	}
	start := 0
	for _, r := range x.runs {
		c := 0
		if r.ideo {
			c = 1
		}
		for kind := range 2 {
			if out.compat && kind == 1 {
				continue
			}
			w := min(x.n[kind][c], r.end-start) // a short run is one window
			switch {
			case out.acc != nil && kind == 0 && w == 1:
				out.acc.AddAll(x.hs[start:r.end])
			case out.acc != nil && kind == 0:
				for i := start + w; i <= r.end; i++ {
					out.acc.Add(shingleHash(x.hs[i-w : i]))
				}
			case out.acc != nil:
				out.acc.addWindows(x.hs[start:r.end], w)
			default:
				for i := start + w; i <= r.end; i++ {
					x.emit(t, out, kind, i-w, i)
				}
			}
		}
		start = r.end
	}
}

// emit sends the window of tokens [from, to) to out.fn.
func (x *Shingler) emit(t string, out sink, kind, from, to int) {
	if !out.compat {
		out.fn(kind, x.hs[from:to], nil)
		return
	}
	x.tok = x.tok[:0]
	for i := from; i < to; i++ {
		if i > from {
			x.tok = append(x.tok, ' ')
		}
		x.tok = append(x.tok, t[x.cur[i].Start:x.cur[i].End]...)
	}
	out.fn(kind, nil, x.tok)
}

// mix64 is the MurmurHash3 finalizer: a bijection that spreads every input
// bit over the output, so SimHash bits of related shingles are independent.
func mix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// fnv64 is 64-bit FNV-1, the hash github.com/mfonda/simhash uses (as
// hash/fnv.New64), written out to avoid an allocation per feature.
func fnv64(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h *= 1099511628211
		h ^= uint64(c)
	}
	return h
}

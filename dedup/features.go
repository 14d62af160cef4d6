package dedup

import (
	"fmt"

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
	n    [2][2]int // [simhash, sketch][spaced, ideographic] sizes
	norm normalizer
	tok  []byte // compat: bytes of the current window
	win  [maxN]uint64
	pos  [maxN][2]int // compat: token byte ranges in the window
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
// XXH3; a shingle's hash mixes its token hashes in order.
func (x *Shingler) Hashes(s string, fn func(h uint64)) {
	x.tokens(x.norm.normalize(s), xxh3.HashString, func(kind int, w []uint64, _ []byte) {
		if kind == 0 {
			fn(shingleHash(w))
		}
	})
}

// Add adds the features of s to a: SimHash features with [Accumulator.Add]
// and sketch features with [Accumulator.AddSet].
func (x *Shingler) Add(s string, a *Accumulator) {
	x.tokens(x.norm.normalize(s), xxh3.HashString, func(kind int, w []uint64, _ []byte) {
		if kind == 0 {
			a.Add(shingleHash(w))
		} else {
			a.AddSet(shingleHash(w))
		}
	})
}

func shingleHash(w []uint64) uint64 {
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
	x.tokens(x.norm.normalize(s), nil, func(kind int, _ []uint64, feat []byte) {
		if kind == 0 {
			fn(feat)
		}
	})
}

// tokens walks the word-like segments of normalized text t in runs of the
// same script class and calls emit for every window of SimHash (kind 0)
// and sketch (kind 1) size. With hash nil it builds the window's text
// instead (compat mode, SimHash features only).
func (x *Shingler) tokens(t string, hash func(string) uint64, emit func(kind int, w []uint64, feat []byte)) {
	var n [2]int
	filled, ideo, started := 0, false, false
	flushShort := func() {
		for k := range n {
			if filled > 0 && filled < n[k] && (k == 0 || hash != nil) {
				x.emit(t, k, filled, filled, hash == nil, emit)
			}
		}
		filled = 0
	}
	for sg := range seg.Segments(t) {
		if !sg.Kind.WordLike() {
			continue
		}
		isIdeo := sg.Kind == seg.Ideo
		if !started || isIdeo != ideo {
			flushShort()
			started, ideo = true, isIdeo
			c := 0
			if ideo {
				c = 1
			}
			n = [2]int{x.n[0][c], x.n[1][c]}
		}
		if filled == maxN {
			copy(x.win[:], x.win[1:])
			copy(x.pos[:], x.pos[1:])
			filled--
		}
		if hash != nil {
			x.win[filled] = hash(t[sg.Start:sg.End])
		}
		x.pos[filled] = [2]int{sg.Start, sg.End}
		filled++
		for k := range n {
			if filled >= n[k] && (k == 0 || hash != nil) {
				x.emit(t, k, filled, n[k], hash == nil, emit)
			}
		}
	}
	flushShort()
}

// emit reports the window of the last n of the filled tokens.
func (x *Shingler) emit(t string, kind, filled, n int, compat bool, emit func(int, []uint64, []byte)) {
	if !compat {
		emit(kind, x.win[filled-n:filled], nil)
		return
	}
	x.tok = x.tok[:0]
	for i := filled - n; i < filled; i++ {
		if i > filled-n {
			x.tok = append(x.tok, ' ')
		}
		x.tok = append(x.tok, t[x.pos[i][0]:x.pos[i][1]]...)
	}
	emit(kind, nil, x.tok)
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

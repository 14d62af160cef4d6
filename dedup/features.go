package dedup

import (
	"fmt"

	"github.com/siftdata/sift/seg"
	"github.com/zeebo/xxh3"
)

// Default shingle sizes, chosen on the evaluation corpus (see docs/dedup.md).
const (
	DefaultWordN = 3 // words per shingle in spaced text
	DefaultCharN = 2 // characters per shingle in Han/Kana runs
)

// maxN bounds shingle sizes: windows live in a fixed array.
const maxN = 8

// Shingler turns text into features: word n-grams for space-delimited text
// and character n-grams for runs of Han and Kana characters (each of which
// package seg makes a word of its own). The text is normalized first: NFKC,
// case folded, and only word-like segments kept, so punctuation and white
// space runs do not matter. A run shorter than n gives one feature holding
// the whole run.
//
// A Shingler keeps buffers between calls and is not safe for concurrent use.
type Shingler struct {
	wordN, charN int
	norm         normalizer
	tok          []byte // compat: bytes of the current window
	win          [maxN]uint64
	spans        [maxN][2]int // compat: token byte ranges in the window
}

// NewShingler returns a Shingler with wordN words per shingle in spaced text
// and charN characters per shingle in Han/Kana runs. Sizes must be in
// [1, 8]; the error names the offending one ("word_ngram" or "char_ngram").
func NewShingler(wordN, charN int) (*Shingler, error) {
	if wordN < 1 || wordN > maxN {
		return nil, fmt.Errorf("word_ngram: %d not in [1, %d]", wordN, maxN)
	}
	if charN < 1 || charN > maxN {
		return nil, fmt.Errorf("char_ngram: %d not in [1, %d]", charN, maxN)
	}
	return &Shingler{wordN: wordN, charN: charN}, nil
}

// Hashes calls fn with the 64-bit hash of every feature of s, in text
// order. Repeated features are reported each time. Token hashes are XXH3;
// a shingle's hash mixes its token hashes in order.
func (x *Shingler) Hashes(s string, fn func(h uint64)) {
	x.tokens(x.norm.normalize(s), xxh3.HashString, func(w []uint64, _ []byte) {
		h := w[0]
		for _, t := range w[1:] {
			h = h*0x9E3779B97F4A7C15 + t
		}
		fn(mix64(h))
	})
}

// CompatFeatures calls fn with the bytes of every feature of s as
// github.com/mfonda/simhash spells a shingle: its tokens joined by one
// space (what simhash.Shingle builds). feat is valid only during the call.
func (x *Shingler) CompatFeatures(s string, fn func(feat []byte)) {
	x.tokens(x.norm.normalize(s), nil, func(_ []uint64, feat []byte) { fn(feat) })
}

// tokens walks the word-like segments of normalized text t in runs of the
// same script class and calls emit for every window. With hash nil it
// builds the window's text instead (compat mode).
func (x *Shingler) tokens(t string, hash func(string) uint64, emit func(w []uint64, feat []byte)) {
	n, filled, ideo := 0, 0, false
	flushShort := func() {
		if filled > 0 && filled < n {
			x.emit(t, filled, hash == nil, emit)
		}
		filled = 0
	}
	for sg := range seg.Segments(t) {
		if !sg.Kind.WordLike() {
			continue
		}
		isIdeo := sg.Kind == seg.Ideo
		if n == 0 || isIdeo != ideo {
			flushShort()
			ideo = isIdeo
			n = x.wordN
			if ideo {
				n = x.charN
			}
		}
		if filled == n {
			copy(x.win[:n-1], x.win[1:n])
			copy(x.spans[:n-1], x.spans[1:n])
			filled--
		}
		if hash != nil {
			x.win[filled] = hash(t[sg.Start:sg.End])
		}
		x.spans[filled] = [2]int{sg.Start, sg.End}
		filled++
		if filled == n {
			x.emit(t, n, hash == nil, emit)
		}
	}
	flushShort()
}

func (x *Shingler) emit(t string, n int, compat bool, emit func([]uint64, []byte)) {
	if !compat {
		emit(x.win[:n], nil)
		return
	}
	x.tok = x.tok[:0]
	for i := 0; i < n; i++ {
		if i > 0 {
			x.tok = append(x.tok, ' ')
		}
		x.tok = append(x.tok, t[x.spans[i][0]:x.spans[i][1]]...)
	}
	emit(nil, x.tok)
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

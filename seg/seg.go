package seg

import (
	"iter"
	"math/bits"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/clipperhouse/uax29/v2/words"
)

// Kind classifies a segment.
type Kind uint8

// Segment kinds. Word, Number and Ideo are word-like; Space and Punct are not.
const (
	Space  Kind = iota // white space, including newlines
	Punct              // punctuation, symbols and anything else not word-like
	Word               // letters (with joiners such as apostrophes), no digits
	Number             // a word-like segment containing at least one digit
	Ideo               // one Han, Hiragana or Katakana character
)

// WordLike reports whether segments of kind k count as words.
func (k Kind) WordLike() bool { return k >= Word }

// Segment is a byte range [Start, End) of the segmented string and its kind.
// Offsets are 32-bit, so a segment takes 12 bytes, not 24: the words of a
// batch are held for every row until the batch is written. Strings of 4 GiB
// or more cannot be segmented; the functions of this package panic on them.
type Segment struct {
	Start, End uint32
	Kind       Kind
}

// span returns the segment [start, end) of kind k.
func span(start, end int, k Kind) Segment { return Segment{uint32(start), uint32(end), k} }

// maxLen is the length of the longest string that can be segmented.
const maxLen = 1<<32 - 1

// checkLen panics if s is too long for 32-bit offsets.
func checkLen(s string) {
	if uint64(len(s)) > maxLen {
		panic("seg: string of 4 GiB or more")
	}
}

// Segments yields every segment of s in order. The segments tile s exactly:
// concatenating s[Start:End] over all of them gives s back.
func Segments(s string) iter.Seq[Segment] {
	return func(yield func(Segment) bool) { segments(s, yield) }
}

// segments segments the chunks of s (see chunk): pure-ASCII ones with the
// fast ASCII rules, the others with the full UAX #29 rules.
func segments(s string, yield func(Segment) bool) {
	checkLen(s)
	for start := 0; start < len(s); {
		i, k := chunk(s, start, start)
		if i > start && !asciiSegmentsAt(s[start:i], start, yield) {
			return
		}
		if k > i && !unicodeSegmentsAt(s[i:k], i, yield) {
			return
		}
		start = k
	}
}

// AppendWords appends the word-like segments of s to dst, in order, and
// returns the extended slice: the segments of [Segments] whose
// [Kind.WordLike] is true, found without a call per segment, so it is the
// faster way to collect words.
func AppendWords(dst []Segment, s string) []Segment {
	checkLen(s)
	for start := 0; start < len(s); {
		// Take the rest as ASCII up to a block holding a non-ASCII byte at
		// q, keep the words before the last cut r before it, and go on from
		// r as segments does.
		n := len(dst)
		var q int
		if dst, q = asciiWordsAt(dst, s[start:], start); q == len(s) {
			break
		}
		r := q
		for r > start && !cut(s, r) {
			r--
		}
		for len(dst) > n && int(dst[len(dst)-1].End) > r {
			dst = dst[:len(dst)-1]
		}
		i, k := chunk(s, start, q)
		dst, _ = asciiWordsAt(dst, s[r:i], r)
		unicodeSegmentsAt(s[i:k], i, func(sg Segment) bool {
			if sg.Kind.WordLike() {
				dst = append(dst, sg)
			}
			return true
		})
		start = k
	}
	return dst
}

// chunk cuts s from start into a pure-ASCII chunk s[start:i] (possibly
// empty) and a chunk s[i:k] holding the next non-ASCII byte (empty when
// the rest of s is ASCII, i = k = len(s)). Chunks end at word boundaries
// no UAX #29 rule joins or looks across: after an ASCII space, before an
// ASCII character other than a space. s[start:from] is known to be ASCII.
func chunk(s string, start, from int) (i, k int) {
	j := from + asciiPrefix(s[from:])
	if j == len(s) {
		return j, j
	}
	i = j // the ASCII chunk ends at the last cut at or before j
	for i > start && !cut(s, i) {
		i--
	}
	k = j + 1 // the other chunk ends at the first cut after j
	for k < len(s) && !cut(s, k) {
		k++
	}
	return i, k
}

// cut reports whether a chunk may end before s[i].
func cut(s string, i int) bool { return s[i-1] == ' ' && s[i] != ' ' && s[i] < utf8.RuneSelf }

// asciiPrefix returns the length of the longest pure-ASCII prefix of s.
func asciiPrefix(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		// An unaligned 8-byte load; the byte order does not matter.
		if *(*uint64)(unsafe.Pointer(unsafe.StringData(s[i:])))&0x8080808080808080 != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			break
		}
	}
	return i
}

// Count returns the number of word-like segments in s.
func Count(s string) int {
	n := 0
	for sg := range Segments(s) {
		if sg.Kind.WordLike() {
			n++
		}
	}
	return n
}

// Words yields the word-like segments of s as strings (sub-slices of s).
func Words(s string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for sg := range Segments(s) {
			if sg.Kind.WordLike() && !yield(s[sg.Start:sg.End]) {
				return
			}
		}
	}
}

// IsIdeo reports whether r is written without spaces between words: Han,
// Hiragana or Katakana (including the prolonged sound mark).
// The two blocks of ideographs nearly all Chinese text is written in are
// answered by a comparison (every code point of them is Han), and letters
// before the first Han are not looked up in any table.
func IsIdeo(r rune) bool {
	switch {
	case r < 0x2E80: // the first Han (CJK radicals); Hiragana and Katakana come later
		return false
	case 0x4E00 <= r && r <= 0x9FFF, 0x3400 <= r && r <= 0x4DBF: // CJK Unified Ideographs, Extension A
		return true
	}
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || r == 'ー'
}

func isASCII(s string) bool { return asciiPrefix(s) == len(s) }

func unicodeSegments(s string, yield func(Segment) bool) { unicodeSegmentsAt(s, 0, yield) }

// unicodeSegmentsAt segments s by UAX #29, reporting offsets plus off. It
// returns false if yield did.
func unicodeSegmentsAt(s string, off int, yield func(Segment) bool) bool {
	it := words.FromString(s)
	pos := 0
	for it.Next() {
		tok := it.Value()
		start, end := pos, pos+len(tok)
		pos = end
		r, _ := utf8.DecodeRuneInString(tok)
		if IsIdeo(r) || containsIdeo(tok) {
			// Split ideographic runs one character each; anything else
			// inside the token (rare: joined letters) stays one segment.
			if !splitIdeo(s, start, end, off, yield) {
				return false
			}
			continue
		}
		if !yield(span(off+start, off+end, classify(tok))) {
			return false
		}
	}
	return true
}

func containsIdeo(tok string) bool {
	for _, r := range tok {
		if IsIdeo(r) {
			return true
		}
	}
	return false
}

func splitIdeo(s string, start, end, off int, yield func(Segment) bool) bool {
	i := start
	for i < end {
		r, n := utf8.DecodeRuneInString(s[i:end])
		if IsIdeo(r) {
			if !yield(span(off+i, off+i+n, Ideo)) {
				return false
			}
			i += n
			continue
		}
		j := i + n
		for j < end {
			r2, n2 := utf8.DecodeRuneInString(s[j:end])
			if IsIdeo(r2) {
				break
			}
			j += n2
		}
		if !yield(span(off+i, off+j, classify(s[i:j]))) {
			return false
		}
		i = j
	}
	return true
}

func classify(tok string) Kind {
	word, digit := false, false
	allSpace := true
	for _, r := range tok {
		switch {
		case unicode.IsDigit(r) || unicode.Is(unicode.Nd, r):
			digit = true
			allSpace = false
		case unicode.IsLetter(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r):
			word = true
			allSpace = false
		case !unicode.IsSpace(r):
			allSpace = false
		}
	}
	switch {
	case digit:
		return Number
	case word:
		return Word
	case allSpace:
		return Space
	}
	return Punct
}

// ASCII classes for the UAX #29 rules restricted to ASCII.
const (
	cOther = iota
	cLetter
	cDigit
	cExtend    // '_' (ExtendNumLet)
	cMidLetter // ':'
	cMidNumLet // '.', '\''
	cMidNum    // ',', ';'
	cSpace     // ' ' (WSegSpace: runs of it join)
	cCR
	cLF
	cNewline // '\t', '\v', '\f': space, but one segment each
)

var asciiClass = func() (t [128]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = cLetter
		t[c-32] = cLetter
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = cDigit
	}
	t['_'] = cExtend
	t[':'] = cMidLetter
	t['.'], t['\''] = cMidNumLet, cMidNumLet
	t[','], t[';'] = cMidNum, cMidNum
	t[' '] = cSpace
	t['\r'], t['\n'] = cCR, cLF
	t['\t'], t['\v'], t['\f'] = cNewline, cNewline, cNewline
	return t
}()

// asciiSegments applies the UAX #29 word rules to pure-ASCII s.
func asciiSegments(s string, yield func(Segment) bool) { asciiSegmentsAt(s, 0, yield) }

// isWordClass reports whether ASCII class c is cLetter, cDigit or cExtend.
func isWordClass(c uint8) bool { return c-cLetter <= cExtend-cLetter }

// asciiSegmentsAt is asciiSegments reporting offsets plus off. It returns
// false if yield did.
func asciiSegmentsAt(s string, off int, yield func(Segment) bool) bool {
	i := 0
	for i < len(s) {
		start := i
		c := asciiClass[s[i]&0x7f]
		i++
		if isWordClass(c) {
			seen := 1 << c // classes in the segment
			for i < len(s) {
				n := asciiClass[s[i]&0x7f]
				if isWordClass(n) {
					seen |= 1 << n
					i++
					continue
				}
				// WB6/7 and WB11/12: a single mid char between two
				// letters, or between two digits.
				if i+1 < len(s) {
					prev, next := asciiClass[s[i-1]&0x7f], asciiClass[s[i+1]&0x7f]
					if (n == cMidLetter || n == cMidNumLet) && prev == cLetter && next == cLetter ||
						(n == cMidNum || n == cMidNumLet) && prev == cDigit && next == cDigit {
						i += 2
						continue
					}
				}
				break
			}
			k := Word
			if seen&(1<<cDigit) != 0 {
				k = Number
			} else if seen&(1<<cLetter) == 0 {
				k = Punct // a run of '_' alone
			}
			if !yield(span(off+start, off+i, k)) {
				return false
			}
			continue
		}
		k := Punct
		switch c {
		case cSpace:
			for i < len(s) && s[i] == ' ' {
				i++
			}
			k = Space
		case cCR:
			if i < len(s) && s[i] == '\n' {
				i++
			}
			k = Space
		case cLF, cNewline:
			k = Space
		}
		if !yield(span(off+start, off+i, k)) {
			return false
		}
	}
	return true
}

// Flags of ASCII bytes for asciiWordsAt. A mid flag shifted right by
// midShift is the flag of the class it joins: fMidLetter joins letters,
// fMidNum digits.
const (
	fLetter = 1 << iota
	fDigit
	fExtend
	fMidLetter        // ':', '.', '\''
	fMidNum           // ',', ';', '.', '\''
	fHigh      = 0x80 // not ASCII

	fWord    = fLetter | fDigit | fExtend
	midShift = 3
)

var asciiFlags = func() (t [256]uint8) {
	for c := utf8.RuneSelf; c < len(t); c++ {
		t[c] = fHigh
	}
	for c, cl := range asciiClass {
		switch cl {
		case cLetter:
			t[c] = fLetter
		case cDigit:
			t[c] = fDigit
		case cExtend:
			t[c] = fExtend
		case cMidLetter:
			t[c] = fMidLetter
		case cMidNumLet:
			t[c] = fMidLetter | fMidNum
		case cMidNum:
			t[c] = fMidNum
		}
	}
	return t
}()

// asciiWordsAt appends the word-like segments of s, at offsets plus off,
// to dst by the rules of asciiSegmentsAt, computed 64 bytes at a time as
// bit masks (bit j for byte j of a block), so that finding a word costs no
// mispredicted branch. A word is a maximal run of word bytes (letters,
// digits, '_') and joining mid bytes. It stops at the first block holding
// a non-ASCII byte and returns its offset (plus off), having appended the
// words ending before it; or off+len(s) when s is ASCII.
func asciiWordsAt(dst []Segment, s string, off int) ([]Segment, int) {
	var (
		pad   [blockBytes + 1]byte
		prev  uint64 // flags of the previous 8 bytes (the last in the top byte)
		in    uint64 // 1 if the previous block ended inside a word
		start int    // the open word's start
		rare  bool   // the open word holds a digit or '_' (in earlier blocks)
	)
	for p := 0; p < len(s); p += blockBytes {
		blk := s[p:min(p+blockBytes+1, len(s))]
		if len(blk) <= blockBytes { // the last block: zero bytes after s join nothing
			copy(pad[:], blk)
			clear(pad[len(blk):])
			blk = unsafe.String(&pad[0], len(pad))
		}
		w, r, high, last := blockMasks(blk, prev)
		if high != 0 {
			return dst, off + p
		}
		prev = last
		cont := w<<1 | in
		starts, ends := w&^cont, cont&^w
		for ends != 0 {
			if in == 0 {
				start, rare = p+bits.TrailingZeros64(starts), false
				starts &= starts - 1
			}
			in = 0
			end := p + bits.TrailingZeros64(ends)
			ends &= ends - 1
			if !rare && r&(1<<(end-p)-1)>>max(start-p, 0) == 0 {
				dst = append(dst, span(off+start, off+end, Word))
			} else if k := asciiWordKind(s[start:end]); k != Punct {
				dst = append(dst, span(off+start, off+end, k))
			}
		}
		in = w >> 63
		if starts != 0 {
			start, rare = p+bits.TrailingZeros64(starts), false
		}
		rare = rare || in == 1 && r>>max(start-p, 0) != 0
	}
	if in == 1 { // a word ends at the end of s, a multiple of blockBytes long
		if k := asciiWordKind(s[start:]); k != Punct {
			dst = append(dst, span(off+start, off+len(s), k))
		}
	}
	return dst, off + len(s)
}

// asciiWordKind returns the kind of ASCII word w: Number if it holds a
// digit, Word if it holds a letter, else Punct ('_' alone).
func asciiWordKind(w string) Kind {
	var seen uint8
	for i := 0; i < len(w); i++ {
		seen |= asciiFlags[w[i]]
	}
	switch {
	case seen&fDigit != 0:
		return Number
	case seen&fLetter != 0:
		return Word
	}
	return Punct
}

const blockBytes = 64

// blockMasks returns, for the first 64 bytes of b (which has one more), the
// mask of bytes in words (word bytes and joining mid bytes), the mask of
// digits and '_' (rare: words without them are Words), a value not 0 if a
// byte is not ASCII, and the flags of its last 8 bytes for the next block.
// prev has the flags of the 8 bytes before b.
func blockMasks(b string, prev uint64) (w, r, high, last uint64) {
	const ones = 0x0101010101010101
	_ = b[blockBytes]
	for g := 0; g < blockBytes; g += 8 {
		f := uint64(asciiFlags[b[g]]) | uint64(asciiFlags[b[g+1]])<<8 | uint64(asciiFlags[b[g+2]])<<16 |
			uint64(asciiFlags[b[g+3]])<<24 | uint64(asciiFlags[b[g+4]])<<32 | uint64(asciiFlags[b[g+5]])<<40 |
			uint64(asciiFlags[b[g+6]])<<48 | uint64(asciiFlags[b[g+7]])<<56 // flag bytes of b[g:g+8]
		before := f<<8 | prev>>56
		after := f>>8 | uint64(asciiFlags[b[g+8]])<<56
		join := f >> midShift & before & after & ((fLetter | fDigit) * ones)
		w |= movemask(f&(fWord*ones)|join) << g
		r |= movemask(f&((fDigit|fExtend)*ones)) << g
		high |= f
		prev = f
	}
	return w, r, high & (fHigh * ones), prev
}

// movemask returns bit k set iff byte k of x (each below 0x80) is not 0.
func movemask(x uint64) uint64 {
	const ones = 0x0101010101010101
	return ((x + 0x7f*ones) & (0x80 * ones) >> 7) * 0x0102040810204080 >> 56
}

package seg

import (
	"iter"
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
type Segment struct {
	Start, End int
	Kind       Kind
}

// Segments yields every segment of s in order. The segments tile s exactly:
// concatenating s[Start:End] over all of them gives s back.
func Segments(s string) iter.Seq[Segment] {
	return func(yield func(Segment) bool) { segments(s, yield) }
}

// segments cuts s into chunks at certain word boundaries (after an ASCII
// space, before an ASCII character other than a space: no UAX #29 rule
// joins or looks across such a pair) and segments the pure-ASCII chunks
// with the fast ASCII rules, the others with the full UAX #29 rules.
func segments(s string, yield func(Segment) bool) {
	for start := 0; start < len(s); {
		j := start + asciiPrefix(s[start:])
		if j == len(s) {
			asciiSegmentsAt(s[start:], start, yield)
			return
		}
		i := j // the ASCII chunk ends at the last cut at or before j
		for i > start && !cut(s, i) {
			i--
		}
		if i > start && !asciiSegmentsAt(s[start:i], start, yield) {
			return
		}
		k := j + 1 // the other chunk ends at the first cut after j
		for k < len(s) && !cut(s, k) {
			k++
		}
		if !unicodeSegmentsAt(s[i:k], i, yield) {
			return
		}
		start = k
	}
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
func IsIdeo(r rune) bool {
	return r >= 0x2E80 && // the first Han (CJK radicals); Hiragana and Katakana come later
		unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
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
		if !yield(Segment{off + start, off + end, classify(tok)}) {
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
			if !yield(Segment{off + i, off + i + n, Ideo}) {
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
		if !yield(Segment{off + i, off + j, classify(s[i:j])}) {
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
			if !yield(Segment{off + start, off + i, k}) {
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
		if !yield(Segment{off + start, off + i, k}) {
			return false
		}
	}
	return true
}

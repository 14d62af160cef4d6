package seg

import (
	"iter"
	"unicode"
	"unicode/utf8"

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
	return func(yield func(Segment) bool) {
		if isASCII(s) {
			asciiSegments(s, yield)
			return
		}
		unicodeSegments(s, yield)
	}
}

// Count returns the number of word-like segments in s.
func Count(s string) int {
	n := 0
	if isASCII(s) {
		asciiSegments(s, func(sg Segment) bool {
			if sg.Kind.WordLike() {
				n++
			}
			return true
		})
		return n
	}
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
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || r == 'ー'
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func unicodeSegments(s string, yield func(Segment) bool) {
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
			if !splitIdeo(s, start, end, yield) {
				return
			}
			continue
		}
		if !yield(Segment{start, end, classify(tok)}) {
			return
		}
	}
}

func containsIdeo(tok string) bool {
	for _, r := range tok {
		if IsIdeo(r) {
			return true
		}
	}
	return false
}

func splitIdeo(s string, start, end int, yield func(Segment) bool) bool {
	i := start
	for i < end {
		r, n := utf8.DecodeRuneInString(s[i:end])
		if IsIdeo(r) {
			if !yield(Segment{i, i + n, Ideo}) {
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
		if !yield(Segment{i, j, classify(s[i:j])}) {
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
func asciiSegments(s string, yield func(Segment) bool) {
	cls := func(i int) uint8 {
		if i < len(s) {
			return asciiClass[s[i]]
		}
		return cOther
	}
	i := 0
	for i < len(s) {
		start := i
		c := cls(i)
		switch c {
		case cLetter, cDigit, cExtend:
			digit := c == cDigit
			letters := c == cLetter
			i++
			for i < len(s) {
				n := cls(i)
				if n == cLetter || n == cDigit || n == cExtend {
					digit = digit || n == cDigit
					letters = letters || n == cLetter
					i++
					continue
				}
				// WB6/7 and WB11/12: a single mid char between two
				// letters, or between two digits.
				prev, next := cls(i-1), cls(i+1)
				if (n == cMidLetter || n == cMidNumLet) && prev == cLetter && next == cLetter {
					i += 2
					continue
				}
				if (n == cMidNum || n == cMidNumLet) && prev == cDigit && next == cDigit {
					i += 2
					continue
				}
				break
			}
			k := Word
			if digit {
				k = Number
			} else if !letters {
				k = Punct // a run of '_' alone
			}
			if !yield(Segment{start, i, k}) {
				return
			}
			continue
		case cSpace:
			for i < len(s) && cls(i) == cSpace {
				i++
			}
		case cCR:
			i++
			if cls(i) == cLF {
				i++
			}
		default:
			i++
		}
		k := Punct
		if c == cSpace || c == cCR || c == cLF || c == cNewline {
			k = Space
		}
		if !yield(Segment{start, i, k}) {
			return
		}
	}
}

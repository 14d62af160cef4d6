package augment

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/siftdata/sift/seg"
)

// role is what an edit may do with a token.
type role uint8

const (
	fixed role = iota // protected, or part of a protected run: no edit at or right after it
	kept              // never changed (stopword, number, acronym, name), but a word may be inserted after it
	free              // may be replaced, swapped or deleted
)

// token is a word of one part of a row's text: a word-like segment of
// package seg, or for ideographic runs a word found by forward maximum
// matching against the thesaurus.
type token struct {
	part       int
	start, end int
	role       role
	shape      shape
	ideo       bool
	syns       []string // synonyms for its context; free tokens only
	// word is what the scanner knows of the word, for letter words that
	// are not fixed by their surroundings; nil for the others.
	word *wordInfo
	// slot is memoSlot of the context the synonyms were looked up in.
	slot uint8
}

// context words that tell the part of speech of the next word.
var (
	beforeNoun = wordSet("a an the this that these those my your his her its our their every each some any no another such")
	beforeVerb = wordSet("i we they he she will would shall should can could may might must cannot")
)

func wordSet(ws string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(ws) {
		m[w] = true
	}
	return m
}

// POS sets for thesaurus lookups (bits 1<<POS; bit 0 is any).
const (
	anyPOS    = 1 << AnyPOS
	nounOrAdj = 1<<Noun | 1<<Adj
	verbOnly  = 1 << Verb
)

// scanner tokenizes the parts of a row. It keeps buffers between rows.
type scanner struct {
	th      *Thesaurus
	phrases bool
	spans   []span
	// words memoises wordInfo by spelling: the same words come up again
	// and again, and one look-up here replaces several in larger maps
	// (case folding, stopwords, thesaurus, inflections).
	words map[string]*wordInfo
}

// wordInfo is what scanning and scoring need of one spelling of a word of
// letters, all of it derived from the spelling alone.
type wordInfo struct {
	lower   string
	shape   shape
	letters bool  // only letters and combining marks
	short   bool  // at most two runes: never replaced
	kept    bool  // in keptWords: never replaced, moved or deleted
	honor   bool  // an honorific (lower case, without its period)
	next    uint8 // posContext(lower): parts of speech of a word after it
	have    uint8 // bit i: syns[i] is looked up
	syns    [3][]string
	// fit holds the word's id in the context model and its synonyms' ids,
	// per context; nil until the word's slot is first scored.
	fit *wordFit
}

// wordFit is a word's and its synonyms' ids in the context model.
type wordFit struct {
	id   wordID
	have uint8 // bit i: syns[i] is filled
	syns [3][]wordID
}

// maxWords bounds scanner.words; past it the memo starts over.
const maxWords = 1 << 15

// word returns the wordInfo of w, a word-like segment.
func (sc *scanner) word(w string) *wordInfo {
	if e := sc.words[w]; e != nil {
		return e
	}
	if sc.words == nil || len(sc.words) >= maxWords {
		sc.words = make(map[string]*wordInfo, 1024)
	}
	w = strings.Clone(w) // w may alias Arrow memory; the memo outlives the batch
	lw := strings.ToLower(w)
	e := &wordInfo{lower: lw, shape: shapeOf(w), letters: letters(w), short: utf8.RuneCountInString(w) <= 2,
		kept: keptWords[lw], next: posContext(lw)}
	e.honor = len(w) <= 4 && honorifics[lw]
	sc.words[w] = e
	return e
}

// synonyms returns the synonyms of e in a context allowing the parts of
// speech allowed, one of the sets posContext returns.
func (sc *scanner) synonyms(e *wordInfo, allowed uint8) ([]string, uint8) {
	i := uint8(memoSlot(allowed))
	if e.have&(1<<i) == 0 {
		e.syns[i] = sc.th.wordSynonyms(e.lower, allowed, sc.phrases)
		e.have |= 1 << i
	}
	return e.syns[i], i
}

// scan appends the tokens of part number part, text s with word-like
// segments words (seg.AppendWords), to toks. It is the one place that
// decides what the operations may touch: fixed tokens are never edited and
// nothing is inserted next to them, kept ones are never replaced, moved or
// deleted.
func (sc *scanner) scan(part int, s string, words []seg.Segment, toks []token) []token {
	sc.spans = protectedSpans(s, sc.spans)
	sp := sc.spans
	sentence := true      // at a sentence start, a capital does not mark a name
	prev := uint8(anyPOS) // posContext of the previous word if only spaces separate it
	honor := false        // the previous word is an honorific (Mr, Dr...)
	spanEnd := -1         // end of the last span before the current word
	last := 0             // end of the previous word
	for _, g := range words {
		start, end := int(g.Start), int(g.End)
		if start < last {
			continue // already matched as part of a longer ideographic word
		}
		afterHonor := false
		if gap := s[last:start]; gap != "" {
			afterHonor = honor && strings.Trim(gap, ". ") == "" && len(gap) <= 3
			if !blanks(gap) {
				prev = anyPOS
			}
			switch {
			case afterHonor:
			case strings.ContainsAny(gap, ".!?。！？…"), strings.Contains(gap, "\n\n"), strings.Contains(gap, "\n\r\n"):
				// A single line break is a hard wrap: a capital after it
				// is a name, unless punctuation ended the sentence.
				sentence = true
			}
		}
		honor = false
		last = end
		for len(sp) > 0 && sp[0].end <= start {
			spanEnd = sp[0].end
			sp = sp[1:]
		}
		inSpan := len(sp) > 0 && sp[0].start < end
		touches := spanEnd == start || len(sp) > 0 && sp[0].start == end
		if g.Kind == seg.Ideo {
			toks = sc.ideo(part, s, start, toks)
			last = toks[len(toks)-1].end
			sentence, prev = false, anyPOS
			continue
		}
		t := token{part: part, start: start, end: end, role: fixed}
		w := s[start:end]
		ctx := prev
		prev = anyPOS
		var e *wordInfo
		if !(inSpan || touches || g.Kind != seg.Word || glued(s, start, end) || afterOddApostrophe(s, start)) {
			e = sc.word(w)
			t.shape = e.shape
		} else {
			t.shape = shapeOf(w)
		}
		switch {
		case e == nil || !e.letters:
			// numbers, tokens with digits, dots or apostrophes stay fixed
		case e.honor && end < len(s) && s[end] == '.':
			honor = true // "Mr.": nothing goes between it and the name
			t.word = e
		case t.shape == other || (t.shape == title && !sentence) || afterHonor:
			t.role = kept // acronyms, mixed case and names
			t.word = e
		default:
			prev = e.next
			t.role = kept
			t.word = e
			if !e.kept && !e.short {
				t.role = free
				t.syns, t.slot = sc.synonyms(e, ctx)
			}
		}
		if n := len(toks); n > 0 && e != nil && particles[e.lower] && toks[n-1].role == free && blanks(s[toks[n-1].end:start]) {
			toks[n-1].syns = nil // a phrasal verb: "find out" is not "happen out"
		}
		sentence = false
		toks = append(toks, t)
	}
	return toks
}

// particles are the adverb particles of phrasal verbs. A word followed by
// one gets no synonym: the pair means something of its own ("rip out",
// "find out", "lean over"), which a synonym of the word alone breaks.
// "in" and "on" are left out: they are mostly prepositions (of the judged
// substitutions before "in", 9 of 13 were fine).
var particles = wordSet("up out off down away back over around")

// blanks reports whether gap holds only spaces and tabs.
func blanks(gap string) bool {
	for i := range len(gap) {
		if gap[i] != ' ' && gap[i] != '\t' {
			return false
		}
	}
	return true
}

// afterOddApostrophe reports whether the word at i follows an apostrophe
// that does not follow a letter: the 's of "[x]'s", "1990's", "`f`'s".
func afterOddApostrophe(s string, i int) bool {
	r, n := utf8.DecodeLastRuneInString(s[:i])
	if r != '\'' && r != '’' {
		return false
	}
	r, _ = utf8.DecodeLastRuneInString(s[:i-n])
	return !unicode.IsLetter(r)
}

// keptWords are the words that are never replaced, moved or deleted: the
// stopwords, number words, whose synonyms are numerals or jargon ("two" →
// "ii", "thousand" → "yard"), and negations, whose loss or move inverts a
// sentence. One set, so a word costs one look-up.
var keptWords = withStopwords(`
zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen
seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million
billion trillion dozen dozens hundreds thousands millions billions trillions score half twice thrice
first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth
fifteenth sixteenth seventeenth eighteenth nineteenth twentieth thirtieth fortieth fiftieth sixtieth
seventieth eightieth ninetieth hundredth thousandth millionth billionth
not never cannot nobody nowhere nothing none neither nor no without hardly barely scarcely seldom rarely
naught nought nowise noone nor lest
little fewer enough several plenty`)

func withStopwords(ws string) map[string]bool {
	m := wordSet(ws)
	for w := range stopwords {
		m[w] = true
	}
	return m
}

// honorifics are the abbreviations after which a capitalised word is a
// name, though a period precedes it.
var honorifics = wordSet("mr mrs ms mx dr prof st sr jr rev revd hon gen capt col lt sgt cmdr adm gov pres sen rep fr")

// posContext returns the parts of speech the word after prev (lower case)
// may have.
func posContext(prev string) uint8 {
	switch {
	case beforeNoun[prev]:
		return nounOrAdj
	case beforeVerb[prev]:
		return verbOnly
	}
	return anyPOS
}

// ideo appends the words of the ideographic run starting at i, by forward
// maximum matching against the thesaurus headwords. Single characters are
// fixed: too ambiguous to replace.
func (sc *scanner) ideo(part int, s string, i int, toks []token) []token {
	end := i
	for end < len(s) {
		r, n := utf8.DecodeRuneInString(s[end:])
		if !seg.IsIdeo(r) {
			break
		}
		end += n
	}
	for i < end {
		j := i
		_, n := utf8.DecodeRuneInString(s[j:])
		best := j + n
		for k := 0; k < sc.th.maxIdeo && j < end; k++ {
			_, n := utf8.DecodeRuneInString(s[j:])
			j += n
			if k > 0 && sc.th.m[s[i:j]] != nil {
				best = j
			}
		}
		t := token{part: part, start: i, end: best, ideo: true, role: fixed}
		w := s[i:best]
		if !overlaps(sc.spans, i, best) && utf8.RuneCountInString(w) > 1 {
			t.role = kept
			if !stopwords[w] {
				t.role = free
				t.syns = sc.th.lookup(w, anyPOS, sc.phrases)
			}
		}
		toks = append(toks, t)
		i = best
	}
	return toks
}

// letters reports whether w is only letters and combining marks.
func letters(w string) bool {
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= utf8.RuneSelf {
			return lettersRunes(w[i:])
		}
		if c|0x20 < 'a' || c|0x20 > 'z' {
			return false
		}
	}
	return true
}

func lettersRunes(w string) bool {
	for _, r := range w {
		if !unicode.IsLetter(r) && !unicode.In(r, unicode.Mn, unicode.Mc) {
			return false
		}
	}
	return true
}

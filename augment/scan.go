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
}

// scan appends the tokens of part number part, text s, to toks.
func (sc *scanner) scan(part int, s string, toks []token) []token {
	sc.spans = protectedSpans(s, sc.spans)
	sp := sc.spans
	sentence := true // at a sentence start, a capital does not mark a name
	prev := ""       // the previous word (lower case) if only spaces separate it
	for g := range seg.Segments(s) {
		for len(sp) > 0 && sp[0].end <= g.Start {
			sp = sp[1:]
		}
		inSpan := len(sp) > 0 && sp[0].start < g.End
		switch g.Kind {
		case seg.Space:
			if strings.Contains(s[g.Start:g.End], "\n") {
				sentence, prev = true, ""
			}
			continue
		case seg.Punct:
			if endsSentence(s[g.Start:g.End]) {
				sentence = true
			}
			prev = ""
			continue
		case seg.Ideo:
			if len(toks) > 0 && toks[len(toks)-1].ideo && toks[len(toks)-1].end > g.Start {
				continue // already matched as part of a longer word
			}
			toks = sc.ideo(part, s, g.Start, toks)
			sentence, prev = false, ""
			continue
		}
		t := token{part: part, start: g.Start, end: g.End, role: fixed}
		w := s[g.Start:g.End]
		t.shape = shapeOf(w)
		ctx := prev
		prev = ""
		switch {
		case inSpan || glued(s, g.Start, g.End) || g.Kind != seg.Word || !letters(w):
			// numbers, tokens with digits, dots or apostrophes stay fixed
		case t.shape == other || (t.shape == title && !sentence):
			t.role = kept // acronyms, mixed case and names
		default:
			prev = strings.ToLower(w)
			t.role = kept
			if !stopwords[prev] {
				t.role = free
				t.syns = sc.th.wordSynonyms(prev, posContext(ctx), sc.phrases)
			}
		}
		sentence = false
		toks = append(toks, t)
	}
	return toks
}

// posContext returns the parts of speech the word after prev may have.
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
	for _, r := range w {
		if !unicode.IsLetter(r) && !unicode.In(r, unicode.Mn, unicode.Mc) {
			return false
		}
	}
	return true
}

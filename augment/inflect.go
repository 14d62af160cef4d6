package augment

import (
	"slices"
	"strings"
)

// inflection is the grammatical form of a word relative to its lemma.
type inflection uint8

const (
	plural      inflection = iota + 1 // noun -s
	third                             // verb, third person singular -s
	past                              // verb -ed, past tense or participle
	gerund                            // verb -ing
	comparative                       // adjective or adverb -er
	superlative                       // adjective or adverb -est
)

// morphRules are WordNet's detachment rules (morphy): a word ending in
// suffix may be the inflection kind of the lemma with suffix replaced by
// base, used as pos. Adverbs have none, only adv.exc.
var morphRules = [...]struct {
	pos          POS
	suffix, base string
	kind         inflection
}{
	{Noun, "s", "", plural}, {Noun, "ses", "s", plural}, {Noun, "xes", "x", plural}, {Noun, "zes", "z", plural},
	{Noun, "ches", "ch", plural}, {Noun, "shes", "sh", plural}, {Noun, "men", "man", plural}, {Noun, "ies", "y", plural},
	{Verb, "s", "", third}, {Verb, "ies", "y", third}, {Verb, "es", "e", third}, {Verb, "es", "", third},
	{Verb, "ed", "e", past}, {Verb, "ed", "", past}, {Verb, "ing", "e", gerund}, {Verb, "ing", "", gerund},
	{Adj, "er", "", comparative}, {Adj, "est", "", superlative}, {Adj, "er", "e", comparative}, {Adj, "est", "e", superlative},
}

// irregular is an entry of WordNet's exception lists: form is an
// inflection of base used as pos ("went" of the verb "go").
type irregular struct {
	pos        POS
	form, base string
}

// kind returns the inflection an exception-list form is.
func (e irregular) kind() inflection {
	switch e.pos {
	case Noun:
		return plural
	case Verb:
		switch {
		case strings.HasSuffix(e.form, "ing"):
			return gerund
		case strings.HasSuffix(e.form, "s"):
			return third
		}
		return past
	}
	if strings.HasSuffix(e.form, "st") {
		return superlative
	}
	return comparative
}

// unchangedPast are common irregular verbs whose past is the lemma itself;
// the exception lists do not need them, so they are named here.
var unchangedPast = wordSet("bet burst cast cost cut fit hit hurt let put quit read rid set shed shut slit split spread thrust upset wed wet")

// inflCache bounds the memo of inflected: its results for up to this many
// words per context are kept.
const inflCache = 1 << 18

// memoSlot returns the memo of inflected for the POS set allowed, one of
// the sets posContext returns.
func memoSlot(allowed uint8) int {
	switch allowed {
	case nounOrAdj:
		return 1
	case verbOnly:
		return 2
	}
	return 0
}

// inflected returns the synonyms of lower, a word that is not a headword,
// if it is an inflection of one used as a part of speech in allowed (bits
// 1<<POS): the lemma is found by morphy (exception lists, then the
// detachment rules), and each single-word synonym of the lemma is
// inflected the same way. Synonyms that cannot be inflected confidently
// are left out. Only parts of speech of WordNet-derived entries qualify.
// Results are memoised: the slice is shared, do not modify it.
func (t *Thesaurus) inflected(lower string, allowed uint8) []string {
	if !hasAnySuffix(lower, "s", "ed", "ing", "er", "est", "men") && t.byForm[lower] == nil {
		return nil // no rule or exception applies
	}
	i := memoSlot(allowed)
	t.mu.RLock()
	out, ok := t.memo[i][lower]
	t.mu.RUnlock()
	if ok {
		return out
	}
	out = t.lemmaSynonyms(lower, allowed)
	t.mu.Lock()
	if t.memo[i] == nil {
		t.memo[i] = map[string][]string{}
	}
	if len(t.memo[i]) < inflCache {
		t.memo[i][strings.Clone(lower)] = out // lower may alias Arrow memory
	}
	t.mu.Unlock()
	return out
}

// lemmaSynonyms is inflected without the memo.
func (t *Thesaurus) lemmaSynonyms(lower string, allowed uint8) []string {
	var best *group
	var kind inflection
	rank := -1
	// try considers the groups of a lemma. An empty group counts: it
	// stops a rarer part of speech from lending its synonyms, as in lookup.
	try := func(pos POS, gs []group, k inflection) {
		if allowed&1 == 0 && allowed&(1<<pos) == 0 {
			return
		}
		for i, g := range gs {
			if g.pos == pos && (rank < 0 || i < rank) {
				best, kind, rank = &gs[i], k, i
			}
		}
	}
	for _, e := range t.byForm[lower] {
		try(e.pos, t.m[e.base], e.kind())
	}
	var buf [64]byte
	for _, r := range morphRules {
		if stem, ok := strings.CutSuffix(lower, r.suffix); ok && stem != "" && len(stem)+len(r.base) <= len(buf) {
			b := append(append(buf[:0], stem...), r.base...)
			try(r.pos, t.m[string(b)], r.kind) // no allocation for the key
		}
	}
	if best == nil {
		return nil
	}
	var out []string
	for _, s := range best.syns[:best.single] {
		if f, ok := t.inflect(s, best.pos, kind); ok && f != lower && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// inflect returns the form kind of the lemma w used as pos: the
// exception-list form if there is exactly one, else the regular form. It
// reports false when that is uncertain.
func (t *Thesaurus) inflect(w string, pos POS, kind inflection) (string, bool) {
	if !isLower(w) || pos == Noun && len(w) < 3 || syllables(w) == 0 || t.byForm[w] != nil {
		return "", false // not a word we know how to inflect, an abbreviation ("mi", "ft"), or inflected already ("feet")
	}
	irr, n := "", 0
	for _, e := range t.byBase[w] {
		if e.pos == pos && e.kind() == kind && e.form != irr {
			irr, n = e.form, n+1
		}
	}
	switch {
	case n == 1:
		return irr, true
	case n > 1: // "went" or "gone"
		return "", false
	case kind == past && unchangedPast[w]:
		return w, true
	}
	return regular(w, kind)
}

// regular returns the regular form kind of the lower-case lemma w, or
// false where the regular rules are unsafe. Consonant doubling ("stopped",
// "bigger") comes from the exception lists, which hold it for WordNet's
// words; a one-syllable word that would double but has no entry is
// skipped.
func regular(w string, kind inflection) (string, bool) {
	n := len(w)
	last, prev := w[n-1], byte('a')
	if n > 1 {
		prev = w[n-2]
	}
	consY := last == 'y' && !isVowel(prev)
	switch kind {
	case plural, third:
		switch {
		case kind == plural && (hasAnySuffix(w, "man", "f", "fe", "us", "is", "um", "ex", "ix") || last == 'o' && !isVowel(prev)):
			return "", false // women, leaves, heroes, cacti, crises, data, indices: irregular or unsure
		case kind == plural && last == 's' && prev != 's':
			return "", false // a plural-only noun already: "words", "buttocks"
		case hasAnySuffix(w, "s", "x", "z", "ch", "sh") || last == 'o' && !isVowel(prev):
			return w + "es", true
		case consY:
			return w[:n-1] + "ies", true
		}
		return w + "s", true
	case past, gerund:
		switch {
		case doubles(w):
			return "", false
		case kind == past && last == 'e':
			return w + "d", true
		case kind == past && consY:
			return w[:n-1] + "ied", true
		case kind == past:
			return w + "ed", true
		case strings.HasSuffix(w, "ie"):
			return w[:n-2] + "ying", true
		case last == 'e' && !hasAnySuffix(w, "ee", "ye", "oe") && n > 2:
			return w[:n-1] + "ing", true
		}
		return w + "ing", true
	case comparative, superlative:
		if syllables(w) != 1 || doubles(w) {
			return "", false // more beautiful, bigger
		}
		suf := "er"
		if kind == superlative {
			suf = "est"
		}
		switch {
		case last == 'e':
			return w + suf[1:], true
		case consY:
			return w[:n-1] + "i" + suf, true
		}
		return w + suf, true
	}
	return "", false
}

// doubles reports whether w is one syllable ending in a single vowel and a
// single consonant, whose final consonant doubles before -ed, -ing, -er.
func doubles(w string) bool {
	n := len(w)
	if n < 2 || syllables(w) != 1 || isVowel(w[n-1]) || strings.IndexByte("wxy", w[n-1]) >= 0 || !isVowel(w[n-2]) {
		return false
	}
	return n == 2 || !isVowel(w[n-3])
}

// syllables counts the vowel groups of w, not counting a final silent e.
func syllables(w string) int {
	n, in := 0, false
	for i := range len(w) {
		v := isVowel(w[i]) || w[i] == 'y' && i > 0
		if v && !in {
			n++
		}
		in = v
	}
	if n > 1 && strings.HasSuffix(w, "e") && !strings.HasSuffix(w, "le") && !isVowel(w[len(w)-2]) {
		n--
	}
	return n
}

func isVowel(c byte) bool { return strings.IndexByte("aeiou", c) >= 0 }

func hasAnySuffix(w string, sufs ...string) bool {
	for _, s := range sufs {
		if strings.HasSuffix(w, s) {
			return true
		}
	}
	return false
}

// isLower reports whether w is a non-empty word of ASCII lower-case
// letters, the only words the English rules inflect.
func isLower(w string) bool {
	for i := range len(w) {
		if w[i] < 'a' || w[i] > 'z' {
			return false
		}
	}
	return w != ""
}

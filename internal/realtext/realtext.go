// Package realtext builds sift's two real-text corpora from the text
// installed on a Debian machine: the JSONL corpus of the pipeline
// benchmarks ([Write]) and the sentence lines of the LM training
// measurements ([WriteSentences], also the command
// mining/lm/internal/realtext). [Write] reads /usr/share/doc/*/copyright
// files (one document per blank-line separated group of paragraphs up to
// about 2 KB), the English and Chinese fortunes of the fortunes and
// fortunes-zh packages (one document per entry), and the doc comments of
// the Go distribution's sources (one document per comment block), and as
// many entries of the packages' Debian changelogs as it takes to reach the
// size asked for (one document per version entry). About
// 15 % of the rows are chat records, in turn Alpaca, ShareGPT and OpenAI
// shaped, made of two consecutive documents (a question and its answer),
// so that normalize has every format to map.
//
// Nothing of it is committed: the corpus is assembled when a benchmark
// runs, in a fixed order, so the same machine always gives the same bytes.
package realtext

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Where the text comes from.
const (
	DocDir     = "/usr/share/doc"
	FortuneDir = "/usr/share/games/fortunes"
	GoSrcDir   = "/usr/local/go/src"
)

// ErrMissing is returned when a source of the corpus is not installed.
var ErrMissing = errors.New("realtext: source text not installed (apt-get install fortunes fortunes-zh; Go in /usr/local/go)")

// Stats describes a written corpus.
type Stats struct {
	Rows, ChatRows int
	Bytes          int64 // JSONL bytes written
}

// Documents returns the documents of the corpus in order: copyright
// groups, fortunes, Go doc comments, changelog entries. It fails with
// [ErrMissing] if one of the first three gives nothing.
func Documents() ([]string, error) {
	var docs []string
	for i, src := range []func() ([]string, error){copyrights, fortunes, goComments, changelogs} {
		d, err := src()
		if err != nil {
			return nil, err
		}
		if len(d) == 0 && i < 3 { // changelogs may be missing: Write repeats then
			return nil, ErrMissing
		}
		docs = append(docs, d...)
	}
	return docs, nil
}

// Write writes the corpus as JSONL to w, stopping at the first row ending
// at or after minBytes. If the documents run out first it repeats them
// with new ids: repeats are exact duplicates, as in crawled data.
func Write(w io.Writer, minBytes int64) (Stats, error) {
	docs, err := Documents()
	if err != nil {
		return Stats{}, err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	var st Stats
	var line []byte
	for pass := 0; st.Bytes < minBytes; pass++ {
		for i := 0; i < len(docs) && st.Bytes < minBytes; i++ {
			id := fmt.Sprintf("p%d-%d", pass, i)
			line = line[:0]
			// Documents 0, 8 and 16 of every 23 start a chat of two
			// documents: 3 rows in 20.
			if k := i % 23; (k == 0 || k == 8 || k == 16) && i+1 < len(docs) {
				line = chat(line, id, k/8, docs[i], docs[i+1])
				i++
				st.ChatRows++
			} else {
				line = object(line, "id", id, "text", docs[i])
			}
			line = append(line, '\n')
			n, err := bw.Write(line)
			st.Bytes += int64(n)
			st.Rows++
			if err != nil {
				return st, err
			}
		}
	}
	return st, bw.Flush()
}

// chat appends a chat record of question q and answer a, shaped as Alpaca
// (shape 0), ShareGPT (1) or OpenAI (2).
func chat(dst []byte, id string, shape int, q, a string) []byte {
	if shape == 0 {
		return object(dst, "id", id, "instruction", "Summarize the following text.", "input", q, "output", a)
	}
	turns, k, v, user, bot := "messages", "role", "content", "user", "assistant"
	if shape == 1 {
		turns, k, v, user, bot = "conversations", "from", "value", "human", "gpt"
	}
	dst = append(dst, `{"id":`...)
	dst = str(dst, id)
	dst = append(dst, `,"`+turns+`":[`...)
	dst = append(object(dst, k, user, v, q), ',')
	dst = object(dst, k, bot, v, a)
	return append(dst, "]}"...)
}

// object appends the JSON object of the key, value pairs kv.
func object(dst []byte, kv ...string) []byte {
	dst = append(dst, '{')
	for i := 0; i < len(kv); i += 2 {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(str(dst, kv[i]), ':')
		dst = str(dst, kv[i+1])
	}
	return append(dst, '}')
}

// str appends s as a JSON string, with <, > and & as they are.
func str(dst []byte, s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return append(dst, bytes.TrimSuffix(b.Bytes(), []byte("\n"))...)
}

// copyrights returns the copyright files cut into groups of paragraphs of
// up to about 2 KB.
func copyrights() ([]string, error) {
	files, err := filepath.Glob(DocDir + "/*/copyright")
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // a dangling link
		}
		var cur strings.Builder
		for _, p := range bytes.Split(b, []byte("\n\n")) {
			p = bytes.TrimSpace(p)
			if len(p) == 0 {
				continue
			}
			if cur.Len() > 0 {
				cur.WriteString("\n\n")
			}
			cur.Write(p)
			if cur.Len() >= 2048 {
				out = append(out, cur.String())
				cur.Reset()
			}
		}
		if cur.Len() > 0 {
			out = append(out, cur.String())
		}
	}
	return out, nil
}

// fortunes returns the entries of every fortune file, English and Chinese.
func fortunes() ([]string, error) {
	ents, err := os.ReadDir(FortuneDir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMissing, err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() || strings.Contains(e.Name(), ".") {
			continue // .dat indexes, .u8 links, the off/ directory
		}
		b, err := os.ReadFile(filepath.Join(FortuneDir, e.Name()))
		if err != nil {
			continue
		}
		for _, ent := range strings.Split(string(b), "\n%\n") {
			if ent = strings.TrimSpace(ent); ent != "" {
				out = append(out, ent)
			}
		}
	}
	return out, nil
}

// goComments returns the blocks of consecutive // comment lines of the Go
// distribution's non-test sources with at least 8 words, comment markers
// removed.
func goComments() ([]string, error) {
	var out []string
	err := filepath.WalkDir(GoSrcDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" || d.Name() == "vendor" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var block []string
		flush := func() {
			if t := strings.Join(block, "\n"); len(strings.Fields(t)) >= 8 {
				out = append(out, t)
			}
			block = block[:0]
		}
		for l := range strings.Lines(string(b)) {
			l = strings.TrimSpace(l)
			if c, ok := strings.CutPrefix(l, "//"); ok && !strings.HasPrefix(c, "go:") {
				block = append(block, strings.TrimPrefix(c, " "))
				continue
			}
			if len(block) > 0 {
				flush()
			}
		}
		if len(block) > 0 {
			flush()
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %v", ErrMissing, err)
	}
	return out, err
}

// changelogs returns the version entries of the installed Debian
// changelogs: a header line at the left margin and its indented lines.
func changelogs() ([]string, error) {
	files, err := filepath.Glob(DocDir + "/*/changelog.Debian.gz")
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	var out []string
	for _, f := range files {
		b, err := readGzip(f)
		if err != nil {
			continue // a dangling link or a damaged file: not our test's subject
		}
		var cur strings.Builder
		flush := func() {
			if t := strings.TrimSpace(cur.String()); t != "" {
				out = append(out, t)
			}
			cur.Reset()
		}
		for l := range strings.Lines(string(b)) {
			if l[0] != ' ' && l[0] != '\t' && l[0] != '\n' {
				flush()
			}
			cur.WriteString(l)
		}
		flush()
	}
	return out, nil
}

func readGzip(path string) ([]byte, error) {
	r, err := openText(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// openText opens the file at path, gunzipped if its name ends in .gz.
func openText(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil || !strings.HasSuffix(path, ".gz") {
		return f, err
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{zr, f}, nil
}

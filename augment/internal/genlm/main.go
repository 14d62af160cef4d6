// Command genlm trains the small English trigram model that augment uses to
// check that a synonym fits its context, and writes it as a KenLM trie
// binary. The training text is text sift may ship: the glosses and example
// sentences of WordNet 3.0 (Debian: apt-get install wordnet-base; licence in
// ../../data/LICENSE-WordNet) and the comments of Go's own sources (BSD
// licence, /usr/local/go/src), from folders at least three levels deep so
// that the judged samples, drawn from the top two levels, are not in it.
// Tokens are the lower-cased words of package seg, one sentence a line, as
// augment scores them. Run it with go generate in package augment.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/siftdata/sift/augment"
	"github.com/siftdata/sift/mining/lm"
	"github.com/siftdata/sift/seg"
)

func main() {
	wn := flag.String("wordnet", "/usr/share/wordnet", "WordNet database folder")
	goSrc := flag.String("go", "/usr/local/go/src", "Go source tree")
	out := flag.String("o", "data/english-lm.bin", "output file")
	order = flag.Int("order", 2, "n-gram order")
	probing = flag.Bool("probing", false, "write KenLM's probing structure (faster, larger) instead of the trie")
	minCount = flag.Int("min", 3, "words used fewer times are trained as "+augment.RareWord)
	flag.Parse()
	if err := run(*wn, *goSrc, *out); err != nil {
		fmt.Fprintln(os.Stderr, "genlm:", err)
		os.Exit(1)
	}
}

var (
	order, minCount *int
	probing         *bool
)

func run(wn, goSrc, out string) error {
	// Two passes over the text: count words, then train with the rare ones
	// (fewer than minCount uses) spelled Rare, which keeps the model small.
	counts := map[string]int{}
	var tr *lm.Trainer
	var words []string
	add := func(s string) error {
		words = words[:0]
		for w := range seg.Words(s) {
			words = append(words, strings.ToLower(w))
		}
		if len(words) < 3 {
			return nil
		}
		if tr == nil {
			for _, w := range words {
				counts[w]++
			}
			return nil
		}
		for i, w := range words {
			if counts[w] < *minCount {
				words[i] = augment.RareWord
			}
		}
		return tr.AddSentence(words)
	}
	if err := corpus(wn, goSrc, add); err != nil {
		return err
	}
	rare := 0
	for _, n := range counts {
		if n < *minCount {
			rare++
		}
	}
	tr, err := lm.NewTrainer(*order)
	if err != nil {
		return err
	}
	defer tr.Close()
	if err := corpus(wn, goSrc, add); err != nil {
		return err
	}
	m, st, err := tr.Model()
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if *probing {
		err = m.WriteBinary(f)
	} else {
		var arpa bytes.Buffer
		if err = m.WriteARPA(&arpa); err == nil {
			err = lm.BuildTrie(&arpa, f)
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		fi, _ := os.Stat(out)
		fmt.Printf("genlm: %d sentences, %d tokens, %d rare words, n-grams %v -> %s (%d bytes)\n",
			st.Sentences, st.Tokens, rare, st.Counts, out, fi.Size())
	}
	return err
}

// corpus calls add with every sentence of the training text.
func corpus(wn, goSrc string, add func(string) error) error {
	for _, pos := range []string{"noun", "verb", "adj", "adv"} {
		data, err := os.ReadFile(filepath.Join(wn, "data."+pos))
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(data), "\n") {
			_, gloss, ok := strings.Cut(line, " | ")
			if !ok || strings.HasPrefix(line, " ") {
				continue
			}
			// "definition; definition; \"example\"; \"example\""
			for _, part := range strings.Split(gloss, ";") {
				if err := add(strings.Trim(strings.TrimSpace(part), `"`)); err != nil {
					return err
				}
			}
		}
	}
	return filepath.WalkDir(goSrc, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		if rel, _ := filepath.Rel(goSrc, path); strings.Count(rel, string(filepath.Separator)) < 3 {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return comments(data, add)
	})
}

var sentenceEnd = regexp.MustCompile(`[.!?:]\s+`)

// comments calls add with every sentence of the runs of "// " comment
// lines in Go source data.
func comments(data []byte, add func(string) error) error {
	var run []string
	flush := func() error {
		text := strings.Join(run, " ")
		run = run[:0]
		for _, s := range sentenceEnd.Split(text, -1) {
			if err := add(s); err != nil {
				return err
			}
		}
		return nil
	}
	for _, line := range strings.Split(string(data), "\n") {
		if c, ok := strings.CutPrefix(strings.TrimSpace(line), "// "); ok && !strings.HasPrefix(c, "\t") {
			run = append(run, c)
			continue
		}
		if len(run) > 0 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

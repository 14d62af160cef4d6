// Command library uses one sift step at a time from Go, without the engine:
// each is one call on a string.
//
//	go run ./examples/library
//
// It redacts a string, fingerprints two texts and compares them, scores
// sentences with a language model trained on the spot, and makes a synonym
// copy of a sentence with a seed.
package main

import (
	"fmt"
	"io"
	"math/bits"
	"os"
	"strings"

	"github.com/siftdata/sift/augment"
	"github.com/siftdata/sift/clean"
	"github.com/siftdata/sift/dedup"
	"github.com/siftdata/sift/mining/lm"
)

// corpus trains the example's language model: a few sentences of our own.
const corpus = `the train leaves the station at nine in the morning
the next train leaves the station at ten
the station has a small cafe near the platform
passengers wait on the platform for the train
the cafe opens before the first train leaves
a ticket for the morning train costs less
`

func main() {
	if _, err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "library:", err)
		os.Exit(1)
	}
}

// result is what each call gave, for the example's test.
type result struct {
	redacted   string
	findings   []clean.Finding
	similarity float64
	distance   int        // Hamming distance of the two 64-bit SimHashes
	perplexity [2]float64 // of a fluent and of a scrambled sentence
	copies     [2]string  // synonym copies made with the same seed
}

func run(out io.Writer) (*result, error) {
	res := &result{}
	// 1. Redact a string: personal data and secrets become tags.
	text := "Mail jane.doe@example.com or call +44 20 7946 0958; token ghp_8Zq4rT2mN7xW1vB5kL9cP3sD6fH0jY2aQ4uE."
	res.redacted, res.findings = clean.Redact(text)
	fmt.Fprintf(out, "redact:\n  %s\n  %s\n", text, res.redacted)
	for _, f := range res.findings {
		fmt.Fprintf(out, "  found %s at bytes %d-%d\n", f.Entity, f.Start, f.End)
	}

	// 2. Fingerprint two texts and compare them.
	a := "Permission is granted to copy, modify and distribute this software for any purpose, provided this notice is kept."
	b := "Permission is granted to copy, modify and distribute this program for any purpose, provided this notice is kept."
	fa, fb := dedup.Compute(a), dedup.Compute(b)
	res.similarity = dedup.Similarity(a, b)
	res.distance = bits.OnesCount64(fa.Sig[0] ^ fb.Sig[0])
	fmt.Fprintf(out, "\nfingerprint:\n  simhash %016x\n  simhash %016x (%d bits differ)\n  Jaccard of word 3-grams %.2f (simhash_dedup's default threshold is %.2f)\n",
		fa.Sig[0], fb.Sig[0], res.distance, res.similarity, dedup.DefaultIndex.MinSim)

	// 3. Score sentences with a language model (here trained on the spot; lm.Load
	// reads an ARPA file or a KenLM binary model just as well).
	tr, err := lm.NewTrainer(3)
	if err != nil {
		return nil, err
	}
	defer tr.Close()
	if err := tr.AddText(strings.NewReader(corpus), lm.Whitespace); err != nil {
		return nil, err
	}
	m, _, err := tr.Model()
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(out, "\nperplexity:")
	for i, s := range []string{"the train leaves the station at nine", "station the nine at leaves train the"} {
		res.perplexity[i] = m.Perplexity(s)
		fmt.Fprintf(out, "  %7.2f  %s\n", res.perplexity[i], s)
	}

	// 4. A synonym copy of a sentence; the same seed gives the same copy.
	syn, err := augment.NewSynonyms(augment.WithRatio(0.3))
	if err != nil {
		return nil, err
	}
	s := "Three years later, the old man walked slowly to the small house and opened the heavy door."
	res.copies = [2]string{syn.Text(s, 42), syn.Text(s, 42)}
	fmt.Fprintf(out, "\nsynonyms:\n  %s\n  %s\n", s, res.copies[0])
	return res, nil
}

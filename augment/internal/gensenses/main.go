// Command gensenses derives sift's embedded WordNet senses (the gloss bags
// of augment's sense check) from a WordNet 3.0 database (Debian: apt-get
// install wordnet-base) and writes them in the text format of
// augment.ReadSenses, for the headwords of the embedded thesaurus. Run it
// with go generate in package augment. The file is not compressed, for the
// reason genthesaurus gives.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/siftdata/sift/augment"
)

func main() {
	dir := flag.String("wordnet", "/usr/share/wordnet", "WordNet database folder")
	out := flag.String("o", "data/senses.txt", "output file")
	flag.Parse()
	if err := run(*dir, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gensenses:", err)
		os.Exit(1)
	}
}

func run(dir, out string) error {
	s, err := augment.ReadWordNetSenses(dir, augment.English())
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	n, err := s.WriteTo(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		fmt.Printf("gensenses: %d bytes of text -> %s\n", n, out)
	}
	return err
}

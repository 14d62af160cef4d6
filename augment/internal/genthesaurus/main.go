// Command genthesaurus derives sift's embedded English thesaurus from a
// WordNet 3.0 database (Debian: apt-get install wordnet-base) and writes it
// in the compact text format of augment.ReadThesaurus. Run it with go
// generate in package augment. The file is not compressed: the binary
// embeds it, and inflating it again at every start cost more than its
// 0.6 MB of the binary saved.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/siftdata/sift/augment"
)

func main() {
	dir := flag.String("wordnet", "/usr/share/wordnet", "WordNet database folder")
	out := flag.String("o", "data/english.txt", "output file")
	flag.Parse()
	if err := run(*dir, *out); err != nil {
		fmt.Fprintln(os.Stderr, "genthesaurus:", err)
		os.Exit(1)
	}
}

func run(dir, out string) error {
	t, err := augment.ReadWordNet(dir)
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	n, err := t.WriteTo(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		fmt.Printf("genthesaurus: %d headwords, %d bytes of text -> %s\n", t.Len(), n, out)
	}
	return err
}

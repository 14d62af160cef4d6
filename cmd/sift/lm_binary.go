package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/siftdata/sift/dataset"
	"github.com/siftdata/sift/mining/lm"
)

// lmBuildBinary runs "sift lm build-binary [--type probing|trie] IN OUT":
// it writes IN (an ARPA or binary model; an ARPA model for a trie) as a
// KenLM binary, through a temporary file in OUT's directory renamed into
// place, so that a failure leaves no output and never touches IN.
func lmBuildBinary(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("sift lm build-binary", flag.ContinueOnError)
	fs.SetOutput(stderr)
	typ := fs.String("type", "probing", "data structure: probing (KenLM's default) or trie (from an ARPA model)")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(files) != 2:
		return fmt.Errorf("lm build-binary: want IN OUT, got %d arguments", len(files))
	case *typ != "probing" && *typ != "trie":
		return fmt.Errorf("lm build-binary: --type %q: want probing or trie", *typ)
	}
	in, out := files[0], files[1]
	if same, err := samePath(in, out); err != nil || same {
		return fmt.Errorf("lm build-binary: %s: output is the input", out)
	}
	if *typ == "trie" {
		return buildTrie(in, out, stderr)
	}
	m, err := lm.Load(in)
	if err != nil {
		return fmt.Errorf("lm build-binary: %w", err)
	}
	f, err := dataset.CreateFile(out) // atomic: a reader never sees half a model
	if err != nil {
		return fmt.Errorf("lm build-binary: %w", err)
	}
	if err := m.WriteBinary(f); err != nil {
		f.Abort()
		return fmt.Errorf("lm build-binary: %s: %w", out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("lm build-binary: %w", err)
	}
	fmt.Fprintf(stderr, "%s: order %d, n-grams %v, KenLM probing format version %d\n", out, m.Order(), m.Counts(), lm.BinaryVersion)
	return nil
}

// buildTrie writes the ARPA model in as a KenLM trie to out. The trie needs
// the n-grams' words, which only an ARPA file gives.
func buildTrie(in, out string, stderr io.Writer) error {
	r, err := os.Open(in)
	if err != nil {
		return fmt.Errorf("lm build-binary: %w", err)
	}
	defer r.Close()
	head := make([]byte, 64)
	n, _ := io.ReadFull(r, head)
	if lm.IsBinary(head[:n]) {
		return fmt.Errorf("lm build-binary: %s: --type trie needs an ARPA model, this is a KenLM binary", in)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("lm build-binary: %w", err)
	}
	f, err := dataset.CreateFile(out)
	if err != nil {
		return fmt.Errorf("lm build-binary: %w", err)
	}
	if err := lm.BuildTrie(r, f); err != nil {
		f.Abort()
		return fmt.Errorf("lm build-binary: %s: %w", in, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("lm build-binary: %w", err)
	}
	fmt.Fprintf(stderr, "%s: KenLM trie format version %d\n", out, lm.BinaryVersion)
	return nil
}

// samePath reports whether out names the existing file in.
func samePath(in, out string) (bool, error) {
	a, err := os.Stat(in)
	if err != nil {
		return false, nil // Load reports it
	}
	b, err := os.Stat(out)
	if os.IsNotExist(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(a, b), nil
}

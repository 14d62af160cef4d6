package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/siftdata/sift/dataset"
	"github.com/siftdata/sift/mining/lm"
)

// lmBuildBinary runs "sift lm build-binary IN OUT": it writes IN (an ARPA
// or binary model) as a KenLM probing binary, through a temporary file in
// OUT's directory renamed into place, so that a failure leaves no output
// and never touches IN.
func lmBuildBinary(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("sift lm build-binary", flag.ContinueOnError)
	fs.SetOutput(stderr)
	typ := fs.String("type", "probing", "data structure: probing (KenLM's default)")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(files) != 2:
		return fmt.Errorf("lm build-binary: want IN OUT, got %d arguments", len(files))
	case *typ != "probing":
		return fmt.Errorf("lm build-binary: --type %q: sift writes probing only (it reads trie files)", *typ)
	}
	in, out := files[0], files[1]
	if same, err := samePath(in, out); err != nil || same {
		return fmt.Errorf("lm build-binary: %s: output is the input", out)
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

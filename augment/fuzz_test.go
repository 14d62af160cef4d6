package augment

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadWordNet damages one file of a small WordNet database at a time:
// ReadWordNet must return a thesaurus or an error, never panic, and a
// thesaurus it returns must write and read back.
func FuzzReadWordNet(f *testing.F) {
	const src = "testdata/wordnet/dict"
	ents, err := os.ReadDir(src)
	if err != nil {
		f.Fatal(err)
	}
	files := map[string][]byte{}
	var names []string
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		files[e.Name()] = b
		names = append(names, e.Name())
	}
	for i, n := range names {
		f.Add(uint8(i), files[n])
	}
	f.Add(uint8(0), []byte("cat n 3 0 1 1 99999999\n"))
	f.Fuzz(func(t *testing.T, which uint8, content []byte) {
		dir := t.TempDir()
		for i, n := range names {
			b := files[n]
			if i == int(which)%len(names) {
				b = content
			}
			if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		th, err := ReadWordNet(dir)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if _, err := th.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadThesaurus(&buf); err != nil && !bytes.ContainsAny(content, "\t\r") {
			t.Fatalf("written thesaurus does not read back: %v", err)
		}
	})
}

package lm

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBuildTrieConformance builds the trie of lmplz's model.4.arpa,
// compares it byte for byte with `build_binary trie`'s, and scores the test
// text with it as KenLM's query does with build_binary's file.
func TestBuildTrieConformance(t *testing.T) {
	want := readFixture(t, "kenlm-binary/model.4.trie.bin.gz")
	var got bytes.Buffer
	if err := BuildTrie(bytes.NewReader(readFixture(t, "model.4.arpa.gz")), &got); err != nil {
		t.Fatal(err)
	}
	g := got.Bytes()
	if !bytes.Equal(g, want) {
		i := 0
		for i < len(g) && i < len(want) && g[i] == want[i] {
			i++
		}
		t.Errorf("%d bytes, want %d; first difference at offset %d", len(g), len(want), i)
	}
	path := filepath.Join(t.TempDir(), "model.4.trie.bin")
	if err := os.WriteFile(path, g, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if m.Format() != "trie" {
		t.Errorf("format %q", m.Format())
	}
	var out bytes.Buffer
	if _, err := Query(m, Whitespace, bytes.NewReader(readFixture(t, "test.txt")), &out, true); err != nil {
		t.Fatal(err)
	}
	compareLines(t, out.String(), queryFixture(t, "kenlm-binary/query.4.trie.txt.gz"))
}

// checkTrieRoundTrip builds the trie of arpa, reads it back and checks
// every n-gram's weights against the ARPA model.
func checkTrieRoundTrip(t *testing.T, arpa string) error {
	t.Helper()
	var buf bytes.Buffer
	if err := BuildTrie(strings.NewReader(arpa), &buf); err != nil {
		return err
	}
	ref, err := readARPA(strings.NewReader(arpa), true)
	if err != nil {
		t.Fatalf("BuildTrie accepted an ARPA file ReadARPA refuses: %v", err)
	}
	m, err := ReadBinary(buf.Bytes())
	if err != nil {
		t.Fatalf("reading the trie back: %v", err)
	}
	for n := 1; n <= ref.order; n++ {
		g := ref.grams[n-1]
		words := make([]string, n)
		for i := 0; i < len(g); i += n {
			for j, id := range g[i : i+n] {
				words[j] = ref.Word(id)
			}
			p, b, ok := m.Prob(words...)
			wp, wb, _ := ref.Prob(words...)
			if !ok || p != wp || b != wb {
				t.Fatalf("%q: trie has %v %v %v, ARPA %v %v", words, p, b, ok, wp, wb)
			}
		}
	}
	return nil
}

func TestBuildTrieSmall(t *testing.T) {
	if err := checkTrieRoundTrip(t, trigram); err != nil {
		t.Fatal(err)
	}
	// A pruned model: "<s> a b" without its suffix "a b".
	pruned := strings.Replace(strings.Replace(trigram, "ngram 2=3", "ngram 2=2", 1), "-0.4\ta b\t-0.15\n", "", 1)
	if err := checkTrieRoundTrip(t, pruned); err == nil || !strings.Contains(err.Error(), "lacks its suffix") {
		t.Errorf("pruned model: %v", err)
	}
}

// FuzzBuildTrie checks that every ARPA file sift reads either becomes a
// trie that reads back with the same weights or is refused with an error.
func FuzzBuildTrie(f *testing.F) {
	f.Add("\\data\\\nngram 1=3\nngram 2=1\n\n\\1-grams:\n-1\t<s>\t-0.5\n-1\ta\t0\n-1\t</s>\n\n\\2-grams:\n-0.5\t<s> a\n\\end\\\n")
	f.Add("\\data\\\nngram 1=2\nngram 2=1\n\\1-grams:\n0\t<s>\n-1\tx\n\\2-grams:\n-0.1\t<s> x\n\\end\\\n")
	f.Fuzz(func(t *testing.T, arpa string) {
		if _, err := ReadARPA(strings.NewReader(arpa)); err != nil {
			return
		}
		_ = checkTrieRoundTrip(t, arpa)
	})
}

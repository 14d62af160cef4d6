package lm

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// binaryFixture writes the unzipped fixture to a temporary file and loads
// it through Load, so that the mmap path is the one tested.
func binaryFixture(t testing.TB, name string) (*Model, []byte) {
	t.Helper()
	data := readFixture(t, name)
	path := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(name), ".gz"))
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return m, data
}

// queryFixture returns a query output without its first line ("This binary
// file contains …") and its last (timings).
func queryFixture(t testing.TB, name string) string {
	s := string(readFixture(t, name))
	s = s[strings.IndexByte(s, '\n')+1:]
	s = strings.TrimSuffix(s, "\n")
	return s[:strings.LastIndexByte(s, '\n')+1]
}

func TestBinaryConformance(t *testing.T) {
	test := readFixture(t, "test.txt")
	for _, tc := range []struct{ model, format, want, in string }{
		{"kenlm-binary/model.4.probing.bin.gz", "probing", "kenlm-binary/query.4.probing.txt.gz", ""},
		{"kenlm-binary/model.4.trie.bin.gz", "trie", "kenlm-binary/query.4.trie.txt.gz", ""},
		{"kenlm-binary/model.4.trie-q8.bin.gz", "quantized trie", "kenlm-binary/query.4.trie-q8.txt.gz", ""},
		{"sentencepiece/sp.3.probing.bin.gz", "probing", "sentencepiece/query.sp.3.txt.gz", "sentencepiece/sp_test.pieces.txt"},
	} {
		t.Run(filepath.Base(tc.model), func(t *testing.T) {
			m, _ := binaryFixture(t, tc.model)
			if m.Format() != tc.format {
				t.Errorf("format %q, want %q", m.Format(), tc.format)
			}
			in := test
			if tc.in != "" {
				in = readFixture(t, tc.in)
			}
			var got bytes.Buffer
			if _, err := Query(m, Whitespace, bytes.NewReader(in), &got, true); err != nil {
				t.Fatal(err)
			}
			compareLines(t, got.String(), queryFixture(t, tc.want))
			if w := m.Word(m.Index("vianga")); tc.in == "" && w != "vianga" {
				t.Errorf("Word(Index(vianga)) = %q", w)
			}
		})
	}
}

// TestBinaryMatchesARPA checks every n-gram of the ARPA model against the
// probing and trie binaries built from it, through Prob.
func TestBinaryMatchesARPA(t *testing.T) {
	ref := loadFixture(t, "model.4.arpa.gz")
	for _, name := range []string{"model.4.probing.bin.gz", "model.4.trie.bin.gz"} {
		m, _ := binaryFixture(t, "kenlm-binary/"+name)
		if g, w := m.Counts(), ref.Counts(); !slicesEqual(g, w) {
			t.Errorf("%s: counts %v, want %v", name, g, w)
		}
		bad := 0
		for n := 1; n <= ref.order; n++ {
			g := ref.grams[n-1]
			words := make([]string, n)
			for i := 0; i < len(g); i += n {
				for j, id := range g[i : i+n] {
					words[j] = ref.vocab[id]
				}
				p, b, ok := m.Prob(words...)
				wp, wb, _ := ref.Prob(words...)
				if !ok || p != wp || b != wb {
					if bad++; bad <= 5 {
						t.Errorf("%s: %v: %v %v %v, want %v %v", name, words, p, b, ok, wp, wb)
					}
				}
			}
		}
	}
}

func TestBinaryErrors(t *testing.T) {
	_, probing := binaryFixture(t, "kenlm-binary/model.4.probing.bin.gz")
	_, trie := binaryFixture(t, "kenlm-binary/model.4.trie.bin.gz")
	edit := func(b []byte, off int, v ...byte) []byte {
		b = bytes.Clone(b)
		copy(b[off:], v)
		return b
	}
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "no KenLM magic"},
		{"incomplete", []byte(binIncomplete + strings.Repeat("\x00", 200)), "marked incomplete"},
		{"version 4", edit(probing, 49, '4'), `format version "4"`},
		{"big endian", edit(probing, 0x44, 0, 0, 0, 1), "byte order"},
		{"order 9", edit(probing, 0x58, 9), "order 9"},
		{"rest probing", edit(probing, 0x60, 1), "rest_probing"},
		{"array trie", edit(trie, 0x60, 4), "build_binary -a"},
		{"type 9", edit(probing, 0x60, 9), "unknown model type 9"},
		{"search version", edit(probing, 0x68, 7), "search version 7"},
		{"zero count", edit(probing, 0x6c, 0, 0), "1-gram count 0"},
		{"truncated probing", probing[:len(probing)/2], "truncated: "},
		{"truncated trie", trie[:20000], "truncated: vocabulary"},
		{"no vocabulary", edit(probing, len(probing)-30000, 'x'), ""},
		{"sorted vocabulary size", edit(trie, 0x90, 0xff, 0xff), "sorted vocabulary"},
		{"quantization version", edit(trie, 0x60, 3), "quantization version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadBinary(tc.in)
			if tc.want == "" {
				return // must only not panic
			}
			if err == nil || !errors.Is(err, ErrBinaryFormat) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want ErrBinaryFormat containing %q", err, tc.want)
			}
		})
	}
}

// FuzzReadBinary mutates the header and tables of small binary models:
// reading and scoring must fail cleanly or work, never panic or hang.
func FuzzReadBinary(f *testing.F) {
	for _, s := range []string{trigram, "\\data\\\nngram 1=3\nngram 2=1\n\\1-grams:\n-1\t<s>\t-0.5\n-1\t</s>\n-1\ta\t-0.2\n\\2-grams:\n-0.5\t<s> a\n\\end\\\n"} {
		m, err := ReadARPA(strings.NewReader(s))
		if err != nil {
			f.Fatal(err)
		}
		var b bytes.Buffer
		if err := m.WriteBinary(&b); err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes())
	}
	if _, err := os.Stat(filepath.Join(confDir(f), "kenlm-binary")); err == nil {
		for _, name := range []string{"model.4.trie.bin.gz", "model.4.trie-q8.bin.gz"} {
			f.Add(readFixture(f, "kenlm-binary/"+name))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ReadBinary(data)
		if err != nil {
			if !errors.Is(err, ErrBinaryFormat) {
				t.Fatalf("error %v does not wrap ErrBinaryFormat", err)
			}
			return
		}
		for _, s := range []string{"a b a", "<s> </s> x", ""} {
			m.Sentence(strings.Fields(s), nil)
		}
		for id := range uint32(m.VocabSize()) + 1 {
			m.Word(id)
		}
		m.Prob("a", "b", "a")
	})
}

func TestQueryFloat(t *testing.T) {
	for _, tc := range []struct {
		f    float32
		want string
	}{
		{-2.547254e-05, "-0.00002547254"}, {-1.7602815e-05, "-0.000017602815"}, {-1.2011708, "-1.2011708"},
		{-100, "-100"}, {-99, "-99"}, {0, "0"}, {-1e-6, "-0.000001"}, {-1.5e-7, "-1.5e-7"}, {-123.25, "-123.25"},
		{-1e21, "-1e21"}, {-1.5e20, "-150000000000000000000"},
	} {
		if got := string(appendQueryFloat(nil, tc.f)); got != tc.want {
			t.Errorf("%v: got %q, want %q", tc.f, got, tc.want)
		}
	}
}

// TestWriteBinary checks that the probing file sift writes from lmplz's
// ARPA model is build_binary's, byte for byte.
func TestWriteBinary(t *testing.T) {
	for _, tc := range []struct{ arpa, bin string }{
		{"model.4.arpa.gz", "kenlm-binary/model.4.probing.bin.gz"},
		{"sentencepiece/sp.3.arpa.gz", "sentencepiece/sp.3.probing.bin.gz"},
	} {
		t.Run(tc.arpa, func(t *testing.T) {
			m, err := ReadModel(bytes.NewReader(readFixture(t, tc.arpa)))
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := m.WriteBinary(&got); err != nil {
				t.Fatal(err)
			}
			want := readFixture(t, tc.bin)
			if !bytes.Equal(got.Bytes(), want) {
				g := got.Bytes()
				i := 0
				for i < len(g) && i < len(want) && g[i] == want[i] {
					i++
				}
				t.Fatalf("%d bytes, want %d; first difference at offset %d", len(g), len(want), i)
			}
		})
	}
}

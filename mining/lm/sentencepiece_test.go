package lm

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func spFixture(t testing.TB) *SentencePiece {
	t.Helper()
	sp, err := LoadSentencePiece(filepath.Join(confDir(t), "sentencepiece", "sp.unigram.model"))
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

// TestSentencePieceConformance reproduces spm_encode's pieces and ids on
// every line of sp_test.txt, normalization edge cases included.
func TestSentencePieceConformance(t *testing.T) {
	sp := spFixture(t)
	in := strings.Split(strings.TrimSuffix(string(readFixture(t, "sentencepiece/sp_test.txt")), "\n"), "\n")
	pieces := strings.Split(strings.TrimSuffix(string(readFixture(t, "sentencepiece/sp_test.pieces.txt")), "\n"), "\n")
	ids := strings.Split(strings.TrimSuffix(string(readFixture(t, "sentencepiece/sp_test.ids.txt")), "\n"), "\n")
	if len(in) != len(pieces) || len(in) != len(ids) {
		t.Fatalf("%d lines, %d piece lines, %d id lines", len(in), len(pieces), len(ids))
	}
	var sc Scratch
	bad := 0
	for i, l := range in {
		got := strings.Join(sp.Tokens(&sc, l), " ")
		var idb []byte
		for j, id := range sp.IDs(nil, &sc, l) {
			if j > 0 {
				idb = append(idb, ' ')
			}
			idb = strconv.AppendInt(idb, int64(id), 10)
		}
		if got != pieces[i] || string(idb) != ids[i] {
			if bad++; bad <= 5 {
				t.Errorf("line %d %q:\n got %q\nwant %q\n got %s\nwant %s", i+1, l, got, pieces[i], idb, ids[i])
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d lines differ", bad, len(in))
	}
}

// TestCCNetChain scores spm_encode's input through the encoder and the
// cc_net-style KenLM model over its pieces, and compares with query's
// per-line totals.
func TestCCNetChain(t *testing.T) {
	sp := spFixture(t)
	m, _ := binaryFixture(t, "sentencepiece/sp.3.probing.bin.gz")
	var got bytes.Buffer
	if _, err := Query(m, sp, bytes.NewReader(readFixture(t, "sentencepiece/sp_test.txt")), &got, false); err != nil {
		t.Fatal(err)
	}
	// The -v sentence output has the totals, the per-token one the summary.
	q := queryFixture(t, "sentencepiece/query.sp.3.txt.gz")
	want := string(readFixture(t, "sentencepiece/sp.query.3.sentence.txt")) + q[strings.Index(q, "Perplexity"):]
	compareLines(t, got.String(), want)
}

func TestSentencePieceErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "0 pieces"},
		{"truncated", []byte{0x0a, 0x05, 0x0a}, "field 1"},
		{"bpe", []byte{0x12, 0x02, 0x18, 0x02}, "model type 2"},
		{"no unk", []byte{0x0a, 0x03, 0x0a, 0x01, 'a'}, "no unknown piece"},
		{"bad charsmap", []byte{0x0a, 0x05, 0x0a, 0x01, 'a', 0x18, 0x02, 0x1a, 0x06, 0x12, 0x04, 0xff, 0, 0, 0}, "precompiled character map"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadSentencePiece(tc.in)
			if err == nil || !errors.Is(err, ErrSentencePiece) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want ErrSentencePiece containing %q", err, tc.want)
			}
		})
	}
}

func FuzzReadSentencePiece(f *testing.F) {
	f.Add([]byte{0x0a, 0x07, 0x0a, 0x01, 'a', 0x18, 0x02, 0x15, 0, 0, 0, 0})
	if b, err := os.ReadFile(filepath.Join(confDir(f), "sentencepiece", "sp.unigram.model")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sp, err := ReadSentencePiece(data)
		if err != nil {
			if !errors.Is(err, ErrSentencePiece) {
				t.Fatalf("error %v does not wrap ErrSentencePiece", err)
			}
			return
		}
		var sc Scratch
		for _, s := range []string{"Hello  wörld ＡＢＣ ①", "\xff\x00 \t", ""} {
			sp.Tokens(&sc, s)
		}
	})
}

// FuzzSentencePiece encodes arbitrary text: the pieces must be non-empty
// and, joined, give the normalized text.
func FuzzSentencePiece(f *testing.F) {
	sp := spFixture(f)
	f.Add("  Ｆｕｌｌ width ﬁ ①②  tab\tsep 🙂 café ÀÉ ｶﾀｶﾅ \xff")
	f.Fuzz(func(t *testing.T, s string) {
		var sc Scratch
		toks := sp.Tokens(&sc, s)
		norm := string(sp.norm.normalize(nil, s))
		if strings.Join(toks, "") != norm {
			t.Fatalf("pieces %q do not join to %q", toks, norm)
		}
		for _, p := range toks {
			if p == "" {
				t.Fatalf("empty piece in %q", toks)
			}
		}
	})
}

// BenchmarkSentencePiece encodes the fixture test text (synthetic words
// with full-width, numeric and Han decorations).
func BenchmarkSentencePiece(b *testing.B) {
	sp := spFixture(b)
	lines := strings.Split(string(readFixture(b, "sentencepiece/sp_test.txt")), "\n")
	n := 0
	for _, l := range lines {
		n += len(l) + 1
	}
	var sc Scratch
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range lines {
			sp.Tokens(&sc, l)
		}
	}
}

func TestCCNetNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"  Hello, World! 2024 ", "hello, world! 0000"},
		{"Café NAÏVE élan", "cafe naive elan"},
		{"«Quoted» — “this”…", `"quoted"  -  "this"...`}, // cc_net maps — to " - "
		{"１２３％，你好。", "000%,你好."},
		{"tab\there\x00\u0085end", "tabhereend"},
		{"٣ Arabic-Indic three", "0 arabic-indic three"},
	} {
		if got := string(CCNetNormalize(nil, tc.in)); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
	sp := spFixture(t)
	var sc Scratch
	got := strings.Join(CCNet{sp}.Tokens(&sc, "  FULL Width Café 123 "), " ")
	if want := strings.Join(sp.Tokens(new(Scratch), "full width cafe 000"), " "); got != want {
		t.Errorf("CCNet{sp}: %q, want %q", got, want)
	}
}

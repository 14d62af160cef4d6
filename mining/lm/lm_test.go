package lm

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
)

// trigram is a model worked out by hand: see TestHandModel.
const trigram = `\data\
ngram 1=5
ngram 2=3
ngram 3=1

\1-grams:
-1	<unk>	0
0	<s>	-0.5
-0.5	</s>	0
-0.7	a	-0.3
-0.9	b	-0.2

\2-grams:
-0.2	<s> a	-0.25
-0.4	a b	-0.15
-0.6	b a	-0.05

\3-grams:
-0.1	<s> a b

\end\
`

func readString(t testing.TB, s string) *Model {
	t.Helper()
	m, err := readARPA(strings.NewReader(s), true)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestHandModel(t *testing.T) {
	m := readString(t, trigram)
	type tok struct {
		order int
		p     float64
	}
	for _, tc := range []struct {
		line string
		want []tok
		oov  int
	}{
		// p(a|<s>) bigram; p(b|<s> a) trigram; p(a|a b) = p(a|b) + bo(a b);
		// p(</s>|b a) = p(</s>) + bo(b a) + bo(a).
		{"a b a", []tok{{2, -0.2}, {3, -0.1}, {2, -0.6 - 0.15}, {1, -0.5 - 0.3 - 0.05}}, 0},
		// No (<s> b): back off to b; the state keeps only b, so p(b|<s> b)
		// = p(b) + bo(b).
		{"b b", []tok{{1, -0.9 - 0.5}, {1, -0.9 - 0.2}, {1, -0.5 - 0.2}}, 0},
		// An unknown word gets p(<unk>) plus the back-offs of its context,
		// and leaves an empty context behind.
		{"a x b", []tok{{2, -0.2}, {1, -1 - 0.3 - 0.25}, {1, -0.9}, {1, -0.5 - 0.2}}, 1},
		{"", []tok{{1, -0.5 - 0.5}}, 0},
	} {
		t.Run(tc.line, func(t *testing.T) {
			var got []Token
			r := m.Sentence(Whitespace.Tokens(new(Scratch), tc.line), func(tk Token) { got = append(got, tk) })
			if len(got) != len(tc.want) {
				t.Fatalf("%d tokens, want %d", len(got), len(tc.want))
			}
			sum := 0.0
			for i, w := range tc.want {
				if got[i].Order != w.order || math.Abs(float64(got[i].Log10)-w.p) > 1e-6 {
					t.Errorf("token %d %q: order %d log10 %v, want %d %v", i, got[i].Word, got[i].Order, got[i].Log10, w.order, w.p)
				}
				sum += w.p
			}
			if math.Abs(r.Log10-sum) > 1e-5 || r.Tokens != len(tc.want) || r.OOV != tc.oov {
				t.Errorf("result %+v, want total %v tokens %d oov %d", r, sum, len(tc.want), tc.oov)
			}
		})
	}
}

func TestARPARoundTrip(t *testing.T) {
	for _, src := range []string{trigram, string(readFixture(t, "tiny.3.arpa"))} {
		m := readString(t, src)
		var a, b bytes.Buffer
		if err := m.WriteARPA(&a); err != nil {
			t.Fatal(err)
		}
		if err := readString(t, a.String()).WriteARPA(&b); err != nil {
			t.Fatal(err)
		}
		if a.String() != b.String() {
			t.Error("second round trip changed the model")
		}
		if src != trigram && a.String() != src {
			t.Error("lmplz's ARPA did not round-trip byte for byte")
		}
	}
}

func TestARPAErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "no \\data\\"},
		{"no unigrams", "\\data\\\n\\end\\\n", "no unigrams"},
		{"bad count", "\\data\\\nngram 1=x\n", "line 2: "},
		{"order gap", "\\data\\\nngram 2=1\n", "want order 1"},
		{"too few", "\\data\\\nngram 1=2\n\n\\1-grams:\n-1\ta\n", "line 5: lm: malformed ARPA: unexpected end"},
		{"bad prob", "\\data\\\nngram 1=1\n\\1-grams:\nxx\ta\n\\end\\\n", "line 4: lm: malformed ARPA: bad number"},
		{"fields", "\\data\\\nngram 1=1\n\\1-grams:\n-1\ta\t0\t0\n\\end\\\n", "line 4:"},
		{"unknown word", "\\data\\\nngram 1=1\nngram 2=1\n\\1-grams:\n-1\ta\t0\n\\2-grams:\n-1\ta b\n\\end\\\n", "line 7: lm: malformed ARPA: word \"b\""},
		{"duplicate", "\\data\\\nngram 1=2\n\\1-grams:\n-1\ta\n-1\ta\n\\end\\\n", "line 5: lm: malformed ARPA: duplicate unigram"},
		{"duplicate bigram", "\\data\\\nngram 1=1\nngram 2=2\n\\1-grams:\n-1\ta\t0\n\\2-grams:\n-1\ta a\n-1\ta a\n\\end\\\n", "duplicate 2-gram 2"},
		{"backoff on top", "\\data\\\nngram 1=1\n\\1-grams:\n-1\ta\t0\n\\end\\\n", "back-off on a highest-order"},
		{"no end", "\\data\\\nngram 1=1\n\\1-grams:\n-1\ta\n\\2-grams:\n", "want \\end\\"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadARPA(strings.NewReader(tc.in))
			if err == nil || !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want ErrFormat containing %q", err, tc.want)
			}
		})
	}
}

func FuzzReadARPA(f *testing.F) {
	f.Add(trigram)
	f.Add("\\data\\\nngram 1=1\n\\1-grams:\n-1 a\n\\end\\\n")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := readARPA(strings.NewReader(s), true)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := m.WriteARPA(&buf); err != nil {
			t.Fatal(err)
		}
		m2, err := ReadARPA(&buf)
		if err != nil {
			t.Fatalf("rewritten model does not read back: %v", err)
		}
		m.Sentence(strings.Fields(s), nil)
		if m2.VocabSize() != m.VocabSize() {
			t.Fatal("vocabulary changed")
		}
	})
}

// condProb is p(w | ctx) by the textbook back-off recursion, independent of
// Score's state machine.
func condProb(m *Model, ctx []uint32, w uint32) float64 {
	if e, ok := m.lookup(append(append([]uint32{}, ctx...), w)); ok {
		return float64(e.prob)
	}
	bo := 0.0
	if e, ok := m.lookup(ctx); ok {
		bo = float64(e.backoff)
	}
	return bo + condProb(m, ctx[1:], w)
}

func TestTrainedModelNormalizes(t *testing.T) {
	tr, _ := NewTrainer(3)
	if err := tr.AddText(bytes.NewReader(readFixture(t, "tiny.txt")), Whitespace); err != nil {
		t.Fatal(err)
	}
	m, _, err := tr.Model()
	if err != nil {
		t.Fatal(err)
	}
	contexts := [][]uint32{{}}
	for n := 1; n < m.order; n++ {
		g := m.grams[n-1]
		for i := 0; i < len(g); i += n {
			if g[i+n-1] != m.eos {
				contexts = append(contexts, g[i:i+n])
			}
		}
	}
	for _, ctx := range contexts {
		if len(ctx) == 1 && ctx[0] == 0 {
			continue // <unk> is never a context
		}
		sum := 0.0
		for w := range uint32(m.VocabSize()) {
			if w != m.bos {
				sum += math.Pow(10, condProb(m, ctx, w))
			}
		}
		if math.Abs(sum-1) > 1e-6 {
			t.Errorf("context %v: probabilities sum to %.9f", ctx, sum)
		}
	}
	t.Logf("%d contexts", len(contexts))
}

// TestTrainScoreAgree checks that a trained model scores held-out text like
// lmplz's model (query.N.txt) and that it survives an ARPA round trip.
func TestTrainScoreAgree(t *testing.T) {
	tr, _ := NewTrainer(4, WithMemory(64<<10), WithTempDir(t.TempDir()))
	if err := tr.AddText(bytes.NewReader(readFixture(t, "train.txt.gz")), Whitespace); err != nil {
		t.Fatal(err)
	}
	m, st, err := tr.Model()
	if err != nil {
		t.Fatal(err)
	}
	if st.Spills < 2 {
		t.Errorf("%d spills with a 64 KiB budget", st.Spills)
	}
	var arpa bytes.Buffer
	m.WriteARPA(&arpa)
	m2 := readString(t, arpa.String())
	ref := loadFixture(t, "model.4.arpa.gz")
	var got, got2, want Result
	var sc Scratch
	for _, l := range strings.Split(strings.TrimSuffix(string(readFixture(t, "test.txt")), "\n"), "\n") {
		got.Add(m.ScoreText(Whitespace, l, &sc))
		got2.Add(m2.ScoreText(Whitespace, l, &sc))
		want.Add(ref.ScoreText(Whitespace, l, &sc))
	}
	if got != got2 {
		t.Errorf("after round trip %+v, before %+v", got2, got)
	}
	if r := got.Perplexity() / want.Perplexity(); math.Abs(r-1) > 1e-5 {
		t.Errorf("perplexity %v, lmplz %v", got.Perplexity(), want.Perplexity())
	}
	t.Logf("perplexity %.6f (lmplz model %.6f)", got.Perplexity(), want.Perplexity())
}

func TestTokenizers(t *testing.T) {
	for _, tc := range []struct {
		tok  Tokenizer
		in   string
		want string // tokens joined by |
	}{
		{Whitespace, "  a\tb\r\nc  ", "a|b|c"},
		{Whitespace, "", ""},
		{Words{}, "Hello, World! It's 2024…", "hello|,|world|!|it's|0000|..."},
		{Words{}, "«Café» — “quoted” x１２", "\"|café|\"|-|\"|quoted|\"|x00"},
		{Words{StripAccents: true}, "Café naïve ÉCOLE", "cafe|naive|ecole"},
		{Words{}, "中文字", "中|文|字"},
		{Words{}, "a\x00\u200bb", "a|b"},
	} {
		t.Run(tc.tok.Name()+"/"+tc.in, func(t *testing.T) {
			got := strings.Join(tc.tok.Tokens(new(Scratch), tc.in), "|")
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzWords(f *testing.F) {
	f.Add("Hello, World! 2024 «Café» 中文")
	f.Fuzz(func(t *testing.T, s string) {
		var sc Scratch
		for _, tok := range []Tokenizer{Whitespace, Words{}, Words{StripAccents: true}} {
			toks := tok.Tokens(&sc, s)
			for _, x := range toks {
				if x == "" || strings.ContainsAny(x, " \t\n") {
					t.Fatalf("%s: bad token %q in %q", tok.Name(), x, toks)
				}
			}
		}
	})
}

// TestARPAUnicodeSpace checks that a word ending in U+00A0 keeps it: lmplz
// splits only on ASCII white space.
func TestARPAUnicodeSpace(t *testing.T) {
	m := readString(t, "\\data\\\nngram 1=3\nngram 2=2\n\n\\1-grams:\n-1\t<unk>\n-1\ta.\n-1\ta.\u00a0\n\n\\2-grams:\n-0.5\ta. a.\u00a0\n-0.5\ta.\u00a0 a.\n\n\\end\\\n")
	if m.Index("a.\u00a0") == m.Index("a.") {
		t.Error("a. and a.\\u00a0 are one word")
	}
	if _, _, ok := m.Prob("a.", "a.\u00a0"); !ok {
		t.Error("bigram with U+00A0 lost")
	}
}

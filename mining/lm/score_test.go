package lm

import (
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
)

// hostileLines are lines for the scoring paths: every delimiter, control
// characters inside words (they are not delimiters), words of every
// length around the 8-byte blocks, no-break spaces, invalid UTF-8.
var hostileLines = []string{
	"", " ", "\t\r\v\f\x00", "a", "a b a", "b b", "a x b", " a  b\ta\r\n",
	"a\x01b a\x1fb \x7fa", "<s> a </s> <unk> b", "a\u00a0b a b", "\xff\xfe a \xc3",
	"abcdefg abcdefgh abcdefghi abcdefghijklmnop abcdefghijklmnopq",
	"mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm",
	"这是一个没有空格的中文句子，也是一个词 a b",
}

// randomLine draws words from vocab (and a few unknown ones) with random
// delimiters between them.
func randomLine(r *rand.Rand, vocab []string) string {
	delims := []string{" ", " ", " ", "\t", "  ", "\r", "\v", "\f", "\x00", " \t "}
	var b strings.Builder
	if r.IntN(4) == 0 {
		b.WriteString(delims[r.IntN(len(delims))])
	}
	for n := r.IntN(40); n > 0; n-- {
		switch k := r.IntN(20); {
		case k == 0:
			b.WriteString("zz\x01qq")
		case k == 1:
			b.WriteString(strings.Repeat("x", r.IntN(30)+1))
		default:
			b.WriteString(vocab[r.IntN(len(vocab))])
		}
		b.WriteString(delims[r.IntN(len(delims))])
	}
	s := b.String()
	if len(s) > 0 && r.IntN(2) == 0 {
		s = s[:len(s)-1]
	}
	return s
}

// TestScoreSame holds the scoring paths that look words up ahead (ScoreText
// with the fused whitespace scan or another tokenizer, Sentence with
// per-token output) to scoring word by word with Score, token for token.
func TestScoreSame(t *testing.T) {
	models := map[string]*Model{"hand": readString(t, trigram)}
	for _, name := range []string{"tiny.3.arpa", "model.3.arpa.gz", "model.4.arpa.gz"} {
		models[name] = loadFixture(t, name)
	}
	var lines []string
	lines = append(lines, hostileLines...)
	lines = append(lines, strings.Split(string(readFixture(t, "test.txt")), "\n")...)
	for name, m := range models {
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(m.VocabSize())))
			vocab := make([]string, m.VocabSize())
			for i := range vocab {
				vocab[i] = m.Word(uint32(i))
			}
			ls := append([]string(nil), lines...)
			for range 2000 {
				ls = append(ls, randomLine(r, vocab))
			}
			var sc, rsc, gsc Scratch // tokens alias their Scratch
			for _, tok := range []Tokenizer{Whitespace, Words{}} {
				for _, l := range ls {
					var want, got []Token
					wantR := m.sentenceByWord(tok.Tokens(&rsc, l), func(t Token) { want = append(want, t) })
					if r := m.ScoreText(tok, l, &sc); r != wantR {
						t.Fatalf("%s %q: %+v, want %+v", tok.Name(), l, r, wantR)
					}
					if r := m.Sentence(tok.Tokens(&gsc, l), func(t Token) { got = append(got, t) }); r != wantR || !slices.Equal(got, want) {
						t.Fatalf("%s %q: Sentence %+v %v, want %+v %v", tok.Name(), l, r, got, wantR, want)
					}
				}
			}
		})
	}
}

// refLines is ScoreLines by its definition: the non-blank lines scored one
// by one, word by word.
func refLines(m *Model, tok Tokenizer, text string) Result {
	var sc Scratch
	var r Result
	for len(text) > 0 {
		l, rest, _ := strings.Cut(text, "\n")
		if strings.TrimSpace(l) != "" {
			r.Add(m.sentenceByWord(tok.Tokens(&sc, l), nil))
		}
		text = rest
	}
	return r
}

// TestScoreLinesSame holds ScoreLines, whose chunks run across lines, to
// scoring line by line, on documents of random and hostile lines with
// blank ones (empty, spaces, no-break spaces) between them.
func TestScoreLinesSame(t *testing.T) {
	for _, name := range []string{"model.3.arpa.gz", "model.4.arpa.gz"} {
		m := loadFixture(t, name)
		r := rand.New(rand.NewPCG(8, 9))
		vocab := make([]string, m.VocabSize())
		for i := range vocab {
			vocab[i] = m.Word(uint32(i))
		}
		blank := []string{"", " ", "\t\r", "\u00a0", "\u3000 ", "\x00", "\r"}
		var sc Scratch
		for range 300 {
			var lines []string
			for range r.IntN(30) {
				switch k := r.IntN(10); {
				case k < 2:
					lines = append(lines, blank[r.IntN(len(blank))])
				case k == 2:
					lines = append(lines, hostileLines[r.IntN(len(hostileLines))])
				default:
					lines = append(lines, randomLine(r, vocab))
				}
			}
			text := strings.Join(lines, "\n")
			if r.IntN(2) == 0 {
				text += "\n"
			}
			for _, tok := range []Tokenizer{Whitespace, Words{}} {
				if got, want := m.ScoreLines(tok, text, &sc), refLines(m, tok, text); got != want {
					t.Fatalf("%s %s %q: %+v, want %+v", name, tok.Name(), text, got, want)
				}
			}
		}
	}
}

func TestWordEndAndHash(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 3))
	alphabet := "ab \t\x00\x01\x1f\x20\x21\xa0\xff\n"
	for range 3000 {
		s := string(randomBytes(r, alphabet, r.IntN(40)))
		for i := range len(s) + 1 {
			want := i
			for want < len(s) && !isDelim[s[want]] {
				want++
			}
			if got := wordEnd(s, i); got != want {
				t.Fatalf("wordEnd(%q, %d) = %d, want %d", s, i, got, want)
			}
			for j := i; j <= len(s); j++ {
				if got, want := murmurIn(s, i, j), murmurHash64A(s[i:j]); got != want {
					t.Fatalf("murmurIn(%q, %d, %d) = %x, want %x", s, i, j, got, want)
				}
			}
		}
	}
}

func FuzzScoreWords(f *testing.F) {
	for _, l := range hostileLines {
		f.Add(l)
	}
	m := readString(f, trigram)
	f.Fuzz(func(t *testing.T, l string) {
		want := m.sentenceByWord(Whitespace.Tokens(new(Scratch), l), nil)
		if got := m.ScoreText(Whitespace, l, new(Scratch)); got != want {
			t.Fatalf("%+v, want %+v", got, want)
		}
	})
}

// randomBytes returns n bytes drawn from alphabet.
func randomBytes(r *rand.Rand, alphabet string, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return b
}

// TestUniformFind holds uniformFind to bisection (sort.Search) on sorted
// keys spread evenly, skewed, and with runs of equal keys.
func TestUniformFind(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 11))
	for range 2000 {
		keys := make([]uint64, r.IntN(200))
		for i := range keys {
			switch r.IntN(3) {
			case 0:
				keys[i] = r.Uint64()
			case 1:
				keys[i] = r.Uint64N(1000)
			default:
				keys[i] = uint64(r.IntN(5)) << 60
			}
		}
		slices.Sort(keys)
		probes := append([]uint64{0, ^uint64(0), 1}, keys...)
		for range 20 {
			probes = append(probes, r.Uint64(), r.Uint64N(1000))
		}
		for _, k := range probes {
			lo := uint64(r.IntN(len(keys) + 1))
			hi := lo + uint64(r.IntN(len(keys)+1-int(lo)))
			want := lo + uint64(sort.Search(int(hi-lo), func(i int) bool { return keys[lo+uint64(i)] >= k }))
			wantOK := want < hi && keys[want] == k
			got, ok := uniformFind(lo, hi, k, func(i uint64) uint64 { return keys[i] })
			if ok != wantOK || ok && got != want {
				t.Fatalf("keys %v [%d, %d) find %d: %d %v, want %d %v", keys, lo, hi, k, got, ok, want, wantOK)
			}
		}
	}
}

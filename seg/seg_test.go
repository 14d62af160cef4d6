package seg

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

func segs(s string) []string {
	var out []string
	for sg := range Segments(s) {
		out = append(out, s[sg.Start:sg.End])
	}
	return out
}

// TestIsIdeoAllRunes checks IsIdeo's shortcuts against the script tables
// on every code point.
func TestIsIdeoAllRunes(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		want := unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r) || r == 'ー'
		if IsIdeo(r) != want {
			t.Fatalf("IsIdeo(%U) = %v, want %v", r, !want, want)
		}
	}
}

func TestCount(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     int
	}{
		{"empty", "", 0},
		{"english", "The quick brown fox jumps.", 5},
		{"contraction", "can't won't", 2},
		{"numbers", "It costs 1,000.50 dollars", 4},
		{"underscore", "snake_case __ x", 2},
		{"chinese", "我爱北京天安门", 7},
		{"mixed", "我用Go写代码 v1.2", 7},
		{"katakana", "コンピュータ", 6},
		{"spaces-only", "  \n\t ", 0},
		{"emoji", "hi 👍🏽 there", 2},
		{"accents", "café naïve", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Count(tc.in); got != tc.want {
				t.Errorf("Count(%q) = %d, want %d (segments %q)", tc.in, got, tc.want, segs(tc.in))
			}
		})
	}
}

func TestSegmentsTile(t *testing.T) {
	for _, s := range []string{"", "a", "Hello, world!\r\n", "中文和English混合。", "x.y.z 3.14 a:b ''"} {
		var got string
		for sg := range Segments(s) {
			got += s[sg.Start:sg.End]
		}
		if got != s {
			t.Errorf("segments of %q rebuild %q", s, got)
		}
	}
}

// reference segments ASCII text through the general Unicode path.
func reference(s string) []Segment {
	var out []Segment
	unicodeSegments(s, func(sg Segment) bool { out = append(out, sg); return true })
	return out
}

func FuzzASCIIPathMatchesUAX29(f *testing.F) {
	for _, s := range []string{"can't stop", "1,000.5", "a:b:c", "e.g. x_y", "a\r\nb", "  tab\t\tx", "'quoted'", "3;4", "a__b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		if isASCII(s) {
			var fast []Segment
			asciiSegments(s, func(sg Segment) bool { fast = append(fast, sg); return true })
			if ref := reference(s); !slices.Equal(fast, ref) {
				t.Fatalf("%q: ascii %v, uax29 %v", s, fast, ref)
			}
		}
		var n uint32
		for sg := range Segments(s) {
			if sg.Start != n || sg.End <= sg.Start {
				t.Fatalf("%q: bad segment %v at %d", s, sg, n)
			}
			n = sg.End
		}
		if int(n) != len(s) {
			t.Fatalf("%q: segments end at %d", s, n)
		}
	})
}

// wordsOf filters Segments(s) to its word-like segments.
func wordsOf(s string) []Segment {
	var out []Segment
	for sg := range Segments(s) {
		if sg.Kind.WordLike() {
			out = append(out, sg)
		}
	}
	return out
}

func TestAppendWords(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"empty", ""},
		{"english", "The quick brown fox jumps."},
		{"mid", "can't a:b 1,000.50 3;4 x.y. .5 a'"},
		{"underscore", "snake_case __ _x x_ _1"},
		{"chinese", "我爱北京天安门"},
		{"mixed", "我用Go写代码 v1.2 naïve café, e\u0301t\u00e9"},
		{"newlines", "a\r\nb\tc\v\fd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := AppendWords([]Segment{{1, 2, Word}}, tc.in)
			if want := append([]Segment{{1, 2, Word}}, wordsOf(tc.in)...); !slices.Equal(got, want) {
				t.Errorf("AppendWords(%q) = %v, want %v", tc.in, got, want)
			}
		})
	}
}

// TestAppendWordsLong checks AppendWords on random texts of hundreds of
// bytes, whose words and non-ASCII runs fall at every position of the
// 64-byte blocks.
func TestAppendWordsLong(t *testing.T) {
	pieces := []string{"word", "Go", "v1.2", "1,000", "a_b", "_", "can't", "x.", ":", "'", " ", "  ", "\n", "\r\n", ",",
		"naïve", "中文", "é", "—", "コンピュータ", "e\u0301", "🇫🇷", strings.Repeat("long", 20)}
	rng := rand.New(rand.NewPCG(7, 7))
	for range 3000 {
		var b strings.Builder
		for b.Len() < 50+rng.IntN(400) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
			if rng.IntN(3) == 0 {
				b.WriteByte(' ')
			}
		}
		s := b.String()
		if got, want := AppendWords(nil, s), wordsOf(s); !slices.Equal(got, want) {
			t.Fatalf("%q: AppendWords %v, Segments %v", s, got, want)
		}
	}
}

func FuzzAppendWordsMatchesSegments(f *testing.F) {
	for _, s := range []string{"can't stop", "1,000.5", "a:b:c", "e.g. x_y", "__a", "a__", "'x'", "Go语言 v1.2", "é.b a.é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := AppendWords(nil, s), wordsOf(s); !slices.Equal(got, want) {
			t.Fatalf("%q: AppendWords %v, Segments %v", s, got, want)
		}
	})
}

func BenchmarkCount(b *testing.B) {
	en := "The quick brown fox jumps over the lazy dog, doesn't it? Prices rose 3.5% in 2024. "
	zh := "机器学习是人工智能的一个分支，它使计算机能够从数据中学习。"
	for _, bc := range []struct{ name, text string }{{"ascii", en}, {"chinese", zh}, {"mixed", en + zh}} {
		s := ""
		for len(s) < 64<<10 {
			s += bc.text
		}
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(s)))
			b.ReportAllocs()
			for b.Loop() {
				Count(s)
			}
		})
		b.Run(bc.name+"/append", func(b *testing.B) {
			var buf []Segment
			b.SetBytes(int64(len(s)))
			b.ReportAllocs()
			for b.Loop() {
				buf = AppendWords(buf[:0], s)
			}
		})
	}
}

func ExampleCount() {
	fmt.Println(Count("Hello, world! 你好世界"))
	// Output: 6
}

// TestSegmentSize checks that a segment stays 12 bytes: a batch holds the
// words of all its rows until it is written.
func TestSegmentSize(t *testing.T) {
	if n := unsafe.Sizeof(Segment{}); n != 12 {
		t.Errorf("Segment is %d bytes, want 12", n)
	}
}

// TestTooLong checks that strings beyond 32-bit offsets panic before any
// byte is read (the string below has one real byte).
func TestTooLong(t *testing.T) {
	if strconv.IntSize < 64 {
		t.Skip("no string of 4 GiB on a 32-bit platform")
	}
	var b byte = 'a'
	n := 1
	n <<= 32
	s := unsafe.String(&b, n)
	for name, f := range map[string]func(){
		"AppendWords": func() { AppendWords(nil, s) },
		"Segments":    func() { Segments(s)(func(Segment) bool { return false }) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s on 4 GiB did not panic", name)
				}
			}()
			f()
		}()
	}
}

package lm

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// checkDecimal holds scanDecimal to strconv.ParseFloat(s, 32) wherever
// it takes the fast path; it reports whether it did.
func checkDecimal(t *testing.T, s string) bool {
	t.Helper()
	got, n, ok := scanDecimal([]byte(s), 0)
	if !ok || n != len(s) {
		return false
	}
	want, err := strconv.ParseFloat(s, 32)
	if err != nil {
		t.Fatalf("scanDecimal(%q) = %v, strconv: %v", s, got, err)
	}
	if math.Float32bits(got) != math.Float32bits(float32(want)) {
		t.Fatalf("scanDecimal(%q) = %v (%#x), want %v (%#x)", s, got, math.Float32bits(got), float32(want), math.Float32bits(float32(want)))
	}
	return true
}

func TestParseDecimal(t *testing.T) {
	for _, s := range []string{"0", "-0", "0.0", "-0.000", "-1", "-1.5", "-4.3449616", "-0.30103",
		"-99", "-100", "-1.2e-05", "-1.2E+3", "1e22", "-123456789012345", ".5", "5.", "-.5e1",
		"0.000000000000000000001", "-3.4028235e+38"} {
		checkDecimal(t, s)
	}
	for _, s := range []string{"", "-", ".", "e5", "1e", "1e+", "+1", "1_0", "0x1p3", "inf", "-inf", "nan",
		"1.2.3", "1e400", "12345678901234567890", "9007199254740993", "1e23", "1e-39", "1e00001"} {
		if f, n, ok := scanDecimal([]byte(s), 0); ok && n == len(s) {
			t.Errorf("scanDecimal(%q) = %v, want the slow path", s, f)
		}
	}
	r := rand.New(rand.NewPCG(4, 5))
	fast := 0
	const n = 300000
	for i := range n {
		var s string
		switch i % 4 {
		case 0: // lmplz's and sift's shortest form
			s = strconv.FormatFloat(float64(-r.Float32()*10), 'g', -1, 32)
		case 1: // every float32 bit pattern in ARPA's range
			f := math.Float32frombits(r.Uint32())
			if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
				continue
			}
			s = strconv.FormatFloat(float64(f), 'g', -1, 32)
		case 2: // float32 midpoints and their neighbours, written out
			f := -r.Float32() * 100
			b := math.Float32bits(f)
			mid := (float64(f) + float64(math.Float32frombits(b+1))) / 2
			s = strconv.FormatFloat(mid, 'g', 15+r.IntN(3)-1, 64)
		default: // random digits
			d := make([]byte, 1+r.IntN(17))
			for k := range d {
				d[k] = '0' + byte(r.IntN(10))
			}
			s = "-" + string(d[:len(d)/2]) + "." + string(d[len(d)/2:])
			if r.IntN(3) == 0 {
				s += "e" + strconv.Itoa(r.IntN(50)-25)
			}
		}
		if checkDecimal(t, s) {
			fast++
		}
	}
	if fast < n/2 {
		t.Errorf("only %d of %d numbers took the fast path", fast, n)
	}
}

func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"-1.5", "0", "-0", "-1.2e-05", "1e22", ".5", "-4.3449616"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkDecimal(t, s) })
}

func TestSplitFields(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 7))
	alphabet := "ab \t\t\x00\x01\v\f\r\x20\x21\xa0\xff"
	for range 20000 {
		b := randomBytes(r, alphabet, r.IntN(40))
		var want []string
		for _, f := range bytes.FieldsFunc(b, func(c rune) bool { return c == ' ' || c == '\t' }) {
			want = append(want, string(f))
		}
		var got []string
		for _, f := range splitFields(b, nil) {
			got = append(got, string(f))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("splitFields(%q) = %q, want %q", b, got, want)
		}
		if got, want := trimLine(b), bytes.Trim(b, " \t\r\n"); !bytes.Equal(got, want) {
			t.Fatalf("trimLine(%q) = %q, want %q", b, got, want)
		}
	}
}

// TestARPAQueuedErrors checks that errors name the right line although
// n-grams are resolved and stored a queue at a time: a duplicate anywhere
// in a queue, and duplicates, unknown words and malformed lines before or
// after each other.
func TestARPAQueuedErrors(t *testing.T) {
	const words = 30
	var uni strings.Builder
	for i := range words {
		fmt.Fprintf(&uni, "-1\tw%d\t-0.5\n", i)
	}
	bigrams := func(dupAt, badAt, unkAt int) (string, int, int) {
		var b strings.Builder
		n := 0
		for i := range words {
			for j := range words {
				switch {
				case n == dupAt:
					fmt.Fprintf(&b, "-1\tw0 w0\n")
				case n == badAt:
					fmt.Fprintf(&b, "-1\tw%d\n", i)
				case n == unkAt:
					fmt.Fprintf(&b, "-1\tw%d zz\n", j)
				default:
					fmt.Fprintf(&b, "-1\tw%d w%d\n", j, i)
				}
				n++
			}
		}
		head := fmt.Sprintf("\\data\\\nngram 1=%d\nngram 2=%d\n\n\\1-grams:\n%s\n\\2-grams:\n", words, n, uni.String())
		first := strings.Count(head, "\n") + 1 // line of the first bigram
		return head + b.String() + "\n\\end\\\n", first, n
	}
	for _, tc := range []struct{ dup, bad, unk int }{{1, -1, -1}, {63, -1, -1}, {64, -1, -1}, {65, -1, -1},
		{130, 131, -1}, {130, 200, -1}, {300, 150, -1}, {130, -1, 140}, {130, -1, 129}, {130, -1, 70}, {130, 128, 129}} {
		in, first, _ := bigrams(tc.dup, tc.bad, tc.unk)
		_, err := ReadARPA(strings.NewReader(in))
		want := fmt.Sprintf("line %d: lm: malformed ARPA: duplicate 2-gram %d", first+tc.dup, tc.dup+1)
		switch {
		case tc.bad >= 0 && tc.bad < tc.dup && (tc.unk < 0 || tc.bad < tc.unk):
			want = fmt.Sprintf("line %d: lm: malformed ARPA: 2 fields in a 2-gram line", first+tc.bad)
		case tc.unk >= 0 && tc.unk < tc.dup:
			want = fmt.Sprintf("line %d: lm: malformed ARPA: word \"zz\" is not a unigram", first+tc.unk)
		}
		if err == nil || err.Error() != want {
			t.Errorf("dup %d, bad %d, unknown %d: %v, want %s", tc.dup, tc.bad, tc.unk, err, want)
		}
	}
}

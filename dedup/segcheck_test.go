package dedup

import (
	"testing"
	"unicode/utf8"

	"github.com/clipperhouse/uax29/v2/words"
	"github.com/siftdata/sift/seg"
)

// checkSegments checks that seg.Segments, which cuts mixed text into ASCII
// and non-ASCII chunks, breaks words where UAX #29 does on the whole text:
// every UAX #29 boundary is a segment boundary, and segments split a UAX
// #29 token only where the token holds Han/Kana characters.
func checkSegments(t *testing.T, s string) {
	t.Helper()
	bound := map[int]bool{}
	for sg := range seg.Segments(s) {
		bound[int(sg.End)] = true
	}
	it := words.FromString(s)
	pos := 0
	for it.Next() {
		tok := it.Value()
		end := pos + len(tok)
		if !bound[end] {
			t.Fatalf("%q: no segment boundary at %d (UAX #29 token %q)", s, end, tok)
		}
		ideo := false
		for _, r := range tok {
			ideo = ideo || seg.IsIdeo(r)
		}
		for i := pos + 1; i < end && !ideo; i++ {
			if bound[i] {
				t.Fatalf("%q: segment boundary at %d inside UAX #29 token %q", s, i, tok)
			}
		}
		pos = end
	}
}

func TestSegmentsMatchUAX29OnCorpus(t *testing.T) {
	for _, d := range evalCorpus(t, 300) {
		checkSegments(t, d.text)
	}
}

func FuzzSegmentsMatchUAX29(f *testing.F) {
	for _, s := range []string{"naïve café, e\u0301t\u00e9 x", "Go语言 is fun 中文。", "a 🇫🇷🇫🇷 b", "x \u200dy", "1,5 ٣.٤ z", "can't 'é' a:b é:b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if utf8.ValidString(s) {
			checkSegments(t, s)
		}
	})
}

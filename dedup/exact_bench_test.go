package dedup

import (
	"errors"
	"os"
	"testing"

	"github.com/siftdata/sift"
	"github.com/siftdata/sift/internal/realtext"
	"github.com/siftdata/sift/seg"
)

// BenchmarkExactKey hashes real documents (package realtext: licence
// files, English and Chinese fortunes, Go comments, changelogs) under
// normalize: words, the default, with the words segmented as the shared
// segmentation gives them for ASCII texts.
func BenchmarkExactKey(b *testing.B) {
	docs, err := realtext.Documents()
	if errors.Is(err, realtext.ErrMissing) && os.Getenv("CI") == "" {
		b.Skip(err)
	}
	if err != nil {
		b.Fatal(err)
	}
	docs = docs[:min(len(docs), 20000)]
	words := make([][]seg.Segment, len(docs))
	var n int64
	for i, d := range docs {
		words[i] = seg.AppendWords(nil, d)
		n += int64(len(d))
	}
	d, err := NewExactDedup(Words, sift.AllRoles)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		for i, s := range docs {
			d.k.key(s, func() []seg.Segment { return words[i] })
		}
	}
}

// TestAppendWords checks the word-at-a-time copy against a plain one, for
// words of every length around the 8-byte move and at the end of the text.
func TestAppendWords(t *testing.T) {
	var n normalizer
	for _, s := range []string{"a bb ccc dddd eeeee ffffff ggggggg hhhhhhhh iiiiiiiii jjjjjjjjjjjjjjjjjjjj", "x", "", "End. Of text", "Ünïcode wörds, 中文 mixed in"} {
		t0, _ := n.normalizeASCII(s)
		ws := seg.AppendWords(nil, t0)
		var want []byte
		for _, w := range ws {
			want = append(append(want, t0[w.Start:w.End]...), 0)
		}
		got := appendWords([]byte("prefix"), t0, ws)
		if string(got) != "prefix"+string(want) {
			t.Errorf("appendWords(%q) = %q, want %q", s, got, "prefix"+string(want))
		}
	}
}

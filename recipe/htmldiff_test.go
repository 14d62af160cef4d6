package recipe

import (
	"strings"
	"testing"
)

func TestDiffHTML(t *testing.T) {
	for _, c := range []struct{ a, b, wantA, wantB string }{
		{"the quick brown fox", "the slow brown fox", "the <mark>quick</mark> brown fox", "the <mark>slow</mark> brown fox"},
		{"same text", "same text", "same text", "same text"},
		{"keep <b>", "keep <i> & more", "keep <mark>&lt;b&gt;</mark>", "keep <mark>&lt;i&gt; &amp; more</mark>"},
		{"他每天读书。", "他每天看书。", "他每天<mark>读</mark>书。", "他每天<mark>看</mark>书。"},
		{"", "new", "", "<mark>new</mark>"},
	} {
		a, b := diffHTML(c.a, c.b)
		if string(a) != c.wantA || string(b) != c.wantB {
			t.Errorf("diffHTML(%q, %q) = %q, %q; want %q, %q", c.a, c.b, a, b, c.wantA, c.wantB)
		}
	}
}

// FuzzDiffHTML checks that the marks only wrap: without them each side is
// its input, escaped.
func FuzzDiffHTML(f *testing.F) {
	f.Add("a b  c\nd", "a x y c")
	f.Add("工程师们重新设计了调度器！", "工程师们重新设计了调度器。")
	f.Fuzz(func(t *testing.T, a, b string) {
		if len(a) > 2000 || len(b) > 2000 {
			return
		}
		ha, hb := diffHTML(a, b)
		unmark := strings.NewReplacer("<mark>", "", "</mark>", "")
		if got := unmark.Replace(string(ha)); got != esc(a) {
			t.Errorf("left %q, want %q", got, esc(a))
		}
		if got := unmark.Replace(string(hb)); got != esc(b) {
			t.Errorf("right %q, want %q", got, esc(b))
		}
	})
}

package lm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestVocab adds enough words to grow the table many times, with words
// that share prefixes, are empty or hold NUL bytes, and checks that every
// word keeps its first id and its bytes.
func TestVocab(t *testing.T) {
	words := []string{Unk, BOS, EOS, "", "a", "a\x00", "ab", "é", "\xff"}
	for i := range 50000 {
		words = append(words, fmt.Sprintf("w%d", i), fmt.Sprintf("w%d ", i))
	}
	v := newVocab()
	for round := range 2 {
		for i, w := range words {
			id, added := v.id(w)
			if id != uint32(i) || added != (round == 0) {
				t.Fatalf("round %d: id(%q) = %d, %v; want %d, %v", round, w, id, added, i, round == 0)
			}
		}
	}
	if v.len() != len(words) {
		t.Fatalf("len %d, want %d", v.len(), len(words))
	}
	for i, s := range v.strings() {
		if s != words[i] || string(v.word(uint32(i))) != words[i] {
			t.Fatalf("word %d = %q / %q, want %q", i, s, v.word(uint32(i)), words[i])
		}
	}
	if 4*v.len() > 3*len(v.slots) {
		t.Fatalf("%d words in %d slots", v.len(), len(v.slots))
	}
}

// TestNgramText checks the text of n-grams that share suffixes of every
// length, change order, and hold words long enough to grow the buffer.
func TestNgramText(t *testing.T) {
	v := newVocab("a", "bb", "", strings.Repeat("long", 100), "é", "c")
	r := rand.New(rand.NewPCG(1, 2))
	var nt ngramText
	g := []uint32{0, 1, 2, 3, 4, 5}
	for range 10000 {
		n := 1 + r.IntN(MaxOrder)
		if r.IntN(4) == 0 { // keep a suffix, change the words before it
			for i := range r.IntN(n) + 1 {
				g[i] = uint32(r.IntN(v.len()))
			}
		} else {
			for i := range g {
				g[i] = uint32(r.IntN(v.len()))
			}
		}
		words := v.strings()
		var want []string
		for _, id := range g[:n] {
			want = append(want, words[id])
		}
		if got := string(nt.text(v, g[:n])); got != strings.Join(want, " ") {
			t.Fatalf("%v: %q, want %q", g[:n], got, strings.Join(want, " "))
		}
	}
}

// TestFloatText checks the cache against appendFloat on values that
// collide in a tiny cache, repeat, and are special (0, -0, subnormal,
// infinities, the longest texts).
func TestFloatText(t *testing.T) {
	c := newFloatText(3)
	r := rand.New(rand.NewPCG(3, 4))
	vals := []float32{0, float32(math.Copysign(0, -1)), -1.2345678e-05, 1e-45, float32(math.Inf(-1)), float32(math.Inf(1)), -99, -0.30103}
	for range 2000 {
		vals = append(vals, -r.Float32()*10, float32(-r.IntN(50))/7)
	}
	for round := range 3 {
		for _, f := range vals {
			got := string(c.append([]byte("x"), f))
			if want := string(appendFloat([]byte("x"), f)); got != want {
				t.Fatalf("round %d: %v (%#x) gives %q, want %q", round, f, math.Float32bits(f), got, want)
			}
		}
	}
}

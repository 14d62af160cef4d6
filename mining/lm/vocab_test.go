package lm

import (
	"fmt"
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

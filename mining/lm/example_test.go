package lm_test

import (
	"fmt"
	"strings"

	"github.com/siftdata/sift/mining/lm"
)

func Example() {
	tr, _ := lm.NewTrainer(2)
	corpus := "the cat sat\nthe dog sat\nthe cat ran\na dog ran\nthe bird sang\na cat sat\n"
	tr.AddText(strings.NewReader(corpus), lm.Whitespace)
	m, st, _ := tr.Model()
	fmt.Println("n-grams:", st.Counts)
	var sc lm.Scratch
	for _, s := range []string{"the cat sat", "sat the cat", "the unicorn sat"} {
		r := m.ScoreText(lm.Whitespace, s, &sc)
		fmt.Printf("%-16s log10 %.3f  ppl %.2f  oov %d\n", s, r.Log10, r.Perplexity(), r.OOV)
	}
	// Output:
	// n-grams: [11 15]
	// the cat sat      log10 -1.880  ppl 2.95  oov 0
	// sat the cat      log10 -4.934  ppl 17.12  oov 0
	// the unicorn sat  log10 -2.716  ppl 4.78  oov 1
}

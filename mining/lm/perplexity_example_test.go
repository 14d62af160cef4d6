package lm_test

import (
	"fmt"
	"strings"

	"github.com/siftdata/sift/mining/lm"
)

func ExampleModel_Perplexity() {
	tr, _ := lm.NewTrainer(3)
	defer tr.Close()
	tr.AddText(strings.NewReader("the cat sat on the mat\nthe dog sat on the rug\na cat sat on a mat\n"), lm.Whitespace)
	m, _, _ := tr.Model()
	fmt.Printf("%.1f\n", m.Perplexity("the cat sat on the rug"))
	fmt.Printf("%.1f\n", m.Perplexity("rug the on sat cat the"))
	fmt.Printf("%.1f\n", m.Perplexity("\n\n"))
	// Output:
	// 1.9
	// 18.9
	// 1.0
}

package mining_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/mining"
	"github.com/siftdata/sift/mining/lm"
)

func Example() {
	tr, _ := lm.NewTrainer(2)
	tr.AddText(strings.NewReader("the cat sat\nthe dog sat\nthe cat ran\na dog ran\n"), lm.Whitespace)
	m, _, _ := tr.Model()

	mem := memory.NewGoAllocator()
	bld := sift.NewBuilder(mem)
	defer bld.Release()
	for i, s := range []string{"the cat sat", "ran a the sat", "the dog ran"} {
		bld.Append(sift.Row{ID: fmt.Sprint(i), Text: &s})
	}
	rec := bld.NewBatch()
	defer rec.Release()

	// Keep rows at or above perplexity 5.
	st, _ := mining.New(m, mining.WithRange(5, 0))
	b := sift.NewBatch(mem, "perplexity", rec)
	out, _ := st.Process(context.Background(), b)
	defer out.Release()
	ppl := out.Column(5).(*array.Float64)
	for i := 0; i < int(out.NumRows()); i++ {
		fmt.Printf("kept %s: perplexity %.2f\n", out.Column(0).(*array.String).Value(i), ppl.Value(i))
	}
	for _, r := range b.Rejects() {
		fmt.Printf("rejected %s: %s (%s)\n", r.ID, r.Reason, r.Detail)
	}
	// Output:
	// kept 1: perplexity 8.37
	// rejected 0: ppl_below_band (perplexity 4.321 < 5 (min_ppl))
	// rejected 2: ppl_below_band (perplexity 4.301 < 5 (min_ppl))
}

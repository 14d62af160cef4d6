package augment_test

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/augment"
)

func Example() {
	th := augment.NewThesaurus()
	th.Add("quick", augment.Adj, "fast", "speedy")
	th.Add("begin", augment.Verb, "start")
	st, err := augment.NewSynonyms(augment.WithThesaurus(th), augment.WithRatio(0.5), augment.WithSeed(7))
	if err != nil {
		panic(err)
	}
	mem := memory.NewGoAllocator()
	bld := sift.NewBuilder(mem)
	defer bld.Release()
	text := "Begin the quick test at https://example.com/quick with `quick` and <EMAIL>."
	bld.Append(sift.Row{ID: "doc1", Text: &text})
	rec := bld.NewBatch()
	defer rec.Release()

	b := sift.NewBatch(mem, "augment_synonyms", rec)
	out, err := st.Process(context.Background(), b)
	if err != nil {
		panic(err)
	}
	defer out.Release()
	for i := range int(out.NumRows()) {
		fmt.Println(string(sift.AppendRowJSON(nil, out, i)))
	}
	// Output:
	// {"id":"doc1","text":"Begin the quick test at https://example.com/quick with `quick` and <EMAIL>."}
	// {"id":"doc1#aug1","text":"Start the quick test at https://example.com/quick with `quick` and <EMAIL>.","augmented_from":"doc1"}
}

// Text makes one copy for one-off use, without batches.
func ExampleSynonyms_Text() {
	st, err := augment.NewSynonyms(augment.WithRatio(0.3))
	if err != nil {
		panic(err)
	}
	fmt.Println(st.Text("Dr. Smith called open(file) in main.go twice, perhaps.", 1))
	fmt.Println(st.Text("Three years later, the old harbour town is still quiet in winter.", 2))
	// Output:
	// Dr. Smith called open(file) in main.go twice, possibly.
	// Three years afterward, the old harbour town is still quiet in winter.
}

package dedup_test

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/dedup"
)

func Example() {
	mem := memory.NewGoAllocator()
	bld := sift.NewBuilder(mem)
	defer bld.Release()
	for i, s := range []string{
		"The licence grants permission to use, copy and modify this software for any purpose.",
		"The licence grants permission to use, copy and modify this software for any purpose!",
		"The weather in spring was mild, with rain on most afternoons in April.",
	} {
		bld.Append(sift.Row{ID: fmt.Sprint("doc", i), Text: &s})
	}
	rec := bld.NewBatch()
	defer rec.Release()

	exact, _ := dedup.NewExactDedup(dedup.Words, sift.AllRoles)
	near, _ := dedup.NewSimhashDedup()
	for _, st := range []sift.Stage{exact, near} {
		b := sift.NewBatch(mem, "dedup", rec)
		out, _ := st.Process(context.Background(), b)
		for _, r := range b.Rejects() {
			fmt.Println(r.ID, r.Reason, "of", r.DuplicateOf)
		}
		out.Release()
	}
	// Output:
	// doc1 duplicate of doc0
	// doc1 near_duplicate of doc0
}

func ExampleSimilarity() {
	a := "Permission is hereby granted, free of charge, to any person obtaining a copy of this software."
	b := "Permission is hereby granted, free of charge, to any person obtaining a copy of this program."
	fmt.Printf("%.2f\n", dedup.Similarity(a, b))
	fmt.Printf("%.2f\n", dedup.Similarity(a, "The weather in spring was mild."))
	// Output:
	// 0.87
	// 0.00
}

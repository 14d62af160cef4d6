package dedup_test

import (
	"fmt"
	"math/bits"

	"github.com/siftdata/sift/dedup"
)

func ExampleCompute() {
	a := dedup.Compute("Permission is granted to copy, modify and distribute this software for any purpose.")
	b := dedup.Compute("Permission is granted to copy, modify and distribute this program for any purpose.")
	c := dedup.Compute("The weather in spring was mild, with rain on most afternoons.")
	fmt.Println("SimHash bits apart, near copy:", bits.OnesCount64(a.Sig[0]^b.Sig[0]) < 16)
	fmt.Println("SimHash bits apart, unrelated:", bits.OnesCount64(a.Sig[0]^c.Sig[0]) < 16)
	fmt.Println("sketch Jaccard above 0.5, near copy:", a.Sketch.Jaccard(&b.Sketch) > 0.5)
	fmt.Println("sketch Jaccard above 0.5, unrelated:", a.Sketch.Jaccard(&c.Sketch) > 0.5)
	// Output:
	// SimHash bits apart, near copy: true
	// SimHash bits apart, unrelated: false
	// sketch Jaccard above 0.5, near copy: true
	// sketch Jaccard above 0.5, unrelated: false
}

package schema_test

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/schema"
)

// A ShareGPT record, as the reader hands it over (its fields in meta),
// normalized and written back in Alpaca form.
func Example() {
	mem := memory.NewGoAllocator()
	bld := sift.NewBuilder(mem)
	defer bld.Release()
	bld.Append(sift.Row{ID: "s1", Meta: `{"conversations":[{"from":"human","value":"2+2?"},{"from":"gpt","value":"4"}],"lang":"en"}`})
	bld.Append(sift.Row{ID: "s2", Meta: `{"conversations":[{"from":"robot","value":"beep"}]}`})
	rec := bld.NewBatch()
	defer rec.Release()

	n, err := schema.NewNormalizer(schema.WithFormat(schema.Auto))
	if err != nil {
		panic(err)
	}
	b := sift.NewBatch(mem, "normalize", rec)
	out, err := n.Process(context.Background(), b)
	if err != nil {
		panic(err)
	}
	defer out.Release()
	for _, r := range b.Rejects() {
		fmt.Println("rejected", r.ID, r.Reason, r.Detail)
	}
	unified, _ := schema.Encoder(schema.Unified)
	alpaca, _ := schema.Encoder(schema.Alpaca)
	fmt.Println(string(unified(nil, out, 0)))
	fmt.Println(string(alpaca(nil, out, 0)))
	// Output:
	// rejected s2 unknown_role conversations[0].from is "robot", not a known role
	// {"id":"s1","messages":[{"role":"user","content":"2+2?"},{"role":"assistant","content":"4"}],"meta":{"lang":"en"}}
	// {"id":"s1","instruction":"2+2?","input":"","output":"4","lang":"en"}
}

package recipe_test

import (
	"fmt"

	"github.com/siftdata/sift/recipe"
)

func ExampleParse() {
	r, err := recipe.Parse([]byte(`
input: data/*.jsonl.zst
output: out/clean.parquet
stages:
  - length_filter: {unit: chars, min: 20}
`), "/srv/corpus")
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Input, r.Path(r.Output), r.BatchSize, r.Stages[0].Name)

	_, err = recipe.Parse([]byte("stages:\n  - length_filter: {unit: chars, mni: 20}\n"), "")
	fmt.Println(err != nil)
	// Output:
	// [data/*.jsonl.zst] /srv/corpus/out/clean.parquet 1024 length_filter
	// true
}

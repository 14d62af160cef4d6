package recipe_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/siftdata/sift/recipe"
	_ "github.com/siftdata/sift/schema" // registers stage normalize, which Inspect runs
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

func ExampleInspect() {
	dir, _ := os.MkdirTemp("", "inspect")
	defer os.RemoveAll(dir)
	data := filepath.Join(dir, "mix.jsonl")
	os.WriteFile(data, []byte(`{"id":"1","text":"A plain document.","source":"web"}
{"id":"2","text":"A plain document.","source":"web"}
{"id":"3","instruction":"Say hi","output":"Hi!","source":"sft"}
{"id":"4","text":"一个中文句子。","source":"web"}
`), 0o644)
	rep, err := recipe.Inspect(context.Background(), []string{data}, recipe.InspectOptions{})
	if err != nil {
		panic(err)
	}
	p := rep.Profile
	fmt.Println(p.Rows, p.Shapes, p.DuplicateRate, p.Script["Han ≥ 50% (Chinese)"])
	for _, s := range p.Sources {
		fmt.Println(s.Source, s.Rows)
	}
	// Output:
	// 4 map[alpaca:1 text:3] 0.25 1
	// web 3
	// sft 1
}

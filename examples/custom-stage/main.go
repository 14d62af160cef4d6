// Command custom-stage shows how a program adds its own stage to sift: it
// registers "keyword_filter" with a typed spec and runs a recipe using it
// next to a built-in stage.
//
//	go run ./examples/custom-stage
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/recipe"

	_ "github.com/siftdata/sift/clean" // built-in stages used by the recipe
)

// KeywordFilter drops rows whose text contains any of its words.
type KeywordFilter struct{ words []string }

var _ sift.Stage = (*KeywordFilter)(nil)

// Process rejects rows mentioning a blocked word. b.Rec is borrowed; the
// result is owned by the caller.
func (f *KeywordFilter) Process(ctx context.Context, b *sift.Batch) (arrow.RecordBatch, error) {
	v := sift.NewTextView(b.Rec, sift.AllRoles)
	for i := 0; i < int(b.Rec.NumRows()); i++ {
		text := strings.ToLower(v.Text(i))
		for _, w := range f.words {
			if strings.Contains(text, w) {
				b.Reject(i, "blocked_keyword", fmt.Sprintf("contains %q", w))
				break
			}
		}
	}
	return b.Keep(ctx, b.Rec)
}

// KeywordSpec is the recipe spec of keyword_filter.
type KeywordSpec struct {
	Words []string `yaml:"words" doc:"case-insensitive words that drop a row"`
}

func init() {
	recipe.Register("keyword_filter", "Drops rows containing blocked words.", KeywordSpec{},
		func(s KeywordSpec, _ recipe.Env) (sift.Stage, error) {
			if len(s.Words) == 0 {
				return nil, fmt.Errorf("words: empty")
			}
			f := &KeywordFilter{}
			for _, w := range s.Words {
				f.words = append(f.words, strings.ToLower(w))
			}
			return f, nil
		})
}

const data = `{"id":"1","text":"Fresh bread cools on the rack while the kitchen smells of rye."}
{"id":"2","text":"Buy cheap watches now, limited offer, click here today!"}
{"id":"3","text":"The ferry stayed tied to the dock until the river fell again."}
`

const recipeYAML = `input: in.jsonl
output: out.jsonl
rejects: rejects.jsonl
stages:
  - length_filter: {unit: words, min: 5}
  - keyword_filter: {words: [click here, cheap watches]}
`

func main() {
	dir, err := os.MkdirTemp("", "sift-custom-")
	if err != nil {
		panic(err)
	}
	os.WriteFile(filepath.Join(dir, "in.jsonl"), []byte(data), 0o644)
	os.WriteFile(filepath.Join(dir, "recipe.yaml"), []byte(recipeYAML), 0o644)
	r, err := recipe.Load(filepath.Join(dir, "recipe.yaml"))
	if err != nil {
		panic(err)
	}
	rep, err := recipe.Run(context.Background(), r, recipe.RunOptions{})
	if err != nil {
		panic(err)
	}
	rejects, _ := os.ReadFile(rep.Rejects)
	fmt.Printf("kept %d of %d rows; rejects:\n%s", rep.Stats.RowsOut, rep.Stats.RowsIn, rejects)
}

// Command prism runs a recipe as a Beam pipeline on the in-process prism
// runner and prints the report's per-stage counts. Outputs go to a new
// temporary directory.
//
//	cd beam && go run ./examples/prism
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	siftbeam "github.com/siftdata/sift/beam"
	"github.com/siftdata/sift/recipe"

	_ "github.com/siftdata/sift/augment"
	_ "github.com/siftdata/sift/clean"
	_ "github.com/siftdata/sift/dedup"
	_ "github.com/siftdata/sift/schema"
)

func main() {
	flag.Parse()
	beam.Init()
	r, err := recipe.Load(filepath.Join("examples", "prism", "recipe.yaml"))
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "sift-beam-example-")
	if err != nil {
		log.Fatal(err)
	}
	rep, err := siftbeam.Run(context.Background(), "prism", r, siftbeam.Options{Shards: 2, Overrides: recipe.Overrides{
		Output: filepath.Join(dir, "clean.jsonl"), Rejects: filepath.Join(dir, "rejects.jsonl"), Report: filepath.Join(dir, "report.json")}})
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range rep.Stats.Stages {
		fmt.Printf("%-18s in %4d  out %4d  rejected %3d  added %3d\n", s.Name, s.RowsIn, s.RowsOut, s.RowsRejected, s.RowsAdded)
	}
	fmt.Println("outputs in", dir)
}

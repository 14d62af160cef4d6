// Command pretrain-crawl cleans a pretraining crawl in two passes, the way
// incremental crawls are deduplicated.
//
//	go run ./examples/pretrain-crawl
//
// The crawl is real text: the comments of a dozen packages of the Go standard
// library on this machine (BSD licence, see $GOROOT/LICENSE), one document per
// comment group, written as .jsonl.zst shards. Licence headers and repeated
// doc comments give it natural exact and near duplicates.
//
// Pass 1 (recipe.yaml) runs length_filter, exact_dedup, simhash_dedup with
// save: and perplexity trained on the crawl with buckets, into Parquet. Pass 2
// (incremental.yaml) cleans a new shard against the saved index with
// reference:, so documents the first pass already kept are dropped; the new
// shard starts with re-crawled copies of first-pass documents, some edited.
package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/siftdata/sift/recipe"

	_ "github.com/siftdata/sift/clean"
	_ "github.com/siftdata/sift/dedup"
	_ "github.com/siftdata/sift/mining"
)

var (
	//go:embed recipe.yaml
	recipeYAML []byte
	//go:embed incremental.yaml
	incrementalYAML []byte
)

// packages whose comments make the crawl: small, stable, and varied.
var packages = []string{
	"bufio", "bytes", "container/list", "encoding/csv", "errors", "io",
	"net/url", "path", "sort", "strconv", "strings", "text/tabwriter", "unicode/utf8",
}

// shards is how many shards the first pass reads; one more is the new shard.
const shards = 3

// recrawled is how many first-pass documents the new shard repeats; every
// other one of them with an edit.
const recrawled = 20

// doc is one crawled document, as a JSONL line.
type doc struct {
	ID     string `json:"id"`
	Text   string `json:"text"`
	Source string `json:"source"`
}

func main() {
	if _, err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pretrain-crawl:", err)
		os.Exit(1)
	}
}

// result is what the example made, for its test.
type result struct {
	dir       string
	first     *recipe.Report
	second    *recipe.Report
	recrawled []string // ids of the re-crawled copies in the new shard
}

func run(out io.Writer) (*result, error) {
	dir, err := os.MkdirTemp("", "sift-pretrain-crawl-")
	if err != nil {
		return nil, err
	}
	res := &result{dir: dir}
	goroot, err := goRoot()
	if err != nil {
		return res, err
	}
	docs, err := crawl(goroot)
	if err != nil {
		return res, err
	}
	parts := make([][]doc, shards+1)
	for i, d := range docs {
		parts[i%(shards+1)] = append(parts[i%(shards+1)], d)
	}
	// The new shard starts with copies of first-pass documents.
	var again []doc
	for _, d := range parts[0] {
		if len(again) == recrawled {
			break
		}
		if len(strings.Fields(d.Text)) < 20 || strings.Contains(d.Text, "Copyright") {
			continue
		}
		c := doc{ID: d.ID + "#recrawl", Text: d.Text, Source: d.Source}
		if len(again)%2 == 1 {
			c.Text += " This page was mirrored."
		}
		again = append(again, c)
		res.recrawled = append(res.recrawled, c.ID)
	}
	parts[shards] = append(again, parts[shards]...)
	for i, p := range parts {
		path := filepath.Join(dir, "shards", fmt.Sprintf("part-%04d.jsonl.zst", i))
		if i == shards {
			path = filepath.Join(dir, "new", "part-0000.jsonl.zst")
		}
		if err := writeShard(path, p); err != nil {
			return res, err
		}
	}
	fmt.Fprintf(out, "crawl: %d documents from %d Go packages in %d shards, and %d in a new shard (%d re-crawled)\n\n",
		len(docs), len(packages), shards, len(parts[shards]), len(again))

	for i, y := range [][]byte{recipeYAML, incrementalYAML} {
		name := [...]string{"recipe.yaml", "incremental.yaml"}[i]
		if err := os.WriteFile(filepath.Join(dir, name), y, 0o644); err != nil {
			return res, err
		}
		r, err := recipe.Load(filepath.Join(dir, name))
		if err != nil {
			return res, err
		}
		rep, err := recipe.Run(context.Background(), r, recipe.RunOptions{})
		if err != nil {
			return res, err
		}
		if i == 0 {
			res.first = rep
		} else {
			res.second = rep
		}
		fmt.Fprintf(out, "pass %d (%s):\n", i+1, name)
		for _, s := range rep.Stats.Stages {
			fmt.Fprintf(out, "  %-14s in %5d out %5d rejected %5d %v\n", s.Name, s.RowsIn, s.RowsOut, s.RowsRejected, s.Rejected)
		}
		fmt.Fprintf(out, "  output: %s\n\n", rep.Output)
	}
	return res, nil
}

// goRoot finds the Go installation whose sources make the crawl.
func goRoot() (string, error) {
	if b, err := exec.Command("go", "env", "GOROOT").Output(); err == nil {
		if s := strings.TrimSpace(string(b)); s != "" {
			return s, nil
		}
	}
	if r := runtime.GOROOT(); r != "" { //nolint:staticcheck // fallback when go is not on PATH
		return r, nil
	}
	return "", fmt.Errorf("cannot find the Go sources: is go on PATH?")
}

// crawl returns one document per comment group of the packages' non-test Go
// files, in a fixed order.
func crawl(goroot string) ([]doc, error) {
	var docs []doc
	for _, pkg := range packages {
		dir := filepath.Join(goroot, "src", filepath.FromSlash(pkg))
		names, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			return nil, err
		}
		sort.Strings(names)
		for _, name := range names {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, name, nil, parser.ParseComments|parser.SkipObjectResolution)
			if err != nil {
				return nil, err
			}
			rel := "go/src/" + pkg + "/" + filepath.Base(name)
			for _, g := range f.Comments {
				text := strings.TrimSpace(g.Text())
				if text == "" {
					continue
				}
				docs = append(docs, doc{
					ID:     fmt.Sprintf("%s:%d", rel, fset.Position(g.Pos()).Line),
					Text:   text,
					Source: "go/" + pkg,
				})
			}
		}
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("no comments found under %s/src", goroot)
	}
	return docs, nil
}

// writeShard writes docs as a zstd-compressed JSONL file.
func writeShard(path string, docs []doc) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	zw, err := zstd.NewWriter(f)
	if err != nil {
		f.Close()
		return err
	}
	enc := json.NewEncoder(zw)
	enc.SetEscapeHTML(false)
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			zw.Close()
			f.Close()
			return err
		}
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

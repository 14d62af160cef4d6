// Command corpus writes the throughput benchmark's input: every paragraph
// of the installed /usr/share/doc/*/copyright files and every fortune
// (/usr/share/games/fortunes), as {"id", "text"} JSON lines in four files
// of uneven size (1, 2, 3 and 4 tenths of the rows) and an empty one.
//
//	go run ./bench/corpus DIR
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: corpus DIR")
		os.Exit(2)
	}
	if err := write(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "corpus:", err)
		os.Exit(1)
	}
}

func write(dir string) error {
	var texts []string
	add := func(glob, sep string) error {
		files, err := filepath.Glob(glob)
		if err != nil {
			return err
		}
		slices.Sort(files)
		for _, f := range files {
			if fi, err := os.Stat(f); err != nil || !fi.Mode().IsRegular() || strings.Contains(filepath.Base(f), ".") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			for _, p := range strings.Split(string(b), sep) {
				if p = strings.TrimSpace(p); p != "" {
					texts = append(texts, p)
				}
			}
		}
		return nil
	}
	if err := add("/usr/share/doc/*/copyright", "\n\n"); err != nil {
		return err
	}
	if err := add("/usr/share/games/fortunes/*", "\n%\n"); err != nil {
		return err
	}
	if len(texts) < 1000 {
		return fmt.Errorf("only %d texts: install fortunes", len(texts))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	start := 0
	for i, tenths := range []int{1, 2, 3, 4, 0} {
		end := start + len(texts)*tenths/10
		if i == 3 {
			end = len(texts)
		}
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("part%d.jsonl", i)))
		if err != nil {
			return err
		}
		w := bufio.NewWriter(f)
		enc := json.NewEncoder(w)
		for j := start; j < end; j++ {
			if err := enc.Encode(map[string]string{"id": fmt.Sprintf("r%06d", j), "text": texts[j]}); err != nil {
				return err
			}
		}
		if err := w.Flush(); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		start = end
	}
	fmt.Printf("%d rows in %s\n", len(texts), dir)
	return nil
}

// Command realtext writes a real-text corpus for measuring LM training: one
// sentence per line, whitespace tokens, from the Debian text installed on
// the machine (see realtext.WriteSentences for the sources and the order).
// The corpus is not checked in; rerun this to rebuild it:
//
//	go run ./mining/lm/internal/realtext -tokens 15000000 > corpus.txt
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/siftdata/sift/internal/realtext"
)

func main() {
	maxTokens := flag.Int64("tokens", 15_000_000, "stop after this many whitespace tokens; 0 for all")
	flag.Parse()
	st, err := realtext.WriteSentences(os.Stdout, *maxTokens)
	if err != nil {
		fmt.Fprintln(os.Stderr, "realtext:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "realtext: %d lines, %d tokens (of %d distinct lines)\n", st.Lines, st.Tokens, st.Distinct)
}

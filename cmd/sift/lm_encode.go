package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/siftdata/sift/mining/lm"
)

// lmEncode runs "sift lm encode": spm_encode's piece (or id) output.
func lmEncode(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sift lm encode", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("sp-model", "", "SentencePiece unigram model, spm_train's .model (required)")
	ids := fs.Bool("ids", false, "print piece ids instead of pieces")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	switch {
	case *model == "":
		return fmt.Errorf("lm encode: --sp-model is required")
	case len(files) > 1:
		return fmt.Errorf("lm encode: one input file at most, got %d", len(files))
	}
	sp, err := lm.LoadSentencePiece(*model)
	if err != nil {
		return fmt.Errorf("lm encode: %w", err)
	}
	in, closeIn, err := inputFile(files, stdin)
	if err != nil {
		return fmt.Errorf("lm encode: %w", err)
	}
	defer closeIn()
	br := bufio.NewReaderSize(in, 1<<16)
	bw := bufio.NewWriterSize(stdout, 1<<16)
	var sc lm.Scratch
	var out []byte
	var idv []int32
	for {
		line, err := br.ReadString('\n')
		if len(line) > 0 {
			line = strings.TrimSuffix(line, "\n")
			out = out[:0]
			if *ids {
				idv = sp.IDs(idv[:0], &sc, line)
				for i, id := range idv {
					if i > 0 {
						out = append(out, ' ')
					}
					out = strconv.AppendInt(out, int64(id), 10)
				}
			} else {
				for i, p := range sp.Tokens(&sc, line) {
					if i > 0 {
						out = append(out, ' ')
					}
					out = append(out, p...)
				}
			}
			out = append(out, '\n')
			if _, werr := bw.Write(out); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("lm encode: %w", err)
		}
	}
	return bw.Flush()
}

// inputFile opens the one input file of files, or returns stdin when there
// is none or it is "-".
func inputFile(files []string, stdin io.Reader) (io.Reader, func(), error) {
	if len(files) == 0 || files[0] == "-" {
		return stdin, func() {}, nil
	}
	f, err := os.Open(files[0])
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}

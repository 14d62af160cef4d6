package mining

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/klauspost/compress/gzip"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/dataset"
	"github.com/siftdata/sift/mining/lm"
)

// Lines calls fn for every non-blank line of s. A document is scored and
// trained on line by line, each line a sentence, like cc_net; blank lines
// carry no text and are skipped.
func Lines(s string, fn func(line string)) {
	for len(s) > 0 {
		l, rest, _ := strings.Cut(s, "\n")
		if strings.TrimSpace(l) != "" {
			fn(l)
		}
		s = rest
	}
}

// EachText calls fn with the text of every row of src: the text column, or
// the contents of the selected roles of a conversation. Texts alias Arrow
// memory valid only during the call.
func EachText(ctx context.Context, src sift.Source, roles sift.Roles, fn func(text string)) error {
	for {
		rec, _, err := src.Next(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if rec == nil {
			continue
		}
		v := sift.NewTextView(rec, roles)
		for i := 0; i < int(rec.NumRows()); i++ {
			v.Parts(i, func(_ int, s string) { fn(s) })
		}
		rec.Release()
	}
}

// EachFileText calls fn with every text of the files at paths: a dataset
// file (JSONL, Parquet, IPC, CSV, by extension) gives the text of each row
// (the selected roles for conversations); any other file, optionally
// gzip-compressed, is plain text and gives itself line by line.
func EachFileText(ctx context.Context, mem memory.Allocator, paths []string, roles sift.Roles, fn func(text string)) error {
	for _, p := range paths {
		if _, err := dataset.FormatOf(p); err != nil {
			if err := eachLine(p, fn); err != nil {
				return err
			}
			continue
		}
		r, err := dataset.Open(mem, []string{p})
		if err != nil {
			return err
		}
		err = EachText(ctx, r, roles, fn)
		r.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	return nil
}

func eachLine(path string, fn func(string)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<16)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		fn(sc.Text())
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Train trains a model of the given order on the texts of the files at
// paths (see [EachFileText]), every non-blank line a sentence.
func Train(ctx context.Context, mem memory.Allocator, order int, tok lm.Tokenizer, roles sift.Roles, paths []string, opts ...lm.TrainOption) (*lm.Model, lm.TrainStats, error) {
	tr, err := lm.NewTrainer(order, opts...)
	if err != nil {
		return nil, lm.TrainStats{}, err
	}
	defer tr.Close()
	if err := AddFiles(ctx, mem, tr, tok, roles, paths); err != nil {
		return nil, lm.TrainStats{}, err
	}
	return tr.Model()
}

// AddFiles counts the texts of the files at paths (see [EachFileText]) in
// tr, every non-blank line a sentence.
func AddFiles(ctx context.Context, mem memory.Allocator, tr *lm.Trainer, tok lm.Tokenizer, roles sift.Roles, paths []string) error {
	var sc lm.Scratch
	var addErr error
	err := EachFileText(ctx, mem, paths, roles, func(text string) {
		Lines(text, func(l string) {
			if addErr == nil {
				addErr = tr.AddSentence(tok.Tokens(&sc, l))
			}
		})
	})
	if err == nil {
		err = addErr
	}
	return err
}

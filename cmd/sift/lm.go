package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/klauspost/compress/gzip"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/dataset"
	"github.com/siftdata/sift/mining"
	"github.com/siftdata/sift/mining/lm"
)

const lmUsage = `Usage:
  sift lm train --order N [--tokenizer T] --output MODEL.arpa[.gz] CORPUS...
      Train an interpolated modified Kneser-Ney model like KenLM's lmplz.
      CORPUS: plain text (one sentence per line, optionally .gz) or dataset
      files (JSONL, Parquet, ...: every line of each row's text).
  sift lm score --model MODEL [--tokenizer T [--sp-model SP]] [--normalize ccnet] [-v sentence|word] [FILE]
      Score every line of FILE (default stdin) like KenLM's query -v
      sentence: "Total: <log10> OOV: <n>" per line, then the perplexity
      summary. -v word also prints "word=id order log10" per token.
      MODEL: ARPA (.arpa, .arpa.gz) or KenLM binary (probing, trie,
      quantized trie), recognized by content.
  sift lm build-binary [--type probing|trie] MODEL OUT.bin
      Write MODEL as a KenLM binary, as build_binary does: probing (the
      default) from any model, trie (unquantized) from an ARPA model.
  sift lm encode --sp-model SP [--ids] [FILE]
      Print the SentencePiece pieces (or ids) of every line of FILE (default
      stdin), space-separated, as spm_encode does.

Tokenizers: whitespace (default, KenLM's), words, words_noaccents,
sentencepiece (with --sp-model SP, a unigram .model file). --normalize ccnet
applies cc_net's normalization first (lower case, no accents, digits 0).
`

// lmCommand runs "sift lm ARGS...".
func lmCommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, lmUsage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "train":
		return lmTrain(ctx, args[1:], stderr)
	case "score":
		return lmScore(args[1:], stdin, stdout, stderr)
	case "build-binary":
		return lmBuildBinary(args[1:], stderr)
	case "encode":
		return lmEncode(args[1:], stdin, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, lmUsage)
		return nil
	}
	fmt.Fprint(stderr, lmUsage)
	return fmt.Errorf("lm: unknown command %q", args[0])
}

// parseInterspersed parses flags that may come before or after positional
// arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func lmTrain(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("sift lm train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	order := fs.Int("order", 0, "n-gram order, 2 to 6 (required)")
	tokName := fs.String("tokenizer", "whitespace", "whitespace, words or words_noaccents")
	output := fs.String("output", "", "ARPA file to write; .gz compresses (required)")
	memMiB := fs.Int64("memory", 1024, "memory budget in MiB for counting and estimating; beyond it, sorted n-grams spill to disk")
	tmp := fs.String("temp-dir", "", "directory for spilled counts (default the system's)")
	corpus, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	switch {
	case *output == "":
		return fmt.Errorf("lm train: --output is required")
	case len(corpus) == 0:
		return fmt.Errorf("lm train: no corpus files")
	}
	for _, c := range corpus {
		if same, err := samePath(c, *output); err != nil || same {
			return fmt.Errorf("lm train: --output %s is the corpus file %s", *output, c)
		}
	}
	tok, err := lm.ParseTokenizer(*tokName)
	if err != nil {
		return fmt.Errorf("lm train: --tokenizer: %w", err)
	}
	tr, err := lm.NewTrainer(*order, lm.WithMemory(*memMiB<<20), lm.WithTempDir(*tmp))
	if err != nil {
		return fmt.Errorf("lm train: %w", err)
	}
	// The budget bounds the trainer's live data; without a limit the Go
	// heap may grow to twice that before collecting the buffers it drops.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(*memMiB<<20*5/4 + 16<<20))
	defer tr.Close()
	if err := mining.AddFiles(ctx, memory.DefaultAllocator, tr, tok, sift.AllRoles, corpus); err != nil {
		return fmt.Errorf("lm train: %w", err)
	}
	var st lm.TrainStats
	if err := writeFile(*output, func(w io.Writer) (err error) {
		st, err = tr.WriteARPA(ctx, w)
		return err
	}); err != nil {
		return fmt.Errorf("lm train: %w", err)
	}
	fmt.Fprintf(stderr, "%d sentences, %d tokens, vocabulary %d, n-grams %v, %d spills\n", st.Sentences, st.Tokens, st.Vocab, st.Counts, st.Spills)
	for i, d := range st.Discounts {
		note := ""
		if d.Fallback {
			note = " (fallback: counts-of-counts degenerate)"
		}
		fmt.Fprintf(stderr, "order %d discounts D1=%g D2=%g D3+=%g%s\n", i+1, d.D[1], d.D[2], d.D[3], note)
	}
	if st.Skipped > 0 {
		fmt.Fprintf(stderr, "skipped %d <s>, </s> or <unk> tokens in the corpus\n", st.Skipped)
	}
	return nil
}

// writeFile fills path with write, gzip-compressed if path ends in .gz, as
// dataset.CreateFile writes: atomically for a regular file, in place for a
// device. On error nothing is committed.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := dataset.CreateFile(path)
	if err != nil {
		return err
	}
	var w io.Writer = f
	var zw *gzip.Writer
	if strings.HasSuffix(path, ".gz") {
		zw = gzip.NewWriter(f)
		w = zw
	}
	err = write(w)
	if zw != nil && err == nil {
		err = zw.Close()
	}
	if err != nil {
		f.Abort()
		return err
	}
	return f.Close()
}

func lmScore(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sift lm score", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("model", "", "ARPA (.arpa, .arpa.gz) or KenLM binary model (required)")
	tokName := fs.String("tokenizer", "whitespace", "whitespace, words, words_noaccents or sentencepiece")
	spModel := fs.String("sp-model", "", "SentencePiece model for --tokenizer sentencepiece")
	normalize := fs.String("normalize", "", "ccnet: cc_net's text normalization before tokenizing")
	verbose := fs.String("v", "sentence", "sentence (totals per line) or word (also per token)")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	switch {
	case *model == "":
		return fmt.Errorf("lm score: --model is required")
	case len(files) > 1:
		return fmt.Errorf("lm score: one input file at most, got %d", len(files))
	case *verbose != "sentence" && *verbose != "word":
		return fmt.Errorf("lm score: -v %q is not sentence or word", *verbose)
	}
	tok, err := lm.OpenTokenizer(*tokName, *spModel, *normalize)
	if err != nil {
		return fmt.Errorf("lm score: --tokenizer, --sp-model, --normalize: %w", err)
	}
	m, err := lm.Load(*model)
	if err != nil {
		return fmt.Errorf("lm score: %w", err)
	}
	in, closeIn, err := inputFile(files, stdin)
	if err != nil {
		return fmt.Errorf("lm score: %w", err)
	}
	defer closeIn()
	if _, err := lm.Query(m, tok, in, stdout, *verbose == "word"); err != nil {
		return fmt.Errorf("lm score: %w", err)
	}
	return nil
}

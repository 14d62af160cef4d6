package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siftdata/sift/mining/lm"
)

func lmConf(t *testing.T) string {
	dir := filepath.Join("..", "..", "..", "shared", "lm-conformance")
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		t.Skipf("no KenLM conformance data at %s", dir)
	}
	return dir
}

func TestLMScore(t *testing.T) {
	dir := lmConf(t)
	want, _ := os.ReadFile(filepath.Join(dir, "query.4.sentence.txt"))
	var out, errb bytes.Buffer
	err := lmCommand(context.Background(), []string{"score", filepath.Join(dir, "test.txt"), "--model", filepath.Join(dir, "model.4.arpa.gz")}, nil, &out, &errb)
	if err != nil {
		t.Fatal(err, errb.String())
	}
	got := out.String()
	if !strings.HasPrefix(got, string(want)) {
		t.Errorf("per-line totals differ from KenLM's query -v sentence")
	}
	for _, s := range []string{"Perplexity including OOVs:\t106.804842521624", "Perplexity excluding OOVs:\t104.14003680120", "OOVs:\t18\n", "Tokens:\t4683\n"} {
		if !strings.Contains(got, s) {
			t.Errorf("summary lacks %q:\n%s", s, got[len(want):])
		}
	}
}

func TestLMTrain(t *testing.T) {
	dir := lmConf(t)
	tmp := t.TempDir()
	// The same corpus as plain text and as JSONL must give the same model.
	text, _ := os.ReadFile(filepath.Join(dir, "tiny.txt"))
	var jsonl bytes.Buffer
	for i, l := range strings.Split(strings.TrimSuffix(string(text), "\n"), "\n") {
		fmt.Fprintf(&jsonl, `{"id":%d,"text":%q}`+"\n", i, l)
	}
	os.WriteFile(filepath.Join(tmp, "tiny.jsonl"), jsonl.Bytes(), 0o644)
	ref, err := lm.Load(filepath.Join(dir, "tiny.3.arpa"))
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{filepath.Join(dir, "tiny.txt"), filepath.Join(tmp, "tiny.jsonl")} {
		t.Run(filepath.Base(in), func(t *testing.T) {
			outPath := filepath.Join(tmp, filepath.Base(in)+".arpa.gz")
			var errb bytes.Buffer
			if err := lmCommand(context.Background(), []string{"train", "--order", "3", in, "--output", outPath}, nil, &errb, &errb); err != nil {
				t.Fatal(err, errb.String())
			}
			if !strings.Contains(errb.String(), "fallback") {
				t.Errorf("no discount fallback reported:\n%s", errb.String())
			}
			m, err := lm.Load(outPath)
			if err != nil {
				t.Fatal(err)
			}
			var sc lm.Scratch
			var got, want lm.Result
			for _, l := range strings.Split(string(text), "\n")[:20] {
				got.Add(m.ScoreText(lm.Whitespace, l, &sc))
				want.Add(ref.ScoreText(lm.Whitespace, l, &sc))
			}
			if d := got.Perplexity()/want.Perplexity() - 1; d > 1e-6 || d < -1e-6 {
				t.Errorf("perplexity %v, lmplz model %v", got.Perplexity(), want.Perplexity())
			}
		})
	}
}

func TestLMErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"nope"}, "unknown command"},
		{[]string{"train", "x.txt"}, "--output is required"},
		{[]string{"train", "--output", "x.arpa"}, "no corpus"},
		{[]string{"train", "--order", "9", "--output", "x.arpa", "x.txt"}, "order: 9"},
		{[]string{"score"}, "--model is required"},
		{[]string{"score", "--model", "m", "-v", "all"}, "-v"},
		{[]string{"score", "--model", "m", "--tokenizer", "bpe"}, "tokenizer"},
	} {
		err := lmCommand(context.Background(), tc.args, strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestLMTrainMemory trains with a 1 MiB budget, which spills every order to
// disk, and checks that the ARPA is the same as with the default budget,
// that no spill file is left, and that a cancelled run leaves no output.
func TestLMTrainMemory(t *testing.T) {
	corpus := filepath.Join(lmConf(t), "train.txt.gz")
	tmp, spill := t.TempDir(), t.TempDir()
	train := func(ctx context.Context, out string, flags ...string) (string, error) {
		var errb bytes.Buffer
		err := lmCommand(ctx, append([]string{"train", "--order", "4", "--output", out, corpus}, flags...), nil, &errb, &errb)
		return errb.String(), err
	}
	def := filepath.Join(tmp, "default.arpa")
	if msg, err := train(context.Background(), def); err != nil {
		t.Fatal(err, msg)
	}
	small := filepath.Join(tmp, "small.arpa")
	msg, err := train(context.Background(), small, "--memory", "1", "--temp-dir", spill)
	if err != nil {
		t.Fatal(err, msg)
	}
	if strings.Contains(msg, " 0 spills") {
		t.Errorf("nothing spilled with --memory 1: %s", msg)
	}
	a, _ := os.ReadFile(def)
	b, _ := os.ReadFile(small)
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("ARPA with --memory 1 (%d bytes) differs from the default's (%d bytes)", len(b), len(a))
	}
	if ents, _ := os.ReadDir(spill); len(ents) > 0 {
		t.Errorf("%d files left in --temp-dir", len(ents))
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cancelled := filepath.Join(tmp, "cancelled.arpa")
	if _, err := train(ctx, cancelled, "--memory", "1", "--temp-dir", spill); err == nil {
		t.Errorf("no error from a cancelled run")
	}
	if _, err := os.Stat(cancelled); !os.IsNotExist(err) {
		t.Errorf("a cancelled run left %s", cancelled)
	}
	if ents, _ := os.ReadDir(spill); len(ents) > 0 {
		t.Errorf("%d files left in --temp-dir after the cancel", len(ents))
	}
	if _, err := train(context.Background(), small, "--memory", "0"); err == nil || !strings.Contains(err.Error(), "memory") {
		t.Errorf("--memory 0: error %v", err)
	}
}

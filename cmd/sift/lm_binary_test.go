package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLMBuildBinary converts lmplz's ARPA model as a user would, to probing
// and to trie, checks the files against build_binary's, and scores with
// them and with KenLM's trie.
func TestLMBuildBinary(t *testing.T) {
	dir := lmConf(t)
	out := filepath.Join(t.TempDir(), "model.4.bin")
	run := func(args ...string) (string, error) {
		var o, e bytes.Buffer
		err := lmCommand(context.Background(), args, nil, &o, &e)
		return o.String(), err
	}
	if _, err := run("build-binary", filepath.Join(dir, "model.4.arpa.gz"), out); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	f, _ := os.Open(filepath.Join(dir, "kenlm-binary", "model.4.probing.bin.gz"))
	defer f.Close()
	zr, _ := gzip.NewReader(f)
	want, _ := io.ReadAll(zr)
	if !bytes.Equal(got, want) {
		t.Errorf("build-binary wrote %d bytes that differ from build_binary's %d", len(got), len(want))
	}
	sentences, _ := os.ReadFile(filepath.Join(dir, "query.4.sentence.txt"))
	for _, model := range []string{out, filepath.Join(dir, "kenlm-binary", "model.4.trie.bin.gz")} {
		s, err := run("score", "--model", model, filepath.Join(dir, "test.txt"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(s, string(sentences)) || !strings.Contains(s, "Tokens:\t4683\n") {
			t.Errorf("%s: scores differ from KenLM's", model)
		}
	}
	if _, err := run("build-binary", out, out); err == nil || !strings.Contains(err.Error(), "output is the input") {
		t.Errorf("overwriting the input: %v", err)
	}
	trie := filepath.Join(t.TempDir(), "model.4.trie.bin")
	if _, err := run("build-binary", "--type", "trie", filepath.Join(dir, "model.4.arpa.gz"), trie); err != nil {
		t.Fatal(err)
	}
	got, _ = os.ReadFile(trie)
	f2, _ := os.Open(filepath.Join(dir, "kenlm-binary", "model.4.trie.bin.gz"))
	defer f2.Close()
	zr2, _ := gzip.NewReader(f2)
	want, _ = io.ReadAll(zr2)
	if !bytes.Equal(got, want) {
		t.Errorf("build-binary --type trie wrote %d bytes that differ from build_binary's %d", len(got), len(want))
	}
	s, err := run("score", "--model", trie, filepath.Join(dir, "test.txt"))
	if err != nil || !strings.HasPrefix(s, string(sentences)) {
		t.Errorf("%s: scores differ from KenLM's: %v", trie, err)
	}
	if _, err := run("build-binary", "--type", "trie", out, out+"2"); err == nil || !strings.Contains(err.Error(), "needs an ARPA model") {
		t.Errorf("trie from a binary model: %v", err)
	}
	if _, err := os.Stat(out + "2"); !os.IsNotExist(err) {
		t.Errorf("a refused build left %s", out+"2")
	}
	if _, err := run("build-binary", "--type", "hash", filepath.Join(dir, "model.4.arpa.gz"), out+"3"); err == nil {
		t.Error("--type hash accepted")
	}
}

// TestLMEncodeAndScoreCCNet runs the cc_net-style chain from the command
// line: spm_encode's pieces and ids, and query's totals over them.
func TestLMEncodeAndScoreCCNet(t *testing.T) {
	dir := filepath.Join(lmConf(t), "sentencepiece")
	sp := filepath.Join(dir, "sp.unigram.model")
	in := filepath.Join(dir, "sp_test.txt")
	run := func(args ...string) string {
		t.Helper()
		var o, e bytes.Buffer
		if err := lmCommand(context.Background(), args, nil, &o, &e); err != nil {
			t.Fatal(err, e.String())
		}
		return o.String()
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"encode", "--sp-model", sp, in}, "sp_test.pieces.txt"},
		{[]string{"encode", "--ids", "--sp-model", sp, in}, "sp_test.ids.txt"},
	} {
		want, _ := os.ReadFile(filepath.Join(dir, tc.want))
		if got := run(tc.args...); got != string(want) {
			t.Errorf("%v: output differs from %s", tc.args, tc.want)
		}
	}
	want, _ := os.ReadFile(filepath.Join(dir, "sp.query.3.sentence.txt"))
	got := run("score", "--model", filepath.Join(dir, "sp.3.probing.bin.gz"), "--tokenizer", "sentencepiece", "--sp-model", sp, in)
	if !strings.HasPrefix(got, string(want)) || !strings.Contains(got, "Tokens:\t5908\n") {
		t.Errorf("cc_net chain scores differ from KenLM's:\n%s", got[:min(len(got), 300)])
	}
}

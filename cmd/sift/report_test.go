package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunHTMLReport runs fortunes with --report x.html: a good run writes the
// page; a failed one writes x.failed.html and keeps the good page.
func TestRunHTMLReport(t *testing.T) {
	dir := t.TempDir()
	fortuneCorpus(t, dir)
	recipePath := filepath.Join(dir, "recipe.yaml")
	os.WriteFile(recipePath, []byte("input: fortunes.jsonl\noutput: out.jsonl\nstages:\n  - length_filter: {unit: words, min: 10, max: 60}\n  - exact_dedup: {}\n"), 0o644)
	page := filepath.Join(dir, "report.html")
	var stderr bytes.Buffer
	if err := cli(context.Background(), []string{"run", recipePath, "--report", page}, nil, &stderr, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	good, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<!DOCTYPE html>", `id="funnel"`, "Length before length_filter", "too_short", `class="hist"`} {
		if !bytes.Contains(good, []byte(want)) {
			t.Errorf("report lacks %q", want)
		}
	}

	os.WriteFile(filepath.Join(dir, "broken.jsonl.gz"), []byte("not gzip"), 0o644)
	err = cli(context.Background(), []string{"run", recipePath, "--report", page, "--input", filepath.Join(dir, "broken.jsonl.gz")}, nil, &stderr, &stderr)
	if err == nil {
		t.Fatal("run of a broken input succeeded")
	}
	if now, _ := os.ReadFile(page); !bytes.Equal(now, good) {
		t.Error("a failed run changed the good report")
	}
	failed, err := os.ReadFile(filepath.Join(dir, "report.failed.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(failed), "The run failed") || !strings.Contains(string(failed), "broken.jsonl.gz") {
		t.Errorf("failed report does not say why:\n%.600s", failed)
	}
}

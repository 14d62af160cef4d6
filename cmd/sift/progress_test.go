package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/siftdata/sift"
)

// midRun is a run 20 s in, a quarter through a 400 MB input; step b is
// the slowest per worker and has dropped 25 of its 100 rows (and 0 added).
func midRun() sift.Progress {
	return sift.Progress{RowsIn: 1234567, RowsOut: 1000000, BytesIn: 80e6, Elapsed: 20 * time.Second,
		InputDone: 100e6, InputSize: 400e6, Stages: []sift.StageProgress{
			{Name: sift.ReadStage, RowsIn: 1234567, RowsOut: 1234567, Workers: 1},
			{Name: "a", RowsIn: 1200000, RowsOut: 1200000, Busy: 8 * time.Second, Workers: 4},
			{Name: "b", RowsIn: 80, RowsAdded: 20, RowsOut: 75, RowsRejected: 25, Busy: 3 * time.Second, Workers: 1},
		}}
}

func TestLogLine(t *testing.T) {
	got := logLine(midRun())
	for _, want := range []string{"sift: 20s:", "1,234,567 rows in", "1,000,000 out", "61,728 rows/s", "4.0 MB/s of text",
		"25.0% of 400.0 MB read", "about 1m0s left", "slowest b drops 25.0%"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q lacks %q", got, want)
		}
	}
	pr := midRun()
	pr.InputSize, pr.InputDone, pr.Stages = 0, 0, pr.Stages[:1] // a pipe, no steps
	got = logLine(pr)
	if strings.Contains(got, "left") || strings.Contains(got, "read,") || strings.Contains(got, "slowest") {
		t.Errorf("%q: an estimate without a known size, or a slowest step without steps", got)
	}
}

// TestProgressLogEvery: without a terminal, one line per interval
// crossed, none with --quiet or an interval of 0.
func TestProgressLogEvery(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, false, time.Second)
	for _, ms := range []int{100, 900, 1000, 1500, 3200, 3300} {
		pr := midRun()
		pr.Elapsed = time.Duration(ms) * time.Millisecond
		p.Observe(pr)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "sift: 1s:") || !strings.HasPrefix(lines[1], "sift: 3s:") {
		t.Errorf("lines %q, want one at 1 s and one at 3.2 s", lines)
	}
	if newProgress(&buf, true, time.Second) != nil || newProgress(&buf, false, 0) != nil {
		t.Error("a display with --quiet or --log-every 0 without a terminal")
	}
}

// TestBarRendering draws the terminal bar into a buffer: with a known
// input size it shows the share, bytes and time left; without one, rows.
func TestBarRendering(t *testing.T) {
	var buf bytes.Buffer
	pr := midRun()
	bar := newBar(&buf, pr.InputSize, 0)
	bar.Describe(barText(pr))
	bar.Set64(pr.InputDone)
	got := buf.String()
	for _, want := range []string{"sift 1,234,567 in, 1,000,000 out, slowest b drops 25.0%", "25%", "100/400 MB"} {
		if !strings.Contains(got, want) {
			t.Errorf("bar %q lacks %q", got, want)
		}
	}
	if !regexp.MustCompile(`\[\d+s:\d+s\]`).MatchString(got) {
		t.Errorf("bar %q lacks [elapsed:left]", got)
	}
	buf.Reset()
	pr.InputSize, pr.InputDone = 0, 0
	bar = newBar(&buf, 0, 0)
	bar.Describe(barText(pr))
	bar.Set64(pr.RowsIn)
	if got := buf.String(); !strings.Contains(got, "(1234567/-") || !strings.Contains(got, "4.0 MB/s") {
		t.Errorf("spinner %q lacks the rows read or the text rate", got)
	}
}

// TestRunProgress runs sift on real text twice: with --log-every 1ms
// into a buffer it logs lines; on a pseudo-terminal it draws the bar.
func TestRunProgress(t *testing.T) {
	dir := t.TempDir()
	fortuneCorpus(t, dir)
	recipe := filepath.Join(dir, "r.yaml")
	os.WriteFile(recipe, []byte("input: fortunes.jsonl\noutput: out.jsonl\nrejects: rej.jsonl\nstages:\n  - length_filter: {unit: words, min: 10}\n  - exact_dedup: {}\n"), 0o644)
	var stderr bytes.Buffer
	if err := cli(context.Background(), []string{"run", recipe, "--log-every", "1ms", "--batch-size", "64"}, nil, io.Discard, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if !regexp.MustCompile(`(?m)^sift: \d+m?s: [\d,]+ rows in, [\d,]+ out, .*% of [\d.]+ MB read`).MatchString(stderr.String()) {
		t.Errorf("no progress line with the share read:\n%s", stderr.String())
	}

	ptm, tty, err := pty.Open()
	if err != nil {
		t.Skip("no pseudo-terminal:", err)
	}
	defer ptm.Close()
	if err := pty.Setsize(ptm, &pty.Winsize{Rows: 40, Cols: 120}); err != nil {
		t.Fatal(err)
	}
	got := make(chan string)
	go func() {
		b, _ := io.ReadAll(ptm) // ends when the tty side is closed
		got <- string(b)
	}()
	err = cli(context.Background(), []string{"run", recipe, "--batch-size", "64", "--output", filepath.Join(dir, "out2.jsonl")}, nil, io.Discard, tty)
	tty.Close()
	if err != nil {
		t.Fatal(err)
	}
	out := <-got
	// A line of the bar: rows, share, a drawn bar, bytes of the total,
	// rate, [elapsed:left].
	bar := regexp.MustCompile(`\rsift [\d,]+ in, [\d,]+ out(, slowest \w+ drops [\d.]+%)? +\d+% \|█+ *\| \([\d.]+/[\d.]+ MB, [\d.]+ MB/s\) \[\d+s:\d+s\]`)
	if !bar.MatchString(out) {
		t.Errorf("no bar on the terminal:\n%q", out)
	}
}

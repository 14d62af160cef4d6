package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/siftdata/sift"
	"golang.org/x/term"
)

// defaultLogEvery is how often a run without a terminal logs its progress.
const defaultLogEvery = 10 * time.Second

// progress shows where a run is on w: on a terminal a bar, redrawn at
// most ten times a second; otherwise a line every interval. It is a
// [sift.Observer].
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	every time.Duration // for log lines; 0: none
	bar   *progressbar.ProgressBar
	next  time.Duration // elapsed time of the next log line
}

// newProgress returns the progress display for w, or nil when there is
// nothing to show: quiet, or no terminal and every is 0.
func newProgress(w io.Writer, quiet bool, every time.Duration) *progress {
	if quiet {
		return nil
	}
	f, ok := w.(*os.File)
	tty := ok && term.IsTerminal(int(f.Fd()))
	if !tty && every <= 0 {
		return nil
	}
	return &progress{w: w, tty: tty, every: every, next: every}
}

// Observe takes a snapshot of the run.
func (p *progress) Observe(pr sift.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.tty {
		if pr.Elapsed >= p.next {
			fmt.Fprintln(p.w, logLine(pr))
			p.next = (pr.Elapsed/p.every + 1) * p.every
		}
		return
	}
	if p.bar == nil {
		p.bar = newBar(p.w, pr.InputSize, 100*time.Millisecond)
	}
	p.bar.Describe(barText(pr))
	if pr.InputSize > 0 {
		p.bar.Set64(pr.InputDone)
	} else {
		p.bar.Set64(pr.RowsIn)
	}
}

// finish clears the bar; the summary follows.
func (p *progress) finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Finish()
	}
}

// newBar is the terminal bar: over the input's bytes, with its rate and
// time left, when its size is known, else a spinner counting rows read.
func newBar(w io.Writer, size int64, throttle time.Duration) *progressbar.ProgressBar {
	opts := []progressbar.Option{progressbar.OptionSetWriter(w), progressbar.OptionThrottle(throttle),
		progressbar.OptionClearOnFinish(), progressbar.OptionSetDescription("sift"), progressbar.OptionFullWidth()}
	if size > 0 {
		return progressbar.NewOptions64(size, append(opts, progressbar.OptionShowBytes(true), progressbar.OptionShowCount(),
			progressbar.OptionShowTotalBytes(true), progressbar.OptionSetPredictTime(true))...)
	}
	return progressbar.NewOptions64(-1, append(opts, progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("rows"), progressbar.OptionShowIts())...)
}

// barText is the bar's description: rows read and written, the slowest
// step's drop rate, and without a known input size (when the bar shows
// no byte rate of its own) the text read per second.
func barText(pr sift.Progress) string {
	s := fmt.Sprintf("sift %s in, %s out", count(pr.RowsIn), count(pr.RowsOut))
	if pr.InputSize <= 0 {
		s += fmt.Sprintf(", %.1f MB/s", mbs(pr))
	}
	if d := slowest(pr); d != "" {
		s += ", " + d
	}
	return s
}

// logLine is the progress line written without a terminal.
func logLine(pr sift.Progress) string {
	var b strings.Builder
	fmt.Fprintf(&b, "sift: %s: %s rows in, %s out, %s rows/s, %.1f MB/s of text",
		pr.Elapsed.Round(time.Second), count(pr.RowsIn), count(pr.RowsOut),
		count(int64(float64(pr.RowsIn)/max(pr.Elapsed.Seconds(), 1e-3))), mbs(pr))
	if pr.InputSize > 0 {
		fmt.Fprintf(&b, ", %.1f%% of %.1f MB read", 100*float64(pr.InputDone)/float64(pr.InputSize), float64(pr.InputSize)/1e6)
		if eta, ok := timeLeft(pr); ok {
			fmt.Fprintf(&b, ", about %s left", eta)
		}
	}
	if d := slowest(pr); d != "" {
		b.WriteString(", " + d)
	}
	return b.String()
}

func mbs(pr sift.Progress) float64 {
	return float64(pr.BytesIn) / 1e6 / max(pr.Elapsed.Seconds(), 1e-3)
}

// timeLeft estimates the time to the end from the share of the input read.
func timeLeft(pr sift.Progress) (time.Duration, bool) {
	if pr.InputSize <= 0 || pr.InputDone <= 0 {
		return 0, false
	}
	left := float64(pr.InputSize-pr.InputDone) / float64(pr.InputDone) * float64(pr.Elapsed)
	return time.Duration(left).Round(time.Second), true
}

// slowest names the step with the most busy time per worker so far (the
// one the run waits for) and the share of its rows it dropped; "" before
// any step has worked.
func slowest(pr sift.Progress) string {
	var best *sift.StageProgress
	per := func(s *sift.StageProgress) time.Duration { return s.Busy / time.Duration(max(s.Workers, 1)) }
	for i := 1; i < len(pr.Stages); i++ {
		if s := &pr.Stages[i]; s.Busy > 0 && (best == nil || per(s) > per(best)) {
			best = s
		}
	}
	if best == nil {
		return ""
	}
	rate := 0.0
	if n := best.RowsIn + best.RowsAdded; n > 0 {
		rate = 100 * float64(best.RowsRejected) / float64(n)
	}
	return fmt.Sprintf("slowest %s drops %.1f%%", best.Name, rate)
}

// count formats n with thousands separators.
func count(n int64) string {
	s := fmt.Sprint(n)
	start := 1
	if n < 0 {
		start = 2
	}
	for i := len(s) - 3; i >= start; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

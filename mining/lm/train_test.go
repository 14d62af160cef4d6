package lm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
)

// compareModels reports the largest differences between got and want's
// log10 probabilities and back-offs over want's n-grams, which got must all
// have, and n-gram counts.
func compareModels(t *testing.T, got, want *Model) (maxProb, maxBackoff float64) {
	t.Helper()
	if g, w := got.Counts(), want.Counts(); !slicesEqual(g, w) {
		t.Errorf("counts %v, want %v", g, w)
	}
	missing := 0
	for n := 1; n <= want.order; n++ {
		g := want.grams[n-1]
		words := make([]string, n)
		for i := 0; i < len(g); i += n {
			for j, id := range g[i : i+n] {
				words[j] = want.vocab[id]
			}
			we, _ := want.lookup(g[i : i+n])
			p, b, ok := got.Prob(words...)
			if !ok {
				if missing++; missing <= 5 {
					t.Errorf("missing %v", words)
				}
				continue
			}
			dp, db := math.Abs(float64(p-we.prob)), math.Abs(float64(b-we.backoff))
			if dp > maxProb {
				maxProb = dp
				if dp > 1e-4 {
					t.Logf("%v: prob %v want %v", words, p, we.prob)
				}
			}
			if db > maxBackoff {
				maxBackoff = db
				if db > 1e-4 {
					t.Logf("%v: backoff %v want %v", words, b, we.backoff)
				}
			}
		}
	}
	return
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestTrainConformance(t *testing.T) {
	train := readFixture(t, "train.txt.gz")
	for _, tc := range []struct {
		model string
		order int
		in    []byte
	}{
		{"tiny.3.arpa", 3, readFixture(t, "tiny.txt")},
		{"model.3.arpa.gz", 3, train},
		{"model.4.arpa.gz", 4, train},
	} {
		t.Run(tc.model, func(t *testing.T) {
			tr, err := NewTrainer(tc.order)
			if err != nil {
				t.Fatal(err)
			}
			if err := tr.AddText(bytes.NewReader(tc.in), Whitespace); err != nil {
				t.Fatal(err)
			}
			m, st, err := tr.Model()
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("discounts %+v", st.Discounts)
			mp, mb := compareModels(t, m, loadFixture(t, tc.model))
			t.Logf("max |Δ log10 p| = %.3g, max |Δ log10 backoff| = %.3g", mp, mb)
			if mp > 3e-7 || mb > 3e-7 {
				t.Errorf("differences too large")
			}
		})
	}
}

// trainText trains a model of the given order on text and returns its ARPA
// as WriteARPA writes it.
func trainText(t *testing.T, text []byte, order int, opts ...TrainOption) ([]byte, TrainStats, map[string]int) {
	t.Helper()
	tr, err := NewTrainer(order, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if err := tr.AddText(bytes.NewReader(text), Whitespace); err != nil {
		t.Fatal(err)
	}
	var arpa bytes.Buffer
	st, err := tr.WriteARPA(context.Background(), &arpa)
	if err != nil {
		t.Fatal(err)
	}
	return arpa.Bytes(), st, tr.b.spilled
}

// TestTrainSpillSame checks that a budget small enough to spill every sort
// of every order to disk gives the same ARPA, byte for byte, as training in
// memory, and that Model writes the same ARPA too.
func TestTrainSpillSame(t *testing.T) {
	train := readFixture(t, "train.txt.gz")
	for _, order := range []int{2, 4} {
		t.Run(fmt.Sprint(order), func(t *testing.T) {
			want, st, spilled := trainText(t, train, order)
			if st.Spills != 0 || len(spilled) != 0 {
				t.Errorf("%d spills with the default budget", st.Spills)
			}
			dir := t.TempDir()
			got, st, spilled := trainText(t, train, order, WithMemory(64<<10), WithTempDir(dir))
			if !bytes.Equal(got, want) {
				t.Errorf("ARPA with spills differs from the one without")
			}
			names := []string{fmt.Sprintf("%d-gram counts", order)}
			for n := 2; n <= order; n++ {
				names = append(names, fmt.Sprintf("%d-grams by context", n), fmt.Sprintf("%d-grams by suffix", n))
				if n < order {
					names = append(names, fmt.Sprintf("%d-gram back-offs", n), fmt.Sprintf("%d-gram probabilities", n))
				}
			}
			for _, name := range names {
				if spilled[name] < 2 {
					t.Errorf("%s: %d runs spilled", name, spilled[name])
				}
			}
			t.Logf("%d spills: %v", st.Spills, spilled)
			if ents, _ := os.ReadDir(dir); len(ents) > 0 {
				t.Errorf("%d files left in the temporary directory", len(ents))
			}

			tr, _ := NewTrainer(order, WithMemory(64<<10), WithTempDir(dir))
			tr.AddText(bytes.NewReader(train), Whitespace)
			m, _, err := tr.Model()
			if err != nil {
				t.Fatal(err)
			}
			var viaModel bytes.Buffer
			m.WriteARPA(&viaModel)
			if !bytes.Equal(viaModel.Bytes(), want) {
				t.Errorf("Model().WriteARPA differs from Trainer.WriteARPA")
			}
		})
	}
}

// cancelWriter cancels a context when it is first written to.
type cancelWriter struct{ cancel context.CancelFunc }

func (w cancelWriter) Write(p []byte) (int, error) {
	w.cancel()
	return len(p), nil
}

// TestTrainCancel cancels training while spilled runs are open and checks
// that it stops with the context's error and closes every temporary file.
func TestTrainCancel(t *testing.T) {
	train := readFixture(t, "train.txt.gz")
	dir := t.TempDir()
	before := openFiles(t)
	tr, _ := NewTrainer(4, WithMemory(64<<10), WithTempDir(dir))
	if err := tr.AddText(bytes.NewReader(train), Whitespace); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := tr.WriteARPA(ctx, cancelWriter{cancel})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want %v", err, context.Canceled)
	}
	if st.Spills == 0 {
		t.Errorf("nothing spilled before the cancel")
	}
	if after := openFiles(t); after != before {
		t.Errorf("%d open files after the cancel, %d before", after, before)
	}
	if ents, _ := os.ReadDir(dir); len(ents) > 0 {
		t.Errorf("%d files left in the temporary directory", len(ents))
	}
}

// openFiles counts the process's open file descriptors (Linux), or skips.
func openFiles(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

func TestTrainOptions(t *testing.T) {
	for _, tc := range []struct {
		order int
		opts  []TrainOption
		want  string
	}{
		{1, nil, "order"},
		{MaxOrder + 1, nil, "order"},
		{3, []TrainOption{WithMemory(0)}, "memory"},
	} {
		if _, err := NewTrainer(tc.order, tc.opts...); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("order %d: error %v, want one about %s", tc.order, err, tc.want)
		}
	}
}

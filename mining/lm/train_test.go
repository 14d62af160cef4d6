package lm

import (
	"bytes"
	"math"
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

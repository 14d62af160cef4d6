package annotate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// bruteKappa is Cohen's weighted kappa from its textbook form: a confusion
// matrix over the categories, expected counts from the marginals, weights
// w_ij = (v_i − v_j)² (quadratic) or [i ≠ j] (unweighted).
func bruteKappa(x, y []float64, quadratic bool) float64 {
	var cats []float64
	idx := map[float64]int{}
	for _, v := range append(append([]float64{}, x...), y...) {
		if _, ok := idx[v]; !ok {
			idx[v] = len(cats)
			cats = append(cats, v)
		}
	}
	k := len(cats)
	obs := make([][]float64, k)
	for i := range obs {
		obs[i] = make([]float64, k)
	}
	row, col := make([]float64, k), make([]float64, k)
	for i := range x {
		obs[idx[x[i]]][idx[y[i]]]++
		row[idx[x[i]]]++
		col[idx[y[i]]]++
	}
	n := float64(len(x))
	var num, den float64
	for i := 0; i < k; i++ {
		for j := 0; j < k; j++ {
			w := 0.0
			if quadratic {
				w = (cats[i] - cats[j]) * (cats[i] - cats[j])
			} else if i != j {
				w = 1
			}
			num += w * obs[i][j]
			den += w * row[i] * col[j] / n
		}
	}
	return 1 - num/den
}

func TestKappaBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for trial := 0; trial < 50; trial++ {
		var sb strings.Builder
		cats := []string{"knowledge_gap", "logic_error", "ethics"}
		type pair struct{ x, y []float64 }
		want := map[string]*pair{}
		for u := 0; u < 30; u++ {
			vals := map[int][2]float64{}
			for a := 0; a < 3; a++ {
				if rng.IntN(5) == 0 {
					continue
				}
				acc, e := float64(rng.IntN(4)), rng.IntN(3)
				vals[a] = [2]float64{acc, float64(e)}
				fmt.Fprintf(&sb, `{"id":"u%d","annotator":"a%d","accuracy":%v,"error_type":%q}`+"\n", u, a, acc, cats[e])
			}
			for a := 0; a < 3; a++ {
				for b := a + 1; b < 3; b++ {
					va, oka := vals[a]
					vb, okb := vals[b]
					if oka && okb {
						for d := 0; d < 2; d++ {
							key := fmt.Sprintf("%d a%d a%d", d, a, b)
							if want[key] == nil {
								want[key] = &pair{}
							}
							want[key].x = append(want[key].x, va[d])
							want[key].y = append(want[key].y, vb[d])
						}
					}
				}
			}
		}
		r := Rubric{{Name: "accuracy", Min: 0, Max: 3}, {Name: "error_type", Kind: Nominal, Values: cats}}
		l, err := ParseLabels([]byte(sb.String()), "k.jsonl", r)
		if err != nil {
			t.Fatal(err)
		}
		ag := l.Agreement(AgreementOptions{})
		for d, name := range []string{"accuracy", "error_type"} {
			for _, p := range ag[name].Kappa {
				w := want[fmt.Sprintf("%d %s %s", d, p.A, p.B)]
				if w == nil { // annotators are numbered by first appearance
					w = want[fmt.Sprintf("%d %s %s", d, p.B, p.A)]
				}
				wk := bruteKappa(w.x, w.y, d == 0)
				if p.Units != len(w.x) || math.IsNaN(wk) != math.IsNaN(float64(p.Kappa)) || math.Abs(wk-float64(p.Kappa)) > 1e-9 && !math.IsNaN(wk) {
					t.Fatalf("trial %d %s %s–%s: kappa %v on %d, brute force %v on %d", trial, name, p.A, p.B, p.Kappa, p.Units, wk, len(w.x))
				}
			}
		}
	}
}

func TestCombine(t *testing.T) {
	ord := Dimension{Name: "c", Kind: Ordinal, Min: 0, Max: 5}
	nom := Dimension{Name: "e", Kind: Nominal, Values: []string{"a", "b", "c"}}
	for _, c := range []struct {
		d             Dimension
		agg           Aggregate
		vals          []float64
		score, spread float64
	}{
		{ord, Median, []float64{4, 1, 5}, 4, 4},
		{ord, Median, []float64{4, 1}, 2.5, 3},
		{ord, Mean, []float64{4, 1, 1}, 2, 3},
		{ord, Min, []float64{4, 2, 5}, 2, 3},
		{ord, Majority, []float64{3, 1, 3}, 3, 2},
		{ord, Majority, []float64{3, 1}, 1, 2}, // tie: the lowest
		{ord, Median, []float64{3}, 3, 0},
		{nom, Median, []float64{2, 0, 2, 1}, 2, 0.5}, // nominal: always the majority
		{nom, Min, []float64{1, 1}, 1, 0},
	} {
		s, sp := Combine(c.d, c.agg, append([]float64{}, c.vals...))
		if s != c.score || sp != c.spread {
			t.Errorf("%s %s %v: %v, %v; want %v, %v", c.d.Name, c.agg, c.vals, s, sp, c.score, c.spread)
		}
	}
}

func TestBiasAndDisagreements(t *testing.T) {
	data := `{"id":"a","annotator":"p","completion":5,"error_type":"ethics"}
{"id":"a","annotator":"q","completion":4,"error_type":"ethics"}
{"id":"a","annotator":"h","completion":1,"error_type":"logic_error"}
{"id":"b","annotator":"p","completion":3}
{"id":"b","annotator":"q","completion":3}
{"id":"b","annotator":"h","completion":2}
{"id":"c","annotator":"p","completion":0}
`
	r := Rubric{{Name: "completion", Min: 0, Max: 5}, {Name: "error_type", Kind: Nominal, Values: []string{"logic_error", "ethics"}}}
	l, err := ParseLabels([]byte(data), "b.jsonl", r)
	if err != nil {
		t.Fatal(err)
	}
	ag := l.Agreement(AgreementOptions{})
	// Medians 4 and 3: p is +1 and 0, q is 0 and 0, h is -3 and -1.
	b := ag["completion"].Bias
	if b["p"] != 0.5 || b["q"] != 0 || b["h"] != -2 {
		t.Errorf("completion bias %v", b)
	}
	if e := ag["error_type"].Bias; e["h"] != 1 || e["p"] != 0 {
		t.Errorf("error_type bias %v", e)
	}
	if a := ag["completion"]; a.Units != 3 || a.Pairable != 6 || a.Annotators != 3 {
		t.Errorf("completion %+v", a)
	}
	var buf bytes.Buffer
	n, err := l.WriteDisagreements(&buf, 0.5)
	if err != nil || n != 1 {
		t.Fatalf("%d disagreements, %v", n, err)
	}
	var dis Disagreement
	if err := json.Unmarshal(buf.Bytes(), &dis); err != nil || dis.ID != "a" || dis.Dimension != "completion" || dis.Spread != 0.8 || dis.Labels["h"] != 1.0 {
		t.Errorf("%s", buf.String())
	}
	buf.Reset()
	if n, _ := l.WriteDisagreements(&buf, 0.3); n != 2 || !strings.Contains(buf.String(), `"dimension":"error_type","spread":0.333`) {
		t.Errorf("%d: %s", n, buf.String())
	}
	var tbl bytes.Buffer
	WriteAgreement(&tbl, r, ag)
	for _, want := range []string{"completion", "nominal", "p–h", "+0.500"} {
		if !strings.Contains(tbl.String(), want) {
			t.Errorf("table without %q:\n%s", want, tbl.String())
		}
	}
}

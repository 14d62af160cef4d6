package annotate

import (
	"math"
	"math/rand/v2"
	"testing"
)

var nan = math.NaN()

// krippendorff2011 is the reliability data with missing values of
// Krippendorff, "Computing Krippendorff's Alpha-Reliability" (2011, section
// "C. Any number of observers, any metric, missing data"): four observers,
// twelve units, the twelfth scored by one observer only.
var krippendorff2011 = [][]float64{
	{1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan},
	{1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3},
	{nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan},
	{1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan},
}

// TestAlphaPublished reproduces the alphas printed in the paper for that
// data: nominal .743, ordinal .815, interval .849, ratio .797.
func TestAlphaPublished(t *testing.T) {
	u := UnitsFromMatrix(krippendorff2011)
	for _, c := range []struct {
		kind Kind
		want float64
	}{{Nominal, 0.743}, {Ordinal, 0.815}, {Interval, 0.849}, {Ratio, 0.797}} {
		got := Alpha(u, c.kind)
		if math.Abs(got-c.want) > 0.0005 {
			t.Errorf("%s alpha = %.5f, want %.3f", c.kind, got, c.want)
		}
	}
	co := newCoincidences(u, Nominal)
	if co.pairable != 40 || co.units != 11 {
		t.Errorf("pairable values %d (want 40, the paper's n..), units %d (want 11)", co.pairable, co.units)
	}
}

// bruteAlpha is an independent, literal implementation: it writes out the
// coincidence matrix o_ck from every ordered pair of values within each
// unit, the marginals n_c, and the metric differences from their textbook
// definitions, then alpha = 1 - (n-1)·Σ o·δ² / Σ n_c·n_k·δ².
func bruteAlpha(m [][]float64, kind Kind) float64 {
	var vals []float64
	seen := map[float64]bool{}
	for _, row := range m {
		for _, v := range row {
			if !math.IsNaN(v) && !seen[v] {
				seen[v] = true
				vals = append(vals, v)
			}
		}
	}
	for i := range vals { // selection sort: no shared helpers
		for j := i + 1; j < len(vals); j++ {
			if vals[j] < vals[i] {
				vals[i], vals[j] = vals[j], vals[i]
			}
		}
	}
	pos := map[float64]int{}
	for i, v := range vals {
		pos[v] = i
	}
	V := len(vals)
	o := make([][]float64, V)
	for i := range o {
		o[i] = make([]float64, V)
	}
	for u := range m[0] {
		var vs []float64
		for c := range m {
			if !math.IsNaN(m[c][u]) {
				vs = append(vs, m[c][u])
			}
		}
		if len(vs) < 2 {
			continue
		}
		for i := range vs {
			for j := range vs {
				if i != j {
					o[pos[vs[i]]][pos[vs[j]]] += 1 / float64(len(vs)-1)
				}
			}
		}
	}
	nc := make([]float64, V)
	n := 0.0
	for c := range o {
		for k := range o {
			nc[c] += o[c][k]
		}
		n += nc[c]
	}
	d2 := func(c, k int) float64 {
		switch kind {
		case Nominal:
			if c == k {
				return 0
			}
			return 1
		case Ordinal:
			lo, hi := min(c, k), max(c, k)
			s := 0.0
			for g := lo; g <= hi; g++ {
				s += nc[g]
			}
			s -= (nc[c] + nc[k]) / 2
			return s * s
		case Ratio:
			if vals[c]+vals[k] == 0 {
				return 0
			}
			r := (vals[c] - vals[k]) / (vals[c] + vals[k])
			return r * r
		}
		return (vals[c] - vals[k]) * (vals[c] - vals[k])
	}
	var do, de float64
	for c := 0; c < V; c++ {
		for k := 0; k < V; k++ {
			do += o[c][k] * d2(c, k)
			de += nc[c] * nc[k] * d2(c, k)
		}
	}
	if n < 2 || de == 0 {
		return math.NaN()
	}
	return 1 - (n-1)*do/de
}

func TestAlphaBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 300; trial++ {
		coders := 2 + rng.IntN(5)
		units := 1 + rng.IntN(40)
		levels := 2 + rng.IntN(7)
		missing := rng.Float64() * 0.6
		m := make([][]float64, coders)
		for c := range m {
			m[c] = make([]float64, units)
			for u := range m[c] {
				if rng.Float64() < missing {
					m[c][u] = nan
				} else {
					m[c][u] = float64(rng.IntN(levels))
					if trial%3 == 0 { // non-integer, unevenly spaced values
						m[c][u] = m[c][u]*1.7 + 0.25
					}
				}
			}
		}
		u := UnitsFromMatrix(m)
		for _, kind := range []Kind{Nominal, Ordinal, Interval, Ratio} {
			got, want := Alpha(u, kind), bruteAlpha(m, kind)
			if math.IsNaN(got) != math.IsNaN(want) || math.Abs(got-want) > 1e-9 {
				t.Fatalf("trial %d %s: alpha %v, brute force %v\n%v", trial, kind, got, want, m)
			}
		}
	}
}

func TestAlphaEdgeCases(t *testing.T) {
	for _, c := range []struct {
		name string
		m    [][]float64
		want float64 // NaN: undefined
	}{
		{"all agree", [][]float64{{1, 2, 3, 0}, {1, 2, 3, 0}, {1, 2, nan, 0}}, 1},
		{"single category", [][]float64{{2, 2, 2}, {2, 2, 2}}, nan},
		{"one annotator", [][]float64{{1, 2, 3, 0}}, nan},
		{"no overlap", [][]float64{{1, nan}, {nan, 2}}, nan},
		{"empty", [][]float64{{}, {}}, nan},
		{"total disagreement, two values", [][]float64{{0, 1}, {1, 0}}, -0.5},
	} {
		for _, kind := range []Kind{Nominal, Ordinal, Interval} {
			got := Alpha(UnitsFromMatrix(c.m), kind)
			if math.IsNaN(c.want) != math.IsNaN(got) || !math.IsNaN(got) && math.Abs(got-c.want) > 1e-12 {
				t.Errorf("%s %s: alpha %v, want %v", c.name, kind, got, c.want)
			}
		}
	}
}

// TestBootstrap checks that the interval is seeded, holds the point
// estimate, and that both samplers (multinomial over patterns, unit by
// unit) give the same distribution.
func TestBootstrap(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	m := make([][]float64, 3)
	for c := range m {
		m[c] = make([]float64, 400)
	}
	for u := 0; u < 400; u++ {
		truth := rng.IntN(6)
		for c := range m {
			v := truth + rng.IntN(3) - 1
			m[c][u] = float64(min(max(v, 0), 5))
		}
	}
	u := UnitsFromMatrix(m)
	co := newCoincidences(u, Ordinal)
	a := co.alpha(nil)
	lo, hi, n := co.bootstrap(2000, 7)
	lo2, hi2, _ := co.bootstrap(2000, 7)
	if lo != lo2 || hi != hi2 {
		t.Fatalf("same seed, different intervals: [%v, %v] vs [%v, %v]", lo, hi, lo2, hi2)
	}
	if !(lo < a && a < hi) || n != 2000 || hi-lo > 0.2 {
		t.Fatalf("alpha %v, interval [%v, %v] from %d resamples", a, lo, hi, n)
	}
	// The unit-by-unit sampler on the same data, and a brute-force unit
	// bootstrap that rebuilds the matrix for every resample.
	defer func(l int) { directLimit = l }(directLimit)
	directLimit = 0
	dlo, dhi, _ := co.bootstrap(2000, 7)
	var alphas []float64
	r := rand.New(rand.NewPCG(9, 9))
	for b := 0; b < 2000; b++ {
		mm := make([][]float64, 3)
		for c := range mm {
			mm[c] = make([]float64, 400)
		}
		for j := 0; j < 400; j++ {
			k := r.IntN(400)
			for c := range mm {
				mm[c][j] = m[c][k]
			}
		}
		alphas = append(alphas, Alpha(UnitsFromMatrix(mm), Ordinal))
	}
	sortFloats(alphas)
	blo, bhi := quantile(alphas, 0.025), quantile(alphas, 0.975)
	for _, x := range [][2]float64{{dlo, dhi}, {blo, bhi}} {
		if math.Abs(x[0]-lo) > 0.015 || math.Abs(x[1]-hi) > 0.015 {
			t.Errorf("multinomial interval [%.4f, %.4f], unit by unit [%.4f, %.4f], brute force [%.4f, %.4f]", lo, hi, dlo, dhi, blo, bhi)
		}
	}
}

func sortFloats(s []float64) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

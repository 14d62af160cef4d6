package annotate

import (
	"encoding/binary"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// Units is reliability data in compressed form: the values of unit u are
// Vals[Off[u]:Off[u+1]], one per annotator who scored it (missing values
// are simply absent). Coder, when not nil, gives the annotator of each
// value; alpha does not need it, kappa and bias do.
type Units struct {
	Off   []int
	Vals  []float64
	Coder []int32
}

// Len is the number of units.
func (u Units) Len() int { return max(len(u.Off)-1, 0) }

// UnitsFromMatrix builds Units from a coders × units matrix in which NaN
// marks a missing value, the layout of Krippendorff's reliability data
// tables.
func UnitsFromMatrix(m [][]float64) Units {
	var u Units
	u.Off = append(u.Off, 0)
	if len(m) == 0 {
		return u
	}
	for j := range m[0] {
		for c := range m {
			if v := m[c][j]; !math.IsNaN(v) {
				u.Vals = append(u.Vals, v)
				u.Coder = append(u.Coder, int32(c))
			}
		}
		u.Off = append(u.Off, len(u.Vals))
	}
	return u
}

// Alpha returns Krippendorff's alpha of u with the difference function of
// kind: nominal, ordinal, interval or ratio (as defined in Krippendorff,
// "Computing Krippendorff's Alpha-Reliability", 2011). Units with fewer than
// two values are not pairable and are ignored.
//
// Alpha is NaN when it is undefined: when there are fewer than two pairable
// values, or when every pairable value is the same (no variation, so the
// expected disagreement is 0).
func Alpha(u Units, kind Kind) float64 {
	return newCoincidences(u, kind).alpha(nil)
}

// pattern is one distinct multiset of values in a pairable unit. Units
// with the same multiset contribute the same coincidences, so alpha and its
// bootstrap work on pattern counts, not on units.
type pattern struct {
	idx []int32   // distinct value indexes, ascending
	cnt []float64 // how often each occurs in the unit
	m   float64   // values in the unit
}

// coincidences is u reduced to distinct values and unit patterns.
type coincidences struct {
	kind     Kind
	vals     []float64 // distinct pairable values, ascending
	pats     []pattern
	count    []float64 // units per pattern
	units    int       // pairable units
	pairable int       // pairable values (Krippendorff's n..)

	// scratch for alpha
	n, cum []float64
}

func newCoincidences(u Units, kind Kind) *coincidences {
	c := &coincidences{kind: kind}
	c.vals = pairableValues(u)
	index := valueIndex(c.vals)
	ids := map[uint64]int32{}
	var slow map[string]int32
	var buf []int32
	var key []byte
	for j := 0; j < u.Len(); j++ {
		vs := u.Vals[u.Off[j]:u.Off[j+1]]
		if len(vs) < 2 {
			continue
		}
		buf = buf[:0]
		for _, v := range vs {
			buf = append(buf, index(v))
		}
		if len(buf) <= 3 {
			sort3(buf)
		} else {
			slices.Sort(buf)
		}
		c.units++
		c.pairable += len(buf)
		var id int32
		var ok bool
		if len(buf) <= 3 && len(c.vals) < 1<<20 {
			k := uint64(len(buf)) << 60
			for i, x := range buf {
				k |= uint64(x) << (20 * i)
			}
			if id, ok = ids[k]; !ok {
				id = c.add(buf)
				ids[k] = id
			}
		} else {
			key = key[:0]
			for _, x := range buf {
				key = binary.LittleEndian.AppendUint32(key, uint32(x))
			}
			if slow == nil {
				slow = map[string]int32{}
			}
			if id, ok = slow[string(key)]; !ok {
				id = c.add(buf)
				slow[string(key)] = id
			}
		}
		c.count[id]++
	}
	c.n = make([]float64, len(c.vals))
	c.cum = make([]float64, len(c.vals))
	return c
}

// add registers the pattern of the sorted value indexes buf.
func (c *coincidences) add(buf []int32) int32 {
	var p pattern
	for i, x := range buf {
		if i > 0 && x == buf[i-1] {
			p.cnt[len(p.cnt)-1]++
			continue
		}
		p.idx = append(p.idx, x)
		p.cnt = append(p.cnt, 1)
	}
	p.m = float64(len(buf))
	c.pats = append(c.pats, p)
	c.count = append(c.count, 0)
	return int32(len(c.pats) - 1)
}

func sort3(b []int32) {
	for i := 1; i < len(b); i++ {
		for j := i; j > 0 && b[j] < b[j-1]; j-- {
			b[j], b[j-1] = b[j-1], b[j]
		}
	}
}

// pairableValues returns the distinct values of units with at least two
// values, ascending. Whole numbers in a small range, the usual case for
// rubric scores, are found with a table instead of a sort.
func pairableValues(u Units) []float64 {
	lo, hi, whole := math.Inf(1), math.Inf(-1), true
	for j := 0; j < u.Len(); j++ {
		if u.Off[j+1]-u.Off[j] < 2 {
			continue
		}
		for _, v := range u.Vals[u.Off[j]:u.Off[j+1]] {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
			whole = whole && v == math.Trunc(v)
		}
	}
	if lo > hi {
		return nil
	}
	if whole && hi-lo < 4096 {
		seen := make([]bool, int(hi-lo)+1)
		for j := 0; j < u.Len(); j++ {
			if u.Off[j+1]-u.Off[j] >= 2 {
				for _, v := range u.Vals[u.Off[j]:u.Off[j+1]] {
					seen[int(v-lo)] = true
				}
			}
		}
		var out []float64
		for i, ok := range seen {
			if ok {
				out = append(out, lo+float64(i))
			}
		}
		return out
	}
	var all []float64
	for j := 0; j < u.Len(); j++ {
		if u.Off[j+1]-u.Off[j] >= 2 {
			all = append(all, u.Vals[u.Off[j]:u.Off[j+1]]...)
		}
	}
	slices.Sort(all)
	return slices.Compact(all)
}

// valueIndex returns a function from a value to its index in vals (sorted,
// distinct). Small integer ranges, the usual case for rubric scores, use a
// table; anything else a binary search.
func valueIndex(vals []float64) func(float64) int32 {
	if len(vals) > 0 {
		lo, hi := vals[0], vals[len(vals)-1]
		if hi-lo < 4096 && lo == math.Trunc(lo) && hi == math.Trunc(hi) {
			table := make([]int32, int(hi-lo)+1)
			integral := true
			for i, v := range vals {
				if v != math.Trunc(v) {
					integral = false
					break
				}
				table[int(v-lo)] = int32(i)
			}
			if integral {
				return func(v float64) int32 { return table[int(v-lo)] }
			}
		}
	}
	return func(v float64) int32 { return int32(sort.SearchFloat64s(vals, v)) }
}

// alpha computes alpha with the units of pattern p counted w[p] times (nil
// for the observed counts).
func (c *coincidences) alpha(w []float64) float64 {
	if w == nil {
		w = c.count
	}
	n := c.n
	clear(n)
	for p, pat := range c.pats {
		if w[p] == 0 {
			continue
		}
		for i, x := range pat.idx {
			n[x] += w[p] * pat.cnt[i]
		}
	}
	var total float64
	for _, x := range n {
		total += x
	}
	if total < 2 {
		return math.NaN()
	}
	if c.kind == Ordinal {
		s := 0.0
		for i, x := range n {
			s += x
			c.cum[i] = s
		}
	}
	// Observed: sum over units of sum over ordered pairs of different
	// values of delta²/(m-1). Equal values never differ.
	var obs float64
	for p, pat := range c.pats {
		if w[p] == 0 || len(pat.idx) < 2 {
			continue
		}
		var s float64
		for a := 0; a < len(pat.idx); a++ {
			for b := a + 1; b < len(pat.idx); b++ {
				s += pat.cnt[a] * pat.cnt[b] * c.delta2(int(pat.idx[a]), int(pat.idx[b]))
			}
		}
		obs += w[p] * 2 * s / (pat.m - 1)
	}
	exp := c.expected(total)
	if exp <= 0 {
		return math.NaN()
	}
	return 1 - (total-1)*obs/exp
}

// delta2 is the squared difference of value indexes a < b under c.kind,
// with the ordinal metric's ranks taken from the current marginals.
func (c *coincidences) delta2(a, b int) float64 {
	switch c.kind {
	case Nominal:
		return 1
	case Ordinal:
		// sum of n_g for a <= g <= b, minus half of n_a and n_b.
		d := c.cum[b] - c.cum[a] + c.n[a] - (c.n[a]+c.n[b])/2
		return d * d
	case Ratio:
		x, y := c.vals[a], c.vals[b]
		if x+y == 0 {
			return 0
		}
		d := (x - y) / (x + y)
		return d * d
	}
	d := c.vals[a] - c.vals[b]
	return d * d
}

// expected returns the sum over ordered value pairs of n_c·n_k·delta²,
// alpha's expected disagreement times n(n-1).
func (c *coincidences) expected(total float64) float64 {
	n := c.n
	switch c.kind {
	case Nominal:
		s := total * total
		for _, x := range n {
			s -= x * x
		}
		return s
	case Interval:
		// 2·(n·Σ n_c v_c² − (Σ n_c v_c)²), on centred values for accuracy.
		var mean float64
		for i, x := range n {
			mean += x * c.vals[i]
		}
		mean /= total
		var s2 float64
		for i, x := range n {
			d := c.vals[i] - mean
			s2 += x * d * d
		}
		return 2 * total * s2
	}
	var s float64
	for a := range n {
		if n[a] == 0 {
			continue
		}
		for b := a + 1; b < len(n); b++ {
			if n[b] != 0 {
				s += n[a] * n[b] * c.delta2(a, b)
			}
		}
	}
	return 2 * s
}

// directLimit is the number of patterns above which the bootstrap draws
// units one by one instead of drawing pattern counts from a multinomial.
// A variable so that tests can exercise both samplers on the same data.
var directLimit = 4096

// bootstrap returns the 2.5th and 97.5th percentiles of alpha over
// resamples resamples of the pairable units, drawn with replacement, and
// how many resamples gave a defined alpha (the others are left out).
//
// A resample of the units only changes how often each pattern occurs, and
// those counts follow a multinomial distribution; with few patterns (rubric
// scores have few) it is drawn as a chain of binomials, which costs the
// same for a thousand units or a billion. With many patterns units are
// drawn one by one.
func (c *coincidences) bootstrap(resamples int, seed uint64) (lo, hi float64, defined int) {
	if resamples <= 0 || c.units == 0 {
		return math.NaN(), math.NaN(), 0
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed_a1fa))
	w := make([]float64, len(c.pats))
	var unitPat, cnt []int32
	if len(c.pats) > directLimit {
		cnt = make([]int32, len(c.pats))
		for p, k := range c.count {
			for range int(k) {
				unitPat = append(unitPat, int32(p))
			}
		}
	}
	alphas := make([]float64, 0, resamples)
	for range resamples {
		if unitPat != nil {
			clear(cnt)
			n := uint64(len(unitPat))
			for range n {
				// Lemire's multiply-shift: an index in [0, n) without a division.
				hi, _ := bits.Mul64(rng.Uint64(), n)
				cnt[unitPat[hi]]++
			}
			for p, k := range cnt {
				w[p] = float64(k)
			}
		} else {
			multinomial(w, c.count, float64(c.units), rng)
		}
		if a := c.alpha(w); !math.IsNaN(a) {
			alphas = append(alphas, a)
		}
	}
	if len(alphas) == 0 {
		return math.NaN(), math.NaN(), 0
	}
	slices.Sort(alphas)
	return quantile(alphas, 0.025), quantile(alphas, 0.975), len(alphas)
}

// multinomial draws w ~ Multinomial(n, count/Σcount) by conditional
// binomials.
func multinomial(w, count []float64, n float64, rng *rand.Rand) {
	rest := 0.0
	for _, k := range count {
		rest += k
	}
	left := n
	for p, k := range count {
		switch {
		case left <= 0 || k == 0:
			w[p] = 0
		case k >= rest:
			w[p] = left
		default:
			w[p] = distuv.Binomial{N: left, P: k / rest, Src: rng}.Rand()
		}
		left -= w[p]
		rest -= k
	}
}

// quantile is the q-quantile of sorted s, interpolating linearly between
// ranks (numpy's default).
func quantile(s []float64, q float64) float64 {
	pos := q * float64(len(s)-1)
	i := int(pos)
	if i+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[i] + (pos-float64(i))*(s[i+1]-s[i])
}

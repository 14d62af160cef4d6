package annotate

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"slices"
	"strconv"
	"text/tabwriter"
)

// Aggregate is how the labels of one row are combined into one score.
type Aggregate string

// The aggregates. Nominal dimensions always use Majority.
const (
	Median   Aggregate = "median"   // middle value; the mean of the two middle ones for an even count
	Mean     Aggregate = "mean"     // arithmetic mean
	Min      Aggregate = "min"      // the harshest annotator's score
	Majority Aggregate = "majority" // most frequent value; ties go to the lowest (the first category)
)

// ParseAggregate checks an aggregate name.
func ParseAggregate(s string) (Aggregate, error) {
	switch a := Aggregate(s); a {
	case Median, Mean, Min, Majority:
		return a, nil
	}
	return "", fmt.Errorf("%q is not one of median, mean, min, majority", s)
}

// Combine returns the aggregate of vals (not empty; reordered) and their
// spread: max − min for numeric dimensions, and for nominal ones the share
// of labels that differ from the majority.
func Combine(d Dimension, a Aggregate, vals []float64) (score, spread float64) {
	slices.Sort(vals)
	if d.Kind == Nominal {
		a = Majority
	} else {
		spread = vals[len(vals)-1] - vals[0]
	}
	switch a {
	case Mean:
		var s float64
		for _, v := range vals {
			s += v
		}
		return s / float64(len(vals)), spread
	case Min:
		return vals[0], spread
	case Majority:
		best, bestN := vals[0], 0
		for i := 0; i < len(vals); {
			j := i
			for j < len(vals) && vals[j] == vals[i] {
				j++
			}
			if j-i > bestN {
				best, bestN = vals[i], j-i
			}
			i = j
		}
		if d.Kind == Nominal {
			spread = float64(len(vals)-bestN) / float64(len(vals))
		}
		return best, spread
	}
	n := len(vals)
	if n%2 == 1 {
		return vals[n/2], spread
	}
	return (vals[n/2-1] + vals[n/2]) / 2, spread
}

// Num is a float64 that encodes NaN (an undefined statistic) as JSON null.
type Num float64

// MarshalJSON writes n, or null for NaN and infinities.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'f', -1, 64), nil
}

// DimAgreement is the agreement on one dimension.
type DimAgreement struct {
	Kind Kind `json:"kind"`
	// Alpha is Krippendorff's alpha with the metric of Kind; null when
	// undefined (no variation, or fewer than two pairable values).
	Alpha Num `json:"alpha"`
	// CILow and CIHigh bound the bootstrap 95 % interval of alpha.
	CILow  Num `json:"ci_low"`
	CIHigh Num `json:"ci_high"`
	// Units is the number of rows with at least one value; Pairable the
	// number of values in rows with at least two (Krippendorff's n..).
	Units      int `json:"units"`
	Annotators int `json:"annotators"`
	Pairable   int `json:"pairable"`
	// Resamples is the number of bootstrap resamples with a defined alpha.
	Resamples int `json:"resamples"`
	// Kappa is Cohen's kappa of every annotator pair with shared rows:
	// quadratic-weighted for numeric dimensions, unweighted for nominal.
	Kappa []PairKappa `json:"kappa,omitempty"`
	// Bias is each annotator's mean deviation from the row's aggregate
	// score, over rows with at least two values; for a nominal dimension
	// the share of the annotator's labels that differ from the majority.
	Bias map[string]Num `json:"bias,omitempty"`
	Note string         `json:"note,omitempty"`
}

// PairKappa is Cohen's kappa of two annotators on the rows both scored.
type PairKappa struct {
	A     string `json:"a"`
	B     string `json:"b"`
	Units int    `json:"units"`
	Kappa Num    `json:"kappa"`
}

// AgreementOptions configure [Labels.Agreement].
type AgreementOptions struct {
	// Resamples is the number of bootstrap resamples (0: no interval).
	Resamples int
	// Seed seeds the bootstrap.
	Seed uint64
	// Aggregate is the consensus annotator bias is measured against
	// (default median).
	Aggregate Aggregate
}

// Agreement measures agreement on every dimension of the rubric. The
// result maps dimension names to their agreement.
func (l *Labels) Agreement(o AgreementOptions) map[string]*DimAgreement {
	if o.Aggregate == "" {
		o.Aggregate = Median
	}
	out := map[string]*DimAgreement{}
	for d, dim := range l.Rubric {
		u := l.Units(d)
		co := newCoincidences(u, dim.Kind)
		a := &DimAgreement{Kind: dim.Kind, Alpha: Num(co.alpha(nil)), Pairable: co.pairable}
		h := fnv.New64a()
		h.Write([]byte(dim.Name))
		lo, hi, n := co.bootstrap(o.Resamples, o.Seed^h.Sum64())
		a.CILow, a.CIHigh, a.Resamples = Num(lo), Num(hi), n
		seen := make([]bool, len(l.Annotators))
		for j := 0; j < u.Len(); j++ {
			if u.Off[j+1] > u.Off[j] {
				a.Units++
			}
		}
		for _, c := range u.Coder {
			if !seen[c] {
				seen[c] = true
				a.Annotators++
			}
		}
		switch {
		case co.pairable < 2:
			a.Note = "alpha undefined: fewer than two pairable values (no row has two annotators)"
		case math.IsNaN(float64(a.Alpha)):
			a.Note = "alpha undefined: every pairable value is the same, so no disagreement is expected"
		}
		a.Kappa = l.kappas(dim, u)
		a.Bias = l.bias(dim, u, o.Aggregate)
		out[dim.Name] = a
	}
	return out
}

// kappas computes Cohen's kappa for every annotator pair. The quadratic
// weights are the squared score differences, so for the pair's scores x, y
// over their shared rows, kappa = 1 − mean((x−y)²) / (mean(x²) + mean(y²) −
// 2·mean(x)·mean(y)): observed over chance-expected squared disagreement.
func (l *Labels) kappas(dim Dimension, u Units) []PairKappa {
	type acc struct {
		n, sx, sy, sxx, syy, d2, agree float64
		px, py                         map[float64]float64
	}
	A := len(l.Annotators)
	pairs := map[int]*acc{}
	for j := 0; j < u.Len(); j++ {
		for i := u.Off[j]; i < u.Off[j+1]; i++ {
			for k := u.Off[j]; k < u.Off[j+1]; k++ {
				a, b := u.Coder[i], u.Coder[k]
				if a >= b {
					continue
				}
				p := pairs[int(a)*A+int(b)]
				if p == nil {
					p = &acc{px: map[float64]float64{}, py: map[float64]float64{}}
					pairs[int(a)*A+int(b)] = p
				}
				x, y := u.Vals[i], u.Vals[k]
				p.n++
				p.sx += x
				p.sy += y
				p.sxx += x * x
				p.syy += y * y
				p.d2 += (x - y) * (x - y)
				if x == y {
					p.agree++
				}
				p.px[x]++
				p.py[y]++
			}
		}
	}
	keys := make([]int, 0, len(pairs))
	for k := range pairs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []PairKappa
	for _, k := range keys {
		p := pairs[k]
		var kappa float64
		if dim.Kind == Nominal {
			var pe float64
			for v, c := range p.px {
				pe += c * p.py[v]
			}
			pe /= p.n * p.n
			kappa = (p.agree/p.n - pe) / (1 - pe)
		} else {
			mx, my := p.sx/p.n, p.sy/p.n
			kappa = 1 - (p.d2/p.n)/(p.sxx/p.n+p.syy/p.n-2*mx*my)
		}
		if math.IsInf(kappa, 0) {
			kappa = math.NaN()
		}
		out = append(out, PairKappa{A: l.Annotators[k/A], B: l.Annotators[k%A], Units: int(p.n), Kappa: Num(kappa)})
	}
	return out
}

// bias computes each annotator's mean deviation from the consensus.
func (l *Labels) bias(dim Dimension, u Units, agg Aggregate) map[string]Num {
	sum := make([]float64, len(l.Annotators))
	cnt := make([]float64, len(l.Annotators))
	var buf []float64
	for j := 0; j < u.Len(); j++ {
		vs := u.Vals[u.Off[j]:u.Off[j+1]]
		if len(vs) < 2 {
			continue
		}
		buf = append(buf[:0], vs...)
		c, _ := Combine(dim, agg, buf)
		for i, v := range vs {
			a := u.Coder[u.Off[j]+i]
			cnt[a]++
			if dim.Kind == Nominal {
				if v != c {
					sum[a]++
				}
			} else {
				sum[a] += v - c
			}
		}
	}
	out := map[string]Num{}
	for a, n := range cnt {
		if n > 0 {
			out[l.Annotators[a]] = Num(sum[a] / n)
		}
	}
	return out
}

// Disagreement is a row and dimension whose labels spread widely.
type Disagreement struct {
	ID        string         `json:"id"`
	Dimension string         `json:"dimension"`
	Spread    Num            `json:"spread"`
	Labels    map[string]any `json:"labels"`
}

// Spread returns the spread of dimension d's labels on unit u scaled to
// [0, 1]: (max − min)/(Max − Min) for numeric dimensions, the share of
// labels differing from the majority for nominal ones; NaN with fewer than
// two values.
func (l *Labels) Spread(u, d int) float64 {
	dim := l.Rubric[d]
	var vals []float64
	for _, lb := range l.Of(u) {
		if v := lb.Values[d]; !math.IsNaN(v) {
			vals = append(vals, v)
		}
	}
	if len(vals) < 2 {
		return math.NaN()
	}
	_, s := Combine(dim, Majority, vals)
	if dim.Numeric() {
		s /= dim.Max - dim.Min
	}
	return s
}

// WriteDisagreements writes one JSON line per row and dimension whose
// scaled spread (see Spread) is at least threshold, in label-file order, and
// returns how many it wrote.
func (l *Labels) WriteDisagreements(w io.Writer, threshold float64) (int, error) {
	n := 0
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for u := range l.IDs {
		for d, dim := range l.Rubric {
			s := l.Spread(u, d)
			if math.IsNaN(s) || s < threshold {
				continue
			}
			dis := Disagreement{ID: l.IDs[u], Dimension: dim.Name, Spread: Num(s), Labels: map[string]any{}}
			for _, lb := range l.Of(u) {
				if v := lb.Values[d]; !math.IsNaN(v) {
					dis.Labels[l.Annotators[lb.Annotator]] = labelJSON(dim, v)
				}
			}
			if err := enc.Encode(dis); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// labelJSON is a label as written to JSON: the category name or the number.
func labelJSON(d Dimension, v float64) any {
	if d.Kind == Nominal {
		return d.Format(v)
	}
	return Num(v)
}

// WriteAgreement prints agreement (from [Labels.Agreement]) as three
// tables, in the rubric's order: alpha with its interval, kappa per
// annotator pair, and annotator bias.
func WriteAgreement(w io.Writer, r Rubric, agreement map[string]*DimAgreement) error {
	f := func(n Num) string {
		if math.IsNaN(float64(n)) {
			return "—"
		}
		return strconv.FormatFloat(float64(n), 'f', 3, 64)
	}
	var notes []string
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "dimension\tkind\talpha\t95% CI\tunits\tannotators\tpairable")
	for _, d := range r {
		if a := agreement[d.Name]; a != nil {
			fmt.Fprintf(tw, "%s\t%s\t%s\t[%s, %s]\t%d\t%d\t%d\n", d.Name, a.Kind, f(a.Alpha), f(a.CILow), f(a.CIHigh), a.Units, a.Annotators, a.Pairable)
			if a.Note != "" {
				notes = append(notes, d.Name+": "+a.Note)
			}
		}
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "dimension\tpair\tunits\tkappa")
	for _, d := range r {
		if a := agreement[d.Name]; a != nil {
			for _, p := range a.Kappa {
				fmt.Fprintf(tw, "%s\t%s–%s\t%d\t%s\n", d.Name, p.A, p.B, p.Units, f(p.Kappa))
			}
		}
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "dimension\tannotator\tbias")
	for _, d := range r {
		a := agreement[d.Name]
		if a == nil {
			continue
		}
		names := make([]string, 0, len(a.Bias))
		for n := range a.Bias {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			fmt.Fprintf(tw, "%s\t%s\t%+.3f\n", d.Name, n, float64(a.Bias[n]))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, n := range notes {
		fmt.Fprintln(w, n)
	}
	_, err := fmt.Fprintln(w, "alpha: Krippendorff's, metric of the kind, 95 % CI from a unit bootstrap; kappa: Cohen's, quadratic-weighted (nominal: unweighted);\nbias: mean deviation from the consensus (nominal: share of labels off the majority)")
	return err
}

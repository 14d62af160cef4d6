package annotate

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/siftdata/sift"
)

// BelowRubric is the reject reason of the rubric filter.
const BelowRubric = "below_rubric"

// Filter is the rubric_filter stage: it keeps rows whose aggregated scores
// (the labels column of the annotations stage) reach per-dimension minimums
// and a minimum weighted total.
type Filter struct {
	rubric   Rubric
	min      map[string]float64
	weights  map[string]float64
	minScore float64
	reject   bool
	dims     []string // dimensions checked, in rubric order
}

var _ sift.Stage = (*Filter)(nil)

// FilterOption configures [NewFilter].
type FilterOption func(*Filter)

// WithMin sets per-dimension minimum scores, inclusive.
func WithMin(min map[string]float64) FilterOption { return func(f *Filter) { f.min = min } }

// WithWeights sets the weights of the total score (Σ weight·score) that
// WithMinScore bounds. The default weight is 1 for every numeric dimension.
func WithWeights(w map[string]float64) FilterOption { return func(f *Filter) { f.weights = w } }

// WithMinScore sets the minimum weighted total, inclusive.
func WithMinScore(s float64) FilterOption {
	return func(f *Filter) { f.minScore = s }
}

// WithUnlabeledReject makes rows without labels rejects (reason
// "unlabeled"); by default they pass.
func WithUnlabeledReject(reject bool) FilterOption { return func(f *Filter) { f.reject = reject } }

// NewFilter returns a rubric filter for rows labelled with rubric r. At
// least one minimum or a min_score is required; a row with a missing score
// in a dimension it is judged on fails that dimension.
func NewFilter(r Rubric, opts ...FilterOption) (*Filter, error) {
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("rubric: %w", err)
	}
	f := &Filter{rubric: r, minScore: math.Inf(-1)}
	for _, o := range opts {
		o(f)
	}
	for _, name := range sortedKeys(f.min) {
		d := r.Index(name)
		switch {
		case d < 0:
			return nil, fmt.Errorf("min: %q is not a rubric dimension (%s)", name, strings.Join(r.Names(), ", "))
		case !r[d].Numeric():
			return nil, fmt.Errorf("min: %q is nominal; its categories have no order", name)
		}
	}
	if f.weights == nil && !math.IsInf(f.minScore, -1) {
		f.weights = map[string]float64{}
		for _, d := range r {
			if d.Numeric() {
				f.weights[d.Name] = 1
			}
		}
	}
	for _, name := range sortedKeys(f.weights) {
		d := r.Index(name)
		switch {
		case d < 0:
			return nil, fmt.Errorf("weights: %q is not a rubric dimension (%s)", name, strings.Join(r.Names(), ", "))
		case !r[d].Numeric():
			return nil, fmt.Errorf("weights: %q is nominal; its categories have no value", name)
		}
	}
	if len(f.weights) > 0 && math.IsInf(f.minScore, -1) {
		return nil, fmt.Errorf("weights: given without min_score")
	}
	if len(f.min) == 0 && math.IsInf(f.minScore, -1) {
		return nil, fmt.Errorf("min, min_score: give per-dimension minimums, a min_score, or both")
	}
	for _, d := range r {
		_, m := f.min[d.Name]
		_, w := f.weights[d.Name]
		if m || w {
			f.dims = append(f.dims, d.Name)
		}
	}
	return f, nil
}

func sortedKeys(m map[string]float64) []string {
	k := make([]string, 0, len(m))
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}

// Process rejects rows below the rubric with a detail naming each failed
// dimension and its score.
func (f *Filter) Process(ctx context.Context, b *sift.Batch) (arrow.RecordBatch, error) {
	rec := b.Rec
	i := slices.IndexFunc(rec.Schema().Fields(), func(x arrow.Field) bool { return x.Name == ColLabels })
	if i < 0 {
		return nil, fmt.Errorf("no %s column: run the annotations stage first", ColLabels)
	}
	col, ok := rec.Column(i).(*array.Struct)
	if !ok {
		return nil, fmt.Errorf("column %s is %s, not the annotations stage's struct", ColLabels, rec.Column(i).DataType())
	}
	st := col.DataType().(*arrow.StructType)
	scores := map[string]*array.Float64{}
	dimCols := map[string]*array.Struct{}
	for _, name := range f.dims {
		k, ok := st.FieldIdx(name)
		if !ok {
			return nil, fmt.Errorf("column %s has no dimension %q (it has %s)", ColLabels, name, fieldNames(st))
		}
		dc, ok := col.Field(k).(*array.Struct)
		var sc *array.Float64
		if ok && dc.NumField() > 0 {
			sc, ok = dc.Field(0).(*array.Float64)
		}
		if !ok {
			return nil, fmt.Errorf("column %s: dimension %q has no numeric score", ColLabels, name)
		}
		dimCols[name], scores[name] = dc, sc
	}
	var failed []string
	var kept, unlabeled int64
	for row := 0; row < int(rec.NumRows()); row++ {
		if col.IsNull(row) {
			unlabeled++
			if f.reject {
				b.Reject(row, Unlabeled, "no labels")
			}
			continue
		}
		failed = failed[:0]
		total := 0.0
		for _, name := range f.dims {
			v := math.NaN()
			if dimCols[name].IsValid(row) {
				v = scores[name].Value(row)
			}
			if m, ok := f.min[name]; ok && !(v >= m) {
				if math.IsNaN(v) {
					failed = append(failed, name+" missing")
				} else {
					failed = append(failed, fmt.Sprintf("%s %s < %s", name, fmtNum(v), fmtNum(m)))
				}
			}
			if w, ok := f.weights[name]; ok {
				total += w * v
			}
		}
		if !math.IsInf(f.minScore, -1) && !(total >= f.minScore) {
			if math.IsNaN(total) {
				failed = append(failed, "score missing")
			} else {
				// Rounded so that sums like 0.1+0.2 read as written.
				failed = append(failed, "score "+fmtNum(math.Round(total*1e9)/1e9)+" < min_score "+fmtNum(f.minScore))
			}
		}
		if len(failed) > 0 {
			b.Reject(row, BelowRubric, strings.Join(failed, "; "))
			continue
		}
		kept++
	}
	b.Count("passed", kept)
	b.Count("unlabeled", unlabeled)
	return b.Keep(ctx, rec)
}

func fieldNames(st *arrow.StructType) string {
	var n []string
	for _, f := range st.Fields() {
		n = append(n, f.Name)
	}
	return strings.Join(n, ", ")
}

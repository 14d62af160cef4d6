package annotate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/dataset"
)

// Names the annotations stage writes, and its reject reason.
const (
	ColLabels  = "labels"      // struct column: per dimension {score, n, spread}
	MetaKey    = "annotations" // meta member: per annotator, per dimension, the raw label
	Unlabeled  = "unlabeled"   // reject reason of rows without (enough) labels
	maxExample = 20
)

// LabelsType is the Arrow type of the labels column for r: a struct with
// one field per dimension, each a struct of the aggregated score (float64,
// or the category name for nominal dimensions), the number of annotators n
// and the spread (max − min, or for nominal dimensions the share of labels
// differing from the majority).
func LabelsType(r Rubric) *arrow.StructType {
	fields := make([]arrow.Field, len(r))
	for i, d := range r {
		var score arrow.DataType = arrow.PrimitiveTypes.Float64
		if d.Kind == Nominal {
			score = arrow.BinaryTypes.String
		}
		fields[i] = arrow.Field{Name: d.Name, Nullable: true, Type: arrow.StructOf(
			arrow.Field{Name: "score", Type: score},
			arrow.Field{Name: "n", Type: arrow.PrimitiveTypes.Int64},
			arrow.Field{Name: "spread", Type: arrow.PrimitiveTypes.Float64},
		)}
	}
	return arrow.StructOf(fields...)
}

// Join is the annotations stage: it joins labels onto rows by id, adds the
// labels column and puts every annotator's raw labels in meta.
type Join struct {
	labels  *Labels
	agg     Aggregate
	minAnn  int
	reject  bool
	typ     *arrow.StructType
	agree   AgreementOptions
	disPath string
	disMin  float64

	matched []uint64 // bit per unit: its id was seen in a row (atomic)

	once   sync.Once
	report *JoinReport
}

var (
	_ sift.Stage    = (*Join)(nil)
	_ sift.Reporter = (*Join)(nil)
)

// JoinOption configures [NewJoin].
type JoinOption func(*Join)

// WithAggregate sets how a row's labels are combined (default median).
func WithAggregate(a Aggregate) JoinOption { return func(j *Join) { j.agg = a } }

// WithMinAnnotators sets the number of annotators a row needs to count as
// labelled (default 1).
func WithMinAnnotators(n int) JoinOption { return func(j *Join) { j.minAnn = n } }

// WithRejectUnlabeled makes rows without enough labels rejects (reason
// "unlabeled") instead of passing with a null labels column.
func WithRejectUnlabeled(reject bool) JoinOption { return func(j *Join) { j.reject = reject } }

// WithAgreementOptions sets the bootstrap of the agreement in the report.
func WithAgreementOptions(o AgreementOptions) JoinOption { return func(j *Join) { j.agree = o } }

// WithDisagreements makes Close write the rows whose labels spread by at
// least threshold (see [Labels.Spread]) to path, as JSONL.
func WithDisagreements(path string, threshold float64) JoinOption {
	return func(j *Join) { j.disPath, j.disMin = path, threshold }
}

// NewJoin returns the annotations stage over labels, which it borrows and
// must not change while the stage runs. Configuration errors name the
// option.
func NewJoin(labels *Labels, opts ...JoinOption) (*Join, error) {
	j := &Join{labels: labels, agg: Median, minAnn: 1, agree: AgreementOptions{Resamples: 1000}}
	for _, o := range opts {
		o(j)
	}
	if _, err := ParseAggregate(string(j.agg)); err != nil {
		return nil, fmt.Errorf("aggregate: %w", err)
	}
	if j.minAnn < 1 {
		return nil, fmt.Errorf("min_annotators: %d, want >= 1", j.minAnn)
	}
	if j.agree.Resamples < 0 {
		return nil, fmt.Errorf("bootstrap: %d, want >= 0", j.agree.Resamples)
	}
	if j.disPath != "" && !(j.disMin >= 0 && j.disMin <= 1) {
		return nil, fmt.Errorf("spread: %v, want a share in [0, 1]", j.disMin)
	}
	j.agree.Aggregate = j.agg
	j.typ = LabelsType(labels.Rubric)
	j.matched = make([]uint64, (len(labels.IDs)+63)/64)
	return j, nil
}

// Process adds the labels column (replacing one of that name) and the meta
// member, and passes or rejects unlabelled rows.
func (j *Join) Process(ctx context.Context, b *sift.Batch) (arrow.RecordBatch, error) {
	rec := b.Rec
	c := sift.ColsOf(rec)
	n := int(rec.NumRows())
	lb := array.NewStructBuilder(b.Mem, j.typ)
	defer lb.Release()
	mb := array.NewStringBuilder(b.Mem)
	defer mb.Release()
	D := len(j.labels.Rubric)
	dims := make([]*array.StructBuilder, D)
	for d := range dims {
		dims[d] = lb.FieldBuilder(d).(*array.StructBuilder)
	}
	lb.Reserve(n)
	mb.Reserve(n)
	mb.ReserveData(len(c.Meta.ValueBytes()) + n*32*len(j.labels.Rubric))
	var meta []byte
	var vals []float64
	var ls []Label
	var labeled, unlabeled, few int64
	for row := 0; row < n; row++ {
		u := j.labels.Unit(c.ID.Value(row))
		if u >= 0 {
			atomic.OrUint64(&j.matched[u/64], 1<<(u%64))
		}
		k := 0
		if u >= 0 {
			k = j.labels.NumLabels(u)
		}
		if k < j.minAnn {
			if k > 0 {
				few++
			} else {
				unlabeled++
			}
			if j.reject {
				detail := "no labels"
				if k > 0 {
					detail = fmt.Sprintf("%d annotators < min_annotators %d", k, j.minAnn)
				}
				b.Reject(row, Unlabeled, detail)
			}
			lb.AppendNull()
			appendMeta(mb, c.Meta, row)
			continue
		}
		labeled++
		ls = j.labels.AppendOf(ls[:0], u)
		lb.Append(true)
		for d, dim := range j.labels.Rubric {
			vals = vals[:0]
			for _, l := range ls {
				if v := l.Values[d]; !math.IsNaN(v) {
					vals = append(vals, v)
				}
			}
			db := dims[d]
			if len(vals) == 0 {
				db.AppendNull()
				continue
			}
			score, spread := Combine(dim, j.agg, vals)
			db.Append(true)
			if dim.Kind == Nominal {
				db.FieldBuilder(0).(*array.StringBuilder).Append(dim.Format(score))
			} else {
				db.FieldBuilder(0).(*array.Float64Builder).Append(score)
			}
			db.FieldBuilder(1).(*array.Int64Builder).Append(int64(len(vals)))
			db.FieldBuilder(2).(*array.Float64Builder).Append(spread)
		}
		meta = j.appendRaw(meta[:0], c.Meta, row, ls)
		mb.BinaryBuilder.Append(meta)
	}
	b.Count("labeled", labeled)
	b.Count("unlabeled", unlabeled)
	b.Count("too_few_annotators", few)
	la, ma := lb.NewArray(), mb.NewArray()
	defer la.Release()
	defer ma.Release()

	fields := slices.Clone(rec.Schema().Fields())
	cols := slices.Clone(rec.Columns())
	cols[4] = ma // meta
	if i := slices.IndexFunc(fields, func(f arrow.Field) bool { return f.Name == ColLabels }); i >= 0 {
		fields[i] = arrow.Field{Name: ColLabels, Type: j.typ, Nullable: true}
		cols[i] = la
	} else {
		fields = append(fields, arrow.Field{Name: ColLabels, Type: j.typ, Nullable: true})
		cols = append(cols, la)
	}
	md := rec.Schema().Metadata()
	out := array.NewRecordBatch(arrow.NewSchema(fields, &md), cols, rec.NumRows())
	defer out.Release()
	return b.Keep(ctx, out)
}

// ownKey reports whether a meta member may be one the stage writes: the
// raw labels, or the labels column of an earlier run read back from JSONL.
// Re-running the stage replaces them.
func ownKey(m string) bool {
	return strings.Contains(m, `"`+MetaKey+`"`) || strings.Contains(m, `"`+ColLabels+`"`)
}

// appendMeta copies row's meta without the stage's own members.
func appendMeta(mb *array.StringBuilder, meta *array.String, row int) {
	if meta.IsNull(row) {
		mb.AppendNull()
		return
	}
	m := meta.Value(row)
	if !ownKey(m) {
		mb.Append(m)
		return
	}
	body := withoutKeys([]byte(m))
	if len(body) == 0 {
		mb.AppendNull()
		return
	}
	mb.Append("{" + string(body) + "}")
}

// appendRaw appends row's meta object with the annotations member set to
// the raw labels ls.
func (j *Join) appendRaw(dst []byte, meta *array.String, row int, ls []Label) []byte {
	var m string
	if meta.IsValid(row) {
		m = meta.Value(row)
	}
	dst = append(dst, '{')
	if len(m) > 2 {
		body := []byte(m[1 : len(m)-1])
		if ownKey(m) {
			body = withoutKeys([]byte(m))
		}
		if len(bytes.TrimSpace(body)) > 0 {
			dst = append(dst, body...)
			dst = append(dst, ',')
		}
	}
	dst = append(dst, `"`+MetaKey+`":{`...)
	for i, l := range ls {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = sift.AppendJSONString(dst, j.labels.Annotators[l.Annotator])
		dst = append(dst, ":{"...)
		first := true
		for d, dim := range j.labels.Rubric {
			v := l.Values[d]
			if math.IsNaN(v) {
				continue
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = sift.AppendJSONString(dst, dim.Name)
			dst = append(dst, ':')
			switch {
			case dim.Kind == Nominal:
				dst = sift.AppendJSONString(dst, dim.Format(v))
			case v == math.Trunc(v) && math.Abs(v) < 1e15: // scores are mostly whole
				dst = strconv.AppendInt(dst, int64(v), 10)
			default:
				dst = strconv.AppendFloat(dst, v, 'f', -1, 64)
			}
		}
		dst = append(dst, '}')
	}
	return append(dst, "}}"...)
}

// withoutKeys returns the members of JSON object obj other than the
// stage's own, without the braces, in their order.
func withoutKeys(obj []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return obj[1 : len(obj)-1]
	}
	var out []byte
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return obj[1 : len(obj)-1]
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return obj[1 : len(obj)-1]
		}
		k, _ := t.(string)
		if k == MetaKey || k == ColLabels {
			continue
		}
		if len(out) > 0 {
			out = append(out, ',')
		}
		out = sift.AppendJSONString(out, k)
		out = append(out, ':')
		out = append(out, v...)
	}
	return out
}

// JoinReport is the annotations stage's entry in the run report.
type JoinReport struct {
	File       string `json:"file,omitempty"`
	Labels     int    `json:"labels"`
	Units      int    `json:"units"`
	Annotators int    `json:"annotators"`
	Blank      int    `json:"blank,omitempty"`
	// UnmatchedIDs counts labelled ids that no row had; the first few are
	// listed.
	UnmatchedIDs      int      `json:"unmatched_ids"`
	UnmatchedExamples []string `json:"unmatched_examples,omitempty"`
	// Problems counts bad labels skipped (bad_labels: skip) by kind; the
	// first few are listed with file and line.
	Problems        map[string]int           `json:"problems,omitempty"`
	ProblemExamples []string                 `json:"problem_examples,omitempty"`
	Agreement       map[string]*DimAgreement `json:"agreement"`
	Disagreements   *int                     `json:"disagreements,omitempty"`
}

// Report returns the stage's *[JoinReport]: label counts, ids no row had,
// skipped bad labels and the agreement. It is computed once, after the run;
// Close later adds the number of disagreements written.
func (j *Join) Report() any {
	j.once.Do(func() {
		l := j.labels
		r := &JoinReport{File: l.file, Labels: l.Len(), Units: len(l.IDs), Annotators: len(l.Annotators), Blank: l.Blank}
		for u, id := range l.IDs {
			if j.matched[u/64]&(1<<(u%64)) == 0 {
				r.UnmatchedIDs++
				if len(r.UnmatchedExamples) < maxExample {
					r.UnmatchedExamples = append(r.UnmatchedExamples, id)
				}
			}
		}
		for _, p := range l.Problems {
			if r.Problems == nil {
				r.Problems = map[string]int{}
			}
			r.Problems[p.Kind]++
			if len(r.ProblemExamples) < maxExample {
				r.ProblemExamples = append(r.ProblemExamples, p.Error())
			}
		}
		r.Agreement = l.Agreement(j.agree)
		j.report = r
	})
	return j.report
}

// Close writes the disagreement file, if one was asked for. The pipeline
// calls it after a successful run.
func (j *Join) Close() error {
	if j.disPath == "" {
		return nil
	}
	f, err := dataset.CreateFile(j.disPath)
	if err != nil {
		return fmt.Errorf("disagreements: %w", err)
	}
	n, err := j.labels.WriteDisagreements(f, j.disMin)
	if err != nil {
		f.Abort()
		return fmt.Errorf("disagreements: %w", err)
	}
	if j.report != nil {
		j.report.Disagreements = &n
	}
	return f.Close()
}

package mining

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/caio/go-tdigest/v4"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/internal/sketch"
	"github.com/siftdata/sift/internal/take"
	"github.com/siftdata/sift/mining/lm"
	"github.com/siftdata/sift/recipe"
)

// Select is how the perplexity stage chooses rows.
type Select string

// Selection modes.
const (
	Annotate Select = "annotate" // keep every row, add the columns
	Band     Select = "band"     // keep rows between two percentiles
	Top      Select = "top"      // keep the fraction of rows with the highest perplexity
)

// Columns the perplexity stage appends, and its reject reasons.
const (
	ColPerplexity = "perplexity" // float64, null for rows without tokens
	ColLog10      = "lm_log10"   // float64: total log10 probability
	ColTokens     = "lm_tokens"  // int64: tokens scored, one </s> per line included
	ColBucket     = "bucket"     // string: head, middle or tail

	ReasonBelow = "ppl_below_band"
	ReasonAbove = "ppl_above_band"
)

// Buckets are cc_net's names for the three perplexity buckets.
var Buckets = [3]string{"head", "middle", "tail"}

// Option configures the perplexity stage.
type Option func(*config)

type config struct {
	tok          lm.Tokenizer
	roles        sift.Roles
	sel          Select
	lower, upper float64 // band percentiles
	top          float64
	minPPL       float64
	maxPPL       float64
	buckets      []float64
	population   []float64
	exact        bool
	calibration  int
}

// WithTokenizer sets the tokenizer (default [lm.Whitespace], KenLM's).
func WithTokenizer(t lm.Tokenizer) Option { return func(c *config) { c.tok = t } }

// WithRoles sets which conversation turns are scored (default assistant).
func WithRoles(r sift.Roles) Option { return func(c *config) { c.roles = r } }

// WithBand keeps rows whose perplexity lies between the lower and upper
// percentiles (0-100) of the population, for example 70 and 98: the hard
// examples without the noise.
func WithBand(lower, upper float64) Option {
	return func(c *config) { c.sel, c.lower, c.upper = Band, lower, upper }
}

// WithTop keeps the fraction (0-1] of rows with the highest perplexity.
func WithTop(fraction float64) Option { return func(c *config) { c.sel, c.top = Top, fraction } }

// WithRange keeps rows with min ≤ perplexity ≤ max; 0 means no bound.
// It applies in every selection mode.
func WithRange(min, max float64) Option { return func(c *config) { c.minPPL, c.maxPPL = min, max } }

// WithBuckets adds the bucket column, cutting at two percentiles (cc_net:
// 30 and 60): head below the first, middle below the second, tail above.
func WithBuckets(first, second float64) Option {
	return func(c *config) { c.buckets = []float64{first, second} }
}

// WithPopulation gives the perplexities of the whole input, from a first
// pass (see [Population]), making percentiles exact. The slice is sorted
// in place and kept.
func WithPopulation(ppl []float64) Option {
	return func(c *config) { c.population, c.exact = ppl, true }
}

// WithCalibration sets how many leading scored rows estimate percentiles
// with a t-digest when there is no population (default 10000). The stage
// holds back its input until it has seen them.
func WithCalibration(rows int) Option { return func(c *config) { c.calibration = rows } }

// Perplexity scores rows with an n-gram model and selects by perplexity.
// Text is scored line by line, each non-blank line a sentence, and the
// row's perplexity is 10^(-Σ log10 p / Σ tokens), tokens counting one </s>
// per line (cc_net's document perplexity). Rows without tokens get null
// columns and are always kept.
type Perplexity struct {
	model func() (*lm.Model, error) // waits for a model loading in the background
	cfg   config
	th    thresholds
}

var (
	_ sift.Stage     = (*Perplexity)(nil)
	_ sift.Reporter  = (*Perplexity)(nil)
	_ recipe.Readier = (*Perplexity)(nil)
	_ sift.Flusher   = (*calibrating)(nil)
)

// thresholds are the perplexity values selection uses.
type thresholds struct {
	lo, hi       float64 // keep lo ≤ ppl ≤ hi; NaN or 0/Inf for none
	loWhy, hiWhy string
	cuts         []float64
	method       string
	rows         int
}

// New returns the perplexity stage for model m. If the options need
// percentiles and give no population, the stage holds back the first rows
// to calibrate a t-digest: it is then Sequential and a Flusher. Config
// errors name the option's recipe field.
func New(m *lm.Model, opts ...Option) (sift.Stage, error) {
	return newStage(func() (*lm.Model, error) { return m, nil }, opts...)
}

// newStage is New with the model from model, which may still be loading.
func newStage(model func() (*lm.Model, error), opts ...Option) (sift.Stage, error) {
	c := config{tok: lm.Whitespace, roles: sift.RoleAssistant, sel: Annotate, calibration: 10000}
	for _, o := range opts {
		o(&c)
	}
	switch {
	case c.sel == Band && !(0 <= c.lower && c.lower < c.upper && c.upper <= 100):
		return nil, fmt.Errorf("band: [%v, %v] is not 0 ≤ lower < upper ≤ 100", c.lower, c.upper)
	case c.sel == Top && !(c.top > 0 && c.top <= 1):
		return nil, fmt.Errorf("top: %v is not in (0, 1]", c.top)
	case c.minPPL < 0 || c.maxPPL < 0 || c.maxPPL > 0 && c.maxPPL < c.minPPL:
		return nil, fmt.Errorf("min_ppl, max_ppl: [%v, %v] is not a range", c.minPPL, c.maxPPL)
	case c.buckets != nil && !(0 < c.buckets[0] && c.buckets[0] < c.buckets[1] && c.buckets[1] < 100):
		return nil, fmt.Errorf("buckets: %v is not 0 < first < second < 100", c.buckets)
	case c.roles == 0:
		return nil, fmt.Errorf("roles: empty")
	case c.calibration <= 0:
		return nil, fmt.Errorf("calibration: %d, want > 0", c.calibration)
	}
	p := &Perplexity{model: model, cfg: c}
	if c.sel == Annotate && c.buckets == nil {
		p.th = p.thresholdsFrom(nil, "none", 0)
		return p, nil
	}
	if c.exact {
		slices.Sort(c.population)
		pop := c.population
		p.th = p.thresholdsFrom(func(q float64) float64 { return percentile(pop, q) }, "exact", len(pop))
		return p, nil
	}
	return &calibrating{Perplexity: p, td: sketch.NewDigest()}, nil
}

// thresholdsFrom computes thresholds with pct giving the q-th percentile
// (0-100) of the population.
func (p *Perplexity) thresholdsFrom(pct func(q float64) float64, method string, rows int) thresholds {
	c := &p.cfg
	th := thresholds{lo: c.minPPL, hi: c.maxPPL, loWhy: "min_ppl", hiWhy: "max_ppl", method: method, rows: rows}
	if th.hi == 0 {
		th.hi = math.Inf(1)
	}
	tighten := func(lo, hi float64, loWhy, hiWhy string) {
		if lo > th.lo {
			th.lo, th.loWhy = lo, loWhy
		}
		if hi < th.hi {
			th.hi, th.hiWhy = hi, hiWhy
		}
	}
	switch c.sel {
	case Band:
		tighten(pct(c.lower), pct(c.upper), fmt.Sprintf("p%g", c.lower), fmt.Sprintf("p%g", c.upper))
	case Top:
		q := 100 * (1 - c.top)
		tighten(pct(q), math.Inf(1), fmt.Sprintf("p%g, top %g", q, c.top), "")
	}
	if c.buckets != nil {
		th.cuts = []float64{pct(c.buckets[0]), pct(c.buckets[1])}
	}
	return th
}

// percentile is the q-th percentile (0-100) of sorted, interpolating
// linearly between ranks (numpy's default); NaN if empty.
func percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	x := q / 100 * float64(len(sorted)-1)
	i := int(x)
	if i >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (sorted[i+1]-sorted[i])*(x-float64(i))
}

// Score scores text as a document: every non-blank line (see [Lines]) a
// sentence.
func Score(m *lm.Model, tok lm.Tokenizer, text string, sc *lm.Scratch) lm.Result {
	return m.ScoreLines(tok, text, sc)
}

func (p *Perplexity) scoreBatch(rec arrow.RecordBatch) ([]lm.Result, error) {
	m, err := p.model()
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	v := sift.NewTextView(rec, p.cfg.roles)
	res := make([]lm.Result, rec.NumRows())
	var sc lm.Scratch
	for i := range res {
		v.Parts(i, func(_ int, s string) { res[i].Add(Score(m, p.cfg.tok, s, &sc)) })
	}
	return res, nil
}

// Ready waits until the stage's model is loaded, and returns the error
// loading it, if any. A stage built from a recipe loads its model in the
// background, so that the run reads its first rows meanwhile; Process
// waits for it by itself, and fails with the same error.
func (p *Perplexity) Ready() error {
	_, err := p.model()
	return err
}

// Population scores every row of src (for a first pass over the input) and
// returns the perplexities of rows with tokens, for [WithPopulation].
func Population(ctx context.Context, m *lm.Model, tok lm.Tokenizer, roles sift.Roles, src sift.Source) ([]float64, error) {
	var ppl []float64
	var sc lm.Scratch
	for {
		rec, _, err := src.Next(ctx)
		if err == io.EOF {
			return ppl, nil
		}
		if err != nil {
			return nil, err
		}
		if rec == nil {
			continue
		}
		v := sift.NewTextView(rec, roles)
		for i := 0; i < int(rec.NumRows()); i++ {
			var r lm.Result
			v.Parts(i, func(_ int, s string) { r.Add(Score(m, tok, s, &sc)) })
			if r.Tokens > 0 {
				ppl = append(ppl, r.Perplexity())
			}
		}
		rec.Release()
	}
}

// Process scores b.Rec (borrowed) and returns it with the columns added,
// minus rejected rows; the result is owned by the caller.
func (p *Perplexity) Process(ctx context.Context, b *sift.Batch) (arrow.RecordBatch, error) {
	res, err := p.scoreBatch(b.Rec)
	if err != nil {
		return nil, err
	}
	out := p.annotate(b.Mem, b.Rec, res, p.th)
	defer out.Release()
	p.selectRows(b, b.Rec, res, p.th, func(row int, r sift.Reject) { b.RejectFrom(b.Rec, row, r) })
	return b.Keep(ctx, out)
}

// selectRows rejects the rows of rec outside the thresholds through reject,
// each with its perplexity as the reject's Value, and counts the scored
// rows.
func (p *Perplexity) selectRows(b *sift.Batch, rec arrow.RecordBatch, res []lm.Result, th thresholds, reject func(row int, r sift.Reject)) {
	for i, r := range res {
		if r.Tokens == 0 {
			b.Count("no_tokens", 1)
			continue
		}
		b.Count("scored", 1)
		switch ppl := r.Perplexity(); {
		case ppl < th.lo:
			reject(i, sift.Reject{Reason: ReasonBelow, Detail: fmt.Sprintf("perplexity %.4g < %.4g (%s)", ppl, th.lo, th.loWhy), Value: &ppl})
		case ppl > th.hi:
			reject(i, sift.Reject{Reason: ReasonAbove, Detail: fmt.Sprintf("perplexity %.4g > %.4g (%s)", ppl, th.hi, th.hiWhy), Value: &ppl})
		}
	}
}

// annotate returns rec (borrowed) with the score columns appended.
func (p *Perplexity) annotate(mem memory.Allocator, rec arrow.RecordBatch, res []lm.Result, th thresholds) arrow.RecordBatch {
	pb, lb := array.NewFloat64Builder(mem), array.NewFloat64Builder(mem)
	tb, bb := array.NewInt64Builder(mem), array.NewStringBuilder(mem)
	defer pb.Release()
	defer lb.Release()
	defer tb.Release()
	defer bb.Release()
	for _, r := range res {
		tb.Append(int64(r.Tokens))
		if r.Tokens == 0 {
			pb.AppendNull()
			lb.AppendNull()
			bb.AppendNull()
			continue
		}
		ppl := r.Perplexity()
		pb.Append(ppl)
		lb.Append(r.Log10)
		switch {
		case th.cuts == nil:
		case ppl < th.cuts[0]:
			bb.Append(Buckets[0])
		case ppl < th.cuts[1]:
			bb.Append(Buckets[1])
		default:
			bb.Append(Buckets[2])
		}
	}
	fields := append(slices.Clone(rec.Schema().Fields()),
		arrow.Field{Name: ColPerplexity, Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		arrow.Field{Name: ColLog10, Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		arrow.Field{Name: ColTokens, Type: arrow.PrimitiveTypes.Int64})
	cols := append(slices.Clone(rec.Columns()), pb.NewArray(), lb.NewArray(), tb.NewArray())
	if th.cuts != nil {
		fields = append(fields, arrow.Field{Name: ColBucket, Type: arrow.BinaryTypes.String, Nullable: true})
		cols = append(cols, bb.NewArray())
	}
	for _, c := range cols[rec.NumCols():] {
		defer c.Release()
	}
	md := rec.Schema().Metadata()
	return array.NewRecordBatch(arrow.NewSchema(fields, &md), cols, rec.NumRows())
}

// Report is the perplexity stage's end-of-run report.
type Report struct {
	// Method is how percentiles were found: "exact" (two passes over the
	// input), "tdigest" (estimated over a calibration prefix) or "none".
	Method string `json:"method"`
	// Rows is the number of scored rows the percentiles are over.
	Rows   int    `json:"rows"`
	Select Select `json:"select"`
	// LowerPPL and UpperPPL are the perplexity bounds rows were kept
	// within (null when unbounded), and why.
	LowerPPL *float64 `json:"lower_ppl"`
	LowerBy  string   `json:"lower_by,omitempty"`
	UpperPPL *float64 `json:"upper_ppl"`
	UpperBy  string   `json:"upper_by,omitempty"`
	// BucketPPL are the perplexities cutting head|middle|tail.
	BucketPPL []float64 `json:"bucket_ppl,omitempty"`
}

// Report returns the thresholds used, as a [Report].
func (p *Perplexity) Report() any { return p.report(p.th) }

func (p *Perplexity) report(th thresholds) Report {
	r := Report{Method: th.method, Rows: th.rows, Select: p.cfg.sel, BucketPPL: th.cuts}
	if th.lo > 0 && !math.IsNaN(th.lo) {
		r.LowerPPL, r.LowerBy = &th.lo, th.loWhy
	}
	if !math.IsInf(th.hi, 1) && !math.IsNaN(th.hi) {
		r.UpperPPL, r.UpperBy = &th.hi, th.hiWhy
	}
	return r
}

// calibrating holds back the first rows to estimate percentiles with a
// t-digest, then selects them and every later row with those thresholds.
type calibrating struct {
	*Perplexity
	td   *tdigest.TDigest
	held []heldBatch
	rows int
	done bool
}

type heldBatch struct {
	rec arrow.RecordBatch
	res []lm.Result
}

func (c *calibrating) Sequential() {}

// Process holds b.Rec until the calibration prefix is complete.
func (c *calibrating) Process(ctx context.Context, b *sift.Batch) (arrow.RecordBatch, error) {
	if c.done {
		return c.Perplexity.Process(ctx, b)
	}
	res, err := c.scoreBatch(b.Rec)
	if err != nil {
		return nil, err
	}
	b.Rec.Retain()
	c.held = append(c.held, heldBatch{b.Rec, res})
	for _, r := range res {
		// Exactly the first rows, whatever the batch size.
		if r.Tokens > 0 && c.rows < c.cfg.calibration {
			c.td.Add(r.Perplexity()) // finite: the row has tokens
			c.rows++
		}
	}
	if c.rows < c.cfg.calibration {
		return nil, nil
	}
	return c.release(ctx, b)
}

// Flush releases the held rows when the input was shorter than the
// calibration prefix.
func (c *calibrating) Flush(ctx context.Context, b *sift.Batch) (arrow.RecordBatch, error) {
	if c.done {
		return nil, nil
	}
	return c.release(ctx, b)
}

func (c *calibrating) release(ctx context.Context, b *sift.Batch) (arrow.RecordBatch, error) {
	c.th = c.thresholdsFrom(func(q float64) float64 { return c.td.Quantile(q / 100) }, "tdigest", c.rows)
	c.done = true
	held := c.held
	c.held = nil
	var outs []arrow.RecordBatch
	defer func() {
		for _, o := range outs {
			o.Release()
		}
		for _, h := range held {
			h.rec.Release()
		}
	}()
	for _, h := range held {
		ann := c.annotate(b.Mem, h.rec, h.res, c.th)
		drop := make([]bool, len(h.res))
		c.selectRows(b, h.rec, h.res, c.th, func(row int, r sift.Reject) {
			drop[row] = true
			b.RejectFrom(h.rec, row, r)
		})
		keep := make([]int, 0, len(drop))
		for i, d := range drop {
			if !d {
				keep = append(keep, i)
			}
		}
		out, err := take.Record(ctx, b.Mem, ann, keep)
		ann.Release()
		if err != nil {
			return nil, err
		}
		outs = append(outs, out)
	}
	return concat(b.Mem, outs)
}

// Report returns the thresholds; before calibration ends they are empty.
func (c *calibrating) Report() any { return c.report(c.th) }

// concat joins batches of one schema into one batch owned by the caller.
func concat(mem memory.Allocator, recs []arrow.RecordBatch) (arrow.RecordBatch, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	cols := make([]arrow.Array, recs[0].NumCols())
	var n int64
	for _, r := range recs {
		n += r.NumRows()
	}
	for i := range cols {
		parts := make([]arrow.Array, len(recs))
		for j, r := range recs {
			parts[j] = r.Column(i)
		}
		a, err := array.Concatenate(parts, mem)
		if err != nil {
			for _, c := range cols[:i] {
				c.Release()
			}
			return nil, err
		}
		cols[i] = a
	}
	out := array.NewRecordBatch(recs[0].Schema(), cols, n)
	for _, c := range cols {
		c.Release()
	}
	return out, nil
}

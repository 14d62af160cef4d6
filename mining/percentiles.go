package mining

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/siftdata/sift"
)

// This file is what a runner that finds percentiles itself (sift's Beam
// module: a first pass scores every row and merges t-digests across
// workers) needs of the perplexity stage: which percentiles it wants, the
// rows' perplexities, and the stage with thresholds from those
// percentiles.

// Percentiles returns the percentiles (0-100) the stage's thresholds are
// taken at (band bounds, the top cut, bucket cuts); none when it selects
// by fixed bounds only.
func (p *Perplexity) Percentiles() []float64 {
	c := &p.cfg
	var qs []float64
	switch c.sel {
	case Band:
		qs = append(qs, c.lower, c.upper)
	case Top:
		qs = append(qs, 100*(1-c.top))
	}
	return append(qs, c.buckets...)
}

// Perplexities returns the perplexity of every row of rec (borrowed) as
// the stage scores it, NaN for rows without tokens, which take no part in
// percentiles. It panics if the stage's model failed to load: call
// [Perplexity.Ready] first.
func (p *Perplexity) Perplexities(rec arrow.RecordBatch) []float64 {
	res, err := p.scoreBatch(rec)
	if err != nil {
		panic(fmt.Sprintf("mining: Perplexities on a stage whose %v", err))
	}
	out := make([]float64, len(res))
	for i, r := range res {
		out[i] = math.NaN()
		if r.Tokens > 0 {
			out[i] = r.Perplexity()
		}
	}
	return out
}

// WithPercentiles returns the stage selecting with thresholds at the
// percentiles pct gives (pct(q) is the q-th percentile, 0-100, of the
// perplexities of rows rows), estimated by method (for the report, e.g.
// "tdigest"). The result shares p's model, holds no rows back and is safe
// to use beside p.
func (p *Perplexity) WithPercentiles(pct func(q float64) float64, method string, rows int) sift.Stage {
	q := &Perplexity{model: p.model, cfg: p.cfg}
	q.th = q.thresholdsFrom(pct, method, rows)
	return q
}

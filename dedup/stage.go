package dedup

import (
	"context"
	"fmt"
	"math"
	"os"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/dataset"
	"github.com/siftdata/sift/recipe"
)

// Report is the end-of-run summary of a dedup stage, in the run's stats.
type Report struct {
	Kept           int64  `json:"kept"`            // rows kept (and indexed)
	Duplicates     int64  `json:"duplicates"`      // rows dropped
	Clusters       int64  `json:"clusters"`        // kept rows that had at least one duplicate
	LargestCluster int64  `json:"largest_cluster"` // rows in the largest cluster, keeper included
	LargestKeeper  string `json:"largest_keeper,omitempty"`
	IndexBytes     int64  `json:"index_bytes"` // memory held by the index
	// simhash_dedup only: the standard deviation of the sketch's Jaccard
	// estimate at min_similarity (a full sketch), the candidate pairs
	// within 3 of them of the threshold that were checked on their stored
	// features instead, and how many of those the check decided
	// otherwise than the estimate.
	SketchSD       float64 `json:"sketch_sd_at_threshold,omitempty"`
	Candidates     int64   `json:"candidates,omitempty"` // pairs compared by their sketches (a row met in several bands once)
	ExactChecks    int64   `json:"exact_checks,omitempty"`
	ExactOverruled int64   `json:"exact_overruled,omitempty"`
	// simhash_dedup only: drops found near an earlier dropped row rather
	// than a kept one (see WithChains).
	ViaNearCopy int64 `json:"via_near_copy,omitempty"`
}

// clusters tracks cluster sizes of keepers that have duplicates; keepers
// without any cost nothing.
type clusters struct {
	dups     map[int32]int64
	largest  int64
	keeper   int32
	kept, nd int64
}

func (c *clusters) dup(keeper int) {
	if c.dups == nil {
		c.dups = map[int32]int64{}
	}
	c.nd++
	c.dups[int32(keeper)]++
	if n := c.dups[int32(keeper)] + 1; n > c.largest || n == c.largest && int32(keeper) < c.keeper {
		c.largest, c.keeper = n, int32(keeper)
	}
}

func (c *clusters) report(id func(int) (string, error), bytes int64) Report {
	r := Report{Kept: c.kept, Duplicates: c.nd, Clusters: int64(len(c.dups)), LargestCluster: c.largest, IndexBytes: bytes}
	if c.largest > 0 {
		r.LargestKeeper, _ = id(int(c.keeper)) // empty if the id file fails
	}
	return r
}

// SimhashDedup drops rows whose text is a near-duplicate of an earlier kept
// row (reason "near_duplicate", duplicate_of the keeper's id, detail the
// Hamming distance and estimated cosine similarity). It is a
// [sift.Sequential] stage: which rows are kept depends only on the input
// order. Rows with no features (empty text) are kept and not indexed.
type SimhashDedup struct {
	sh    *Shingler
	x     *Index
	roles sift.Roles
	save  string
	chain bool
	fp    Fingerprint
	c     clusters
	via   int64   // drops matched through a dropped near-copy
	rep   *Report // final report, taken at Flush before the id file closes

	// create opens the save file: recipe.Env.Create in a recipe run (the
	// run commits the index with its outputs), else dataset.CreateFile.
	create func(string) (recipe.StageFile, error)

	prep sync.Pool // *fingerprinter, for Prepare
}

var (
	_ sift.Preparer   = (*SimhashDedup)(nil)
	_ sift.Sequential = (*SimhashDedup)(nil)
	_ sift.Flusher    = (*SimhashDedup)(nil)
	_ sift.Reporter   = (*SimhashDedup)(nil)
)

// SimhashOption configures a [SimhashDedup].
type SimhashOption func(*simhashConf)

type simhashConf struct {
	n         [4]int // word, char, sketch word, sketch char n-gram sizes
	idx       IndexConfig
	roles     sift.Roles
	ref, save string
	create    func(string) (recipe.StageFile, error)
	noChain   bool
}

// WithNgrams sets the SimHash shingle sizes (default DefaultWordN,
// DefaultCharN).
func WithNgrams(word, char int) SimhashOption {
	return func(c *simhashConf) { c.n[0], c.n[1] = word, char }
}

// WithSketchNgrams sets the sketch shingle sizes (default
// DefaultSketchWordN, DefaultSketchCharN).
func WithSketchNgrams(word, char int) SimhashOption {
	return func(c *simhashConf) { c.n[2], c.n[3] = word, char }
}

// WithIndex sets the signature and index shape (default DefaultIndex).
func WithIndex(cfg IndexConfig) SimhashOption { return func(c *simhashConf) { c.idx = cfg } }

// WithChains sets whether rows dropped as near-duplicates are indexed
// too (default true): a later row near such a row, but not near the kept
// row it duplicates, is then dropped as well, naming that kept row, the
// start of the chain. Rows identical to their match (estimate 1) are not
// indexed: they find nothing their match does not. Without chains a row
// is compared with kept rows only, and a row whose only near-copies were
// dropped is kept.
func WithChains(on bool) SimhashOption { return func(c *simhashConf) { c.noChain = !on } }

// WithRoles sets which conversation turns are compared (default all).
func WithRoles(r sift.Roles) SimhashOption { return func(c *simhashConf) { c.roles = r } }

// WithReference loads a saved index (see WithSave) before the stream, so
// that rows near-duplicating an earlier corpus are dropped too, naming the
// earlier row. Its shingle and index settings replace the stage's.
func WithReference(path string) SimhashOption { return func(c *simhashConf) { c.ref = path } }

// WithSave writes the index, including the reference, to path at the end
// of the stream.
func WithSave(path string) SimhashOption { return func(c *simhashConf) { c.save = path } }

// NewSimhashDedup returns a near-duplicate filter. Errors name the
// offending field.
func NewSimhashDedup(opts ...SimhashOption) (*SimhashDedup, error) {
	c := simhashConf{n: [4]int{DefaultWordN, DefaultCharN, DefaultSketchWordN, DefaultSketchCharN}, idx: DefaultIndex, roles: sift.AllRoles}
	for _, o := range opts {
		o(&c)
	}
	if c.roles == 0 {
		return nil, fmt.Errorf("roles: empty")
	}
	var x *Index
	if c.ref != "" {
		f, err := os.Open(c.ref)
		if err != nil {
			return nil, fmt.Errorf("reference: %w", err)
		}
		defer f.Close()
		var extra []byte
		x, extra, err = ReadIndex(f)
		if err != nil {
			return nil, fmt.Errorf("reference: %s: %w", c.ref, err)
		}
		if len(extra) < len(c.n) {
			return nil, fmt.Errorf("reference: %s: %w: no shingle settings", c.ref, ErrBadIndex)
		}
		for i, v := range extra[:len(c.n)] {
			c.n[i] = int(v)
		}
		if err := x.setNear(extra[len(c.n):]); err != nil {
			return nil, fmt.Errorf("reference: %s: %w", c.ref, err)
		}
	}
	sh, err := NewShingler(c.n[0], c.n[1], c.n[2], c.n[3])
	if err != nil {
		return nil, err
	}
	if x == nil {
		if x, err = NewIndex(c.idx); err != nil {
			return nil, err
		}
	}
	if c.create == nil {
		c.create = func(p string) (recipe.StageFile, error) { return dataset.CreateFile(p) }
	}
	return &SimhashDedup{sh: sh, x: x, roles: c.roles, save: c.save, create: c.create, chain: !c.noChain}, nil
}

// Sequential marks the stage as stateful.
func (*SimhashDedup) Sequential() {}

// fingerprinter fingerprints rows with a Shingler and an Accumulator of its
// own, so that batches can be fingerprinted at once.
type fingerprinter struct {
	sh  Shingler
	acc Accumulator
}

// batchPrints are the fingerprints of a batch's rows, from Prepare.
type batchPrints struct {
	fps  []Fingerprint // their sketch features share one array
	none []bool        // the row has no features
}

// Prepare fingerprints the rows of b.Rec (borrowed) for Process. It reads
// the stage's settings only, so batches are fingerprinted on the step's
// workers while Process queries and grows the index in order.
func (d *SimhashDedup) Prepare(ctx context.Context, b *sift.Batch) (any, error) {
	return d.prints(b), nil
}

// fingerprinter returns a pooled fingerprinter, to Put back in d.prep.
func (d *SimhashDedup) fingerprinter() *fingerprinter {
	if f, ok := d.prep.Get().(*fingerprinter); ok {
		return f
	}
	return &fingerprinter{sh: Shingler{n: d.sh.n}}
}

// prints fingerprints the rows of b.Rec with a pooled fingerprinter.
func (d *SimhashDedup) prints(b *sift.Batch) *batchPrints {
	f := d.fingerprinter()
	defer d.prep.Put(f)
	v := b.TextView(d.roles)
	n := int(b.Rec.NumRows())
	out := &batchPrints{fps: make([]Fingerprint, n), none: make([]bool, n)}
	var raw []uint64
	for i := range n {
		f.acc.Reset(d.x.cfg.Lanes)
		f.sh.AddWords(v.Text(i), v.Words(i), &f.acc)
		if f.acc.Len() == 0 {
			out.none[i] = true
			continue
		}
		fp := &out.fps[i]
		fp.raw = raw[len(raw):] // appended to raw's array while it has room
		f.acc.Fingerprint(fp)
		fp.raw = fp.raw[:len(fp.raw):len(fp.raw)]
		if len(raw)+len(fp.raw) <= cap(raw) {
			raw = raw[:len(raw)+len(fp.raw)]
		} else {
			raw = make([]uint64, 0, max(4096, 2*cap(raw)))
		}
	}
	return out
}

// Process drops the near-duplicates in b.Rec (borrowed) of rows kept so far
// and indexes the rest. The result is owned by the caller. The rows'
// fingerprints are Prepare's, or made here.
func (d *SimhashDedup) Process(ctx context.Context, b *sift.Batch) (arrow.RecordBatch, error) {
	pre, _ := b.Prepared().(*batchPrints)
	if pre == nil {
		pre = d.prints(b)
	}
	ids := sift.ColsOf(b.Rec).ID
	for i := 0; i < int(b.Rec.NumRows()); i++ {
		if pre.none[i] {
			b.Count("no_features", 1)
			continue
		}
		d.fp.use(&pre.fps[i])
		if k, sim, ok := d.x.Query(&d.fp); ok {
			root := d.x.Keeper(k)
			d.c.dup(root)
			keeper, err := d.x.ID(root)
			if err != nil {
				return nil, err
			}
			detail := fmt.Sprintf("jaccard %.2f", sim)
			if k != root {
				d.via++
				near, err := d.x.ID(k)
				if err != nil {
					return nil, err
				}
				detail = fmt.Sprintf("jaccard %.2f to near-duplicate %s", sim, near)
			}
			b.RejectDuplicate(i, keeper, "near_duplicate", detail)
			if d.chain && sim < 1 {
				if _, err := d.x.AddNear(&d.fp, ids.Value(i), k); err != nil {
					return nil, err
				}
			}
			continue
		}
		if _, err := d.x.Add(&d.fp, ids.Value(i)); err != nil {
			return nil, err
		}
		d.c.kept++
	}
	return b.Keep(ctx, b.Rec)
}

// Flush saves the index if asked to, takes the final report and releases
// the index's temporary id file; it holds no rows.
func (d *SimhashDedup) Flush(ctx context.Context, b *sift.Batch) (arrow.RecordBatch, error) {
	r := d.Report().(Report)
	d.rep = &r
	if d.save != "" {
		if err := d.saveIndex(); err != nil {
			d.x.Close()
			return nil, fmt.Errorf("save: %w", err)
		}
	}
	return nil, d.x.Close()
}

// saveIndex writes the index as dataset.CreateFile does: a reader of the
// path sees the old index or the whole new one, never a part.
func (d *SimhashDedup) saveIndex() error {
	f, err := d.create(d.save)
	if err != nil {
		return err
	}
	extra := d.x.appendNear([]byte{byte(d.sh.n[0][0]), byte(d.sh.n[0][1]), byte(d.sh.n[1][0]), byte(d.sh.n[1][1])})
	if err := d.x.WriteTo(f, extra); err != nil {
		f.Abort()
		return err
	}
	return f.Close()
}

// Report returns the cluster statistics.
func (d *SimhashDedup) Report() any {
	if d.rep != nil {
		return *d.rep
	}
	r := d.c.report(d.x.ID, d.x.Bytes())
	r.SketchSD = math.Round(sketchSD(d.x.cfg.MinSim, SketchBins)*1e4) / 1e4
	r.ExactChecks, r.ExactOverruled = d.x.Checks()
	r.Candidates = d.x.Candidates()
	r.ViaNearCopy = d.via
	return r
}

// SimhashSpec is the recipe spec of stage "simhash_dedup".
type SimhashSpec struct {
	WordNgram   int      `yaml:"word_ngram" doc:"words per SimHash feature in spaced text"`
	CharNgram   int      `yaml:"char_ngram" doc:"characters per SimHash feature in Han/Kana runs"`
	SketchWord  int      `yaml:"sketch_word_ngram" doc:"words per sketch (Jaccard) feature in spaced text"`
	SketchChar  int      `yaml:"sketch_char_ngram" doc:"characters per sketch (Jaccard) feature in Han/Kana runs"`
	Bits        int      `yaml:"bits" doc:"signature bits: 64, 128, 192 or 256"`
	Bands       int      `yaml:"bands" doc:"index tables (bands of the signature)"`
	BucketBits  int      `yaml:"bucket_bits" doc:"band bits addressing a bucket (2^bucket_bits buckets per band)"`
	TagBits     int      `yaml:"tag_bits" doc:"further band bits kept per entry and compared with tolerance"`
	TagDistance int      `yaml:"tag_distance" doc:"largest Hamming distance between the tags of a candidate"`
	Probes      int      `yaml:"probes" doc:"least certain bucket bits per band tried both ways (2^probes buckets per band)"`
	MinSim      float64  `yaml:"min_similarity" doc:"smallest Jaccard similarity of the sketch feature sets of a near-duplicate"`
	Verify      int      `yaml:"verify_features" doc:"features per kept row stored on disk to check pairs near min_similarity exactly (0: sketch estimate only)"`
	Chains      bool     `yaml:"chains" doc:"also index rows dropped as near-duplicates (not identical ones), so a row near one of them is dropped too, naming the kept row the chain starts from"`
	Roles       []string `yaml:"roles" doc:"conversation roles compared; empty for all"`
	Reference   string   `yaml:"reference" doc:"saved index of an earlier corpus to deduplicate against (its settings win)"`
	Save        string   `yaml:"save" doc:"write the index here at the end of the run, for a later reference"`
}

func init() {
	d := DefaultIndex
	recipe.Register("simhash_dedup", "Drops near-duplicates of earlier kept rows (SimHash), naming the keeper.",
		SimhashSpec{WordNgram: DefaultWordN, CharNgram: DefaultCharN, SketchWord: DefaultSketchWordN, SketchChar: DefaultSketchCharN, Bits: 64 * d.Lanes, Bands: d.Bands,
			BucketBits: d.BucketBits, TagBits: d.TagBits, TagDistance: d.TagDist, Probes: d.Probes, MinSim: d.MinSim, Verify: d.Verify, Chains: true},
		func(s SimhashSpec, env recipe.Env) (sift.Stage, error) {
			roles, err := sift.ParseRoles(s.Roles, sift.AllRoles)
			if err != nil {
				return nil, fmt.Errorf("roles: %w", err)
			}
			if s.Bits%64 != 0 {
				return nil, fmt.Errorf("bits: %d not one of 64, 128, 192, 256", s.Bits)
			}
			opts := []SimhashOption{WithNgrams(s.WordNgram, s.CharNgram), WithSketchNgrams(s.SketchWord, s.SketchChar), WithRoles(roles),
				WithIndex(IndexConfig{Lanes: s.Bits / 64, Bands: s.Bands, BucketBits: s.BucketBits, TagBits: s.TagBits,
					TagDist: s.TagDistance, Probes: s.Probes, MinSim: s.MinSim, Verify: s.Verify})}
			opts = append(opts, WithChains(s.Chains))
			if s.Reference != "" {
				opts = append(opts, WithReference(env.Path(s.Reference)))
			}
			if s.Save != "" {
				opts = append(opts, WithSave(env.Path(s.Save)), func(c *simhashConf) { c.create = env.Create })
			}
			return NewSimhashDedup(opts...)
		})
}

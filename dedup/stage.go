package dedup

import (
	"bytes"
	"context"
	"fmt"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/siftdata/sift"
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

func (c *clusters) report(id func(int) string, bytes int64) Report {
	r := Report{Kept: c.kept, Duplicates: c.nd, Clusters: int64(len(c.dups)), LargestCluster: c.largest, IndexBytes: bytes}
	if c.largest > 0 {
		r.LargestKeeper = id(int(c.keeper))
	}
	return r
}

// SimhashDedup drops rows whose text is a near-duplicate of an earlier kept
// row (reason "near_duplicate", duplicate_of the keeper's id, detail the
// Hamming distance and estimated cosine similarity). It is a
// [sift.Sequential] stage: which rows are kept depends only on the input
// order. Rows with no features (empty text) are kept and not indexed.
type SimhashDedup struct {
	sh     *Shingler
	x      *Index
	roles  sift.Roles
	save   string
	margin []int32
	acc    Accumulator
	c      clusters
	refLen int
}

var (
	_ sift.Sequential = (*SimhashDedup)(nil)
	_ sift.Flusher    = (*SimhashDedup)(nil)
	_ sift.Reporter   = (*SimhashDedup)(nil)
)

// SimhashOption configures a [SimhashDedup].
type SimhashOption func(*simhashConf)

type simhashConf struct {
	wordN, charN int
	idx          IndexConfig
	roles        sift.Roles
	ref, save    string
}

// WithNgrams sets the shingle sizes (default DefaultWordN, DefaultCharN).
func WithNgrams(word, char int) SimhashOption {
	return func(c *simhashConf) { c.wordN, c.charN = word, char }
}

// WithIndex sets the signature and index shape (default DefaultIndex).
func WithIndex(cfg IndexConfig) SimhashOption { return func(c *simhashConf) { c.idx = cfg } }

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
	c := simhashConf{wordN: DefaultWordN, charN: DefaultCharN, idx: DefaultIndex, roles: sift.AllRoles}
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
		if len(extra) != 2 {
			return nil, fmt.Errorf("reference: %s: %w: no shingle settings", c.ref, ErrBadIndex)
		}
		c.wordN, c.charN = int(extra[0]), int(extra[1])
	}
	sh, err := NewShingler(c.wordN, c.charN)
	if err != nil {
		return nil, err
	}
	if x == nil {
		if x, err = NewIndex(c.idx); err != nil {
			return nil, err
		}
	}
	return &SimhashDedup{sh: sh, x: x, roles: c.roles, save: c.save, refLen: x.Len(),
		margin: make([]int32, 64*x.cfg.Lanes)}, nil
}

// Sequential marks the stage as stateful.
func (*SimhashDedup) Sequential() {}

// Process drops the near-duplicates in b.Rec (borrowed) of rows kept so far
// and indexes the rest. The result is owned by the caller.
func (d *SimhashDedup) Process(ctx context.Context, b *sift.Batch) (arrow.RecordBatch, error) {
	v := sift.NewTextView(b.Rec, d.roles)
	ids := v.Cols().ID
	bits := 64 * d.x.cfg.Lanes
	for i := 0; i < int(b.Rec.NumRows()); i++ {
		d.acc.Reset(d.x.cfg.Lanes)
		d.sh.Hashes(v.Text(i), d.acc.Add)
		if d.acc.Len() == 0 {
			b.Count("no_features", 1)
			continue
		}
		s := d.acc.Sig(d.margin)
		if k, dist, ok := d.x.Query(s, d.margin); ok {
			d.c.dup(k)
			b.RejectDuplicate(i, d.x.ID(k), "near_duplicate",
				fmt.Sprintf("hamming %d/%d, est. cosine %.3f", dist, bits, cosine(dist, bits)))
			continue
		}
		if _, err := d.x.Add(s, ids.Value(i)); err != nil {
			return nil, err
		}
		d.c.kept++
	}
	return b.Keep(ctx, b.Rec)
}

// Flush saves the index if asked to; it holds no rows.
func (d *SimhashDedup) Flush(ctx context.Context, b *sift.Batch) (arrow.RecordBatch, error) {
	if d.save == "" {
		return nil, nil
	}
	var buf bytes.Buffer
	if err := d.x.WriteTo(&buf, []byte{byte(d.sh.wordN), byte(d.sh.charN)}); err != nil {
		return nil, err
	}
	if err := os.WriteFile(d.save, buf.Bytes(), 0o644); err != nil {
		return nil, fmt.Errorf("save: %w", err)
	}
	return nil, nil
}

// Report returns the cluster statistics.
func (d *SimhashDedup) Report() any { return d.c.report(d.x.ID, d.x.Bytes()) }

// SimhashSpec is the recipe spec of stage "simhash_dedup".
type SimhashSpec struct {
	WordNgram   int      `yaml:"word_ngram" doc:"words per shingle in spaced text"`
	CharNgram   int      `yaml:"char_ngram" doc:"characters per shingle in Han/Kana runs"`
	Bits        int      `yaml:"bits" doc:"signature bits: 64, 128, 192 or 256"`
	Bands       int      `yaml:"bands" doc:"index tables (bands of the signature)"`
	BandBits    int      `yaml:"band_bits" doc:"signature bits per band"`
	Probes      int      `yaml:"probes" doc:"least certain bits per band tried both ways (2^probes lookups per band)"`
	MaxDistance int      `yaml:"max_distance" doc:"largest Hamming distance (over all bits) counted as a near-duplicate"`
	Roles       []string `yaml:"roles" doc:"conversation roles compared; empty for all"`
	Reference   string   `yaml:"reference" doc:"saved index of an earlier corpus to deduplicate against (its settings win)"`
	Save        string   `yaml:"save" doc:"write the index here at the end of the run, for a later reference"`
}

func init() {
	d := DefaultIndex
	recipe.Register("simhash_dedup", "Drops near-duplicates of earlier kept rows (SimHash), naming the keeper.",
		SimhashSpec{WordNgram: DefaultWordN, CharNgram: DefaultCharN, Bits: 64 * d.Lanes, Bands: d.Bands,
			BandBits: d.BandBits, Probes: d.Probes, MaxDistance: d.MaxDist},
		func(s SimhashSpec, env recipe.Env) (sift.Stage, error) {
			roles, err := sift.ParseRoles(s.Roles, sift.AllRoles)
			if err != nil {
				return nil, fmt.Errorf("roles: %w", err)
			}
			if s.Bits%64 != 0 {
				return nil, fmt.Errorf("bits: %d not one of 64, 128, 192, 256", s.Bits)
			}
			opts := []SimhashOption{WithNgrams(s.WordNgram, s.CharNgram), WithRoles(roles),
				WithIndex(IndexConfig{Lanes: s.Bits / 64, Bands: s.Bands, BandBits: s.BandBits, Probes: s.Probes, MaxDist: s.MaxDistance})}
			if s.Reference != "" {
				opts = append(opts, WithReference(env.Path(s.Reference)))
			}
			if s.Save != "" {
				opts = append(opts, WithSave(env.Path(s.Save)))
			}
			return NewSimhashDedup(opts...)
		})
}

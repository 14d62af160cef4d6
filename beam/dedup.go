package siftbeam

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/dedup"
	"github.com/zeebo/xxh3"
)

// The dedup steps move rows as compact arrays, one element per batch and
// key range: exact_dedup's hashes by range of hash, simhash_dedup's
// sketches by band and range of buckets. An element per row (and per
// bucket) would cost the runner's per-element overhead tens of times per
// row. The decisions go back as one element per batch and step, grouped
// with the batch's input range for the passes after the step (see
// [chain]).

// buildAs builds plan step pos and checks it is a *S.
func buildAs[S any](ref Ref, pos int) (S, error) {
	var zero S
	r, err := ref.parse()
	if err != nil {
		return zero, err
	}
	st, err := ref.build(r, pos, memory.DefaultAllocator)
	if err != nil {
		return zero, err
	}
	s, ok := st.Stage.(S)
	if !ok {
		return zero, fmt.Errorf("siftbeam: step %d is %T, not %T", pos, st.Stage, zero)
	}
	return s, nil
}

// ExactChunk is the rows of one batch whose exact_dedup hash falls in
// one range: their positions, 16-byte hashes (big-endian Hi, Lo) and ids.
type ExactChunk struct {
	Batch int64
	Pos   []int32
	Hash  []byte
	IDs   []string

	raw []byte // its bytes, when it is packed ([packer])
}

// exactKeysFn sends every row's hash, as exact_dedup computes it, to the
// range of its top Bits bits: one element per batch and range. It is a
// pass over the input up to the step ([chain]).
type exactKeysFn struct {
	chain
	Bits int
}

func (f *exactKeysFn) ProcessElement(ctx context.Context, _ int64, ranges func(*Range) bool, decs func(*Decision) bool, emit func(int64, ExactChunk),
	rej func(StoredRej), tal func(Tally)) error {
	d := f.steps[f.To].Stage.(*dedup.ExactDedup)
	return f.keyPass(ctx, ranges, decs, rej, tal, func(out func(func()), key int64, b *sift.Batch) error {
		return exactKeys(ctx, d, f.Bits, key, b, later2(out, emit))
	})
}

// FinishBundle hands on what the bundle's last elements emitted.
func (f *exactKeysFn) FinishBundle(_ func(int64, ExactChunk), _ func(StoredRej), _ func(Tally)) error {
	return f.par.finish()
}

// exactKeys emits the hashes of batch key's rows by range of hash. They
// are the stage's own ([dedup.ExactDedup.Prepare]), from the words the
// steps before it segmented when they did.
func exactKeys(ctx context.Context, d *dedup.ExactDedup, bits int, key int64, b *sift.Batch, emit func(int64, ExactChunk)) error {
	prep, err := d.Prepare(ctx, b)
	if err != nil {
		return err
	}
	keys, ok := prep.([]xxh3.Uint128)
	if !ok || len(keys) != int(b.Rec.NumRows()) {
		return fmt.Errorf("siftbeam: exact_dedup prepared %T for %d rows", prep, b.Rec.NumRows())
	}
	ids := sift.ColsOf(b.Rec).ID
	chunks := map[int64]*ExactChunk{}
	for i, h := range keys {
		r := int64(h.Hi >> (64 - bits))
		c := chunks[r]
		if c == nil {
			c = &ExactChunk{Batch: key}
			chunks[r] = c
		}
		c.Pos = append(c.Pos, int32(i))
		c.Hash = binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(c.Hash, h.Hi), h.Lo)
		c.IDs = append(c.IDs, ids.Value(i))
	}
	for r, c := range chunks {
		emit(r, *c)
	}
	return nil
}

// exactKeepFn keeps, among the rows of a range with the same hash, the
// one with the smallest order key, as a single pass keeps the first, and
// drops the others naming it. It holds the range's rows (hash, order key
// and id each). The drops go to the last pass in full (emit), and to the
// passes before it as positions only (lite): they make no reject lines,
// and the full drops went through the runner once for every pass. A full
// drop carries the hash rather than the reject's detail, which the last
// pass makes from it (a detail is 60 bytes, most of them the hash in hex).
type exactKeepFn struct {
	Ref Ref
	Pos int

	par bundle
}

func (f *exactKeepFn) ProcessElement(_ int64, chunks func(*ExactChunk) bool, emit, lite func(int64, Decision), tal func(Tally)) error {
	var rows []exactRow
	var c ExactChunk
	for chunks(&c) {
		for i, p := range c.Pos {
			rows = append(rows, exactRow{c.Hash[16*i : 16*i+16], RowRef{Key: c.Batch, Pos: p, ID: c.IDs[i]}})
		}
		c = ExactChunk{}
	}
	return f.par.start(func(then func(func())) error {
		f.keep(rows, later2(then, emit), later2(then, lite), later(then, tal))
		return nil
	})
}

// FinishBundle hands on what the bundle's last elements emitted.
func (f *exactKeepFn) FinishBundle(_, _ func(int64, Decision), _ func(Tally)) error {
	return f.par.finish()
}

// exactRow is a row of an exact_dedup group: its hash and order key.
type exactRow struct {
	hash []byte
	ref  RowRef
}

// keep decides a group's rows, on the bundle's goroutines ([bundle]).
func (f *exactKeepFn) keep(rows []exactRow, emit, lite func(int64, Decision), tal func(Tally)) {
	sort.Slice(rows, func(i, j int) bool {
		if c := bytes.Compare(rows[i].hash, rows[j].hash); c != 0 {
			return c < 0
		}
		return rows[i].ref.less(rows[j].ref)
	})
	drops := map[int64][]Drop{}
	cl := &Clusters{}
	for i := 0; i < len(rows); {
		j := i + 1
		for j < len(rows) && bytes.Equal(rows[j].hash, rows[i].hash) {
			j++
		}
		if j > i+1 {
			cl.merge(&Clusters{N: 1, Largest: int64(j - i), Keeper: rows[i].ref})
			for _, r := range rows[i+1 : j] {
				drops[r.ref.Key] = append(drops[r.ref.Key], Drop{Pos: r.ref.Pos, Of: rows[i].ref.ID, Reason: "duplicate", Hash: rows[i].hash})
			}
		}
		i = j
	}
	for k, d := range drops {
		emit(splitOf(k), Decision{Step: int32(f.Pos), Batch: k, Drops: d})
		pos := make([]Drop, len(d))
		for i := range d {
			pos[i].Pos = d[i].Pos
		}
		lite(splitOf(k), Decision{Step: int32(f.Pos), Batch: k, Drops: pos})
	}
	t := newTally(f.Ref.Slots)
	t.Steps[f.Pos+1].Clusters = cl
	tal(t)
}

// SimChunk is the rows of one batch that meet in the buckets of one key
// (a band and range of buckets, or finer; see [simPairsFn]): per row its
// position, id, band tag, sketch (SketchSize bytes at row×SketchSize),
// own bucket in the band, and the bits of that bucket a query of the stage
// flips to probe others (the same number per row, at most 8). The probed
// buckets are worked out where the chunk is received ([SimChunk.entries]):
// sent as they are, they made up most of the bytes.
type SimChunk struct {
	Batch  int64
	Pos    []int32
	IDs    []string
	Tag    []uint32
	Sketch []byte
	Own    []uint32
	Flips  []uint8

	// The entries in the buckets of the group holding the chunk, each a
	// bucket and row<<1 | 1 when the bucket is the row's own (it is
	// indexed there), | 0 when the row only probes it; and per row the
	// bits its query flips, as a mask.
	bucket, row, mask []uint32

	// raw is the chunk's bytes, when it is packed ([packer]) or not yet
	// unpacked ([peekSim]).
	raw []byte
}

const sketchSize = len(dedup.Sketch{})

func (c *SimChunk) sketch(row uint32) *dedup.Sketch {
	return (*dedup.Sketch)(c.Sketch[int(row)*sketchSize:])
}

// flips returns how many bits a row's query flips.
func (c *SimChunk) flips() int {
	_, u := c.shape()
	return u
}

// shape returns how many rows c has and how many bits a row's query
// flips, from its bytes if it is not unpacked.
func (c *SimChunk) shape() (rows, flips int) {
	if c.Pos == nil && c.raw != nil {
		d := dec{b: c.raw}
		d.int()
		return int(d.uint()), int(d.uint())
	}
	if len(c.Own) == 0 {
		return 0, 0
	}
	return len(c.Own), len(c.Flips) / len(c.Own)
}

// probed returns the buckets row r owns and probes, in the order of
// [dedup.IndexConfig.ProbeBuckets] (its own first), in buf.
func (c *SimChunk) probed(r int, buf *[1 << 8]uint32) []uint32 {
	u := c.flips()
	flips := c.Flips[r*u : (r+1)*u]
	buf[0] = c.Own[r]
	for i, bit := range flips {
		// The buckets with flips i.. clear, each with flip i set too.
		for m := range 1 << i {
			buf[1<<i+m] = buf[m] ^ 1<<bit
		}
	}
	return buf[:1<<u]
}

// entries sets c's entries: its rows' own and probed buckets that keep
// accepts, in the order of [dedup.IndexConfig.ProbeBuckets].
func (c *SimChunk) entries(keep func(bucket uint32) bool) {
	c.bucket, c.row, c.mask = c.bucket[:0], c.row[:0], c.mask[:0]
	u := c.flips()
	for r, own := range c.Own {
		flips := c.Flips[r*u : (r+1)*u]
		mask := uint32(0)
		for _, bit := range flips {
			mask |= 1 << bit
		}
		c.mask = append(c.mask, mask)
		for m := 0; m < 1<<u; m++ {
			b := own
			for i, bit := range flips {
				if m>>i&1 == 1 {
					b ^= 1 << bit
				}
			}
			if keep(b) {
				x := uint32(r) << 1
				if m == 0 {
					x |= 1
				}
				c.bucket, c.row = append(c.bucket, b), append(c.row, x)
			}
		}
	}
}

// subset returns a chunk of the rows of entries es of c.
func (c *SimChunk) subset(es []int) SimChunk {
	out := SimChunk{Batch: c.Batch}
	seen := map[uint32]bool{}
	u := c.flips()
	for _, e := range es {
		r := c.row[e] >> 1
		if seen[r] {
			continue
		}
		seen[r] = true
		out.Pos = append(out.Pos, c.Pos[r])
		out.IDs = append(out.IDs, c.IDs[r])
		out.Tag = append(out.Tag, c.Tag[r])
		out.Sketch = append(out.Sketch, c.Sketch[int(r)*sketchSize:int(r+1)*sketchSize]...)
		out.Own = append(out.Own, c.Own[r])
		out.Flips = append(out.Flips, c.Flips[int(r)*u:int(r+1)*u]...)
	}
	return out
}

// Keys of the SimHash groups: level 0 is a band and range of buckets,
// level 1 a band and bucket, level 2 a band, bucket and piece of the band
// tag (piece number j and value v).
func simKey0(band int, rng uint32) int64 { return int64(band)<<32 | int64(rng) }
func simKey1(band int, bucket uint32) int64 {
	return 1<<56 | int64(band)<<32 | int64(bucket)
}
func simKey2(band int, bucket uint32, j int, v uint32) int64 {
	return 2<<56 | int64(band)<<48 | int64(j)<<40 | int64(v)<<20 | int64(bucket)
}
func simBand(key int64) int {
	if key>>56 == 2 {
		return int(key >> 48 & 0xff)
	}
	return int(key >> 32 & 0xff)
}

// Pair says that row Later has the near-duplicate Of earlier in the input,
// with Jaccard similarity Sim. A borderline pair (Check) is decided on the
// rows' feature sets: Set is Of's, once the batch holding Of has added it.
type Pair struct {
	Later RowRef
	Of    RowRef
	Sim   float64
	Check bool
	Set   []uint32
	// SetAt is where the feature-set pass left Set, when it did: a set is
	// written there once per earlier row, rather than through the runner
	// once per later batch (5 906 sets for 2 454 rows on the benchmark,
	// about 2.7 MB more of the decisions).
	SetAt SetRef
}

// SetRef is where a feature set is in a scratch file: N features as
// little-endian uint32s from Off.
type SetRef struct {
	File string
	Off  int64
	N    int32
}

// readSets fills in the Set of the pairs that have a SetAt, reading it
// from the scratch file (names are relative to dir, see [scratchFile.put]).
func readSets(dir string, ps []Pair) error {
	files := map[string]*os.File{}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	var buf []byte
	for i := range ps {
		at := ps[i].SetAt
		if at.File == "" {
			continue
		}
		f := files[at.File]
		if f == nil {
			path := at.File
			if !filepath.IsAbs(path) {
				path = filepath.Join(dir, path)
			}
			var err error
			if f, err = os.Open(path); err != nil {
				return err
			}
			files[at.File] = f
		}
		buf = slices.Grow(buf[:0], 4*int(at.N))[:4*int(at.N)]
		if _, err := f.ReadAt(buf, at.Off); err != nil {
			return fmt.Errorf("siftbeam: feature set of row %d of batch %x: %w", ps[i].Of.Pos, ps[i].Of.Key, err)
		}
		set := make([]uint32, at.N)
		for j := range set {
			set[j] = binary.LittleEndian.Uint32(buf[4*j:])
		}
		ps[i].Set = set
		// Pairs after it with the same set share it.
		for j := i + 1; j < len(ps); j++ {
			if ps[j].SetAt == at {
				ps[j].Set, ps[j].SetAt = set, SetRef{}
			}
		}
		ps[i].SetAt = SetRef{}
	}
	return nil
}

// simKeysFn sends every row with features to its buckets: per band, one
// element per range of RangeBits top bucket bits, holding the batch's
// rows that own or probe a bucket there. It is a pass over the input up
// to the step ([chain]).
type simKeysFn struct {
	chain
	RangeBits int
}

func (f *simKeysFn) ProcessElement(ctx context.Context, _ int64, ranges func(*Range) bool, decs func(*Decision) bool, emit func(int64, SimChunk),
	rej func(StoredRej), tal func(Tally)) error {
	d := f.steps[f.To].Stage.(*dedup.SimhashDedup)
	if d.HasReference() {
		return fmt.Errorf("stage simhash_dedup: reference is not supported on Beam")
	}
	return f.keyPass(ctx, ranges, decs, rej, tal, func(out func(func()), key int64, b *sift.Batch) error {
		fs := f.fps.Get().(*fpScratch)
		defer f.fps.Put(fs)
		if none := simKeys(d, f.RangeBits, key, b.Rec, &fs.acc, &fs.fp, later2(out, emit)); none > 0 {
			t := newTally(f.Ref.Slots)
			t.count(f.To+1, "no_features", int64(none))
			later(out, tal)(t)
		}
		return nil
	})
}

// FinishBundle hands on what the bundle's last elements emitted.
func (f *simKeysFn) FinishBundle(_ func(int64, SimChunk), _ func(StoredRej), _ func(Tally)) error {
	return f.par.finish()
}

// simKeys emits the band keys of batch key's rows and returns how many
// rows have no features.
func simKeys(d *dedup.SimhashDedup, rangeBits int, key int64, rec arrow.RecordBatch, acc *dedup.Accumulator, fp *dedup.Fingerprint, emit func(int64, SimChunk)) int {
	v := sift.NewTextView(rec, d.Roles())
	ids := v.Cols().ID
	cfg := d.IndexConfig()
	shift := cfg.BucketBits - rangeBits
	chunks := make([]map[uint32]*SimChunk, cfg.Bands)
	for b := range chunks {
		chunks[b] = map[uint32]*SimChunk{}
	}
	none := 0
	var probes []uint32
	var flips [8]uint8
	for i := 0; i < int(rec.NumRows()); i++ {
		if !d.Fingerprint(v.Text(i), acc, fp) {
			none++
			continue
		}
		for band := 0; band < cfg.Bands; band++ {
			_, tag := cfg.BandKey(&fp.Sig, band)
			probes = probes[:0]
			cfg.ProbeBuckets(fp, band, func(k uint32) { probes = append(probes, k) })
			// The own bucket first, then the one with flip i alone at 1<<i.
			u := bits.Len(uint(len(probes))) - 1
			for j := range u {
				flips[j] = uint8(bits.TrailingZeros32(probes[1<<j] ^ probes[0]))
			}
			for _, k := range probes {
				c := chunks[band][k>>shift]
				if c == nil {
					// Sized for the batch's rows spread evenly over the
					// ranges, half of them reaching two, rather than grown
					// by doubling from empty.
					n := int(rec.NumRows())*3/(2<<rangeBits) + 8
					c = &SimChunk{Batch: key, Pos: make([]int32, 0, n), IDs: make([]string, 0, n), Tag: make([]uint32, 0, n),
						Sketch: make([]byte, 0, n*sketchSize), Own: make([]uint32, 0, n), Flips: make([]uint8, 0, n*cfg.Probes)}
					chunks[band][k>>shift] = c
				}
				if n := len(c.Pos) - 1; n >= 0 && c.Pos[n] == int32(i) {
					continue // the row is in the chunk already
				}
				c.Pos, c.IDs, c.Tag = append(c.Pos, int32(i)), append(c.IDs, ids.Value(i)), append(c.Tag, tag)
				c.Sketch = append(c.Sketch, fp.Sketch[:]...)
				c.Own, c.Flips = append(c.Own, probes[0]), append(c.Flips, flips[:u]...)
			}
		}
	}
	for band, m := range chunks {
		for rng, c := range m {
			emit(simKey0(band, rng), *c)
		}
	}
	return none
}

// simPairsFn verifies the rows that meet in the buckets of one key: each
// row against the rows before it (by order key) indexed in a bucket it
// owns or probes, the candidates a query of the stage's index would meet,
// with the stage's test ([dedup.NearTest]). A pair's later row is the
// near-duplicate; pairs the sketches leave borderline go to be checked on
// their feature sets.
//
// Memory is bounded: a group holds at most Limit entries (a row in a
// bucket). A fuller group is passed on to the next level, split finer:
// level 0 (band, range of buckets) into level 1 (band, bucket), and a
// level 1 bucket into level 2 sub-buckets, one per piece of the band tag
// (TagDist+1 pieces), so that two rows whose tags differ in at most
// TagDist bits still share a sub-bucket (they agree on a whole piece: the
// pigeonhole principle). A bucket held at level 0 with more than MaxBucket
// entries is split into pieces in memory the same way. A level 2
// sub-bucket, or piece, still too full (near-identical boilerplate) is not
// verified: its rows are counted as "unverified" and kept.
type simPairsFn struct {
	Ref       Ref
	Step      int
	Level     int
	Limit     int
	MaxBucket int
	RangeBits int // of the level 0 keys
	Cfg       dedup.IndexConfig

	par  bundle
	test *dedup.NearTest
}

// Setup makes the stage's test.
func (f *simPairsFn) Setup() { f.test = f.Cfg.NearTest() }

// span returns the buckets of the group of key: 2^shift from lo.
func (f *simPairsFn) span(key int64) (lo uint32, shift int) {
	switch f.Level {
	case 0:
		shift = f.Cfg.BucketBits - f.RangeBits
		return uint32(key) << shift, shift
	case 1:
		return uint32(key), 0
	}
	return uint32(key) & (1<<20 - 1), 0
}

// keep returns which buckets belong to the group of key.
func (f *simPairsFn) keep(key int64) func(uint32) bool {
	lo, shift := f.span(key)
	return func(b uint32) bool { return b-lo < 1<<shift }
}

func (f *simPairsFn) ProcessElement(key int64, chunks func(*SimChunk) bool, near func(int64, Decision), ask func(int64, Decision), over func(int64, SimChunk), tal func(Tally)) error {
	t := newTally(f.Ref.Slots)
	band, keep := simBand(key), f.keep(key)
	var held []SimChunk
	n, spilled := 0, false
	// A chunk's entries are worked out only when the entries held could
	// reach Limit (a row has at most 2^flips): the group's job finds them
	// row by row.
	most, lazy := 0, true
	var c SimChunk
	for chunks(&c) {
		if lazy {
			if rows, u := c.shape(); most+rows<<u <= f.Limit {
				held, most = append(held, c), most+rows<<u
				c = SimChunk{}
				continue
			}
			lazy = false
			for i := range held {
				if err := held[i].unpack(); err != nil {
					return err
				}
				held[i].entries(keep)
				n += len(held[i].bucket)
			}
		}
		if err := c.unpack(); err != nil {
			return err
		}
		c.entries(keep)
		if !spilled && n+len(c.bucket) <= f.Limit {
			held, n = append(held, c), n+len(c.bucket)
			c = SimChunk{}
			continue
		}
		if !spilled {
			spilled = true
			for i := range held {
				f.spill(band, &held[i], over, &t)
			}
			held = nil
		}
		f.spill(band, &c, over, &t)
		c = SimChunk{}
	}
	if spilled {
		if f.last() {
			t.count(f.Step, "oversized_buckets", 1)
		}
		if len(t.Steps[f.Step].Counters) > 0 {
			tal(t)
		}
		return nil
	}
	return f.par.start(func(then func(func())) error {
		if err := f.verify(key, held, &t, later2(then, near), later2(then, ask)); err != nil {
			return err
		}
		if len(t.Steps[f.Step].Counters) > 0 {
			later(then, tal)(t)
		}
		return nil
	})
}

// FinishBundle hands on what the bundle's last elements emitted.
func (f *simPairsFn) FinishBundle(_, _ func(int64, Decision), _ func(int64, SimChunk), _ func(Tally)) error {
	return f.par.finish()
}

// verify checks the pairs of rows held in the group of key, on the
// bundle's goroutines ([bundle]), and sends the pairs decided near (near)
// and the borderline ones (ask). As a query of an Index looks for the
// rows added before it, each row looks in every bucket of the group it
// owns or probes for the rows before it that own the bucket.
func (f *simPairsFn) verify(key int64, held []SimChunk, t *Tally, near, ask func(int64, Decision)) error {
	for i := range held {
		if err := held[i].unpack(); err != nil {
			return err
		}
	}
	slices.SortFunc(held, func(a, b SimChunk) int { return cmp.Compare(a.Batch, b.Batch) })
	v, err := newVerifier(f.Cfg, f.test, held)
	if err != nil {
		return err
	}
	lo, shift := f.span(key)
	slots := uint32(1) << shift
	var probed [1 << 8]uint32
	// The owners of each bucket by row number (a counting sort of the
	// rows, numbered in input order), and how many rows own or probe it.
	start, size := make([]int32, slots+1), make([]int32, slots)
	for ci := range held {
		c := &held[ci]
		for r, own := range c.Own {
			if own-lo < slots {
				start[own-lo+1]++
			}
			for _, b := range c.probed(r, &probed) {
				if b-lo < slots {
					size[b-lo]++
				}
			}
		}
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	owners := make([]uint32, start[slots])
	next := slices.Clone(start[:slots])
	for ci := range held {
		for r, own := range held[ci].Own {
			if own-lo < slots {
				owners[next[own-lo]] = v.base[ci] + uint32(r)
				next[own-lo]++
			}
		}
	}
	// A bucket of more than MaxBucket rows is verified by pieces of the
	// band tag, or not at all, from all its rows: its owners, then the
	// rows that probe it.
	full := map[uint32]*fullBucket{}
	for b, n := range size {
		if int(n) > f.MaxBucket {
			full[uint32(b)] = &fullBucket{rows: slices.Clone(owners[start[b]:start[b+1]]), owners: int(start[b+1] - start[b])}
		}
	}
	for ci := range held {
		c := &held[ci]
		for r := range c.Own {
			q := v.base[ci] + uint32(r)
			for i, b := range c.probed(r, &probed) {
				s := b - lo
				if s >= slots {
					continue
				}
				if len(full) > 0 && full[s] != nil {
					if i > 0 {
						full[s].rows = append(full[s].rows, q)
					}
					continue
				}
				for _, e := range owners[start[s]:start[s+1]] {
					if e >= q {
						break
					}
					if v.tagsNear(q, e) { // Near's first test
						v.check(q, e)
					}
				}
			}
		}
	}
	split := f.Level < 2 && f.Cfg.TagBits > 0
	for _, b := range slices.Sorted(maps.Keys(full)) {
		fb := full[b]
		if !split {
			f.unverified(t, len(fb.rows))
			continue
		}
		pieces := map[[2]uint32]*fullBucket{}
		for i, n := range fb.rows {
			for p, val := range tagPieces(f.Cfg, v.tag[n]) {
				k := [2]uint32{uint32(p), val}
				pc := pieces[k]
				if pc == nil {
					pc = &fullBucket{}
					pieces[k] = pc
				}
				pc.rows = append(pc.rows, n)
				if i < fb.owners {
					pc.owners++
				}
			}
		}
		for _, pc := range pieces {
			if len(pc.rows) > f.MaxBucket {
				f.unverified(t, len(pc.rows))
				continue
			}
			v.piece(pc.rows[:pc.owners], pc.rows[pc.owners:])
		}
	}
	v.emit(int32(f.Step-1), near, ask)
	return nil
}

// fullBucket is the rows of a bucket, or piece of it, too full to be
// verified as a whole: by row number, its owners first.
type fullBucket struct {
	rows   []uint32
	owners int
}

func (f *simPairsFn) unverified(t *Tally, n int) {
	t.count(f.Step, "unverified", int64(n))
	t.count(f.Step, "oversized_buckets", 1)
}

// tagPieces returns the values of the TagDist+1 pieces of tag.
func tagPieces(cfg dedup.IndexConfig, tag uint32) []uint32 {
	pieces := cfg.TagDist + 1
	w := (cfg.TagBits + pieces - 1) / pieces
	var out []uint32
	for j := 0; j < pieces && j*w < cfg.TagBits; j++ {
		out = append(out, tag>>(j*w)&(1<<w-1))
	}
	return out
}

// last reports whether a group too full for f is not split further.
func (f *simPairsFn) last() bool { return f.Level >= 2 || f.Level == 1 && f.Cfg.TagBits == 0 }

// spill passes c's entries on to the next level's groups, or at the last
// level counts them as unverified.
func (f *simPairsFn) spill(band int, c *SimChunk, over func(int64, SimChunk), t *Tally) {
	if f.last() {
		t.count(f.Step, "unverified", int64(len(c.bucket)))
		return
	}
	groups := map[int64][]int{}
	for e, b := range c.bucket {
		if f.Level == 0 {
			groups[simKey1(band, b)] = append(groups[simKey1(band, b)], e)
			continue
		}
		for j, v := range tagPieces(f.Cfg, c.Tag[c.row[e]>>1]) {
			k := simKey2(band, b, j, v)
			groups[k] = append(groups[k], e)
		}
	}
	for k, es := range groups {
		over(k, c.subset(es))
	}
}

// verifier checks the pairs of the buckets of one group, once each. Of
// the pairs a row is the later row of it keeps the most similar one that
// the sketches decide (the earliest of equals), and the borderline ones
// only when there is none: a decided pair drops the row whatever the
// checks say, so a bucket of near-identical rows yields a pair per row,
// not per pair of rows.
//
// The rows are numbered in input order: the chunks held sorted by batch,
// each chunk's rows in the order of their positions (as [simKeys] and
// [SimChunk.subset] make them). What the checks read of a row is copied
// into arrays by number, next to each other for the rows of a bucket.
type verifier struct {
	test *dedup.NearTest
	dist int // TagDist
	held []SimChunk
	base []uint32 // held[c]'s rows are numbered from base[c] in the group

	// By row number: its chunk, tag, sketch and bins, and the best pair
	// the sketches decide for it as the later row (when sure).
	chunk []uint32
	tag   []uint32
	sk    []dedup.Sketch
	bins  []dedup.Bins
	best  []Pair
	sure  []bool

	ask  []asked
	seen map[uint64]struct{} // pairs checked in buckets verified by pieces, by their rows' numbers
}

// asked is a borderline pair, with its later row's number.
type asked struct {
	later uint32
	Pair
}

// newVerifier returns a verifier of the chunks held, sorted by batch.
func newVerifier(cfg dedup.IndexConfig, test *dedup.NearTest, held []SimChunk) (*verifier, error) {
	v := &verifier{test: test, dist: cfg.TagDist, held: held, base: make([]uint32, len(held))}
	n := 0
	for i := range held {
		v.base[i] = uint32(n)
		n += len(held[i].Pos)
	}
	v.chunk, v.tag, v.sk, v.bins = make([]uint32, 0, n), make([]uint32, 0, n), make([]dedup.Sketch, n), make([]dedup.Bins, 0, n)
	v.best, v.sure = make([]Pair, n), make([]bool, n)
	for i := range held {
		c := &held[i]
		if i > 0 && held[i-1].Batch == c.Batch {
			return nil, fmt.Errorf("siftbeam: two SimHash chunks of batch %x in one group", c.Batch)
		}
		for r := range c.Pos {
			if r > 0 && c.Pos[r-1] >= c.Pos[r] {
				return nil, fmt.Errorf("siftbeam: a SimHash chunk of batch %x has its rows out of order", c.Batch)
			}
			sk := &v.sk[len(v.tag)]
			*sk = *c.sketch(uint32(r))
			v.chunk, v.tag, v.bins = append(v.chunk, uint32(i)), append(v.tag, c.Tag[r]), append(v.bins, sk.Bins())
		}
	}
	return v, nil
}

// piece checks the pairs that meet in one piece of a bucket: each owner
// with the owners before it, and each prober with the owners before it
// (owners and probers each by row number). Two rows can meet in more
// than one piece, and are checked once, by the map of pairs seen.
func (v *verifier) piece(owners, probers []uint32) {
	if v.seen == nil {
		v.seen = map[uint64]struct{}{}
	}
	once := func(q, e uint32) {
		if !v.tagsNear(q, e) { // Near's first test, before the map
			return
		}
		if _, ok := v.seen[uint64(q)<<32|uint64(e)]; ok {
			return
		}
		v.seen[uint64(q)<<32|uint64(e)] = struct{}{}
		v.check(q, e)
	}
	for i, q := range owners {
		for _, e := range owners[:i] {
			once(q, e)
		}
	}
	j := 0
	for _, q := range probers {
		for j < len(owners) && owners[j] < q {
			j++
		}
		for _, e := range owners[:j] {
			once(q, e)
		}
	}
}

func (v *verifier) tagsNear(q, e uint32) bool {
	return bits.OnesCount32(v.tag[q]^v.tag[e]) <= v.dist
}

// ref returns row n's order key, with its id.
func (v *verifier) ref(n uint32) RowRef {
	c := &v.held[v.chunk[n]]
	r := n - v.base[v.chunk[n]]
	return RowRef{Key: c.Batch, Pos: c.Pos[r], ID: c.IDs[r]}
}

// check applies the stage's test to row q and the row before it, e.
func (v *verifier) check(q, e uint32) {
	sim, ok, borderline := v.test.Near(v.tag[q], v.tag[e], &v.sk[q], &v.sk[e], &v.bins[q], &v.bins[e])
	if !ok && !borderline {
		return
	}
	later, of := v.ref(q), v.ref(e)
	later.ID = ""
	p := Pair{Later: later, Of: of, Sim: sim}
	switch {
	case borderline:
		p.Check = true
		v.ask = append(v.ask, asked{q, p})
	case !v.sure[q] || sim > v.best[q].Sim || sim == v.best[q].Sim && of.less(v.best[q].Of):
		v.best[q], v.sure[q] = p, true
	}
}

// emit sends step's sure pairs to their later row's batch, and the
// borderline ones of rows without a sure pair to their earlier row's
// batch, for its feature set.
func (v *verifier) emit(step int32, near, ask func(int64, Decision)) {
	var sure, asks []Pair
	for n, p := range v.best {
		if v.sure[n] {
			sure = append(sure, p)
		}
	}
	for _, a := range v.ask {
		if !v.sure[a.later] {
			asks = append(asks, a.Pair)
		}
	}
	bySplit(step, sure, func(p Pair) int64 { return p.Later.Key }, near)
	bySplit(step, asks, func(p Pair) int64 { return p.Of.Key }, ask)
}

// setsFn writes the feature set of each earlier row of a borderline pair
// once to a scratch file, and sends the pairs on to their later row's
// batch naming where it is (Pair.SetAt; the last pass reads it there,
// [readSets]). It is a pass over
// the input up to the step ([chain]) that reads only the ranges holding
// an earlier row of a borderline pair (the step's asks).
type setsFn struct{ chain }

func (f *setsFn) ProcessElement(ctx context.Context, _ int64, ranges func(*Range) bool, decs func(*Decision) bool, emit func(int64, Decision)) error {
	return f.async(ranges, decs, func(ranges func(*Range) bool, all []Decision, then func(func())) error {
		return f.sets(ctx, ranges, all, later2(then, emit))
	})
}

// FinishBundle hands on what the bundle's last elements emitted.
func (f *setsFn) FinishBundle(_ func(int64, Decision)) error { return f.par.finish() }

// sets writes the feature sets of the earlier rows of the borderline
// pairs asked about the ranges' batches, and sends each pair on.
func (f *setsFn) sets(ctx context.Context, ranges func(*Range) bool, all []Decision, emit func(int64, Decision)) (err error) {
	asks := map[int64][]Pair{}
	for _, d := range all {
		if int(d.Step) == f.To {
			for _, d := range byBatch(d, true) {
				asks[d.Batch] = append(asks[d.Batch], d.Pairs...)
			}
		}
	}
	if len(asks) == 0 {
		return nil
	}
	d := f.steps[f.To].Stage.(*dedup.SimhashDedup)
	cfg := d.IndexConfig()
	met := 0
	file := scratchFile{dir: f.Cache}
	defer func() {
		if cerr := file.close(); err == nil {
			err = cerr
		}
	}()
	var raw []byte
	fs := f.fps.Get().(*fpScratch)
	defer f.fps.Put(fs)
	// The pairs by their later row's batch, from every batch read: a
	// decision per pair of batches was 1 000 elements on the benchmark.
	out := map[int64][]Pair{}
	err = f.run(ctx, ranges, all, nil, func(key int64, b *sift.Batch) error {
		rec := b.Rec
		ps, ok := asks[key]
		if !ok {
			return nil
		}
		met++
		v := sift.NewTextView(rec, d.Roles())
		sets := map[int32]SetRef{}
		// A pair meets in up to one group per band (1.6 times on average
		// on the benchmark) and comes here from each, the same; it goes on
		// once.
		type pairKey struct {
			later RowRef
			of    int32
		}
		sent := map[pairKey]bool{}
		for _, x := range ps {
			k := pairKey{x.Later, x.Of.Pos}
			if sent[k] {
				continue
			}
			sent[k] = true
			if int64(x.Of.Pos) >= rec.NumRows() {
				return fmt.Errorf("siftbeam: a near-duplicate pair names row %d of batch %x, which has %d", x.Of.Pos, key, rec.NumRows())
			}
			at, ok := sets[x.Of.Pos]
			if !ok {
				if d.Fingerprint(v.Text(int(x.Of.Pos)), &fs.acc, &fs.fp) {
					raw = raw[:0]
					for _, v := range cfg.Features(&fs.fp) {
						raw = binary.LittleEndian.AppendUint32(raw, v)
					}
					if len(raw) > 0 {
						name, off, err := file.put(raw)
						if err != nil {
							return err
						}
						at = SetRef{File: name, Off: off, N: int32(len(raw) / 4)}
					}
				}
				sets[x.Of.Pos] = at
			}
			x.SetAt = at
			out[x.Later.Key] = append(out[x.Later.Key], x)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if met != len(asks) {
		return fmt.Errorf("siftbeam: near-duplicate pairs for %d batches that are not there", len(asks)-met)
	}
	var pairs []Pair
	for _, k := range slices.Sorted(maps.Keys(out)) {
		pairs = append(pairs, out[k]...)
	}
	bySplit(int32(f.To), pairs, func(p Pair) int64 { return p.Later.Key }, emit)
	return nil
}

// nearDrops decides, from the pairs sent to a batch, which of its rows are
// near-duplicates of an earlier row, and names for each the most similar
// such row (the earliest among equals). Borderline pairs are decided on
// the feature sets, as the stage decides them (computing the later row's
// set here from text).
func nearDrops(d *dedup.SimhashDedup, v *sift.TextView, ps []Pair, acc *dedup.Accumulator, fp *dedup.Fingerprint) ([]Drop, []RowRef) {
	cfg := d.IndexConfig()
	best := map[int32]Pair{}
	sets := map[int32][]uint32{}
	for _, p := range ps {
		if p.Check {
			s, ok := sets[p.Later.Pos]
			if !ok {
				if d.Fingerprint(v.Text(int(p.Later.Pos)), acc, fp) {
					s = slices.Clone(cfg.Features(fp))
				}
				sets[p.Later.Pos] = s
			}
			if len(s) > 0 && len(p.Set) > 0 {
				p.Sim = cfg.SetSimilarity(s, p.Set)
			}
			if p.Sim < cfg.MinSim {
				continue
			}
		}
		b, ok := best[p.Later.Pos]
		if !ok || p.Sim > b.Sim || p.Sim == b.Sim && p.Of.less(b.Of) {
			best[p.Later.Pos] = p
		}
	}
	var out []Drop
	var keepers []RowRef
	for pos, p := range best {
		out = append(out, Drop{Pos: pos, Of: p.Of.ID, Reason: "near_duplicate", Detail: fmt.Sprintf("jaccard %.2f", p.Sim)})
		keepers = append(keepers, p.Of)
	}
	return out, keepers
}

// Keepers is rows named as duplicate_of by one step, once per row naming
// them, all in one input range.
type Keepers struct{ Refs []RowRef }

// keeperKey keys the rows named as duplicate_of by step pos in input range
// split ([splitOf]): the rows naming one row all go to its key, and a
// pass sends one element per key (an element per naming row, each
// tallied on its own, was 2 300 elements and 1 200 tallies on the
// benchmark).
func keeperKey(pos int, split int64) string { return fmt.Sprintf("%04x%016x", pos, split) }

// clusterFn tallies the clusters of the rows named as duplicate_of under
// one key: per named row, the rows that named it, and it.
type clusterFn struct{ Slots int }

func (f *clusterFn) ProcessElement(key string, lists func(*Keepers) bool, tal func(Tally)) error {
	pos, err := strconv.ParseUint(key[:min(4, len(key))], 16, 16)
	if err != nil || int(pos)+1 >= f.Slots {
		return fmt.Errorf("siftbeam: keeper key %q", key)
	}
	type at struct {
		key int64
		pos int32
	}
	named := map[at]*Clusters{} // per keeper, Largest counts the rows naming it
	var ks Keepers
	for lists(&ks) {
		for _, r := range ks.Refs {
			c := named[at{r.Key, r.Pos}]
			if c == nil {
				c = &Clusters{N: 1, Largest: 1, Keeper: r}
				named[at{r.Key, r.Pos}] = c
			}
			c.Largest++
		}
		ks = Keepers{}
	}
	var cl *Clusters
	for _, c := range named {
		cl = cl.merge(c)
	}
	t := newTally(f.Slots)
	t.Steps[pos+1].Clusters = cl
	tal(t)
	return nil
}

// rangeBits returns how many top bits of a key to group by so that a
// group holds about perGroup of rows rows, within [lo, hi].
func rangeBits(rows, perGroup int64, lo, hi int) int {
	b := 0
	if rows > perGroup {
		b = bits.Len64(uint64((rows - 1) / perGroup))
	}
	return min(max(b, lo), hi)
}

package siftbeam

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/dedup"
	"github.com/zeebo/xxh3"
)

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

// exactKeysFn emits every row under the 128-bit hash of its normalized
// text, as exact_dedup computes it.
type exactKeysFn struct {
	Ref Ref
	Pos int

	d *dedup.ExactDedup
}

func (f *exactKeysFn) Setup() (err error) {
	f.d, err = buildAs[*dedup.ExactDedup](f.Ref, f.Pos)
	return err
}

func (f *exactKeysFn) ProcessElement(p Part, emit func(string, RowRef)) error {
	rec, err := decode(memory.DefaultAllocator, p.IPC)
	if err != nil {
		return err
	}
	defer rec.Release()
	v := sift.NewTextView(rec, f.d.Roles())
	ids := v.Cols().ID
	var k [16]byte
	for i := 0; i < int(rec.NumRows()); i++ {
		h := f.d.Key(v.Text(i))
		binary.BigEndian.PutUint64(k[:8], h.Hi)
		binary.BigEndian.PutUint64(k[8:], h.Lo)
		emit(string(k[:]), RowRef{Key: p.Key, Pos: int32(i), ID: ids.Value(i)})
	}
	return nil
}

// exactKeepFn keeps the row of a hash with the smallest order key, as a
// single pass keeps the first, and drops the others naming it.
type exactKeepFn struct {
	Ref Ref
	Pos int

	d *dedup.ExactDedup
}

func (f *exactKeepFn) Setup() (err error) {
	f.d, err = buildAs[*dedup.ExactDedup](f.Ref, f.Pos)
	return err
}

func (f *exactKeepFn) ProcessElement(k string, rows func(*RowRef) bool, emit func(int64, Drop)) {
	var all []RowRef
	var r RowRef
	for rows(&r) {
		all = append(all, r)
	}
	if len(all) < 2 {
		return
	}
	keep := 0
	for i := range all {
		if all[i].less(all[keep]) {
			keep = i
		}
	}
	h := xxh3.Uint128{Hi: binary.BigEndian.Uint64([]byte(k[:8])), Lo: binary.BigEndian.Uint64([]byte(k[8:]))}
	detail := f.d.DuplicateDetail(h)
	for i, r := range all {
		if i != keep {
			emit(r.Key, Drop{Pos: r.Pos, Of: all[keep].ID, Reason: "duplicate", Detail: detail})
		}
	}
}

// Cand is a row met in a SimHash bucket: Own when the bucket is the row's
// own (it is indexed there), not when the row only probes it. Tag holds
// the band's tag bits, Sketch the row's set sketch.
type Cand struct {
	Row    RowRef
	Tag    uint32
	Own    bool
	Sketch []byte
}

// Near says that row Row has the verified near-duplicate Of, earlier in
// the input, with estimated Jaccard similarity Sim.
type Near struct {
	Row, Of RowRef
	Sim     float64
}

// simKeysFn emits every row with features under its band keys: per band,
// its own bucket and the buckets a query of the stage probes.
type simKeysFn struct {
	Ref Ref
	Pos int

	d   *dedup.SimhashDedup
	acc dedup.Accumulator
	fp  dedup.Fingerprint
}

func (f *simKeysFn) Setup() (err error) {
	f.d, err = buildAs[*dedup.SimhashDedup](f.Ref, f.Pos)
	if err == nil && f.d.HasReference() {
		err = fmt.Errorf("stage simhash_dedup: reference is not supported on Beam")
	}
	return err
}

func (f *simKeysFn) ProcessElement(p Part, emit func(int64, Cand), tal func(Tally)) error {
	rec, err := decode(memory.DefaultAllocator, p.IPC)
	if err != nil {
		return err
	}
	defer rec.Release()
	v := sift.NewTextView(rec, f.d.Roles())
	ids := v.Cols().ID
	cfg := f.d.IndexConfig()
	none := 0
	for i := 0; i < int(rec.NumRows()); i++ {
		if !f.d.Fingerprint(v.Text(i), &f.acc, &f.fp) {
			none++
			continue
		}
		row := RowRef{Key: p.Key, Pos: int32(i), ID: ids.Value(i)}
		sk := append([]byte(nil), f.fp.Sketch[:]...)
		for band := 0; band < cfg.Bands; band++ {
			own, tag := cfg.BandKey(&f.fp.Sig, band)
			cfg.ProbeBuckets(&f.fp, band, func(b uint32) {
				emit(int64(band)<<32|int64(b), Cand{Row: row, Tag: tag, Own: b == own, Sketch: sk})
			})
		}
	}
	if none > 0 {
		t := newTally(f.Ref.Slots)
		t.count(f.Pos+1, "no_features", int64(none))
		tal(t)
	}
	return nil
}

// simPairsFn verifies the rows met in one bucket: every row against every
// row indexed there (Own), with the stage's test. A pair's later row (by
// order key) is the near-duplicate.
//
// It holds at most Max rows. At Level 0 a fuller bucket is split: its rows
// go on to Level 1 under sub-bucket keys, one per piece of the band tag
// (TagDist+1 pieces), so that two rows whose tags differ in at most
// TagDist bits still share a sub-bucket (they agree on a whole piece: the
// pigeonhole principle). A Level 1 sub-bucket that is still too full
// (near-identical boilerplate) is not verified: its rows are counted as
// "unverified" and kept.
type simPairsFn struct {
	Ref     Ref
	Step    int
	Level   int
	Max     int
	TagBits int
	TagDist int
	MinSim  float64
}

func (f *simPairsFn) cfg() dedup.IndexConfig {
	return dedup.IndexConfig{TagBits: f.TagBits, TagDist: f.TagDist, MinSim: f.MinSim}
}

func (f *simPairsFn) ProcessElement(key int64, cands func(*Cand) bool, near func(string, Near), over func(int64, Cand), tal func(Tally)) {
	var held []Cand
	var c Cand
	overflow := 0
	for cands(&c) {
		if overflow == 0 && len(held) < f.Max {
			held = append(held, c)
			continue
		}
		if f.Level == 0 && f.TagBits > 0 {
			for _, h := range held {
				f.split(key, h, over)
			}
			held = held[:0]
			f.split(key, c, over)
		}
		overflow++
	}
	if overflow > 0 {
		if f.Level > 0 || f.TagBits == 0 {
			t := newTally(f.Ref.Slots)
			t.count(f.Step, "unverified", int64(len(held)+overflow))
			t.count(f.Step, "oversized_buckets", 1)
			tal(t)
		}
		return
	}
	cfg := f.cfg()
	for _, q := range held {
		for _, e := range held {
			if !e.Own || e.Row == q.Row {
				continue
			}
			sim, ok, _ := cfg.Near(q.Tag, e.Tag, (*dedup.Sketch)(q.Sketch), (*dedup.Sketch)(e.Sketch))
			if !ok {
				continue
			}
			later, earlier := q.Row, e.Row
			if later.less(earlier) {
				later, earlier = earlier, later
			}
			near(rowName(later), Near{Row: later, Of: earlier, Sim: sim})
		}
	}
}

// split sends c on to the sub-buckets of its tag pieces.
func (f *simPairsFn) split(key int64, c Cand, over func(int64, Cand)) {
	pieces := f.TagDist + 1
	w := (f.TagBits + pieces - 1) / pieces
	for j := 0; j < pieces && j*w < f.TagBits; j++ {
		v := int64(c.Tag>>(j*w)) & (1<<w - 1)
		over(key<<24|int64(j)<<17|v, c) // key holds band and a bucket of at most 20 bits
	}
}

func rowName(r RowRef) string {
	return strconv.FormatInt(r.Key, 36) + ":" + strconv.FormatInt(int64(r.Pos), 36)
}

// nearKeepFn drops a row that has a verified near-duplicate earlier in the
// input, naming the most similar one (the earliest among equals).
type nearKeepFn struct{}

func (*nearKeepFn) ProcessElement(_ string, ns func(*Near) bool, emit func(int64, Drop)) {
	var best, n Near
	found := false
	for ns(&n) {
		if !found || n.Sim > best.Sim || n.Sim == best.Sim && n.Of.less(best.Of) {
			best, found = n, true
		}
	}
	if found {
		emit(best.Row.Key, Drop{Pos: best.Row.Pos, Of: best.Of.ID, Reason: "near_duplicate", Detail: fmt.Sprintf("est. jaccard %.2f", best.Sim)})
	}
}

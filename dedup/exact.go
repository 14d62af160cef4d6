package dedup

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/recipe"
	"github.com/siftdata/sift/seg"
	"github.com/zeebo/xxh3"
)

// Normalization is what exact deduplication compares.
type Normalization string

// Normalizations, from strictest to loosest.
const (
	Raw   Normalization = "none"  // the text bytes as they are
	Fold  Normalization = "fold"  // NFKC and case folded
	Words Normalization = "words" // NFKC, case folded, word-like segments only (punctuation and spacing ignored)
)

// ExactDedup drops rows whose normalized text has the same 128-bit XXH3
// hash as an earlier kept row (reason "duplicate", duplicate_of the
// keeper). It is a [sift.Sequential] stage.
type ExactDedup struct {
	norm  Normalization
	roles sift.Roles
	k     keyer
	seen  hashSet
	ids   idStore
	c     clusters
	rep   *Report   // final report, taken at Flush before the id file closes
	prep  sync.Pool // *keyer, for Prepare
}

// keyer hashes texts under a normalization, with buffers of its own.
type keyer struct {
	norm  Normalization
	n     normalizer
	words []seg.Segment
	buf   []byte // the words of a text, for hashing
}

var (
	_ sift.Preparer   = (*ExactDedup)(nil)
	_ sift.Sequential = (*ExactDedup)(nil)
	_ sift.Flusher    = (*ExactDedup)(nil)
	_ sift.Reporter   = (*ExactDedup)(nil)
)

// NewExactDedup returns an exact-duplicate filter comparing texts under
// norm, over the given conversation roles. Errors name the field.
func NewExactDedup(norm Normalization, roles sift.Roles) (*ExactDedup, error) {
	if norm != Raw && norm != Fold && norm != Words {
		return nil, fmt.Errorf("normalize: %q is not one of none, fold, words", norm)
	}
	if roles == 0 {
		return nil, fmt.Errorf("roles: empty")
	}
	return &ExactDedup{norm: norm, roles: roles, k: keyer{norm: norm}}, nil
}

// Sequential marks the stage as stateful.
func (*ExactDedup) Sequential() {}

// Key returns the 128-bit hash of s under the stage's normalization.
// Like Process, it must not be called from several goroutines at once.
func (d *ExactDedup) Key(s string) xxh3.Uint128 { return d.k.key(s, nil) }

// key is Key; words, if not nil, returns the word-like segments of s, used
// when s is pure ASCII (normalizing only lowers its letters) instead of
// segmenting s again.
func (k *keyer) key(s string, words func() []seg.Segment) xxh3.Uint128 {
	switch k.norm {
	case Raw:
		return xxh3.HashString128(s)
	case Fold:
		return xxh3.HashString128(k.n.normalize(s))
	}
	t, ascii := k.n.normalizeASCII(s)
	var ws []seg.Segment
	if ascii && words != nil {
		ws = words()
	} else {
		k.words = seg.AppendWords(k.words[:0], t)
		ws = k.words
	}
	// The words, each followed by a 0 byte, hashed in one call: XXH3 of
	// the concatenation is what streaming them one by one gives.
	k.buf = appendWords(k.buf[:0], t, ws)
	return xxh3.Hash128(k.buf)
}

// appendWords appends the words ws of t to dst, each followed by a 0 byte.
// t must have 8 bytes of capacity after it (the normalizer's result has
// 16): a word of up to 8 bytes, as most are, is moved as one 8-byte word
// instead of by a call to memmove, and the bytes written past it are
// overwritten by what comes next.
func appendWords(dst []byte, t string, ws []seg.Segment) []byte {
	n := len(dst)
	dst = slices.Grow(dst, len(t)+len(ws)+8)
	out := dst[:cap(dst)]
	src := unsafe.Slice(unsafe.StringData(t), len(t)+8)
	for _, sg := range ws {
		if l := int(sg.End - sg.Start); l <= 8 {
			_, _ = out[n+7], src[sg.Start+7] // in bounds, checked
			*(*uint64)(unsafe.Pointer(&out[n])) = *(*uint64)(unsafe.Pointer(&src[sg.Start]))
			n += l
		} else {
			n += copy(out[n:], src[sg.Start:sg.End])
		}
		out[n] = 0
		n++
	}
	return out[:n]
}

// Process drops the duplicates in b.Rec (borrowed). The result is owned by
// the caller. The texts' hashes are Prepare's, or made here.
func (d *ExactDedup) Process(ctx context.Context, b *sift.Batch) (arrow.RecordBatch, error) {
	keys, _ := b.Prepared().([]xxh3.Uint128)
	if keys == nil {
		keys = d.keys(b)
	}
	ids := sift.ColsOf(b.Rec).ID
	for i, k := range keys {
		doc, dup := d.seen.add(k)
		if dup {
			d.c.dup(doc)
			keeper, err := d.ids.get(doc)
			if err != nil {
				return nil, err
			}
			b.RejectDuplicate(i, keeper, "duplicate", d.DuplicateDetail(k))
			continue
		}
		if doc < 0 {
			return nil, ErrIndexFull
		}
		if err := d.ids.add(ids.Value(i)); err != nil {
			return nil, err
		}
		d.c.kept++
	}
	return b.Keep(ctx, b.Rec)
}

// Prepare hashes the texts of b.Rec (borrowed) for Process. It reads the
// stage's settings only, so batches are hashed on the step's workers while
// Process looks the hashes up in order.
func (d *ExactDedup) Prepare(ctx context.Context, b *sift.Batch) (any, error) {
	return d.keys(b), nil
}

// keys hashes the texts of b.Rec with a pooled keyer.
func (d *ExactDedup) keys(b *sift.Batch) []xxh3.Uint128 {
	k, _ := d.prep.Get().(*keyer)
	if k == nil {
		k = &keyer{norm: d.norm}
	}
	defer d.prep.Put(k)
	v := b.TextView(d.roles)
	keys := make([]xxh3.Uint128, b.Rec.NumRows())
	for i := range keys {
		keys[i] = k.key(v.Text(i), func() []seg.Segment { return v.Words(i) })
	}
	return keys
}

// Flush takes the final report and releases the temporary id file; it
// holds no rows.
func (d *ExactDedup) Flush(context.Context, *sift.Batch) (arrow.RecordBatch, error) {
	r := d.Report().(Report)
	d.rep = &r
	return nil, d.ids.close()
}

// Report returns the cluster statistics.
func (d *ExactDedup) Report() any {
	if d.rep != nil {
		return *d.rep
	}
	return d.c.report(d.ids.get, d.ids.bytes()+d.seen.bytes())
}

// hashSet is a set of 128-bit hashes numbered in order of addition: the
// hashes in an array by number (16 B each, plus the array's growth room)
// and an open-addressing table of numbers (4 B a slot, 3/8 to 3/4 full:
// doubled when it would be more), 21 to 31 B per hash in all, where a Go
// map takes about 45.
type hashSet struct {
	keys  []xxh3.Uint128
	slots []uint32 // number + 1, 0 for empty; length a power of 2
}

// add returns the number of k and true if k is in s; otherwise it adds k
// and returns its new number and false, or -1 if s is full.
func (s *hashSet) add(k xxh3.Uint128) (int, bool) {
	if 4*(len(s.keys)+1) > 3*len(s.slots) {
		if len(s.keys) == math.MaxInt32 {
			return -1, false
		}
		s.grow()
	}
	mask := len(s.slots) - 1
	for i := int(k.Lo) & mask; ; i = (i + 1) & mask { // k.Lo is well mixed
		d := s.slots[i]
		if d == 0 {
			s.keys = append(s.keys, k)
			s.slots[i] = uint32(len(s.keys))
			return len(s.keys) - 1, false
		}
		if s.keys[d-1] == k {
			return int(d - 1), true
		}
	}
}

func (s *hashSet) grow() {
	s.slots = make([]uint32, max(64, 2*len(s.slots)))
	mask := len(s.slots) - 1
	for n, k := range s.keys {
		i := int(k.Lo) & mask
		for s.slots[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = uint32(n + 1)
	}
}

func (s *hashSet) bytes() int64 { return int64(cap(s.keys))*16 + int64(cap(s.slots))*4 }

// ExactSpec is the recipe spec of stage "exact_dedup".
type ExactSpec struct {
	Normalize string   `yaml:"normalize" doc:"none (bytes), fold (NFKC + case fold) or words (fold, and only words count)"`
	Roles     []string `yaml:"roles" doc:"conversation roles compared; empty for all"`
}

func init() {
	recipe.Register("exact_dedup", "Drops exact duplicates (after normalization) of earlier kept rows, naming the keeper.",
		ExactSpec{Normalize: string(Words)},
		func(s ExactSpec, _ recipe.Env) (sift.Stage, error) {
			roles, err := sift.ParseRoles(s.Roles, sift.AllRoles)
			if err != nil {
				return nil, fmt.Errorf("roles: %w", err)
			}
			return NewExactDedup(Normalization(s.Normalize), roles)
		})
}

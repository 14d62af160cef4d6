package siftbeam

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift/dataset"
	"github.com/siftdata/sift/dedup"
)

// part is a batch encoded as the last pass leaves it for the writers.
type part struct {
	Key int64
	IPC []byte
}

// simParts reads texts as batches of 100 rows, encoded as the last pass
// leaves them.
func simParts(t testing.TB, mem memory.Allocator, texts []string) []part {
	dir := t.TempDir()
	ids := make([]string, len(texts))
	for i := range ids {
		ids[i] = fmt.Sprintf("r%05d", i)
	}
	path := filepath.Join(dir, "in.jsonl")
	writeJSONL(t, path, ids, texts, false)
	r, err := dataset.Open(mem, []string{path}, dataset.WithBatchSize(100))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var parts []part
	for seq := 0; ; seq++ {
		rec, _, err := r.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := encode(mem, rec)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, part{Key: partKey(0, 0, seq), IPC: b})
	}
	return parts
}

// groupsOf groups emitted chunks by key, through the chunks' coder, as a
// GroupByKey would.
func groupsOf(t testing.TB, emit func(func(int64, SimChunk))) map[int64][]SimChunk {
	g := map[int64][]SimChunk{}
	emit(func(k int64, c SimChunk) {
		b, err := encSim(c)
		if err != nil {
			t.Fatal(err)
		}
		d, err := decSim(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(d, c) {
			t.Fatalf("chunk changed by its coder:\n%+v\n%+v", c, d)
		}
		g[k] = append(g[k], d)
	})
	return g
}

// TestSimGroupsSplit checks the bounded-memory path of simhash_dedup:
// with groups too small for the input, the rows go on to one group per
// bucket and find exactly the pairs they find in one pass; with buckets
// too small as well, rows are counted as unverified and only pairs found
// in one pass are found. The input has a cluster of 150 near-identical
// rows (boilerplate) among real fortunes and near copies of them.
func TestSimGroupsSplit(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	texts := fortunes(t, "fortunes", "literature")[:600]
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 150 {
		texts = append(texts, fmt.Sprintf("This message was sent to you because you subscribed to the list; to leave it, reply with the word stop. Reference %d.", i))
		if len(strings.Fields(texts[i])) > 10 {
			texts = append(texts, mutate(texts[i], r))
		}
	}
	parts := simParts(t, mem, texts)
	ref := Ref{Recipe: "stages:\n  - simhash_dedup: {}\n", Dir: t.TempDir(), Slots: 2}
	d, err := buildAs[*dedup.SimhashDedup](ref, 0)
	if err != nil {
		t.Fatal(err)
	}
	var acc dedup.Accumulator
	var fp dedup.Fingerprint
	level0 := groupsOf(t, func(emit func(int64, SimChunk)) {
		for _, p := range parts {
			rec, err := decode(mem, p.IPC)
			if err != nil {
				t.Fatal(err)
			}
			simKeys(d, 2, p.Key, rec, &acc, &fp, emit)
			rec.Release()
		}
	})

	// run returns, per row that has a near-duplicate, the most similar
	// one the sketches decide, and for the rows without one the
	// borderline pairs to check.
	type decision struct {
		of  RowRef
		sim float64
	}
	run := func(limit, maxBucket int) (sure map[RowRef]decision, asks map[[2]RowRef]bool, counters map[string]int64, spilled int) {
		sure, asks, counters = map[RowRef]decision{}, map[[2]RowRef]bool{}, map[string]int64{}
		pf := simPairsFn{Ref: ref, Step: 1, Limit: limit, MaxBucket: maxBucket, RangeBits: 2, Cfg: d.IndexConfig()}
		pf.Setup()
		groups := level0
		for level := 0; level < 3; level++ {
			pf.Level = level
			if level > 0 {
				pf.Limit = maxBucket
			}
			near := func(_ int64, l Decision) {
				for _, p := range l.Pairs {
					b, ok := sure[p.Later]
					if p.Check {
						t.Fatalf("sure pair %+v", p)
					}
					if !ok || p.Sim > b.sim || p.Sim == b.sim && p.Of.less(b.of) {
						sure[p.Later] = decision{p.Of, p.Sim}
					}
				}
			}
			ask := func(_ int64, l Decision) {
				for _, p := range l.Pairs {
					asks[[2]RowRef{p.Later, p.Of}] = true
				}
			}
			next := groupsOf(t, func(over func(int64, SimChunk)) {
				for k, cs := range groups {
					i := 0
					err := pf.ProcessElement(k, func(c *SimChunk) bool {
						if i == len(cs) {
							return false
						}
						*c, i = cs[i], i+1
						return true
					}, near, ask, over, func(t Tally) {
						for k, v := range t.Steps[1].Counters {
							counters[k] += v
						}
					})
					if err != nil {
						t.Fatal(err)
					}
				}
				if err := pf.FinishBundle(nil, nil, nil, nil); err != nil {
					t.Fatal(err)
				}
			})
			if level > 0 {
				spilled += len(groups)
			}
			groups = next
		}
		for p := range asks {
			if _, ok := sure[p[0]]; ok {
				delete(asks, p)
			}
		}
		return sure, asks, counters, spilled
	}
	sure, asks, c, spilled := run(1<<30, 1<<30)
	if len(sure) < 100 || len(asks) == 0 || spilled != 0 || len(c) != 0 {
		t.Fatalf("one pass: %d rows dropped, %d pairs to check, %d groups split, counters %v", len(sure), len(asks), spilled, c)
	}
	sure2, asks2, c, spilled := run(256, 1<<30)
	if !reflect.DeepEqual(sure2, sure) || !reflect.DeepEqual(asks2, asks) || spilled == 0 || len(c) != 0 {
		t.Errorf("groups of 256: %d rows dropped and %d pairs to check (one pass %d, %d), %d groups split, counters %v",
			len(sure2), len(asks2), len(sure), len(asks), spilled, c)
	}
	sure3, _, c, _ := run(256, 20)
	for r, d := range sure3 {
		if d2, ok := sure[r]; !ok || d2.sim < d.sim {
			t.Errorf("buckets of 20: row %v near %v (%.2f), in one pass %v", r, d.of, d.sim, d2)
		}
	}
	if c["unverified"] == 0 || c["oversized_buckets"] == 0 || len(sure3) == 0 || len(sure3) >= len(sure) {
		t.Errorf("buckets of 20: %d rows dropped (one pass %d), counters %v", len(sure3), len(sure), c)
	}
	t.Logf("one pass: %d rows dropped, %d pairs to check; buckets of 20: %d rows dropped, counters %v", len(sure), len(asks), len(sure3), c)
}

// BenchmarkSimGroups verifies the SimHash groups of every English
// fortune and a near copy of every fifth one (one word in twenty
// changed), in groups of the default shape (two range bits), as the
// groups' DoFn does after the runner grouped the chunks. Bytes are the
// texts'.
func BenchmarkSimGroups(b *testing.B) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(b, 0)
	texts := fortunes(b, "fortunes", "literature", "riddles", "science", "wisdom", "linux", "computers", "people", "definitions")
	r := rand.New(rand.NewPCG(7, 8))
	n := len(texts)
	for i := 0; i < n; i += 5 {
		texts = append(texts, mutate(texts[i], r))
	}
	size := 0
	for _, t := range texts {
		size += len(t)
	}
	parts := simParts(b, mem, texts)
	ref := Ref{Recipe: "stages:\n  - simhash_dedup: {}\n", Dir: b.TempDir(), Slots: 2}
	d, err := buildAs[*dedup.SimhashDedup](ref, 0)
	if err != nil {
		b.Fatal(err)
	}
	var acc dedup.Accumulator
	var fp dedup.Fingerprint
	groups := groupsOf(b, func(emit func(int64, SimChunk)) {
		for _, p := range parts {
			rec, err := decode(mem, p.IPC)
			if err != nil {
				b.Fatal(err)
			}
			simKeys(d, 2, p.Key, rec, &acc, &fp, emit)
			rec.Release()
		}
	})
	pf := simPairsFn{Ref: ref, Step: 1, Limit: 1 << 20, MaxBucket: 1 << 14, RangeBits: 2, Cfg: d.IndexConfig()}
	pf.Setup()
	near := 0
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		near = 0
		for k, cs := range groups {
			i := 0
			err := pf.ProcessElement(k, func(c *SimChunk) bool {
				if i == len(cs) {
					return false
				}
				*c, i = cs[i], i+1
				return true
			}, func(_ int64, d Decision) { near += len(d.Pairs) }, func(int64, Decision) {}, func(int64, SimChunk) { b.Fatal("a group split") }, func(Tally) {})
			if err != nil {
				b.Fatal(err)
			}
		}
		if err := pf.FinishBundle(nil, nil, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	if near < n/10 {
		b.Fatalf("%d near pairs among %d texts and %d near copies", near, n, len(texts)-n)
	}
	b.ReportMetric(float64(len(texts)), "rows")
}

// TestSimGroupCounters checks what a level-0 group counts and finds in
// hostile buckets: rows indexed in one bucket and probing a bucket that no
// row owns, both fuller than MaxBucket (both are split into pieces of the
// band tag, and each piece, still too full, is counted unverified), and
// the same rows in buckets small enough, where every pair of them is near
// and each row but the first names the first.
func TestSimGroupCounters(t *testing.T) {
	cfg := dedup.DefaultIndex
	const n = 6
	c := SimChunk{Batch: 9, Sketch: make([]byte, n*sketchSize)}
	for i := range n {
		c.Pos, c.IDs = append(c.Pos, int32(i)), append(c.IDs, fmt.Sprintf("r%d", i))
		c.Sketch[i*sketchSize] = 0x11 // every row the same sketch: near
		c.Tag = append(c.Tag, 0)
		c.Own, c.Flips = append(c.Own, 1), append(c.Flips, 0) // owns bucket 1, probes 0
	}
	pieces := int64(len(tagPieces(cfg, 0)))
	for _, tc := range []struct {
		name                  string
		maxBucket             int
		unverified, oversized int64
		dropped               int
	}{
		{"small buckets", n, 0, 0, n - 1},
		{"full buckets", n - 1, 2 * pieces * n, 2 * pieces, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pf := simPairsFn{Ref: Ref{Slots: 2}, Step: 1, MaxBucket: tc.maxBucket, Limit: 1 << 20, RangeBits: 2, Cfg: cfg}
			pf.Setup()
			counters := map[string]int64{}
			dropped := map[RowRef]string{}
			cs := []SimChunk{c}
			err := pf.ProcessElement(simKey0(3, 0), func(c *SimChunk) bool {
				if len(cs) == 0 {
					return false
				}
				*c, cs = cs[0], cs[1:]
				return true
			}, func(_ int64, d Decision) {
				for _, p := range d.Pairs {
					dropped[p.Later] = p.Of.ID
				}
			}, func(int64, Decision) { t.Error("a borderline pair between identical sketches") },
				func(int64, SimChunk) { t.Error("a group within its limit passed entries on") },
				func(t Tally) {
					for k, v := range t.Steps[1].Counters {
						counters[k] += v
					}
				})
			if err == nil {
				err = pf.FinishBundle(nil, nil, nil, nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			if counters["unverified"] != tc.unverified || counters["oversized_buckets"] != tc.oversized || len(dropped) != tc.dropped {
				t.Errorf("counters %v, %d rows dropped; want %d unverified in %d oversized buckets, %d dropped",
					counters, len(dropped), tc.unverified, tc.oversized, tc.dropped)
			}
			for r, of := range dropped {
				if of != "r0" || r.Pos == 0 {
					t.Errorf("row %d names %s, want r0", r.Pos, of)
				}
			}
		})
	}
}

// TestCodecs round-trips each hand-coded element and refuses every
// truncation of it.
func TestCodecs(t *testing.T) {
	// A sparse sketch (3 bins not empty) and a dense one.
	sketches := make([]byte, 2*sketchSize)
	sketches[0], sketches[7], sketches[sketchSize-1] = 0x31, 0x40, 0x0f
	for i := sketchSize; i < 2*sketchSize; i++ {
		sketches[i] = byte(i*37) | 0x11
	}
	for _, tc := range []struct {
		v   any
		enc func(any) ([]byte, error)
		dec func([]byte) (any, error)
	}{
		{ExactChunk{Batch: 7 << 32, Pos: []int32{0, 3, 900}, Hash: make([]byte, 48), IDs: []string{"a", "", "ü"}},
			func(v any) ([]byte, error) { return encExact(v.(ExactChunk)) }, func(b []byte) (any, error) { return decExact(b) }},
		{ExactChunk{Batch: 1, Pos: []int32{0, 1, 2, 3, 4, 5}, Hash: make([]byte, 96), IDs: []string{"r004711", "r004712", "r0047", "", "r00", "r004799ü"}},
			func(v any) ([]byte, error) { return encExact(v.(ExactChunk)) }, func(b []byte) (any, error) { return decExact(b) }},
		{SimChunk{Batch: 1, Pos: []int32{5, 2}, IDs: []string{"x", "y"}, Tag: []uint32{511, 0}, Sketch: sketches,
			Own: []uint32{65535, 3}, Flips: []uint8{0, 15, 4, 2}},
			func(v any) ([]byte, error) { return encSim(v.(SimChunk)) }, func(b []byte) (any, error) { return decSim(b) }},
		{SimChunk{Batch: 2, Pos: []int32{1}, IDs: []string{"z"}, Tag: []uint32{1}, Sketch: make([]byte, sketchSize), Own: []uint32{1}, Flips: []uint8{3}},
			func(v any) ([]byte, error) { return encSim(v.(SimChunk)) }, func(b []byte) (any, error) { return decSim(b) }},
		{Decision{Step: 3, Batch: -5, Drops: []Drop{{Pos: 4, Of: "k", Reason: "duplicate", Detail: "same"}, {Pos: 1 << 20}}},
			func(v any) ([]byte, error) { return encDecision(v.(Decision)) }, func(b []byte) (any, error) { return decDecision(b) }},
		{Decision{Step: 2, Batch: 9, Drops: []Drop{{Pos: 4, Of: "r000061", Reason: "duplicate", Detail: "same words text (xxh3-128 aa)"},
			{Pos: 5, Of: "r000061", Reason: "duplicate", Detail: "same words text (xxh3-128 bb)"}, {Pos: 7, Of: "r0", Detail: "x"}, {Pos: 8},
			{Pos: 9, Of: "r000062", Reason: "duplicate", Hash: []byte("0123456789abcdef")}}},
			func(v any) ([]byte, error) { return encDecision(v.(Decision)) }, func(b []byte) (any, error) { return decDecision(b) }},
		{StoredRej{Step: 2, Key: 1 << 40, N: 3, Path: "pass-7", Off: 1 << 33, Lens: []int32{0, 70, 1 << 20}},
			func(v any) ([]byte, error) { return encStoredRej(v.(StoredRej)) }, func(b []byte) (any, error) { return decStoredRej(b) }},
		{Keepers{Refs: []RowRef{{Key: 1 << 40, Pos: 3, ID: "r000061"}, {Key: 1 << 40, Pos: 3, ID: "r000061"}, {Key: 5, Pos: 0}, {Key: -1, Pos: 1 << 30, ID: "ü"}}},
			func(v any) ([]byte, error) { return encKeepers(v.(Keepers)) }, func(b []byte) (any, error) { return decKeepers(b) }},
		{Blobs{K: []int64{9, -2}, B: [][]byte{{1, 2}, nil}},
			func(v any) ([]byte, error) { return encBlobs(v.(Blobs)) }, func(b []byte) (any, error) { return decBlobs(b) }},
		{Decision{Step: 1, Pct: []float64{12.5, math.Inf(1)}, Rows: 1 << 33},
			func(v any) ([]byte, error) { return encDecision(v.(Decision)) }, func(b []byte) (any, error) { return decDecision(b) }},
		{Decision{Batch: 1 << 40, Pairs: []Pair{{Later: RowRef{Key: 3, Pos: 9}, Of: RowRef{Key: -1, Pos: 0, ID: "o"}, Sim: 0.625, Check: true, Set: []uint32{1, 1 << 31}}, {Sim: 1},
			{Later: RowRef{Key: math.MinInt64}, Of: RowRef{Key: math.MaxInt64}},
			{Check: true, SetAt: SetRef{File: "pass-12", Off: 1 << 33, N: 256}}, {Check: true, SetAt: SetRef{File: "pass-13", N: 1}}}},
			func(v any) ([]byte, error) { return encDecision(v.(Decision)) }, func(b []byte) (any, error) { return decDecision(b) }},
		// Three pairs with the same earlier row share its set, written once;
		// a set out of order round-trips too.
		{Decision{Batch: 2, Pairs: []Pair{
			{Later: RowRef{Key: 3, Pos: 9}, Of: RowRef{Key: 1, Pos: 2, ID: "o"}, Check: true, Set: []uint32{7, 9, math.MaxUint32}},
			{Later: RowRef{Key: 3, Pos: 4}, Of: RowRef{Key: 1, Pos: 3, ID: "p"}, Check: true, Set: []uint32{5, 2, 0}},
			{Later: RowRef{Key: 3, Pos: 11}, Of: RowRef{Key: 1, Pos: 2, ID: "o"}, Check: true, Set: []uint32{7, 9, math.MaxUint32}},
			{Later: RowRef{Key: 4, Pos: 0}, Of: RowRef{Key: 1, Pos: 2, ID: "o"}, Check: true, Set: []uint32{7, 9, math.MaxUint32}}}},
			func(v any) ([]byte, error) { return encDecision(v.(Decision)) }, func(b []byte) (any, error) { return decDecision(b) }},
	} {
		b, err := tc.enc(tc.v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tc.dec(b)
		if err != nil || !reflect.DeepEqual(got, tc.v) {
			t.Errorf("%T: round trip gave %+v, %v", tc.v, got, err)
		}
		if c, ok := tc.v.(ExactChunk); ok && len(c.IDs) == 6 {
			// Ids are written as the prefix shared with the one before and
			// the rest: shorter than each written whole.
			e := enc{}
			for _, id := range c.IDs {
				e.str(id)
			}
			if plain, _ := encExact(ExactChunk{Batch: c.Batch, Pos: c.Pos, Hash: c.Hash}); len(b) >= len(plain)+len(e.b) {
				t.Errorf("shared prefixes: %d bytes, %d with every id written whole", len(b), len(plain)+len(e.b))
			}
		}
		if d, ok := tc.v.(Decision); ok && len(d.Pairs) == 4 {
			// The shared set is written once: the element is shorter than
			// with the set of every pair written out.
			again := d
			again.Pairs = slices.Clone(d.Pairs)
			again.Pairs[2].Of.Pos, again.Pairs[3].Of.Pos = 5, 6
			long, _ := encDecision(again)
			if len(b) >= len(long)-4 {
				t.Errorf("shared sets: %d bytes, %d with every set written", len(b), len(long))
			}
		}
		for n := range len(b) {
			if _, err := tc.dec(b[:n]); err == nil {
				t.Errorf("%T: %d of %d bytes decoded without error", tc.v, n, len(b))
			}
		}
		if _, err := tc.dec(append(b, 0)); err == nil {
			t.Errorf("%T: trailing byte accepted", tc.v)
		}
	}
}

// TestSimChunkShape refuses chunks whose per-row arrays disagree: a group
// indexes a row's sketch, own bucket and flips by its number.
func TestSimChunkShape(t *testing.T) {
	good := SimChunk{Batch: 1, Pos: []int32{0, 1}, IDs: []string{"a", "b"}, Tag: []uint32{1, 2}, Sketch: make([]byte, 2*sketchSize),
		Own: []uint32{7, 9}, Flips: []uint8{1, 2, 3, 4}}
	for _, tc := range []struct {
		name string
		bad  func(c *SimChunk)
	}{
		{"ok", func(*SimChunk) {}},
		{"ids", func(c *SimChunk) { c.IDs = c.IDs[:1] }},
		{"tags", func(c *SimChunk) { c.Tag = append(c.Tag, 3) }},
		{"sketch", func(c *SimChunk) { c.Sketch = c.Sketch[:sketchSize+1] }},
		{"own", func(c *SimChunk) { c.Own = nil }},
		{"flips not a multiple of the rows", func(c *SimChunk) { c.Flips = c.Flips[:3] }},
		{"more than 8 flips a row", func(c *SimChunk) { c.Flips = make([]uint8, 18) }},
	} {
		c := good
		tc.bad(&c)
		b, err := encSim(c)
		if err != nil {
			t.Fatal(err)
		}
		_, err = decSim(b)
		if (err == nil) != (tc.name == "ok") {
			t.Errorf("%s: decoding gave %v", tc.name, err)
		}
	}
}

// TestDecode checks that a batch comes back from its bytes as it went in
// (read without copying), with nulls and multi-byte text,
// and that every truncation of an element fails or, once the record
// message is whole, gives the same batch, never a panic.
func TestDecode(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	path := filepath.Join(t.TempDir(), "in.jsonl")
	lines := `{"id":"a","text":"plain ascii"}
{"id":"b","text":null}
{"id":"c","text":"ünïcödé 漢字 and more text to compress, text to compress"}
{"id":"d","text":""}
`
	if err := os.WriteFile(path, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := dataset.Open(mem, []string{path})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rec, _, err := r.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	b, err := encode(mem, rec)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decode(mem, b)
	if err != nil {
		t.Fatal(err)
	}
	if !array.RecordEqual(rec, got) {
		t.Errorf("decoded batch differs:\n%v\n%v", rec, got)
	}
	got.Release()
	for n := range len(b) {
		got, err := decode(mem, b[:n])
		if err != nil {
			continue
		}
		if !array.RecordEqual(rec, got) {
			t.Errorf("%d of %d bytes decoded to a different batch", n, len(b))
		}
		got.Release()
	}
}

// TestScratchFiles: what a pass puts in a scratch file is read back where
// put said, by the file's name in the scratch directory, which is opened
// once however many pieces are read from it, in any order, a piece larger
// than a window of reading included.
func TestScratchFiles(t *testing.T) {
	dir := t.TempDir()
	f := scratchFile{dir: dir}
	var names []string
	var offs []int64
	pieces := []string{"first line\n", "", "third\n", strings.Repeat("x", windowBytes+10), "last\n"}
	for _, s := range pieces {
		name, off, err := f.put([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		if filepath.IsAbs(name) {
			t.Fatalf("put gave the path %s, want a name in the scratch directory", name)
		}
		names, offs = append(names, name), append(offs, off)
	}
	if err := f.close(); err != nil {
		t.Fatal(err)
	}
	files := stored{}
	defer files.close()
	for _, i := range []int{0, 1, 2, 3, 4, 2, 0} {
		want := pieces[i]
		b, err := files.read(dir, names[i], offs[i], int64(len(want)))
		if err != nil || string(b) != want {
			t.Fatalf("piece %d: %.20q, %v; want %.20q", i, b, err, want)
		}
	}
	if _, err := files.read(dir, names[0], offs[4], 100); err == nil {
		t.Error("a read past the end of the file did not fail")
	}
	if len(files) != 1 {
		t.Errorf("%d files open, want 1", len(files))
	}
}

// TestRejectRuns: reject lines go out as runs of one step and batch,
// consecutive in the scratch file, a run broken where the step, the batch
// or the rank changes; the rejects writer puts every line back, in sift
// run's order, whatever order the runs arrive in.
func TestRejectRuns(t *testing.T) {
	dir := t.TempDir()
	var runs []StoredRej
	st := &rejStore{file: scratchFile{dir: dir}, rej: func(r StoredRej) { runs = append(runs, r) }}
	lines := []RejLine{
		{Step: 1, Key: 5, N: 0}, {Step: 1, Key: 5, N: 1}, {Step: 1, Key: 5, N: 2}, // one run
		{Step: 1, Key: 3, N: 0},                          // another batch
		{Step: 2, Key: 3, N: 0}, {Step: 2, Key: 3, N: 1}, // another step
		{Step: 2, Key: 3, N: 3}, // a rank skipped (as no pass makes)
		{Step: 0, Key: 3, N: 0}, {Step: 0, Key: 3, N: 1},
	}
	for i := range lines {
		lines[i].JSON = fmt.Appendf(nil, `{"line":%d,"pad":%q}`, i, strings.Repeat("x", i*7))
		st.put(lines[i])
	}
	if err := st.close(nil); err != nil {
		t.Fatal(err)
	}
	var lens []int
	for _, r := range runs {
		lens = append(lens, len(r.Lens))
	}
	if want := []int{3, 1, 2, 1, 2}; !slices.Equal(lens, want) {
		t.Fatalf("runs of %v lines, want %v", lens, want)
	}
	slices.Reverse(runs)
	out := filepath.Join(dir, "rejects.jsonl")
	w := &writeRejFn{Path: out, N: 1, Scratch: dir}
	i := 0
	err := w.ProcessElement(0, func(*bool) bool { return false }, func(r *StoredRej) bool {
		if i == len(runs) {
			return false
		}
		*r = runs[i]
		i++
		return true
	}, func(Tally) {})
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(ShardPath(out, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	for _, i := range []int{7, 8, 3, 0, 1, 2, 4, 5, 6} { // by step, batch, rank
		want = append(append(want, lines[i].JSON...), '\n')
	}
	if string(got) != string(want) {
		t.Errorf("rejects written:\n%s\nwant:\n%s", got, want)
	}
}

// TestReadSets: the feature sets the feature-set pass leaves in a scratch
// file reach the pairs that name them, the same set once for every pair
// naming it, and a pair naming a file that is not there fails the pass.
func TestReadSets(t *testing.T) {
	dir := t.TempDir()
	f := scratchFile{dir: dir}
	var refs []SetRef
	for _, set := range [][]uint32{{1, 5, math.MaxUint32}, {7}} {
		var raw []byte
		for _, v := range set {
			raw = binary.LittleEndian.AppendUint32(raw, v)
		}
		name, off, err := f.put(raw)
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, SetRef{File: name, Off: off, N: int32(len(set))})
	}
	if err := f.close(); err != nil {
		t.Fatal(err)
	}
	ps := []Pair{{SetAt: refs[1]}, {Sim: 0.5}, {SetAt: refs[0]}, {SetAt: refs[1]}}
	if err := readSets(dir, ps); err != nil {
		t.Fatal(err)
	}
	want := [][]uint32{{7}, nil, {1, 5, math.MaxUint32}, {7}}
	for i, p := range ps {
		if !slices.Equal(p.Set, want[i]) || p.SetAt != (SetRef{}) {
			t.Errorf("pair %d: set %v at %+v, want %v", i, p.Set, p.SetAt, want[i])
		}
	}
	if &ps[0].Set[0] != &ps[3].Set[0] {
		t.Error("a set named by two pairs was read twice")
	}
	if err := readSets(dir, []Pair{{SetAt: SetRef{File: "gone", N: 1}}}); err == nil {
		t.Error("a set in a file that is not there was read")
	}
	if err := readSets(dir, []Pair{{SetAt: SetRef{File: refs[0].File, Off: 8, N: 3}}}); err == nil {
		t.Error("a set past the end of its file was read")
	}
}

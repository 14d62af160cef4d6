package dedup

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/mfonda/simhash"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/seg"
	"github.com/zeebo/xxh3"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

func TestSimhashBytesMatchesMfonda(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for n := range 300 {
		feats := make([][]byte, n)
		for i := range feats {
			feats[i] = fmt.Appendf(nil, "f%d-%d", rng.IntN(50), i%7)
		}
		if got, want := SimhashBytes(feats), simhash.SimhashBytes(feats); got != want {
			t.Fatalf("%d features: %016x, mfonda %016x", n, got, want)
		}
	}
}

func TestAddAllMatchesAdd(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, n := range []int{0, 1, 2, 15, 16, 17, 100, 239, 240, 241, 254, 255, 256, 1000} {
		for lanes := 1; lanes <= maxLanes; lanes++ {
			hs := make([]uint64, n)
			for i := range hs {
				hs[i] = rng.Uint64()
				switch {
				case i%5 == 0 || n == 240:
					hs[i] = ^uint64(0) // all bits set: the largest counts
				case i%7 == 0 || n == 254:
					hs[i] = 0 // none: the largest margins below
				}
			}
			var one, all Accumulator
			one.Reset(lanes)
			all.Reset(lanes)
			for _, h := range hs {
				one.Add(h)
			}
			all.AddAll(hs[:n/2])
			all.AddAll(hs[n/2:])
			var m1, m2 [maxLanes * 64]uint8
			s0, m0 := refSig(hs, lanes)
			if s1, s2 := one.Sig(m1[:]), all.Sig(m2[:]); s1 != s0 || s2 != s0 || m1 != m0 || m2 != m0 || one.Len() != n || all.Len() != n {
				t.Fatalf("%d hashes, %d lanes: AddAll %x, Add %x, want %x", n, lanes, s2, s1, s0)
			}
			if s := all.Sig(nil); s != s0 {
				t.Fatalf("%d hashes, %d lanes: Sig(nil) %x, want %x", n, lanes, s, s0)
			}
		}
	}
}

// refSig is the signature and margins of Accumulator.Sig for the feature
// hashes hs, counted bit by bit.
func refSig(hs []uint64, lanes int) (s Sig, margin [maxLanes * 64]uint8) {
	for l := 0; l < lanes; l++ {
		for i := 0; i < 64; i++ {
			d := 0
			for _, h := range hs {
				for range l {
					h = mix64(h + 0x9E3779B97F4A7C15)
				}
				d += int(h>>i&1)*2 - 1
			}
			if d >= 0 {
				s[l] |= 1 << i
			}
			margin[64*l+i] = uint8(min(max(d, -d), 255))
		}
	}
	return s, margin
}

func TestHashSet(t *testing.T) {
	var s hashSet
	key := func(i int) xxh3.Uint128 { return xxh3.HashString128(fmt.Sprint(i)) }
	const n = 10000
	for round := range 2 {
		for i := range n {
			if doc, dup := s.add(key(i)); doc != i || dup != (round == 1) {
				t.Fatalf("round %d: add(key %d) = %d, %v", round, i, doc, dup)
			}
		}
	}
	if b := float64(s.bytes()) / n; b > 28 {
		t.Errorf("%.1f B per hash", b)
	}
}

func TestCompatFeaturesAreMfondaShingles(t *testing.T) {
	sh, _ := NewShingler(3, 3, 3, 3)
	for _, s := range []string{"The quick brown fox jumps over the lazy dog", "a b", "One, two; THREE four!"} {
		var got [][]byte
		sh.CompatFeatures(s, func(f []byte) { got = append(got, bytes.Clone(f)) })
		words := mfondaWords.FindAll(bytes.ToLower([]byte(s)), -1)
		if a, b := SimhashBytes(got), simhash.SimhashBytes(simhash.Shingle(3, words)); a != b {
			t.Errorf("%q: %016x, mfonda %016x (features %q)", s, a, b, got)
		}
	}
}

func TestShinglerRuns(t *testing.T) {
	sh, _ := NewShingler(2, 2, 2, 2)
	for _, tc := range []struct{ in, want string }{
		{"Hello, World!", "hello world"},
		{"ＡＢＣ def", "abc def"},
		{"我爱北京", "我 爱|爱 北|北 京"},
		{"Go语言 is fun", "go|语 言|is fun"},
		{"", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			var got []string
			sh.CompatFeatures(tc.in, func(f []byte) { got = append(got, string(f)) })
			if s := strings.Join(got, "|"); s != tc.want {
				t.Errorf("features %q, want %q", s, tc.want)
			}
		})
	}
}

func FuzzShingler(f *testing.F) {
	for _, s := range []string{"Hello world", "中文和English混合。", "ＡＢＣ", "\xff\xfe", "a  b\n\nc"} {
		f.Add(s)
	}
	sh, _ := NewShingler(3, 2, 3, 2)
	f.Fuzz(func(t *testing.T, s string) {
		var h1, h2 []uint64
		sh.Hashes(s, func(h uint64) { h1 = append(h1, h) })
		sh.Hashes(s, func(h uint64) { h2 = append(h2, h) })
		n := 0
		sh.CompatFeatures(s, func([]byte) { n++ })
		if !slices.Equal(h1, h2) || n != len(h1) {
			t.Fatalf("%q: hashes %v then %v, %d compat features", s, h1, h2, n)
		}
	})
}

// rows builds a batch of texts with ids "r0", "r1", ...
func rows(mem memory.Allocator, texts []string) arrow.RecordBatch {
	bld := sift.NewBuilder(mem)
	defer bld.Release()
	for i, s := range texts {
		bld.Append(sift.Row{ID: fmt.Sprintf("r%d", i), Text: &s})
	}
	return bld.NewBatch()
}

// run sends texts through st in batches of size and returns the kept ids
// and "id<keeper" per reject.
func run(t *testing.T, st sift.Stage, texts []string, size int) (kept, dups []string) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	all := rows(mem, texts)
	defer all.Release()
	var recs []arrow.RecordBatch
	for i := 0; i < len(texts); i += size {
		recs = append(recs, all.NewSlice(int64(i), int64(min(i+size, len(texts)))))
	}
	var rej bytes.Buffer
	col := &sift.Collector{}
	p := sift.NewPipeline(sift.NewSliceSource(recs...), col, sift.WithStage("dedup", st), sift.WithAllocator(mem), sift.WithWorkers(4), sift.WithRejects(&rej))
	if _, err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, r := range col.Recs {
		ids := sift.ColsOf(r).ID
		for i := 0; i < ids.Len(); i++ {
			kept = append(kept, ids.Value(i))
		}
	}
	col.Release()
	for _, line := range strings.Split(strings.TrimSpace(rej.String()), "\n") {
		if line != "" {
			dups = append(dups, line)
		}
	}
	return kept, dups
}

func TestStages(t *testing.T) {
	base := "Licence boilerplate is the classic precision trap: two packages share a long paragraph about redistribution and warranty, yet the rest of each file is its own."
	other := "Chinese text has no spaces between words, so shingles over Han characters use character n-grams instead of whole words 中文文本的词之间没有空格所以汉字使用字符级别的片段"
	texts := []string{
		base,
		strings.ToUpper(base), // exact under words/fold normalization
		strings.Replace(base, "classic", "classical", 1), // near duplicate
		other,
		other + " ",
		"",
		"",
	}
	for _, tc := range []struct {
		name string
		st   func() sift.Stage
		kept []string
	}{
		{"exact", func() sift.Stage { s, _ := NewExactDedup(Words, sift.AllRoles); return s }, []string{"r0", "r2", "r3", "r5"}},
		{"simhash", func() sift.Stage { s, _ := NewSimhashDedup(); return s }, []string{"r0", "r3", "r5", "r6"}},
	} {
		for _, size := range []int{1, 2, 3, len(texts)} {
			t.Run(fmt.Sprintf("%s/batch%d", tc.name, size), func(t *testing.T) {
				kept, dups := run(t, tc.st(), texts, size)
				if !slices.Equal(kept, tc.kept) {
					t.Errorf("kept %v, want %v", kept, tc.kept)
				}
				for _, d := range dups {
					if !strings.Contains(d, `"duplicate_of":"r`) {
						t.Errorf("reject does not name its keeper: %s", d)
					}
				}
			})
		}
	}
}

func TestPropertiesOnCorpus(t *testing.T) {
	docs := evalCorpus(t, 300)
	var texts []string
	for _, d := range docs {
		if d.rate == 0 {
			texts = append(texts, d.text)
		}
	}
	// Identical documents are always duplicates; distinct base documents
	// (pairwise 3-shingle Jaccard < 0.5) mostly are not.
	st, _ := NewSimhashDedup()
	kept, dups := run(t, st, append(slices.Clone(texts), texts...), 64)
	if len(kept) < len(texts)*97/100 || len(dups) != len(texts)*2-len(kept) {
		t.Fatalf("%d texts twice: kept %d", len(texts), len(kept))
	}
	// Batch size does not change the result.
	st2, _ := NewSimhashDedup()
	kept2, _ := run(t, st2, append(slices.Clone(texts), texts...), 7)
	if !slices.Equal(kept, kept2) {
		t.Error("batch size changed which rows are kept")
	}
}

func TestReference(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ref.idx")
	a := "The first corpus had this paragraph about the weather in spring, which was mild and wet for most of April."
	st, _ := NewSimhashDedup(WithSave(path))
	run(t, st, []string{a}, 1)
	st2, err := NewSimhashDedup(WithReference(path))
	if err != nil {
		t.Fatal(err)
	}
	kept, dups := run(t, st2, []string{"Something else entirely, about databases and their indexes, written later.", a + " Really."}, 1)
	if len(kept) != 1 || len(dups) != 1 || !strings.Contains(dups[0], `"duplicate_of":"r0"`) {
		t.Errorf("kept %v, rejects %v", kept, dups)
	}
	if _, err := NewSimhashDedup(WithReference(filepath.Join(t.TempDir(), "none"))); err == nil || !strings.HasPrefix(err.Error(), "reference:") {
		t.Errorf("missing reference: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		opt  SimhashOption
		want string
	}{
		{WithNgrams(0, 2), "word_ngram"},
		{WithNgrams(3, 9), "char_ngram"},
		{WithIndex(IndexConfig{Lanes: 5, Bands: 1, BucketBits: 16}), "bits"},
		{WithIndex(IndexConfig{Lanes: 1, Bands: 8, BucketBits: 16}), "bands"},
		{WithIndex(IndexConfig{Lanes: 1, Bands: 1, BucketBits: 30}), "bucket_bits"},
		{WithIndex(IndexConfig{Lanes: 1, Bands: 1, BucketBits: 16, TagBits: 17}), "tag_bits"},
		{WithIndex(IndexConfig{Lanes: 1, Bands: 1, BucketBits: 16, TagBits: 4, TagDist: 5}), "tag_distance"},
		{WithIndex(IndexConfig{Lanes: 1, Bands: 1, BucketBits: 16, Probes: 9}), "probes"},
		{WithIndex(IndexConfig{Lanes: 1, Bands: 1, BucketBits: 16, MinSim: 1.5}), "min_similarity"},
		{WithRoles(0), "roles"},
	} {
		if _, err := NewSimhashDedup(tc.opt); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("error %v, want prefix %q", err, tc.want)
		}
	}
	if _, err := NewExactDedup("nfc", sift.AllRoles); err == nil || !strings.HasPrefix(err.Error(), "normalize") {
		t.Errorf("error %v", err)
	}
}

// FuzzNormalize checks the piecewise normalizer (ASCII spans lowered,
// other spans folded) against NFKC and case folding of the whole text.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"Straße ÉTÉ Ǆ x", "İstanbul ΣΑΣ ﬁ", "ＡＢＣ abc", "e\u0301 A\u030A", "\xff\xfeA"} {
		f.Add(s)
	}
	var n normalizer
	fold := cases.Fold()
	f.Fuzz(func(t *testing.T, s string) {
		want := fold.String(norm.NFKC.String(s))
		if got := n.normalize(s); got != want {
			t.Fatalf("%q: normalized %q, want %q", s, got, want)
		}
	})
}

// TestIDStoreSpills: ids read back from the file, through the cache of
// records read (hits, slots taken over by another document, records too
// long to cache), are the ids added.
func TestIDStoreSpills(t *testing.T) {
	var s idStore
	defer s.close()
	var want []string
	for i := range 3 * idBlock {
		id := fmt.Sprintf("%s-%d", strings.Repeat("x", i%40), i)
		if i%1000 == 999 {
			id = strings.Repeat(id, cacheRecord/len(id)+1) // longer than a cached record
		}
		want = append(want, id)
		if err := s.add(id); err != nil {
			t.Fatal(err)
		}
	}
	if s.f == nil || s.tailOff == 0 || len(s.tail) >= idTail {
		t.Fatalf("ids did not spill: file %v, %d bytes on disk, %d in memory", s.f != nil, s.tailOff, len(s.tail))
	}
	for pass := range 2 {
		for j := range want {
			i := j * 7919 % len(want) // documents cacheSlots apart share a slot
			if got, err := s.get(i); err != nil || got != want[i] {
				t.Fatalf("pass %d, id %d: %q, %v; want %q", pass, i, got, err, want[i])
			}
		}
	}
}

func TestSketchJaccard(t *testing.T) {
	sh, _ := NewShingler(1, 1, 3, 3)
	var a Accumulator
	sketch := func(s string) Sketch {
		var fp Fingerprint
		a.Reset(2)
		sh.Add(s, &a)
		a.Fingerprint(&fp)
		return fp.Sketch
	}
	var words []string
	for i := range 200 {
		words = append(words, fmt.Sprint("w", i))
	}
	base := strings.Join(words, " ")
	same, half := sketch(base), sketch(strings.Join(words[:100], " "))
	other := sketch(strings.ReplaceAll(base, "w", "v"))
	// Repeating a text does not change its shingle set.
	if j := same.Jaccard(ptr(sketch(base + " " + base))); j < 0.9 {
		t.Errorf("text and text twice: %.2f", j)
	}
	if j := same.Jaccard(&half); j < 0.3 || j > 0.7 {
		t.Errorf("text and its first half: %.2f, want about 0.5", j)
	}
	if j := same.Jaccard(&other); j > 0.1 {
		t.Errorf("unrelated texts: %.2f", j)
	}
}

func ptr[T any](v T) *T { return &v }

// TestExactKeyIsStreamedWords pins exact dedup's key: XXH3-128 of the
// normalized words, each followed by a 0 byte, as a streaming hasher
// gives it word by word (keys of saved runs must not change).
func TestExactKeyIsStreamedWords(t *testing.T) {
	d, err := NewExactDedup(Words, sift.AllRoles)
	if err != nil {
		t.Fatal(err)
	}
	var n normalizer
	for i, s := range []string{"", "Hello, World!", "版权所有 Copyright © 2024", strings.Repeat("The quick brown fox. ", 40),
		strings.Repeat("ﬁne Ｆull-width ÉCOLE ", 30), strings.Repeat("x", 5000)} {
		h := xxh3.New128()
		tx := n.normalize(s)
		for _, sg := range seg.AppendWords(nil, tx) {
			h.WriteString(tx[sg.Start:sg.End])
			h.Write([]byte{0})
		}
		if got, want := d.Key(s), h.Sum128(); got != want {
			t.Errorf("text %d: key %x, streamed %x", i, got, want)
		}
	}
}

// TestOldIndexFormat: an index saved by an earlier format version is
// refused with ErrOldIndex and a message saying what to do.
func TestOldIndexFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.idx")
	os.WriteFile(path, []byte("SIFTSIM3\x02\x04"), 0o644)
	_, err := NewSimhashDedup(WithReference(path))
	if !errors.Is(err, ErrOldIndex) || !strings.Contains(err.Error(), "format 3") {
		t.Errorf("old index: %v", err)
	}
}

// TestBottomKJaccard compares the feature check with exact Jaccard of the
// whole sets: equal when both sets fit, close when they are cut.
func TestBottomKJaccard(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct{ n, k int }{{10, 256}, {200, 256}, {3000, 256}, {3000, 1024}} {
		for _, share := range []float64{0, 0.3, 0.5, 0.7, 1} {
			var a, b []uint32
			seen := map[uint32]bool{}
			for len(a) < tc.n {
				v := rng.Uint32()
				if seen[v] {
					continue
				}
				seen[v] = true
				a = append(a, v)
				if rng.Float64() < share {
					b = append(b, v)
				}
			}
			for len(b) < tc.n {
				if v := rng.Uint32(); !seen[v] {
					seen[v] = true
					b = append(b, v)
				}
			}
			slices.Sort(a)
			slices.Sort(b)
			a64, b64 := make([]uint64, len(a)), make([]uint64, len(b))
			for i := range a {
				a64[i] = uint64(a[i])
			}
			for i := range b {
				b64[i] = uint64(b[i])
			}
			want := jaccard(a64, b64)
			got := bottomKJaccard(a[:min(len(a), tc.k)], b[:min(len(b), tc.k)], tc.k)
			tol := 1e-12
			if tc.n > tc.k {
				tol = 4*math.Sqrt(want*(1-want)/float64(tc.k)) + 1e-9
			}
			if math.Abs(got-want) > tol {
				t.Errorf("n=%d k=%d: %.4f, exact %.4f", tc.n, tc.k, got, want)
			}
		}
	}
}

// TestSimilarity: the one-call similarity is the exact Jaccard of the
// texts' 3-gram sets.
func TestSimilarity(t *testing.T) {
	sh, _ := NewShingler(DefaultSketchWordN, DefaultSketchCharN, DefaultSketchWordN, DefaultSketchCharN)
	for _, p := range [][2]string{
		{"one two three four five six seven", "one two three four five six eight"},
		{"a b c d e f g h i j", "a b c d e f g h i j a b c"},
		{"春眠不觉晓处处闻啼鸟", "春眠不觉晓处处闻啼鸣"},
		{"", "nothing"},
	} {
		want := 0.0
		if a, b := shingleSet(sh, p[0]), shingleSet(sh, p[1]); len(a) > 0 && len(b) > 0 {
			want = jaccard(a, b)
		}
		if got := Similarity(p[0], p[1]); math.Abs(got-want) > 1e-12 {
			t.Errorf("%q %q: %.4f, want %.4f", p[0], p[1], got, want)
		}
	}
}

// TestFeaturesSmallest checks that the k smallest distinct feature top
// halves of long texts (taken from the least hashes) equal those of a
// full sort, with and without many repeats, and of hashes of a narrow
// range.
func TestFeaturesSmallest(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, tc := range []struct {
		n, distinct, k int
		bits           uint // of the hashes (64: all)
	}{
		{100, 100, 256, 64}, {2000, 2000, 256, 64}, {5000, 300, 256, 64}, {5000, 5000, 16, 64}, {20000, 400, 256, 64},
		{257, 257, 256, 64}, {300, 280, 256, 64}, {741, 650, 256, 64}, {1275, 492, 256, 64}, {1000, 257, 256, 64},
		{1000, 200, 256, 64}, {600, 600, 16, 64}, {3000, 3000, 1, 64}, {1, 1, 256, 64}, {30, 30, 256, 64}, {47, 10, 256, 64},
		{48, 48, 256, 64}, {200, 50, 256, 64},
		{2000, 2000, 256, 40}, {2000, 2000, 256, 36}, {2000, 2000, 256, 33}, {2000, 2000, 256, 7}, {2000, 2000, 256, 0},
	} {
		var fp Fingerprint
		pool := make([]uint64, tc.distinct)
		for i := range pool {
			pool[i] = rng.Uint64() & (1<<tc.bits - 1)
		}
		for range tc.n {
			fp.raw = append(fp.raw, pool[rng.IntN(len(pool))])
		}
		want := smallestTopHalves(fp.raw, tc.k)
		if got := fp.features(tc.k); !slices.Equal(got, want) {
			t.Errorf("n %d distinct %d k %d bits %d: %d features, want %d", tc.n, tc.distinct, tc.k, tc.bits, len(got), len(want))
		}
	}
}

// smallestTopHalves is what Fingerprint.features must return: the k
// smallest distinct top halves of hs by a full sort.
func smallestTopHalves(hs []uint64, k int) []uint32 {
	var want []uint32
	for _, h := range hs {
		want = append(want, uint32(h>>32))
	}
	slices.Sort(want)
	want = slices.Compact(want)
	return want[:min(len(want), k)]
}

// FuzzFeatures checks Fingerprint.features against a full sort on hashes
// of any values, repeats and range: 8 bytes per hash, masked to the low
// bits given.
func FuzzFeatures(f *testing.F) {
	f.Add([]byte("0123456789abcdef"), uint16(1), uint8(64))
	f.Add(bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9}, 300), uint16(256), uint8(64))
	f.Add(bytes.Repeat([]byte("sift dedup"), 500), uint16(16), uint8(35))
	f.Fuzz(func(t *testing.T, data []byte, k uint16, bits uint8) {
		if k == 0 {
			return
		}
		var fp Fingerprint
		for i := 0; i+8 <= len(data); i += 8 {
			fp.raw = append(fp.raw, binary.LittleEndian.Uint64(data[i:])&(1<<(bits%65)-1))
		}
		want := smallestTopHalves(fp.raw, int(k))
		if got := fp.features(int(k)); len(fp.raw) > 0 && !slices.Equal(got, want) {
			t.Errorf("%d hashes, k %d, bits %d: %d features, want %d", len(fp.raw), k, bits%65, len(got), len(want))
		}
	})
}

// chainTexts returns a, b and c of 200 words each: b shares its first 160
// words with a (3-gram Jaccard 0.66), c its last 160 with b (0.66), but c
// shares only 120 with a (0.42).
func chainTexts() (a, b, c string) {
	w := func(p string, from, to int) []string {
		var s []string
		for i := from; i < to; i++ {
			s = append(s, fmt.Sprintf("%s%d", p, i))
		}
		return s
	}
	join := func(parts ...[]string) string { return strings.Join(slices.Concat(parts...), " ") }
	return join(w("river", 0, 200)), join(w("river", 0, 160), w("stone", 0, 40)), join(w("cloud", 0, 40), w("river", 40, 160), w("stone", 0, 40))
}

// TestChains checks that a row near a dropped row, but not near its kept
// row, is dropped naming the kept row (and the dropped one in the detail)
// with chains, kept without, and that a saved index keeps the chain.
func TestChains(t *testing.T) {
	a, b, c := chainTexts()
	if ab, bc, ac := Similarity(a, b), Similarity(b, c), Similarity(a, c); ab < 0.5 || bc < 0.5 || ac >= 0.5 {
		t.Fatalf("similarities %.2f %.2f %.2f", ab, bc, ac)
	}
	path := filepath.Join(t.TempDir(), "ref.idx")
	st, _ := NewSimhashDedup(WithSave(path))
	kept, dups := run(t, st, []string{a, b, c}, 1)
	if !slices.Equal(kept, []string{"r0"}) || len(dups) != 2 || !strings.Contains(dups[1], `"duplicate_of":"r0"`) || !strings.Contains(dups[1], "near-duplicate r1") {
		t.Errorf("chains: kept %v, rejects %v", kept, dups)
	}
	if r := st.Report().(Report); r.ViaNearCopy != 1 || r.LargestCluster != 3 {
		t.Errorf("report %+v", r)
	}
	st, _ = NewSimhashDedup(WithChains(false))
	if kept, _ := run(t, st, []string{a, b, c}, 1); !slices.Equal(kept, []string{"r0", "r2"}) {
		t.Errorf("no chains: kept %v", kept)
	}
	// The saved index still leads from r1 to r0.
	st, err := NewSimhashDedup(WithReference(path))
	if err != nil {
		t.Fatal(err)
	}
	if _, dups := run(t, st, []string{c}, 1); len(dups) != 1 || !strings.Contains(dups[0], `"duplicate_of":"r0"`) {
		t.Errorf("reference: rejects %v", dups)
	}
}

// TestQueryFiltersAreBounds checks what Query's shortcuts rest on, on
// random sketch pairs from empty to full and from unrelated to identical:
// the counts of the packed masks are the bin-by-bin counts, an estimate
// never exceeds the ratio of the sketches' sizes, a pair whose estimate
// could matter (at least floor of its bins) passes the size filter, and
// the count threshold drops no pair whose estimate could matter.
func TestQueryFiltersAreBounds(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, cfg := range []IndexConfig{DefaultIndex, {2, 5, 16, 9, 3, 4, 0.5, 0}, {2, 4, 16, 12, 3, 3, 0.3, 64}, {1, 2, 16, 16, 3, 3, 0.8, 0}} {
		x, err := NewIndex(cfg)
		if err != nil {
			t.Fatal(err)
		}
		nt := cfg.NearTest()
		for range 20000 {
			var a, b Sketch
			fill, same := rng.Float64(), rng.Float64()
			for i := range SketchBins {
				var va, vb uint8
				if rng.Float64() < fill {
					va = uint8(1 + rng.IntN(15))
				}
				if rng.Float64() < fill {
					vb = uint8(1 + rng.IntN(15))
				}
				if rng.Float64() < same {
					vb = va
				}
				a[i/2] |= va << (4 * (i % 2))
				b[i/2] |= vb << (4 * (i % 2))
			}
			var eq, n, n2 int
			for i := range SketchBins {
				va, vb := a[i/2]>>(4*(i%2))&15, b[i/2]>>(4*(i%2))&15
				if va != 0 || vb != 0 {
					n++
				}
				if va != 0 && vb != 0 {
					n2++
					if va == vb {
						eq++
					}
				}
			}
			if e, u, b2 := a.counts(&b); e != eq || u != n || b2 != n2 {
				t.Fatalf("counts %d %d %d, want %d %d %d", e, u, b2, eq, n, n2)
			}
			s := estimateOf(eq, n, n2)
			na, nb := sketchSize(&a), sketchSize(&b)
			// NearTest's cuts change nothing it decides.
			ba, bb := a.Bins(), b.Bins()
			wantBL := cfg.Verify != 0 && n != 0 && math.Abs(s-cfg.MinSim) <= verifyBand*sketchSD(cfg.MinSim, n)
			if sim, near, bl := nt.Near(5, 6, &a, &b, &ba, &bb); near != (s >= cfg.MinSim) || bl != wantBL || (near || bl) && sim != s {
				t.Fatalf("%+v: NearTest says %v near %v borderline %v, estimate %v (%d bins)", cfg, sim, near, bl, s, n)
			}
			if _, near, bl := nt.Near(0, 1<<(cfg.TagDist+1)-1, &a, &a, &ba, &ba); near || bl {
				t.Fatalf("%+v: tags %d bits apart passed", cfg, cfg.TagDist+1)
			}
			if na != nb && s > float64(min(na, nb))/float64(max(na, nb))+1e-12 {
				t.Fatalf("estimate %v above the size ratio %d/%d", s, min(na, nb), max(na, nb))
			}
			lo := cfg.MinSim
			if cfg.Verify > 0 && n > 0 {
				lo -= x.band[n]
			}
			if float64(15*eq-n2) < x.below[n] && s >= lo {
				t.Fatalf("%+v: estimate %v (%d bins) ≥ %v, but below the count threshold", cfg, s, n, lo)
			}
			if n == 0 || s < x.floor[n] {
				continue
			}
			if c := x.sizeCode(na); c < x.sizeLo[nb] || c > x.sizeHi[nb] {
				t.Fatalf("%+v: estimate %v (%d bins) ≥ floor %v, but sizes %d, %d filtered out", cfg, s, n, x.floor[n], na, nb)
			}
		}
		x.Close()
	}
}

// TestWeakest checks weakest against a sort of the bits by margin (ties
// to the lower bit), for every probe count and band width, with margins
// from few distinct values (many ties) to many.
func TestWeakest(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for range 20000 {
		margin := make([]uint8, 8+rng.IntN(25))
		spread := 1 + rng.IntN(256)
		for i := range margin {
			margin[i] = uint8(rng.IntN(spread))
		}
		order := make([]int, len(margin))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return int(margin[a]) - int(margin[b]) })
		for u := 0; u <= 8; u++ {
			var out [8]uint32
			got := weakest(margin, u, &out)
			if want := min(u, len(margin)); got != want {
				t.Fatalf("weakest(%v, %d) = %d bits, want %d", margin, u, got, want)
			}
			for i := range got {
				if out[i] != 1<<order[i] {
					t.Fatalf("weakest(%v, %d): bit %d is %#x, want %#x", margin, u, i, out[i], 1<<order[i])
				}
			}
		}
	}
}

// TestIdenticalSketchesEstimateOne: equal sketches are exactly similar,
// whatever the bins they fill; the plain formula rounds to just below 1
// for some counts, which made such rows near-copies in the index.
func TestIdenticalSketchesEstimateOne(t *testing.T) {
	for n := 1; n <= SketchBins; n++ {
		if e := estimateOf(n, n, n); e != 1 {
			t.Errorf("%d equal bins: estimate %v, want 1", n, e)
		}
	}
	for _, text := range []string{"a b c d e f g", strings.Repeat("word salad of many words ", 40)} {
		s := Compute(text).Sketch
		if j := s.Jaccard(&s); j != 1 {
			t.Errorf("%.20q: Jaccard with itself %v, want 1", text, j)
		}
	}
}

// processOnly hides a stage's Preparer (and Flusher): the pipeline then
// runs Process alone, which fingerprints or hashes the rows itself.
type processOnly struct{ sift.Stage }

func (processOnly) Sequential() {}

// TestPreparedMatchesProcess checks that the hashes and fingerprints
// Prepare makes on four workers decide exactly as those Process makes
// itself, on real text with planted near-copies, for any batch size.
func TestPreparedMatchesProcess(t *testing.T) {
	var texts []string
	for _, d := range evalCorpus(t, 150) {
		texts = append(texts, d.text)
	}
	for i, n := 0, len(texts); i < n; i += 5 { // exact under Words: case and spacing
		texts = append(texts, strings.ToUpper(texts[i]), strings.ReplaceAll(texts[i], " ", "  "))
	}
	texts = append(texts, "", "  ")
	for _, tc := range []struct {
		name string
		st   func() sift.Flusher
	}{
		{"exact", func() sift.Flusher { s, _ := NewExactDedup(Words, sift.AllRoles); return s }},
		{"simhash", func() sift.Flusher { s, _ := NewSimhashDedup(); return s }},
	} {
		for _, size := range []int{3, 64} {
			t.Run(fmt.Sprintf("%s/batch%d", tc.name, size), func(t *testing.T) {
				kept, dups := run(t, tc.st(), texts, size)
				alone := tc.st()
				kept2, dups2 := run(t, processOnly{alone}, texts, size)
				if _, err := alone.Flush(context.Background(), nil); err != nil {
					t.Fatal(err)
				}
				if len(dups) < len(texts)/4 {
					t.Fatalf("%d rejects of %d rows: the corpus has too few duplicates to compare", len(dups), len(texts))
				}
				if !slices.Equal(kept, kept2) || !slices.Equal(dups, dups2) {
					t.Errorf("prepared: %d kept, %d rejects; Process alone: %d kept, %d rejects", len(kept), len(dups), len(kept2), len(dups2))
				}
			})
		}
	}
}

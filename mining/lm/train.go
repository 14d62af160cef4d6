package lm

import (
	"bufio"
	"cmp"
	"container/heap"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
)

// Discount holds the modified Kneser-Ney discounts of one order: D[1], D[2]
// and D[3] (for counts of 3 or more); D[0] is 0.
type Discount struct {
	D        [4]float32
	Fallback bool // the estimate was degenerate and the fallback was used
}

// FallbackDiscount is used for an order whose counts-of-counts give no
// valid estimate (some n_k is 0, or a discount falls outside [0, k]), like
// lmplz --discount_fallback.
var FallbackDiscount = Discount{D: [4]float32{0, 0.5, 1, 1.5}, Fallback: true}

// TrainStats describes a training run.
type TrainStats struct {
	Sentences int64
	Tokens    int64 // words, without </s>
	Skipped   int64 // <s>, </s> and <unk> found in the corpus and ignored
	Vocab     int   // unigrams, including <unk>, <s> and </s>
	Counts    []int // n-grams per order in the model
	Discounts []Discount
	Spills    int // sorted runs written to disk while counting
}

// Trainer estimates an interpolated modified Kneser-Ney model exactly as
// KenLM's lmplz does (without pruning): each sentence is padded with <s>
// on the left and ends with </s>; lower orders use continuation counts,
// except n-grams starting with <s>, which keep their counts; discounts come
// from each order's counts-of-counts (Chen & Goodman eq. 26) with
// [FallbackDiscount] when degenerate; unigrams are interpolated with the
// uniform distribution over the vocabulary without <s>, which gives <unk>
// its probability.
//
// Counting is streaming: the table of distinct highest-order n-grams is
// sorted and spilled to a temporary file when it reaches the memory budget,
// and the runs are merged at the end. Estimation then holds the distinct
// n-grams of every order in memory (about 8+4n bytes per n-gram of order n).
//
// A Trainer is not safe for concurrent use.
type Trainer struct {
	order    int
	vocab    []string
	index    map[string]uint32
	counts   map[gramKey]uint64
	maxTable int
	tmpDir   string
	runs     []*os.File
	stats    TrainStats
}

type gramKey [MaxOrder]uint32

const bosID, eosID = 1, 2

// TrainOption configures a [Trainer].
type TrainOption func(*Trainer)

// WithMemory sets the memory budget of the counting table in bytes
// (default 256 MiB); beyond it, counts are spilled to disk.
func WithMemory(bytes int64) TrainOption {
	return func(t *Trainer) { t.maxTable = int(max(bytes/64, 1)) }
}

// WithTempDir sets where spilled counts go (default os.TempDir()).
func WithTempDir(dir string) TrainOption { return func(t *Trainer) { t.tmpDir = dir } }

// NewTrainer returns a Trainer for models of the given order (2 to
// MaxOrder).
func NewTrainer(order int, opts ...TrainOption) (*Trainer, error) {
	if order < 2 || order > MaxOrder {
		return nil, fmt.Errorf("order: %d is not between 2 and %d", order, MaxOrder)
	}
	t := &Trainer{order: order, vocab: []string{Unk, BOS, EOS},
		index: map[string]uint32{Unk: 0, BOS: bosID, EOS: eosID}, counts: map[gramKey]uint64{}}
	WithMemory(256 << 20)(t)
	for _, o := range opts {
		o(t)
	}
	return t, nil
}

// AddSentence counts one sentence. Tokens are copied as needed.
func (t *Trainer) AddSentence(tokens []string) error {
	var k gramKey
	for i := 0; i < t.order-1; i++ {
		k[i] = bosID
	}
	add := func(id uint32) error {
		k[t.order-1] = id
		t.counts[k]++
		copy(k[:], k[1:t.order])
		if len(t.counts) >= t.maxTable {
			return t.spill()
		}
		return nil
	}
	for _, w := range tokens {
		id, ok := t.index[w]
		switch {
		case !ok:
			id = uint32(len(t.vocab))
			w = strings.Clone(w)
			t.vocab = append(t.vocab, w)
			t.index[w] = id
		case id <= eosID:
			t.stats.Skipped++
			continue
		}
		t.stats.Tokens++
		if err := add(id); err != nil {
			return err
		}
	}
	t.stats.Sentences++
	return add(eosID)
}

// AddText tokenizes every line of r with tok and counts it as a sentence.
func (t *Trainer) AddText(r io.Reader, tok Tokenizer) error {
	br := bufio.NewReaderSize(r, 1<<16)
	var sc Scratch
	for {
		l, err := br.ReadString('\n')
		if len(l) > 0 {
			if err := t.AddSentence(tok.Tokens(&sc, l)); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// suffixCmp orders n-grams by their last word, then the one before, and so
// on: lmplz's order, in which n-grams sharing a suffix are adjacent.
func suffixCmp(a, b []uint32) int {
	for i := len(a) - 1; i >= 0; i-- {
		if c := cmp.Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

type counted struct {
	k gramKey
	c uint64
}

func (t *Trainer) sortedTable() []counted {
	out := make([]counted, 0, len(t.counts))
	for k, c := range t.counts {
		out = append(out, counted{k, c})
	}
	clear(t.counts)
	n := t.order
	slices.SortFunc(out, func(a, b counted) int { return suffixCmp(a.k[:n], b.k[:n]) })
	return out
}

func (t *Trainer) spill() error {
	f, err := os.CreateTemp(t.tmpDir, "sift-lm-counts-*")
	if err != nil {
		return fmt.Errorf("lm: spilling counts: %w", err)
	}
	os.Remove(f.Name()) // unlinked: the file goes away when closed
	t.runs = append(t.runs, f)
	t.stats.Spills++
	w := bufio.NewWriterSize(f, 1<<16)
	var buf []byte
	for _, e := range t.sortedTable() {
		buf = buf[:0]
		for _, id := range e.k[:t.order] {
			buf = binary.AppendUvarint(buf, uint64(id))
		}
		buf = binary.AppendUvarint(buf, e.c)
		w.Write(buf)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("lm: spilling counts: %w", err)
	}
	_, err = f.Seek(0, io.SeekStart)
	return err
}

// run is a sorted source of counted n-grams for the merge.
type run struct {
	r   *bufio.Reader
	cur counted
}

func (r *run) next(order int) (bool, error) {
	for i := 0; i < order; i++ {
		v, err := binary.ReadUvarint(r.r)
		if err == io.EOF && i == 0 {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("lm: reading spilled counts: %w", err)
		}
		r.cur.k[i] = uint32(v)
	}
	c, err := binary.ReadUvarint(r.r)
	r.cur.c = c
	return err == nil, err
}

type runHeap struct {
	runs  []*run
	order int
}

func (h *runHeap) Len() int { return len(h.runs) }
func (h *runHeap) Less(i, j int) bool {
	return suffixCmp(h.runs[i].cur.k[:h.order], h.runs[j].cur.k[:h.order]) < 0
}
func (h *runHeap) Swap(i, j int) { h.runs[i], h.runs[j] = h.runs[j], h.runs[i] }
func (h *runHeap) Push(x any)    { h.runs = append(h.runs, x.(*run)) }
func (h *runHeap) Pop() any {
	r := h.runs[len(h.runs)-1]
	h.runs = h.runs[:len(h.runs)-1]
	return r
}

// ngrams is one order's n-grams in suffix order with their counts.
type ngrams struct {
	n   int
	ids []uint32
	cnt []uint64
}

func (g *ngrams) len() int          { return len(g.cnt) }
func (g *ngrams) at(i int) []uint32 { return g.ids[i*g.n : i*g.n+g.n] }
func (g *ngrams) add(k []uint32, c uint64) {
	g.ids = append(g.ids, k...)
	g.cnt = append(g.cnt, c)
}

// find returns the index of k, which must be present.
func (g *ngrams) find(k []uint32) int {
	i, _ := sort.Find(g.len(), func(i int) int { return suffixCmp(k, g.at(i)) })
	return i
}

// merged returns the distinct padded highest-order n-grams with counts.
func (t *Trainer) merged() (*ngrams, error) {
	g := &ngrams{n: t.order}
	if len(t.runs) == 0 {
		for _, e := range t.sortedTable() {
			g.add(e.k[:t.order], e.c)
		}
		return g, nil
	}
	if err := t.spill(); err != nil {
		return nil, err
	}
	h := &runHeap{order: t.order}
	for _, f := range t.runs {
		r := &run{r: bufio.NewReaderSize(f, 1<<16)}
		ok, err := r.next(t.order)
		if err != nil {
			return nil, err
		}
		if ok {
			h.runs = append(h.runs, r)
		}
	}
	heap.Init(h)
	for h.Len() > 0 {
		r := h.runs[0]
		if n := g.len(); n > 0 && suffixCmp(g.at(n-1), r.cur.k[:t.order]) == 0 {
			g.cnt[n-1] += r.cur.c
		} else {
			g.add(r.cur.k[:t.order], r.cur.c)
		}
		ok, err := r.next(t.order)
		if err != nil {
			return nil, err
		}
		if ok {
			heap.Fix(h, 0)
		} else {
			heap.Pop(h)
		}
	}
	return g, nil
}

// Close removes spilled counts. The Trainer is not usable afterwards.
func (t *Trainer) Close() error {
	for _, f := range t.runs {
		f.Close()
	}
	t.runs = nil
	return nil
}

// Model estimates the model from the sentences added so far and returns it
// with the run's statistics. It also closes t.
func (t *Trainer) Model() (*Model, TrainStats, error) {
	defer t.Close()
	full, err := t.merged()
	if err != nil {
		return nil, t.stats, err
	}
	N := t.order
	// Adjusted counts, highest order first: an n-gram's count is its number
	// of distinct left extensions, or its own count if it starts with <s>.
	adj := make([]*ngrams, N)
	adj[N-1] = full
	for n := N - 1; n >= 1; n-- {
		hi, lo := adj[n], &ngrams{n: n}
		for i := 0; i < hi.len(); i++ {
			s := hi.at(i)[1:]
			last := lo.len() - 1
			if last >= 0 && suffixCmp(lo.at(last), s) == 0 {
				if s[0] == bosID {
					lo.cnt[last] += hi.cnt[i]
				} else {
					lo.cnt[last]++
				}
				continue
			}
			c := uint64(1)
			if s[0] == bosID {
				c = hi.cnt[i]
			}
			lo.add(s, c)
		}
		adj[n-1] = lo
	}
	// Drop the padding: n-grams with <s> after their first word.
	for n := 2; n <= N; n++ {
		g, out := adj[n-1], &ngrams{n: n}
		for i := 0; i < g.len(); i++ {
			if !slices.Contains(g.at(i)[1:], bosID) {
				out.add(g.at(i), g.cnt[i])
			}
		}
		adj[n-1] = out
	}
	// Unigrams by id, <unk> and <s> with count 0.
	uni := &ngrams{n: 1, ids: make([]uint32, len(t.vocab)), cnt: make([]uint64, len(t.vocab))}
	for i := range uni.ids {
		uni.ids[i] = uint32(i)
	}
	for i := 0; i < adj[0].len(); i++ {
		if id := adj[0].at(i)[0]; id != bosID {
			uni.cnt[id] = adj[0].cnt[i]
		}
	}
	adj[0] = uni

	t.stats.Vocab = len(t.vocab)
	t.stats.Counts = make([]int, N)
	t.stats.Discounts = make([]Discount, N)
	for n := 1; n <= N; n++ {
		t.stats.Counts[n-1] = adj[n-1].len()
		t.stats.Discounts[n-1] = discount(adj[n-1].cnt)
	}

	ids := make([][]uint32, N)
	probs := make([][]float32, N)
	backoffs := make([][]float32, N)
	var lower []float32 // interpolated probabilities of order n-1, by index
	for n := 1; n <= N; n++ {
		g := adj[n-1]
		d := t.stats.Discounts[n-1].D
		uninterp, gamma := make([]float32, g.len()), make([]float32, g.len())
		// Group by context: sort indexes by prefix.
		perm := make([]int32, g.len())
		for i := range perm {
			perm[i] = int32(i)
		}
		slices.SortFunc(perm, func(a, b int32) int { return slices.Compare(g.at(int(a))[:n-1], g.at(int(b))[:n-1]) })
		for lo := 0; lo < len(perm); {
			hi := lo + 1
			for hi < len(perm) && slices.Equal(g.at(int(perm[lo]))[:n-1], g.at(int(perm[hi]))[:n-1]) {
				hi++
			}
			var sum uint64
			var nk [4]uint64
			for _, i := range perm[lo:hi] {
				c := g.cnt[i]
				sum += c
				nk[min(c, 3)]++
			}
			// float32 throughout, in lmplz's order of operations.
			denom := float32(sum)
			gm := float32(float32(d[1]*float32(nk[1])+d[2]*float32(nk[2]))+d[3]*float32(nk[3])) / denom
			for _, i := range perm[lo:hi] {
				c := g.cnt[i]
				uninterp[i] = (float32(c) - d[min(c, 3)]) / denom
				gamma[i] = gm
			}
			if n > 1 {
				// gm is the back-off of the context, an (n-1)-gram.
				ctx := adj[n-2].find(g.at(int(perm[lo]))[:n-1])
				backoffs[n-2][ctx] = log10f(gm)
			}
			lo = hi
		}
		p := make([]float32, g.len())
		for i := range p {
			var low float32
			if n == 1 {
				low = float32(1 / float64(len(t.vocab)-1)) // uniform, without <s>
			} else {
				low = lower[adj[n-2].find(g.at(i)[1:])]
			}
			p[i] = uninterp[i] + float32(gamma[i]*low)
		}
		ids[n-1] = g.ids
		probs[n-1] = make([]float32, g.len())
		for i, v := range p {
			probs[n-1][i] = log10f(v)
		}
		if n == 1 {
			probs[0][bosID] = 0
		}
		backoffs[n-1] = make([]float32, g.len())
		lower = p
	}
	m, err := build(t.vocab, ids, probs, backoffs)
	return m, t.stats, err
}

// discount computes an order's discounts from its adjusted counts, in
// float32 like lmplz.
func discount(counts []uint64) Discount {
	var nk [5]uint64
	for _, c := range counts {
		if c < 5 {
			nk[c]++
		}
	}
	if nk[1] == 0 || nk[2] == 0 || nk[3] == 0 {
		return FallbackDiscount
	}
	var d Discount
	y := float32(nk[1]) / float32(float64(nk[1])+2*float64(nk[2]))
	for j := 1; j <= 3; j++ {
		d.D[j] = float32(j) - float32(j+1)*y*float32(nk[j+1])/float32(nk[j])
		if d.D[j] < 0 || d.D[j] > float32(j) {
			return FallbackDiscount
		}
	}
	return d
}

// log10f reproduces glibc's float log10 (log10f), which lmplz uses: its
// result may differ from the correctly rounded one in the last bit.
func log10f(x float32) float32 {
	const (
		ivln10   float32 = 4.3429449201e-01
		log102hi float32 = 3.0102920532e-01
		log102lo float32 = 7.9034151668e-07
	)
	if x <= 0 || math.IsInf(float64(x), 0) || x != x {
		return float32(math.Log10(float64(x)))
	}
	hx := math.Float32bits(x)
	k := int32(0)
	if hx < 0x00800000 { // subnormal
		k -= 25
		x *= 3.3554432e+07
		hx = math.Float32bits(x)
	}
	k += int32(hx>>23) - 127
	i := int32(uint32(k) >> 31)
	hx = hx&0x007fffff | uint32(0x7f-i)<<23
	y := float32(k + i)
	x = math.Float32frombits(hx)
	z := float32(y*log102lo) + float32(ivln10*float32(math.Log(float64(x))))
	return z + float32(y*log102hi)
}

package lm

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
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
	Spills    int // sorted runs written to disk, counting and estimating
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
// Memory is bounded like lmplz's -S: counting and every step of the
// estimate (adjusted counts, grouping by context, interpolation, back-offs)
// go through sorts that share one budget ([WithMemory]) and spill sorted runs
// to temporary files beyond it. Only the vocabulary and per-word arrays stay
// in memory. The output does not depend on the budget.
//
// A Trainer is not safe for concurrent use.
type Trainer struct {
	order int
	vocab *vocab
	hist  [MaxOrder]uint32
	b     budget
	top   *sorter // highest-order n-grams, suffix order, with counts
	stats TrainStats
}

const bosID, eosID = 1, 2

// TrainOption configures a [Trainer].
type TrainOption func(*Trainer)

// WithMemory sets the memory budget in bytes (default 1 GiB): the n-grams
// being counted and estimated, and the vocabulary. Beyond it, sorted runs go
// to temporary files.
func WithMemory(bytes int64) TrainOption {
	return func(t *Trainer) { t.b.limit = bytes }
}

// WithTempDir sets where spilled n-grams go (default os.TempDir()).
func WithTempDir(dir string) TrainOption { return func(t *Trainer) { t.b.tmpDir = dir } }

// NewTrainer returns a Trainer for models of the given order (2 to
// MaxOrder). Call [Trainer.Close] when done with it.
func NewTrainer(order int, opts ...TrainOption) (*Trainer, error) {
	if order < 2 || order > MaxOrder {
		return nil, fmt.Errorf("order: %d is not between 2 and %d", order, MaxOrder)
	}
	t := &Trainer{order: order, vocab: newVocab(Unk, BOS, EOS)}
	t.b.limit = 1 << 30
	for _, o := range opts {
		o(t)
	}
	if t.b.limit <= 0 {
		return nil, fmt.Errorf("memory: %d bytes is not positive", t.b.limit)
	}
	t.b.fixed = func() int64 { return t.vocab.bytes() + int64(t.vocab.len())*int64(wordBytes(order)) }
	t.b.vocab = t.vocab.len
	var err error
	if t.top, err = t.b.newSorter(fmt.Sprintf("%d-gram counts", order), order, true, t.b.limit, 0); err != nil {
		return nil, err
	}
	return t, nil
}

// wordBytes is the memory the estimate of an order-n model takes per word
// of the vocabulary: unigram counts, probabilities and back-offs, the
// n-grams ending in the word per order, and the slots of two sorts that
// place n-grams by their last word.
func wordBytes(n int) int { return 8 + 4 + 4 + 4*(n-1) + 2*8 }

// AddSentence counts one sentence. Tokens are copied as needed.
func (t *Trainer) AddSentence(tokens []string) error {
	// t.hist holds the last order words, most recent first: the key of an
	// n-gram in suffix order.
	for i := range t.order {
		t.hist[i] = bosID
	}
	add := func(id uint32) error {
		copy(t.hist[1:t.order], t.hist[:t.order-1])
		t.hist[0] = id
		return t.top.add(rec{k: t.hist, v: 1})
	}
	for _, w := range tokens {
		id, added := t.vocab.id(w)
		if !added && id <= eosID {
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

// Close removes spilled n-grams and frees memory. The Trainer is not usable
// afterwards.
func (t *Trainer) Close() error {
	for len(t.b.sorters) > 0 {
		t.b.sorters[0].close()
	}
	return nil
}

// Model estimates the model from the sentences added so far and returns it
// with the run's statistics. The model is held in memory: to write a large
// one, use [Trainer.WriteARPA]. Model closes t.
func (t *Trainer) Model() (*Model, TrainStats, error) {
	N := t.order
	ids := make([][]uint32, N)
	probs := make([][]float32, N)
	backoffs := make([][]float32, N)
	err := t.estimate(context.Background(), sink{
		header: func(counts []int) error {
			for n, c := range counts {
				ids[n] = make([]uint32, 0, c*(n+1))
				probs[n] = make([]float32, 0, c)
				backoffs[n] = make([]float32, 0, c)
			}
			return nil
		},
		section: func(int) error { return nil },
		gram: func(g []uint32, prob, backoff float32) error {
			n := len(g)
			ids[n-1] = append(ids[n-1], g...)
			probs[n-1] = append(probs[n-1], prob)
			backoffs[n-1] = append(backoffs[n-1], backoff)
			return nil
		},
	})
	if err != nil {
		return nil, t.stats, err
	}
	m, err := build(t.vocab.strings(), ids, probs, backoffs)
	return m, t.stats, err
}

// WriteARPA estimates the model from the sentences added so far and writes
// it to w in ARPA format as it goes, byte for byte as [Model.WriteARPA]
// would, without holding the model in memory. It stops with ctx's error
// when ctx is done. WriteARPA closes t.
func (t *Trainer) WriteARPA(ctx context.Context, w io.Writer) (TrainStats, error) {
	bw := bufio.NewWriterSize(w, 1<<16)
	var words ngramText
	probs, backoffs := newFloatText(14), newFloatText(12)
	err := t.estimate(ctx, sink{
		header: func(counts []int) error {
			bw.WriteString("\\data\\\n")
			for i, c := range counts {
				fmt.Fprintf(bw, "ngram %d=%d\n", i+1, c)
			}
			return nil
		},
		section: func(n int) error {
			_, err := fmt.Fprintf(bw, "\n\\%d-grams:\n", n)
			return err
		},
		gram: func(g []uint32, prob, backoff float32) error {
			buf := probs.append(bw.AvailableBuffer(), prob)
			buf = append(buf, '\t')
			buf = append(buf, words.text(t.vocab, g)...)
			if len(g) < t.order {
				buf = append(buf, '\t')
				buf = backoffs.append(buf, backoff)
			}
			buf = append(buf, '\n')
			_, err := bw.Write(buf)
			return err
		},
	})
	if err != nil {
		return t.stats, err
	}
	bw.WriteString("\n\\end\\\n")
	return t.stats, bw.Flush()
}

// sink receives the estimated model: the n-gram counts, then each order's
// n-grams (word ids, oldest first) with their log10 probabilities and
// back-offs, unigrams by id and the other orders in suffix order.
type sink struct {
	header  func(counts []int) error
	section func(n int) error
	gram    func(g []uint32, prob, backoff float32) error
}

// equalPrefix reports whether a and b agree in their first n places.
func equalPrefix(a, b *[MaxOrder]uint32, n int) bool {
	for i := range n {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// gammaOf returns the interpolation weight of a context whose n-grams have
// counts summing to sum, nk[k] of them with count k (3 for 3 or more), in
// float32 and lmplz's order of operations.
func gammaOf(d [4]float32, nk [4]uint64, sum uint64) float32 {
	return float32(float32(d[1]*float32(nk[1])+d[2]*float32(nk[2]))+d[3]*float32(nk[3])) / float32(sum)
}

// estimate computes the model from the counted n-grams and passes it to
// out. The steps are lmplz's, each a stream over sorted n-grams:
//
//  1. adjusted counts, every order at once from the highest-order n-grams
//     in suffix order (last word first), in which the n-grams sharing a
//     suffix are adjacent;
//  2. per order, a sort by context (the n-gram without its last word, last
//     word first) groups each context's n-grams to give their discounted
//     probabilities and the context's interpolation weight, which is also
//     its back-off; the contexts come out in suffix order;
//  3. per order, a sort back to suffix order puts each n-gram after its
//     suffix, so interpolating with the lower order is a merge, as is
//     joining the back-offs from step 2 of the order above.
func (t *Trainer) estimate(ctx context.Context, out sink) error {
	defer t.Close()
	N, V := t.order, t.vocab.len()
	// each reads s in order, calling fn for every rec and checking ctx now
	// and then.
	var ticks int
	each := func(s *sorter, fn func(r *rec) error) error {
		m, err := s.read()
		if err != nil {
			return err
		}
		for {
			r, ok, err := m.next()
			if err != nil || !ok {
				return err
			}
			if ticks++; ticks&0xffff == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if err := fn(r); err != nil {
				return err
			}
		}
	}

	// Step 1: adjusted counts. An n-gram's count is its number of distinct
	// left extensions, or its own count if it starts with <s>. pending[n]
	// accumulates the current n-gram of order n.
	var nk [MaxOrder + 1][5]uint64
	counts := make([]int, N)
	uni := make([]uint64, V)
	// byLast[n][id] counts the n-grams ending in id, so that step 2 can
	// put them in suffix order without a sort when they fit in memory.
	byLast := make([][]uint32, N+1)
	byCtx := make([]*sorter, N+1)
	if err := t.top.finish(); err != nil { // its reservation shrinks to its buffer
		return err
	}
	if t.b.free() < t.b.limit/4 && len(t.top.buf) > 0 {
		// The counts fill the budget: write them out, or the n-grams of
		// every order would go to disk in tiny runs.
		if err := t.top.spill(); err != nil {
			return err
		}
		t.top.release()
	}
	// The sorts by context share the free memory by what they will hold,
	// known when the counts are in memory, else equally.
	hints := suffixCounts(t.top, N)
	var need int64
	for n := 2; n <= N; n++ {
		need += int64(hints[n]) * recSize
	}
	for n := 2; n <= N; n++ {
		share := t.b.free() / int64(N-1)
		if need > 0 {
			share = int64(float64(int64(hints[n])*recSize) * min(1, float64(t.b.free())/float64(need)))
		}
		var err error
		if byCtx[n], err = t.b.newSorter(fmt.Sprintf("%d-grams by context", n), n, false, share, hints[n]); err != nil {
			return err
		}
		byLast[n] = make([]uint32, V)
	}
	emit := func(n int, k *[MaxOrder]uint32, c uint64) error {
		if n == 1 {
			if k[0] != bosID {
				uni[k[0]] = c
			}
			return nil
		}
		for _, id := range k[:n-1] {
			if id == bosID {
				return nil // padding: <s> after the first word
			}
		}
		counts[n-1]++
		byLast[n][k[0]]++
		if c < 5 {
			nk[n][c]++
		}
		r := rec{v: c}
		copy(r.k[:n-1], k[1:n])
		r.k[n-1] = k[0]
		return byCtx[n].add(r)
	}
	type acc struct {
		k  [MaxOrder]uint32
		c  uint64
		ok bool
	}
	var pending [MaxOrder]acc
	var pass func(n int, k *[MaxOrder]uint32, c uint64) error
	flush := func(n int) error {
		p := &pending[n]
		if err := emit(n, &p.k, p.c); err != nil {
			return err
		}
		if n > 1 {
			return pass(n-1, &p.k, p.c)
		}
		return nil
	}
	// pass counts the suffix of (n+1)-gram k, which has count c.
	pass = func(n int, k *[MaxOrder]uint32, c uint64) error {
		p := &pending[n]
		if p.ok && equalPrefix(&p.k, k, n) {
			if k[n-1] == bosID {
				p.c += c
			} else {
				p.c++
			}
			return nil
		}
		if p.ok {
			if err := flush(n); err != nil {
				return err
			}
		}
		p.k, p.c, p.ok = *k, 1, true
		clear(p.k[n:])
		if k[n-1] == bosID {
			p.c = c
		}
		return nil
	}
	if err := each(t.top, func(r *rec) error {
		if err := emit(N, &r.k, r.v); err != nil {
			return err
		}
		return pass(N-1, &r.k, r.v)
	}); err != nil {
		return err
	}
	for n := N - 1; n >= 1; n-- {
		if pending[n].ok {
			if err := flush(n); err != nil {
				return err
			}
		}
	}
	t.top.close()
	for n := 2; n <= N; n++ {
		byCtx[n].freeze()
	}

	for _, c := range uni {
		if c < 5 {
			nk[1][c]++
		}
	}
	counts[0] = V
	t.stats.Vocab = V
	t.stats.Counts = counts
	t.stats.Discounts = make([]Discount, N)
	for n := 1; n <= N; n++ {
		t.stats.Discounts[n-1] = discount(nk[n])
	}
	t.stats.Spills = t.b.spills // updated again at the end
	if err := out.header(counts); err != nil {
		return err
	}

	// Unigrams: one context, interpolated with the uniform distribution.
	d := t.stats.Discounts[0].D
	var sum uint64
	var g1 [4]uint64
	for _, c := range uni {
		sum += c
		g1[min(c, 3)]++
	}
	gm := gammaOf(d, g1, sum)
	uniform := float32(1 / float64(V-1)) // without <s>
	p1 := make([]float32, V)
	for i, c := range uni {
		p1[i] = (float32(c)-d[min(c, 3)])/float32(sum) + float32(gm*uniform)
	}

	// Step 2 for order n: sufs[n] gets each n-gram in suffix order with its
	// discounted probability and its context's weight; the weights are the
	// back-offs of order n-1, in bo1 or boffs[n-1].
	bo1 := make([]float32, V)
	sufs := make([]*sorter, N+1)
	boffs := make([]*sorter, N+1)
	var group []rec
	byContext := func(n int) error {
		var err error
		if n > 2 {
			if boffs[n-1], err = t.b.newSorter(fmt.Sprintf("%d-gram back-offs", n-1), n-1, false, t.b.limit/8, counts[n-2]); err != nil {
				return err
			}
		}
		if sufs[n], err = t.b.newSorter(fmt.Sprintf("%d-grams by suffix", n), n, false, 0, 0); err != nil {
			return err
		}
		if err := sufs[n].place(byLast[n], t.b.limit/2); err != nil {
			return err
		}
		byLast[n] = nil
		d := t.stats.Discounts[n-1].D
		endGroup := func() error {
			var sum uint64
			var nk [4]uint64
			for _, r := range group {
				sum += r.v
				nk[min(r.v, 3)]++
			}
			gm := gammaOf(d, nk, sum)
			for _, r := range group {
				u := (float32(r.v) - d[min(r.v, 3)]) / float32(sum)
				s := rec{v: uint64(math.Float32bits(u))<<32 | uint64(math.Float32bits(gm))}
				s.k[0] = r.k[n-1]
				copy(s.k[1:n], r.k[:n-1])
				if err := sufs[n].add(s); err != nil {
					return err
				}
			}
			b := log10f(gm)
			if n == 2 {
				bo1[group[0].k[0]] = b
			} else {
				s := rec{v: uint64(math.Float32bits(b))}
				copy(s.k[:n-1], group[0].k[:n-1])
				if err := boffs[n-1].add(s); err != nil {
					return err
				}
			}
			group = group[:0]
			return nil
		}
		if err := each(byCtx[n], func(r *rec) error {
			if len(group) > 0 && !equalPrefix(&group[0].k, &r.k, n-1) {
				if err := endGroup(); err != nil {
					return err
				}
			}
			group = append(group, *r)
			return nil
		}); err != nil {
			return err
		}
		if len(group) > 0 {
			if err := endGroup(); err != nil {
				return err
			}
		}
		byCtx[n].close()
		sufs[n].freeze()
		if n > 2 {
			boffs[n-1].freeze()
		}
		return nil
	}

	if err := byContext(2); err != nil {
		return err
	}
	if err := out.section(1); err != nil {
		return err
	}
	g := make([]uint32, N)
	for id := range uint32(V) {
		prob := log10f(p1[id])
		if id == bosID {
			prob = 0
		}
		g[0] = id
		if err := out.gram(g[:1], prob, bo1[id]); err != nil {
			return err
		}
	}

	// Step 3, order by order: probs[n] holds the interpolated probabilities
	// of order n in suffix order, for order n+1.
	probs := make([]*sorter, N+1)
	for n := 2; n <= N; n++ {
		if n < N {
			if err := byContext(n + 1); err != nil {
				return err
			}
			var err error
			if probs[n], err = t.b.newSorter(fmt.Sprintf("%d-gram probabilities", n), n, false, t.b.limit/4, counts[n-1]); err != nil {
				return err
			}
		}
		if err := out.section(n); err != nil {
			return err
		}
		var lower, boff *merger
		var low, bo *rec
		var err error
		if n > 2 {
			if lower, err = probs[n-1].read(); err != nil {
				return err
			}
		}
		if n < N {
			if boff, err = boffs[n].read(); err != nil {
				return err
			}
			if bo, _, err = boff.next(); err != nil {
				return err
			}
		}
		if err := each(sufs[n], func(r *rec) error {
			var pl float32
			if n == 2 {
				pl = p1[r.k[0]]
			} else {
				for low == nil || !equalPrefix(&low.k, &r.k, n-1) {
					var ok bool
					var err error
					if low, ok, err = lower.next(); err != nil {
						return err
					} else if !ok {
						return fmt.Errorf("lm: internal error: %d-gram without its suffix", n)
					}
				}
				pl = math.Float32frombits(uint32(low.v))
			}
			u, gm := math.Float32frombits(uint32(r.v>>32)), math.Float32frombits(uint32(r.v))
			p := u + float32(gm*pl)
			var b float32
			if n < N {
				if bo != nil && bo.k == r.k {
					b = math.Float32frombits(uint32(bo.v))
					var err error
					if bo, _, err = boff.next(); err != nil {
						return err
					}
				}
				if err := probs[n].add(rec{k: r.k, v: uint64(math.Float32bits(p))}); err != nil {
					return err
				}
			}
			for i := range n {
				g[i] = r.k[n-1-i]
			}
			return out.gram(g[:n], log10f(p), b)
		}); err != nil {
			return err
		}
		sufs[n].close()
		if n > 2 {
			probs[n-1].close()
		}
		if n < N {
			boffs[n].close()
		}
	}
	t.stats.Spills = t.b.spills
	return nil
}

// suffixCounts returns, per order n, how many distinct n-word suffixes
// the highest-order n-grams counted by top have (the n-grams of order n
// are among them), or all 0 if top is not all in memory.
func suffixCounts(top *sorter, N int) []int {
	counts := make([]int, N+1)
	if len(top.runs) > 0 || len(top.buf) == 0 {
		return counts
	}
	// diff[p] counts the recs whose key first differs from the one
	// before at place p.
	var diff [MaxOrder]int
	for i := 1; i < len(top.buf); i++ {
		a, b := &top.buf[i-1].k, &top.buf[i].k
		p := 0
		for p < N-1 && a[p] == b[p] {
			p++
		}
		diff[p]++
	}
	for n := 1; n <= N; n++ {
		counts[n] = 1
		for p := range n {
			counts[n] += diff[p]
		}
	}
	return counts
}

// discount computes an order's discounts from its counts-of-counts nk, in
// float32 like lmplz.
func discount(nk [5]uint64) Discount {
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

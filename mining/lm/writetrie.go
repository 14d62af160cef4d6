package lm

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
)

// BuildTrie reads an ARPA model (plain or gzip-compressed) from arpa and
// writes it to w as a KenLM binary file with the trie data structure, as
// `build_binary trie` does (format version [BinaryVersion], no
// quantization, with the vocabulary). For an ARPA file that lmplz wrote,
// the output is byte for byte build_binary's. The trie needs the n-grams'
// words, which a Model read by [ReadARPA] does not keep; BuildTrie keeps
// them while it writes.
func BuildTrie(arpa io.Reader, w io.Writer) error {
	m, err := readARPA(arpa, true)
	if err != nil {
		return err
	}
	return m.writeTrie(w)
}

// writeTrie writes m, which must keep its n-grams (m.grams), as a trie.
//
// The trie renumbers the words: <unk> is 0 and the others take ids 1, 2, …
// in the order of their 64-bit hashes (KenLM's sorted vocabulary). Each
// order n ≥ 2 is an array of the n-grams reversed (newest word first),
// sorted by their reversed ids; an entry stores its oldest word, its
// weights and, below the highest order, where its children (the
// (n+1)-grams it ends) start in the next order's array.
func (m *Model) writeTrie(w io.Writer) error {
	if m.grams == nil {
		return fmt.Errorf("lm: a model read from %s does not keep its n-grams for a trie", m.format)
	}
	if m.order < 2 {
		return fmt.Errorf("lm: a trie needs order 2 or more, the model has order %d", m.order)
	}
	v := m.counts[0]
	// Sorted vocabulary: hashes of every word but <unk>.
	type wh struct {
		hash uint64
		old  uint32
	}
	ws := make([]wh, 0, v-1)
	for id := 1; id < v; id++ {
		ws = append(ws, wh{murmurHash64A(m.Word(uint32(id))), uint32(id)})
	}
	slices.SortFunc(ws, func(a, b wh) int { return cmp.Compare(a.hash, b.hash) })
	newID := make([]uint32, v)
	oldID := make([]uint32, v)
	for i, x := range ws {
		newID[x.old], oldID[i+1] = uint32(i+1), x.old
	}

	// Each order's n-grams reversed in new ids, sorted, with their index
	// in m.grams to fetch the weights.
	order := m.order
	sorted := make([][]uint32, order+1) // sorted[n]: n ids then the old index, per n-gram
	for n := 2; n <= order; n++ {
		g := m.grams[n-1]
		c := len(g) / n
		rec := make([]uint32, 0, c*(n+1))
		for i := range c {
			for j := n - 1; j >= 0; j-- {
				rec = append(rec, newID[g[i*n+j]])
			}
			rec = append(rec, uint32(i))
		}
		idx := make([]int, c)
		for i := range idx {
			idx[i] = i
		}
		k := n + 1
		slices.SortFunc(idx, func(a, b int) int { return slices.Compare(rec[a*k:a*k+n], rec[b*k:b*k+n]) })
		out := make([]uint32, 0, len(rec))
		for _, i := range idx {
			out = append(out, rec[i*k:i*k+k]...)
		}
		sorted[n] = out
	}

	// childStart returns, for each entry of order n (n ≥ 1), where its
	// children start in order n+1: children share the entry's reversed ids
	// as their prefix.
	childStart := func(n int) []uint64 {
		child := sorted[n+1]
		k := n + 2
		cc := len(child) / k
		var cnt int
		if n == 1 {
			cnt = v
		} else {
			cnt = len(sorted[n]) / (n + 1)
		}
		starts := make([]uint64, cnt+1)
		j := 0
		for i := range cnt {
			for j < cc && (n == 1 && child[j*k] < uint32(i) ||
				n > 1 && slices.Compare(child[j*k:j*k+n], sorted[n][i*(n+1):i*(n+1)+n]) < 0) {
				j++
			}
			starts[i] = uint64(j)
		}
		starts[cnt] = uint64(cc)
		return starts
	}
	// A pruned model may lack an n-gram's suffix, where KenLM inserts a
	// blank entry; sift does not, and refuses rather than write a trie
	// whose searches would miss n-grams.
	checkParents := func(n int, starts []uint64) error {
		if n == 1 {
			return nil
		}
		child, k := sorted[n+1], uint64(n+2)
		for i := range len(starts) - 1 {
			p := sorted[n][i*(n+1) : i*(n+1)+n]
			from := starts[i]
			if i == 0 {
				from = 0 // children sorting before the first entry have no parent
			}
			for j := from; j < starts[i+1]; j++ {
				if !slices.Equal(child[j*k:j*k+uint64(n)], p) {
					return fmt.Errorf("lm: a %d-gram lacks its suffix %d-gram (a pruned model): write it as probing", n+1, n)
				}
			}
		}
		return nil
	}

	allStarts := make([][]uint64, order)
	for n := 1; n < order; n++ {
		allStarts[n] = childStart(n)
		if err := checkParents(n, allStarts[n]); err != nil {
			return err
		}
	}

	bw := bufio.NewWriterSize(w, 1<<16)
	bw.Write(m.appendBinHeader(nil, typeTrie, 1))

	vs := make([]byte, 8+8*v)
	ne.PutUint64(vs, uint64(v-1))
	for i, x := range ws {
		ne.PutUint64(vs[8+8*i:], x.hash)
	}
	bw.Write(vs)

	uni := make([]byte, (v+2)*16)
	ustart := allStarts[1]
	for id := range v {
		e, _ := m.lookup([]uint32{oldID[id]})
		u := uni[id*16:]
		// Unigram probabilities keep their sign as the ARPA file has it:
		// <s>'s 0 is +0.
		pb := math.Float32bits(e.prob)
		if e.prob == 0 {
			pb = 0
		}
		ne.PutUint32(u, pb)
		ne.PutUint32(u[4:], math.Float32bits(e.backoff))
		ne.PutUint64(u[8:], ustart[id])
	}
	ne.PutUint64(uni[v*16+8:], ustart[v])
	bw.Write(uni)

	wordBits := uint64(requiredBits(uint64(v)))
	ids := make([]uint32, order)
	for n := 2; n <= order; n++ {
		s := sorted[n]
		k := n + 1
		c := len(s) / k
		var nextBits uint64
		var starts []uint64
		quant := uint64(31)
		if n < order {
			nextBits = uint64(requiredBits(uint64(m.counts[n])))
			starts = allStarts[n]
			quant = 63
		}
		total := wordBits + quant + nextBits
		buf := make([]byte, ((1+uint64(c))*total+7)/8+8)
		put := func(bit, val uint64) {
			p := buf[bit>>3:]
			ne.PutUint64(p, ne.Uint64(p)|val<<(bit&7))
		}
		g := m.grams[n-1]
		for i := range c {
			r := s[i*k:]
			old := int(r[n])
			copy(ids, g[old*n:old*n+n])
			e, _ := m.lookup(ids[:n])
			bit := uint64(i) * total
			put(bit, uint64(r[n-1]))
			bit += wordBits
			put(bit, uint64(math.Float32bits(e.prob)&^signBit))
			if n < order {
				put(bit+31, uint64(math.Float32bits(e.backoff)))
				put(bit+63, starts[i])
			}
		}
		if n < order {
			put(uint64(c)*total+wordBits+quant, starts[c])
		}
		bw.Write(buf)
	}
	for id := range v {
		bw.WriteString(m.Word(oldID[id]))
		bw.WriteByte(0)
	}
	return bw.Flush()
}

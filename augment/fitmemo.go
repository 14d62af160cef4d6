package augment

// fitMemo memoises the two factors of fitModel.score for a bigram context
// model, where log10 p(w | prev) depends on prev and w alone and log10
// p(next | w) on w and next: the same pairs come up slot after slot, and a
// pair's look-up in the model is a few cache misses. It is direct-mapped:
// a pair evicts the one in its place. The zero fitMemo is ready to use.
type fitMemo struct {
	e []memoEntry
}

type memoEntry struct {
	key uint64 // prev<<32 | w; emptyKey if unused
	lp  float32
}

// memoBits sets the size of a fitMemo: 1<<memoBits entries of 16 bytes.
const memoBits = 15

// emptyKey is no pair's key: w is never noWord.
const emptyKey = ^uint64(0)

// score returns f.score(f.after(prev), w, next).
func (c *fitMemo) score(f *fitModel, prev uint32, w wordID, next uint32) float32 {
	if f.m.Order() != 2 {
		return f.score(f.after(prev), w, next)
	}
	lp := c.pair(f, prev, w.id)
	lp += w.pen
	if next != noWord {
		// The state after w is f.after(w.id), whatever came before it.
		lp += c.pair(f, w.id, next)
	}
	return lp
}

// pair returns log10 p(w | prev), prev being noWord at a text's start.
func (c *fitMemo) pair(f *fitModel, prev, w uint32) float32 {
	if c.e == nil {
		c.e = make([]memoEntry, 1<<memoBits)
		for i := range c.e {
			c.e[i].key = emptyKey
		}
	}
	key := uint64(prev)<<32 | uint64(w)
	e := &c.e[key*0x9e3779b97f4a7c15>>(64-memoBits)]
	if e.key != key {
		if f.pairs != nil {
			e.lp = f.pairs.Score(prev, w)
		} else {
			s := f.after(prev)
			e.lp, _ = f.m.Score(&s, w)
		}
		e.key = key
	}
	return e.lp
}

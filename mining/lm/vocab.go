package lm

import "hash/maphash"

// vocab is a training run's vocabulary: word ids in order of first
// occurrence, the words' bytes in one arena and an open-addressing table
// from a word's hash to its id. At a million words it takes about 30 MB,
// where a map[string]uint32 with a []string took five times that; and it
// holds no pointers, so the garbage collector does not scan it.
type vocab struct {
	text []byte   // the words, concatenated in id order
	ends []uint32 // ends[id] is where word id ends in text
	// slots hold the upper 32 bits of a word's hash and its id + 1 (0 is
	// empty): most probes that do not match are told apart by the hash
	// without reading the word. A word's first slot is given by the top
	// bits of its hash, so the table grows without hashing again.
	slots []uint64
	shift uint // 64 - log2(len(slots))
	seed  maphash.Seed
}

func newVocab(words ...string) *vocab {
	v := &vocab{slots: make([]uint64, 1<<10), shift: 64 - 10, seed: maphash.MakeSeed()}
	for _, w := range words {
		v.id(w)
	}
	return v
}

// len returns the number of words.
func (v *vocab) len() int { return len(v.ends) }

// word returns the bytes of word id, valid until the next id call.
func (v *vocab) word(id uint32) []byte {
	start := uint32(0)
	if id > 0 {
		start = v.ends[id-1]
	}
	return v.text[start:v.ends[id]]
}

// bytes estimates the memory held.
func (v *vocab) bytes() int64 {
	return int64(cap(v.text)) + 4*int64(cap(v.ends)) + 8*int64(len(v.slots))
}

// id returns w's id, adding w (copied) if it is new; added reports
// whether it was.
func (v *vocab) id(w string) (id uint32, added bool) {
	h := maphash.String(v.seed, w)
	tag := h &^ (1<<32 - 1)
	mask := uint64(len(v.slots) - 1)
	for i := h >> v.shift; ; i = (i + 1) & mask {
		s := v.slots[i]
		if s == 0 {
			id = uint32(len(v.ends))
			v.text = append(v.text, w...)
			v.ends = append(v.ends, uint32(len(v.text)))
			v.slots[i] = tag | uint64(id+1)
			if 4*len(v.ends) > 3*len(v.slots) {
				v.grow()
			}
			return id, true
		}
		if s&^(1<<32-1) == tag && string(v.word(uint32(s)-1)) == w {
			return uint32(s) - 1, false
		}
	}
}

// grow doubles the table.
func (v *vocab) grow() {
	old := v.slots
	v.slots = make([]uint64, 2*len(old))
	v.shift--
	mask := uint64(len(v.slots) - 1)
	for _, s := range old {
		if s == 0 {
			continue
		}
		i := s >> v.shift
		for v.slots[i] != 0 {
			i = (i + 1) & mask
		}
		v.slots[i] = s
	}
}

// strings returns the words as strings, by id.
func (v *vocab) strings() []string {
	all := string(v.text)
	words := make([]string, len(v.ends))
	start := uint32(0)
	for id, end := range v.ends {
		words[id] = all[start:end]
		start = end
	}
	return words
}

// ngramText keeps the text of the last n-gram asked for, right-aligned in
// buf, and builds the next one's by replacing only the words in which it
// differs: in suffix order consecutive n-grams share their last words, so
// most words are not looked up again.
type ngramText struct {
	buf   []byte
	start [MaxOrder + 1]int // where word i's text begins in buf; start[n] = len(buf)
	ids   [MaxOrder]uint32
	n     int
}

// text returns "w1 w2 … wn" for the word ids g, valid until the next call.
func (t *ngramText) text(v *vocab, g []uint32) []byte {
	n := len(g)
	j := n // words from j on are kept
	if n == t.n {
		for j > 0 && g[j-1] == t.ids[j-1] {
			j--
		}
	}
	if j == n {
		t.start[n] = len(t.buf)
	}
	for i := j - 1; i >= 0; i-- {
		w := v.word(g[i])
		need := len(w)
		if i < n-1 {
			need++ // the space before word i+1
		}
		if t.start[i+1] < need {
			nb := make([]byte, 2*len(t.buf)+need+64)
			delta := len(nb) - len(t.buf)
			copy(nb[t.start[i+1]+delta:], t.buf[t.start[i+1]:])
			for k := i + 1; k <= n; k++ {
				t.start[k] += delta
			}
			t.buf = nb
		}
		p := t.start[i+1] - need
		copy(t.buf[p:], w)
		if i < n-1 {
			t.buf[p+len(w)] = ' '
		}
		t.start[i] = p
		t.ids[i] = g[i]
	}
	t.n = n
	return t.buf[t.start[0]:]
}

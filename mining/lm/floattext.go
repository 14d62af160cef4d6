package lm

import "math"

// floatText caches the ARPA text of recently written float32 values, as
// appendFloat writes them. An ARPA file repeats its numbers: a back-off is
// a function of a few small counts (a 1 M-token 4-gram model has 7,117
// distinct back-offs in 1.56 M), and about two in three probabilities were
// written before. Formatting a float32 in its shortest form costs several
// times a lookup.
type floatText struct {
	slots []floatSlot
	shift uint
}

type floatSlot struct {
	bits uint32
	n    uint8 // bytes of text; 0 for an empty slot
	text [15]byte
}

// newFloatText returns a cache of 2^bits values.
func newFloatText(bits uint) *floatText {
	return &floatText{slots: make([]floatSlot, 1<<bits), shift: 32 - bits}
}

// append appends f's text to b.
func (c *floatText) append(b []byte, f float32) []byte {
	x := math.Float32bits(f)
	s := &c.slots[(x*0x9e3779b1)>>c.shift]
	if s.n != 0 && s.bits == x {
		return append(b, s.text[:s.n]...)
	}
	start := len(b)
	b = appendFloat(b, f)
	if t := b[start:]; len(t) <= len(s.text) {
		s.bits, s.n = x, uint8(len(t))
		copy(s.text[:], t)
	}
	return b
}

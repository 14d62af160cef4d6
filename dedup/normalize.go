package dedup

import (
	"encoding/binary"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/cases"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// normalizer applies NFKC and Unicode case folding. It keeps its buffers
// between calls, so it is not safe for concurrent use.
type normalizer struct {
	fold     cases.Caser
	nb, fb   []byte
	foldInit bool
}

// normalize returns s in NFKC, case folded. Pure-ASCII text only has its
// letters lowered; that is what NFKC + folding does to ASCII. The result
// aliases the normalizer's buffer and is valid until the next call.
func (n *normalizer) normalize(s string) string {
	if isASCII(s) {
		n.fb = append(n.fb[:0], s...)
		lowerASCII(n.fb)
		return unsafe.String(unsafe.SliceData(n.fb), len(n.fb))
	}
	if !n.foldInit {
		n.fold, n.foldInit = cases.Fold(), true
	}
	n.nb = norm.NFKC.AppendString(n.nb[:0], s)
	// Case folding maps each rune on its own, so ASCII spans are lowered
	// by lowerASCII and only the others go through the (slower) folder.
	// ASCII bytes never occur inside a multi-byte rune.
	n.fb = n.fb[:0]
	for b := n.nb; len(b) > 0; {
		i := asciiPrefix(unsafe.String(unsafe.SliceData(b), len(b)))
		n.fb = append(n.fb, b[:i]...)
		lowerASCII(n.fb[len(n.fb)-i:])
		b = b[i:]
		j := 0
		for j < len(b) && b[j] >= utf8.RuneSelf {
			j++
		}
		n.fb, _, _ = transform.Append(n.fold, n.fb, b[:j])
		b = b[j:]
	}
	return unsafe.String(unsafe.SliceData(n.fb), len(n.fb))
}

const hi = 0x8080808080808080

func isASCII(s string) bool { return asciiPrefix(s) == len(s) }

// asciiPrefix returns the length of the longest pure-ASCII prefix of s,
// checking eight bytes at a time.
func asciiPrefix(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		// An unaligned 8-byte load; the byte order does not matter.
		if *(*uint64)(unsafe.Pointer(unsafe.StringData(s[i:])))&hi != 0 {
			break
		}
	}
	for ; i < len(s) && s[i] < utf8.RuneSelf; i++ {
	}
	return i
}

// lowerASCII lowers the letters of ASCII b, eight bytes at a time: a byte
// plus 0x3f reaches 0x80 iff it is ≥ 'A', plus 0x25 iff it is > 'Z', and
// no sum of ASCII bytes carries into the next byte.
func lowerASCII(b []byte) {
	const ones = 0x0101010101010101
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		upper := ((x + 0x3f*ones) ^ (x + 0x25*ones)) & hi
		binary.LittleEndian.PutUint64(b[i:], x|upper>>2)
	}
	for ; i < len(b); i++ {
		if c := b[i]; 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
}

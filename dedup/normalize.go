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
	n.fb, _, _ = transform.Append(n.fold, n.fb[:0], n.nb)
	return unsafe.String(unsafe.SliceData(n.fb), len(n.fb))
}

const hi = 0x8080808080808080

// isASCII reports whether s is pure ASCII, eight bytes at a time.
func isASCII(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if binary.LittleEndian.Uint64([]byte(s[i:i+8]))&hi != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
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

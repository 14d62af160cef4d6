package dedup

import (
	"slices"
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
// aliases the normalizer's buffer, which has 16 bytes of capacity after
// it, and is valid until the next call.
func (n *normalizer) normalize(s string) string {
	t, _ := n.normalizeASCII(s)
	return t
}

// normalizeASCII is normalize, also reporting whether s is pure ASCII: then
// only letters change case, so the result has the words of s at the same
// offsets.
func (n *normalizer) normalizeASCII(s string) (string, bool) {
	fb, i := appendLowerASCII(n.fb[:0], s)
	n.fb = fb
	if i == len(s) {
		return n.result(), true
	}
	if !n.foldInit {
		n.fold, n.foldInit = cases.Fold(), true
	}
	if norm.NFKC.QuickSpanString(s) < len(s) { // most text is in NFKC already
		n.nb = norm.NFKC.AppendString(n.nb[:0], s)
		s = unsafe.String(unsafe.SliceData(n.nb), len(n.nb))
	}
	// Case folding maps each rune on its own, so ASCII spans are lowered
	// by appendLowerASCII and only the others go through the (slower)
	// folder. ASCII bytes never occur inside a multi-byte rune.
	n.fb = n.fb[:0]
	for len(s) > 0 {
		n.fb, i = appendLowerASCII(n.fb, s)
		s = s[i:]
		j := 0
		for j < len(s) && s[j] >= utf8.RuneSelf {
			j++
		}
		n.fb, _, _ = transform.Append(n.fold, n.fb, unsafe.Slice(unsafe.StringData(s), j))
		s = s[j:]
	}
	return n.result(), false
}

// result returns the normalized text in n.fb, with 16 bytes of capacity
// after it: the token hash reads a token's 16 bytes at once.
func (n *normalizer) result() string {
	n.fb = slices.Grow(n.fb, 16)
	return unsafe.String(unsafe.SliceData(n.fb), len(n.fb))
}

const hi = 0x8080808080808080

// load64 returns the 8 bytes of s from i on: an unaligned load, in the
// machine's byte order (which the callers' byte-wise arithmetic ignores).
func load64(s string, i int) uint64 {
	_ = s[i+7]
	return *(*uint64)(unsafe.Pointer(unsafe.StringData(s[i:])))
}

// appendLowerASCII appends the longest pure-ASCII prefix of s to dst with
// its letters lowered and returns dst and the prefix's length: one pass
// that checks, copies and lowers eight bytes at a time. A byte plus 0x3f
// reaches 0x80 iff it is ≥ 'A', plus 0x25 iff it is > 'Z', and no sum of
// ASCII bytes carries into the next byte.
func appendLowerASCII(dst []byte, s string) ([]byte, int) {
	const ones = 0x0101010101010101
	n := len(dst)
	dst = slices.Grow(dst, len(s))[:n+len(s)]
	out := dst[n:]
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := load64(s, i)
		if x&hi != 0 {
			break
		}
		upper := ((x + 0x3f*ones) ^ (x + 0x25*ones)) & hi
		*(*uint64)(unsafe.Pointer(&out[i])) = x | upper>>2
	}
	for ; i < len(s) && s[i] < utf8.RuneSelf; i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return dst[:n+i], i
}

package dedup

import (
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
// aliases s or the normalizer's buffer and is valid until the next call.
func (n *normalizer) normalize(s string) string {
	if isASCII(s) {
		if !hasUpper(s) {
			return s
		}
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

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

func lowerASCII(b []byte) {
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
}

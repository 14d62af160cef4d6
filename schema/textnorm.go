package schema

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/unicode/norm"
)

// TextOptions choose how normalize rewrites the text of a record and the
// content of every turn. They apply in field order. The zero value changes
// nothing; [DefaultText] only unifies newlines, and the options that
// change what a reader sees (control characters, Unicode forms, trimming)
// are off unless set.
type TextOptions struct {
	// Newlines turns "\r\n" and lone "\r" into "\n".
	Newlines bool
	// StripControl removes C0 and C1 control characters (U+0000–U+001F,
	// U+007F–U+009F) except tab, newline and carriage return.
	StripControl bool
	// Unicode is "" or "none" to keep the text as it is, "nfc" for
	// canonical composition or "nfkc" for compatibility composition (which
	// folds, for example, full-width letters and ligatures).
	Unicode string
	// Trim removes leading and trailing white space.
	Trim bool
}

// DefaultText is the text normalization of a [Normalizer] without
// [WithText].
var DefaultText = TextOptions{Newlines: true}

func (o TextOptions) form() (norm.Form, bool, error) {
	switch o.Unicode {
	case "", "none":
		return 0, false, nil
	case "nfc":
		return norm.NFC, true, nil
	case "nfkc":
		return norm.NFKC, true, nil
	}
	return 0, false, fmt.Errorf("unicode: %q is not one of none, nfc, nfkc", o.Unicode)
}

// textNorm applies TextOptions.
type textNorm struct {
	TextOptions
	form    norm.Form
	hasForm bool
}

func newTextNorm(o TextOptions) (textNorm, error) {
	f, ok, err := o.form()
	return textNorm{o, f, ok}, err
}

func (t *textNorm) enabled() bool {
	return t.Newlines || t.StripControl || t.hasForm || t.Trim
}

// Apply returns s normalized. It returns s itself, without allocating, when
// nothing changes.
func (t *textNorm) Apply(s string) string { return t.apply(s, plain(s)) }

// apply is Apply for s of which plain(s) is known.
func (t *textNorm) apply(s string, plain bool) string {
	if !t.enabled() || plain && t.endsClean(s) {
		return s
	}
	if t.Newlines && strings.IndexByte(s, '\r') >= 0 {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		s = strings.ReplaceAll(s, "\r", "\n")
	}
	if t.StripControl {
		s = strings.Map(func(r rune) rune {
			if isControl(r) {
				return -1
			}
			return r
		}, s)
	}
	if t.hasForm {
		s = t.form.String(s)
	}
	if t.Trim {
		s = strings.TrimSpace(s)
	}
	return s
}

func isControl(r rune) bool {
	return (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || (r >= 0x7f && r <= 0x9f)
}

// plain reports whether s is printable ASCII, tab and newline only: text
// that no option changes but at its ends (ASCII is in every normal form).
// It looks at eight bytes at a time.
func plain(s string) bool {
	const lsb, msb = 0x0101010101010101, 0x8080808080808080
	// nonzero marks the bytes of x that are not 0, exactly: the low seven
	// bits plus 0x7f reach the high bit without carrying into the next
	// byte.
	nonzero := func(x uint64) uint64 { return ((x &^ msb) + 0x7f*lsb | x) & msb }
	b := unsafe.Slice(unsafe.StringData(s), len(s)) // read only
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i : i+8])
		if w&msb != 0 {
			return false
		}
		// With every byte below 0x80: byte + 0x60 reaches the high bit
		// iff the byte is at least 0x20, again without a carry.
		ok := (w + 0x60*lsb) | ^nonzero(w^'\t'*lsb) | ^nonzero(w^'\n'*lsb)
		if ok&nonzero(w^0x7f*lsb)&msb != msb {
			return false
		}
	}
	for ; i < len(b); i++ {
		if !plainByte(b[i]) {
			return false
		}
	}
	return true
}

func plainByte(c byte) bool {
	return c < utf8.RuneSelf && c != 0x7f && (c >= 0x20 || c == '\t' || c == '\n')
}

// endsClean reports whether trimming, if on, leaves s as it is.
func (t *textNorm) endsClean(s string) bool {
	return !t.Trim || len(s) == 0 || !isSpaceByte(s[0]) && !isSpaceByte(s[len(s)-1])
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\n' }

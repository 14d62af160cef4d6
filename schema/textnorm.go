package schema

import (
	"fmt"
	"strings"
	"unicode/utf8"

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
func (t *textNorm) Apply(s string) string {
	if !t.enabled() || t.clean(s) {
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

// clean reports, in one pass over the bytes, whether s is certainly left
// unchanged: printable ASCII, tab and newline only (ASCII is in every
// normal form), and no white space at the ends when trimming. Anything
// else takes the slow path.
func (t *textNorm) clean(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || c == 0x7f || (c < 0x20 && c != '\t' && c != '\n') {
			return false
		}
	}
	if t.Trim && len(s) > 0 {
		return !isSpaceByte(s[0]) && !isSpaceByte(s[len(s)-1])
	}
	return true
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\n' }

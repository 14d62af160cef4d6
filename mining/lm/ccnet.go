package lm

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// CCNet is a [Tokenizer] that applies cc_net's text normalization to a
// line before Next tokenizes it: surrounding white space stripped, lower
// case, canonical decomposition with combining marks (accents) removed,
// every decimal digit to 0, cc_net's map of typographic and full-width
// punctuation to ASCII, and control characters (U+0000–U+001F,
// U+007F–U+009F) removed. cc_net's perplexity models were trained on text
// normalized this way and then split by SentencePiece.
type CCNet struct {
	Next Tokenizer
}

// Name returns "ccnet+" and Next's name.
func (c CCNet) Name() string { return "ccnet+" + c.Next.Name() }

// Tokens normalizes s into sc and returns Next's tokens of the result.
func (c CCNet) Tokens(sc *Scratch, s string) []string {
	sc.pre = CCNetNormalize(sc.pre[:0], s)
	return c.Next.Tokens(sc, unsafeString(sc.pre))
}

// ccnetPunct is cc_net's replace_unicode_punct table. Its entry for the
// full-width digit one never applies: digits become 0 first.
var ccnetPunct = map[rune]string{
	'，': ",", '。': ".", '、': ",", '„': `"`, '”': `"`, '“': `"`, '«': `"`, '»': `"`,
	'」': `"`, '「': `"`, '《': `"`, '》': `"`, '´': "'", '∶': ":", '：': ":", '？': "?",
	'！': "!", '（': "(", '）': ")", '；': ";", '–': "-", '—': " - ", '．': ". ", '～': "~",
	'’': "'", '…': "...", '━': "-", '〈': "<", '〉': ">", '【': "[", '】': "]", '％': "%", '►': "-",
}

// CCNetNormalize appends cc_net's normalization of s to dst (see [CCNet]).
func CCNetNormalize(dst []byte, s string) []byte {
	s = strings.TrimFunc(s, unicode.IsSpace)
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if !ascii {
		s = norm.NFD.String(strings.ToLower(s))
	}
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			switch c := byte(r); {
			case c >= 'A' && c <= 'Z':
				dst = append(dst, c+'a'-'A')
			case c >= '0' && c <= '9':
				dst = append(dst, '0')
			case c < 0x20 || c == 0x7f:
			default:
				dst = append(dst, c)
			}
		case r <= 0x9f: // C1 controls
		case unicode.Is(unicode.Mn, r):
		case unicode.Is(unicode.Nd, r):
			dst = append(dst, '0')
		default:
			if p, ok := ccnetPunct[r]; ok {
				dst = append(dst, p...)
			} else {
				dst = utf8.AppendRune(dst, r)
			}
		}
	}
	return dst
}

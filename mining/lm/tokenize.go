package lm

import (
	"fmt"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/siftdata/sift/seg"
	"golang.org/x/text/unicode/norm"
)

// Tokenizer splits one line of text into the tokens a model is trained on
// and scores.
type Tokenizer interface {
	// Tokens returns the tokens of s. They alias s or sc's buffers and are
	// valid until sc is used again.
	Tokens(sc *Scratch, s string) []string
	// Name is the tokenizer's name for ParseTokenizer.
	Name() string
}

// Scratch holds buffers reused between tokenizations, so that scoring does
// not allocate per token. The zero value is ready; a Scratch must not be
// shared between goroutines.
type Scratch struct {
	toks    []string
	buf     []byte
	ends    []int
	lattice []bestPath
	pre     []byte // CCNet's normalized line
	la      *lookahead
}

// Whitespace splits on ASCII white space (space, tab, CR, VT, FF, NUL) and
// uses the tokens as they are, like KenLM's query and lmplz.
var Whitespace Tokenizer = whitespace{}

// Words segments text with package seg (each Han or Kana character is a
// token) and normalizes every non-space segment like cc_net: lower-case,
// every digit to 0, typographic punctuation to its ASCII form, control
// characters removed and, with StripAccents, combining marks removed after
// canonical decomposition.
type Words struct {
	StripAccents bool
}

// ParseTokenizer returns the tokenizer called name: "whitespace", "words"
// or "words_noaccents". "sentencepiece" needs a model: see [OpenTokenizer].
func ParseTokenizer(name string) (Tokenizer, error) {
	switch name {
	case "whitespace":
		return Whitespace, nil
	case "words":
		return Words{}, nil
	case "words_noaccents":
		return Words{StripAccents: true}, nil
	case "sentencepiece":
		return nil, fmt.Errorf("tokenizer sentencepiece needs its model file")
	}
	return nil, fmt.Errorf("unknown tokenizer %q (want whitespace, words, words_noaccents or sentencepiece)", name)
}

// OpenTokenizer returns the tokenizer called name, as ParseTokenizer, or a
// SentencePiece tokenizer read from spModel when name is "sentencepiece"
// (spModel must be empty otherwise). normalize "ccnet" wraps it in [CCNet];
// "" leaves the text as it is.
func OpenTokenizer(name, spModel, normalize string) (Tokenizer, error) {
	var tok Tokenizer
	var err error
	switch {
	case name == "sentencepiece" && spModel == "":
		return nil, fmt.Errorf("tokenizer sentencepiece needs the SentencePiece model file")
	case name == "sentencepiece":
		if tok, err = LoadSentencePiece(spModel); err != nil {
			return nil, err
		}
	case spModel != "":
		return nil, fmt.Errorf("a SentencePiece model is given but the tokenizer is %q, not sentencepiece", name)
	default:
		if tok, err = ParseTokenizer(name); err != nil {
			return nil, err
		}
	}
	switch normalize {
	case "":
		return tok, nil
	case "ccnet":
		return CCNet{tok}, nil
	}
	return nil, fmt.Errorf("normalize %q is not ccnet or empty", normalize)
}

type whitespace struct{}

func (whitespace) Name() string { return "whitespace" }

var isDelim = [256]bool{' ': true, '\t': true, '\r': true, '\n': true, '\v': true, '\f': true, 0: true}

func (whitespace) Tokens(sc *Scratch, s string) []string {
	toks := sc.toks[:0]
	for i := 0; i < len(s); {
		for i < len(s) && isDelim[s[i]] {
			i++
		}
		j := i
		for j < len(s) && !isDelim[s[j]] {
			j++
		}
		if j > i {
			toks = append(toks, s[i:j])
		}
		i = j
	}
	sc.toks = toks
	return toks
}

// Name returns "words" or "words_noaccents".
func (w Words) Name() string {
	if w.StripAccents {
		return "words_noaccents"
	}
	return "words"
}

// Tokens returns the normalized segments of s.
func (w Words) Tokens(sc *Scratch, s string) []string {
	buf, ends := sc.buf[:0], sc.ends[:0]
	for sg := range seg.Segments(s) {
		if sg.Kind == seg.Space {
			continue
		}
		t := s[sg.Start:sg.End]
		if w.StripAccents && !isASCII(t) {
			t = norm.NFD.String(t)
		}
		start := len(buf)
		for _, r := range t {
			buf = appendNorm(buf, r, w.StripAccents)
		}
		if len(buf) > start {
			ends = append(ends, len(buf))
		}
	}
	toks := sc.toks[:0]
	start := 0
	for _, e := range ends {
		toks = append(toks, unsafe.String(unsafe.SliceData(buf[start:]), e-start))
		start = e
	}
	sc.buf, sc.ends, sc.toks = buf, ends, toks
	return toks
}

// punct maps typographic and full-width punctuation to ASCII.
var punct = map[rune]string{
	'，': ",", '、': ",", '。': ".", '．': ".", '：': ":", '∶': ":", '；': ";",
	'？': "?", '！': "!", '（': "(", '）': ")", '［': "[", '］': "]", '【': "[", '】': "]",
	'〈': "<", '〉': ">", '《': "\"", '》': "\"", '「': "\"", '」': "\"", '『': "\"", '』': "\"",
	'“': "\"", '”': "\"", '„': "\"", '«': "\"", '»': "\"", '‘': "'", '’': "'", '´': "'",
	'–': "-", '—': "-", '―': "-", '━': "-", '～': "~", '％': "%", '…': "...", '►': "-",
}

func appendNorm(b []byte, r rune, stripAccents bool) []byte {
	switch {
	case r < utf8.RuneSelf:
		c := byte(r)
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c >= '0' && c <= '9':
			c = '0'
		case c <= ' ' || c == 0x7f:
			return b
		}
		return append(b, c)
	case unicode.IsDigit(r):
		return append(b, '0')
	case unicode.IsControl(r) || unicode.IsSpace(r) || unicode.Is(unicode.Cf, r):
		return b
	case stripAccents && unicode.Is(unicode.Mn, r):
		return b
	}
	if p, ok := punct[r]; ok {
		return append(b, p...)
	}
	return utf8.AppendRune(b, unicode.ToLower(r))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

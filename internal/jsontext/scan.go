package jsontext

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// A validating scanner. It accepts exactly what encoding/json.Valid
// accepts (checked by FuzzValid) at several times its speed, and reports
// the extents of an object's members or an array's elements on the way, so
// a record is read once.

const maxDepth = 10000 // encoding/json's nesting limit

type scanner struct {
	b     []byte
	i     int
	depth int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// value scans one value starting at s.i (after white space).
func (s *scanner) value() bool {
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		return s.str()
	case c == '{':
		return s.object(nil)
	case c == '[':
		return s.array(nil)
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	case c == 't':
		return s.lit("true")
	case c == 'f':
		return s.lit("false")
	case c == 'n':
		return s.lit("null")
	}
	return false
}

func (s *scanner) lit(w string) bool {
	if len(s.b)-s.i < len(w) || string(s.b[s.i:s.i+len(w)]) != w {
		return false
	}
	s.i += len(w)
	return true
}

func (s *scanner) str() bool {
	s.i++ // opening quote
	for s.i < len(s.b) {
		// Skip eight bytes at a time while none of them is a quote, a
		// backslash or a control character.
		b, i := s.b, s.i
		for ; i+8 <= len(b); i += 8 {
			if m := special(binary.LittleEndian.Uint64(b[i : i+8])); m != 0 {
				i += bits.TrailingZeros64(m) / 8
				break
			}
		}
		if s.i = i; i >= len(b) {
			break
		}
		c := b[i]
		switch {
		case c == '"':
			s.i++
			return true
		case c == '\\':
			if s.i+1 >= len(s.b) {
				return false
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if len(s.b)-s.i < 6 {
					return false
				}
				for _, h := range s.b[s.i+2 : s.i+6] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return false
					}
				}
				s.i += 6
			default:
				return false
			}
		case c < 0x20:
			return false
		default:
			s.i++
		}
	}
	return false
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// special returns a mask with the high bit set of the first byte of w
// (in little-endian order) that is '"', '\\' or below 0x20, and of no byte
// before it; 0 if there is none. (x - lsb) &^ x & msb marks the zero
// bytes of x, and (w - 0x20*lsb) &^ w & msb the bytes below 0x20, exactly
// up to the first one (a borrow can mark bytes after it).
func special(w uint64) uint64 {
	q := w ^ ('"' * lsb)
	b := w ^ ('\\' * lsb)
	return ((q-lsb)&^q | (b-lsb)&^b | (w-0x20*lsb)&^w) & msb
}

func (s *scanner) digits() bool {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}

func (s *scanner) number() bool {
	if s.b[s.i] == '-' {
		s.i++
	}
	if s.i < len(s.b) && s.b[s.i] == '0' {
		s.i++
	} else if !s.digits() {
		return false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if !s.digits() {
			return false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

// open enters a container at s.i and reports whether it is empty (closed
// at once by end).
func (s *scanner) open(end byte) (ok, empty bool) {
	s.depth++
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == end {
		s.i++
		s.depth--
		return s.depth < maxDepth, true
	}
	return s.depth <= maxDepth, false
}

// next consumes the separator after an element: more reports a ',', and
// done the container's end.
func (s *scanner) next(end byte) (more, done bool) {
	s.ws()
	if s.i >= len(s.b) {
		return false, false
	}
	switch s.b[s.i] {
	case ',':
		s.i++
		s.ws()
		return true, false
	case end:
		s.i++
		s.depth--
		return false, true
	}
	return false, false
}

// object scans an object; member, if not nil, gets each member's key and
// value literals.
func (s *scanner) object(member func(key, val []byte) bool) bool {
	ok, empty := s.open('}')
	if !ok || empty {
		return ok
	}
	for {
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return false
		}
		k := s.i
		if !s.str() {
			return false
		}
		key := s.b[k:s.i]
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return false
		}
		s.i++
		s.ws()
		v := s.i
		if !s.value() || member != nil && !member(key, s.b[v:s.i]) {
			return false
		}
		if more, done := s.next('}'); !more {
			return done
		}
	}
}

// array scans an array; elem, if not nil, gets each element's literal.
func (s *scanner) array(elem func(val []byte) bool) bool {
	ok, empty := s.open(']')
	if !ok || empty {
		return ok
	}
	for {
		v := s.i
		if !s.value() || elem != nil && !elem(s.b[v:s.i]) {
			return false
		}
		if more, done := s.next(']'); !more {
			return done
		}
	}
}

// Valid reports whether b is one valid JSON value, as json.Valid does.
func Valid(b []byte) bool {
	s := scanner{b: b}
	s.ws()
	if !s.value() {
		return false
	}
	s.ws()
	return s.i == len(b)
}

// Members scans b, which must hold one JSON object and white space, and
// calls member with each member's key and value literals in order. It
// reports whether b is valid and member never returned false; member may
// have been called for the members before an error. The literals alias b.
func Members(b []byte, member func(key, val []byte) bool) bool {
	s := scanner{b: b}
	s.ws()
	if s.i >= len(b) || b[s.i] != '{' || !s.object(member) {
		return false
	}
	s.ws()
	return s.i == len(b)
}

// Elements is [Members] for an array: elem gets each element's literal.
func Elements(b []byte, elem func(val []byte) bool) bool {
	s := scanner{b: b}
	s.ws()
	if s.i >= len(b) || b[s.i] != '[' || !s.array(elem) {
		return false
	}
	s.ws()
	return s.i == len(b)
}

// Kind names the JSON type of the value starting with c, as JSON Schema
// does (numbers are "number").
func Kind(c byte) string {
	switch c {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// Unquote returns the contents of a valid JSON string literal of valid
// UTF-8, decoded as encoding/json decodes it: escapes resolved, and a \u
// escape of half a surrogate pair without its other half becoming U+FFFD.
// Without escapes it aliases lit; else the result is new.
func Unquote(lit []byte) []byte {
	s := lit[1 : len(lit)-1]
	if bytes.IndexByte(s, '\\') < 0 {
		return s
	}
	return AppendUnquote(make([]byte, 0, len(s)), lit)
}

// AppendUnquote appends what [Unquote] returns for lit to out: never more
// than len(lit)-2 bytes.
func AppendUnquote(out, lit []byte) []byte {
	s := lit[1 : len(lit)-1]
	i := bytes.IndexByte(s, '\\')
	if i < 0 {
		return append(out, s...)
	}
	for {
		out = append(out, s[:i]...)
		e := s[i+1]
		s = s[i+2:]
		switch e {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hex4(s)
			s = s[4:]
			if utf16.IsSurrogate(r) {
				d := utf8.RuneError
				if len(s) >= 6 && s[0] == '\\' && s[1] == 'u' {
					d = utf16.DecodeRune(r, hex4(s[2:]))
				}
				if d != utf8.RuneError {
					s = s[6:]
				}
				r = d
			}
			out = utf8.AppendRune(out, r)
		default: // '"', '\\', '/'
			out = append(out, e)
		}
		if i = bytes.IndexByte(s, '\\'); i < 0 {
			return append(out, s...)
		}
	}
}

// hex4 returns the value of the 4 hex digits starting b (valid by
// construction).
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c <= '9':
			c -= '0'
		case c <= 'F':
			c -= 'A' - 10
		default:
			c -= 'a' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

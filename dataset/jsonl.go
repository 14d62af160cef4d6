package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/siftdata/sift"
)

// Reasons of rows rejected by readers.
const (
	ReasonParse       = "parse_error"
	ReasonUTF8        = "invalid_utf8"
	ReasonWrongType   = "wrong_type"
	ReasonLineTooLong = "line_too_long"
	// ReasonDuplicateKey is a field the reader maps given twice (the same
	// code the normalize stage uses for the keys it sees).
	ReasonDuplicateKey = "duplicate_key"
)

// rowError is a row that cannot be read.
type rowError struct{ reason, detail string }

// parseJSONLine decodes one JSON object line into r. r's byte slices alias
// line or scratch.
func parseJSONLine(line []byte, r *sift.RawRow, scratch *[]byte) *rowError {
	if !utf8.Valid(line) {
		return &rowError{ReasonUTF8, fmt.Sprintf("invalid UTF-8 at byte %d", invalidAt(line))}
	}
	s := jsonScanner{b: line}
	s.ws()
	if s.i < len(line) && line[s.i] == '{' {
		meta := (*scratch)[:0]
		var ferr *rowError
		var seen uint8 // modelled fields met so far
		ok := s.object(func(key, val []byte) bool {
			name := unquote(key)
			if bit := modelledBit(name); bit != 0 {
				if seen&bit != 0 {
					ferr = &rowError{ReasonDuplicateKey, fmt.Sprintf("key %q twice", name)}
					return false
				}
				seen |= bit
			}
			modelled, err := setField(r, name, val)
			if err != nil {
				ferr = err
				return false
			}
			if !modelled {
				meta = appendMember(meta, key)
				meta = append(meta, ':')
				meta = append(meta, val...)
			}
			return true
		})
		if ok {
			s.ws()
			ok = s.i == len(line)
		}
		if len(meta) > 0 {
			meta = append(meta, '}')
			r.Meta = meta
		}
		*scratch = meta
		if ok {
			return nil
		}
		if ferr != nil && validJSON(line) {
			return ferr
		}
	}
	if validJSON(line) {
		return &rowError{ReasonWrongType, fmt.Sprintf("record is a JSON %s, want an object", kindOf(line[s.i]))}
	}
	var raw json.RawMessage
	err := json.Unmarshal(line, &raw)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &rowError{ReasonParse, fmt.Sprintf("%s at byte %d", se, se.Offset)}
	}
	return &rowError{ReasonParse, fmt.Sprint(err)}
}

// modelledBit returns a bit for each field the reader maps, or 0.
func modelledBit(name []byte) uint8 {
	switch string(name) {
	case sift.ColID:
		return 1
	case sift.ColText:
		return 2
	case sift.ColSource:
		return 4
	case sift.ColMessages:
		return 8
	}
	return 0
}

// set stores a modelled field and reports whether name is one.
func setField(r *sift.RawRow, name, val []byte) (bool, *rowError) {
	switch string(name) {
	case sift.ColID:
		switch val[0] {
		case '"':
			r.ID = unquote(val)
		case 'n':
			r.ID = nil
		default:
			if val[0] == '-' || val[0] >= '0' && val[0] <= '9' {
				if _, err := strconv.ParseInt(string(val), 10, 64); err == nil {
					r.ID = val
					return true, nil
				}
			}
			return true, wrongType(name, val, "a string or integer")
		}
	case sift.ColText, sift.ColSource:
		switch val[0] {
		case '"':
		case 'n':
			return false, nil // an explicit null stays in meta, to be written back
		default:
			return true, wrongType(name, val, "a string")
		}
		if string(name) == sift.ColText {
			r.Text, r.HasText = unquote(val), true
		} else {
			r.Source, r.HasSource = unquote(val), true
		}
	case sift.ColMessages:
		msgs, ok, err := unifiedMessages(val)
		if err != nil {
			return true, err
		}
		if !ok {
			return false, nil
		}
		r.Messages = msgs
	default:
		return false, nil
	}
	return true, nil
}

func wrongType(name, val []byte, want string) *rowError {
	return &rowError{ReasonWrongType, fmt.Sprintf("field %q is a JSON %s, want %s", name, kindOf(val[0]), want)}
}

// unifiedMessages decodes val if it is a conversation in the unified shape:
// an array of objects of exactly a string role naming a known role and a
// string content. A turn that gives role or content twice is an error
// whatever its shape.
func unifiedMessages(val []byte) ([]sift.Message, bool, *rowError) {
	if val[0] != '[' {
		return nil, false, nil
	}
	var turns []json.RawMessage
	if json.Unmarshal(val, &turns) != nil {
		return nil, false, nil
	}
	msgs := make([]sift.Message, 0, len(turns))
	unified := true
	for i, t := range turns {
		if t[0] != '{' {
			unified = false
			continue
		}
		var role, content []byte
		keys := 0
		var dup []byte
		s := jsonScanner{b: t}
		s.object(func(key, v []byte) bool {
			keys++
			switch k := unquote(key); string(k) {
			case "role", "content":
				p := &role
				if k[0] == 'c' {
					p = &content
				}
				if *p != nil {
					dup = k
					return false
				}
				*p = v
			}
			return true
		})
		if dup != nil {
			return nil, false, &rowError{ReasonDuplicateKey, fmt.Sprintf("%s[%d] has key %q twice", sift.ColMessages, i, dup)}
		}
		if keys != 2 || role == nil || content == nil || role[0] != '"' || content[0] != '"' || sift.RoleOf(string(unquote(role))) == 0 {
			unified = false
			continue
		}
		msgs = append(msgs, sift.Message{Role: string(unquote(role)), Content: string(unquote(content))})
	}
	if !unified {
		return nil, false, nil
	}
	return msgs, true, nil
}

// jsonID returns the id of a JSON object line if start, the line's
// beginning, holds the whole id member; else nil.
func jsonID(start []byte) []byte {
	s := jsonScanner{b: start}
	s.ws()
	if s.i >= len(start) || start[s.i] != '{' {
		return nil
	}
	var id []byte
	s.object(func(key, val []byte) bool {
		if string(unquote(key)) != sift.ColID {
			return true
		}
		switch {
		case val[0] == '"':
			id = unquote(val)
		case val[0] == '-' || val[0] >= '0' && val[0] <= '9':
			id = val
		}
		return false
	})
	if id != nil && !utf8.Valid(id) {
		return nil
	}
	return id
}

func kindOf(c byte) string {
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

func invalidAt(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// unquote returns the contents of a valid JSON string literal, as
// encoding/json decodes valid UTF-8 (the reader checks lines first):
// escapes resolved, and a \u escape of half a surrogate pair without its
// other half becoming U+FFFD. Without escapes it aliases lit.
func unquote(lit []byte) []byte {
	s := lit[1 : len(lit)-1]
	i := bytes.IndexByte(s, '\\')
	if i < 0 {
		return s
	}
	out := make([]byte, i, len(s)+8)
	copy(out, s[:i])
	for i < len(s) {
		c := s[i]
		switch {
		case c == '\\':
			e := s[i+1]
			i += 2
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
				r := hex4(s[i:])
				i += 4
				if utf16.IsSurrogate(r) {
					if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
						if d := utf16.DecodeRune(r, hex4(s[i+2:])); d != utf8.RuneError {
							r = d
							i += 6
							out = utf8.AppendRune(out, r)
							continue
						}
					}
					r = utf8.RuneError
				}
				out = utf8.AppendRune(out, r)
			default: // '"', '\\', '/'
				out = append(out, e)
			}
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, n := utf8.DecodeRune(s[i:])
			out = utf8.AppendRune(out, r)
			i += n
		}
	}
	return out
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

package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/siftdata/sift"
	"github.com/siftdata/sift/internal/jsontext"
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

// lineBufs are a reader's buffers, reused from line to line, that a row's
// fields alias when they are not slices of the line itself.
type lineBufs struct {
	meta []byte         // the unmapped members, as a JSON object
	unq  []byte         // unquoted strings that had escapes
	msgs []sift.Message // the turns of a unified conversation
}

// unquote returns the contents of the JSON string literal lit: a slice of
// lit without escapes, else of b.unq. parseJSONLine reserves b.unq to the
// line's length first, and no line unquotes to more, so the slices handed
// out for one line never move.
func (b *lineBufs) unquote(lit []byte) []byte {
	if bytes.IndexByte(lit, '\\') < 0 {
		return lit[1 : len(lit)-1]
	}
	n := len(b.unq)
	b.unq = jsontext.AppendUnquote(b.unq, lit)
	return b.unq[n:len(b.unq):len(b.unq)]
}

// str is unquote as a string aliasing the same bytes: valid until the next
// line, which is as long as the row it goes into lives.
func (b *lineBufs) str(lit []byte) string {
	u := b.unquote(lit)
	return unsafe.String(unsafe.SliceData(u), len(u))
}

// parseJSONLine decodes one JSON object line into r. r's byte slices and
// strings alias line or bufs, until the next call.
func parseJSONLine(line []byte, r *sift.RawRow, bufs *lineBufs) *rowError {
	if !utf8.Valid(line) {
		return &rowError{ReasonUTF8, fmt.Sprintf("invalid UTF-8 at byte %d", invalidAt(line))}
	}
	bufs.unq = slices.Grow(bufs.unq[:0], len(line))
	start := len(line) - len(bytes.TrimLeft(line, " \t\r\n"))
	if start < len(line) && line[start] == '{' {
		meta := bufs.meta[:0]
		var ferr *rowError
		var seen uint8 // modelled fields met so far
		ok := jsontext.Members(line, func(key, val []byte) bool {
			name := bufs.unquote(key)
			if bit := modelledBit(name); bit != 0 {
				if seen&bit != 0 {
					ferr = &rowError{ReasonDuplicateKey, fmt.Sprintf("key %q twice", name)}
					return false
				}
				seen |= bit
			}
			modelled, err := setField(r, name, val, bufs)
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
		if len(meta) > 0 {
			meta = append(meta, '}')
			r.Meta = meta
		}
		bufs.meta = meta
		if ok {
			return nil
		}
		if ferr != nil && jsontext.Valid(line) {
			return ferr
		}
	}
	if jsontext.Valid(line) {
		return &rowError{ReasonWrongType, fmt.Sprintf("record is a JSON %s, want an object", jsontext.Kind(line[start]))}
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
func setField(r *sift.RawRow, name, val []byte, bufs *lineBufs) (bool, *rowError) {
	switch string(name) {
	case sift.ColID:
		switch val[0] {
		case '"':
			r.ID = bufs.unquote(val)
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
			r.Text, r.HasText = bufs.unquote(val), true
		} else {
			r.Source, r.HasSource = bufs.unquote(val), true
		}
	case sift.ColMessages:
		msgs, ok, err := unifiedMessages(val, bufs)
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
	return &rowError{ReasonWrongType, fmt.Sprintf("field %q is a JSON %s, want %s", name, jsontext.Kind(val[0]), want)}
}

// unifiedMessages decodes val if it is a conversation in the unified shape:
// an array of objects of exactly a string role naming a known role and a
// string content. A turn that gives role or content twice is an error
// whatever its shape.
func unifiedMessages(val []byte, bufs *lineBufs) ([]sift.Message, bool, *rowError) {
	if val[0] != '[' {
		return nil, false, nil
	}
	if bufs.msgs == nil {
		bufs.msgs = make([]sift.Message, 0, 4)
	}
	msgs := bufs.msgs[:0] // not nil: [] is a conversation of no turns
	unified := true
	var err *rowError
	i := -1
	jsontext.Elements(val, func(t []byte) bool {
		i++
		if t[0] != '{' {
			unified = false
			return true
		}
		var role, content []byte
		keys := 0
		var dup []byte
		jsontext.Members(t, func(key, v []byte) bool {
			keys++
			switch k := bufs.unquote(key); string(k) {
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
			err = &rowError{ReasonDuplicateKey, fmt.Sprintf("%s[%d] has key %q twice", sift.ColMessages, i, dup)}
			return false
		}
		if keys != 2 || role == nil || content == nil || role[0] != '"' || content[0] != '"' || sift.RoleOf(string(jsontext.Unquote(role))) == 0 {
			unified = false
			return true
		}
		msgs = append(msgs, sift.Message{Role: bufs.str(role), Content: bufs.str(content)})
		return true
	})
	if err != nil {
		return nil, false, err
	}
	if !unified {
		return nil, false, nil
	}
	bufs.msgs = msgs
	return msgs, true, nil
}

// jsonID returns the id of a JSON object line if start, the line's
// beginning, holds the whole id member; else nil.
func jsonID(start []byte) []byte {
	var id []byte
	jsontext.Members(start, func(key, val []byte) bool {
		if string(jsontext.Unquote(key)) != sift.ColID {
			return true
		}
		switch {
		case val[0] == '"':
			id = jsontext.Unquote(val)
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

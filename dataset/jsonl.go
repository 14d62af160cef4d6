package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/siftdata/sift"
)

// Reasons of rows rejected by readers.
const (
	ReasonParse       = "parse_error"
	ReasonUTF8        = "invalid_utf8"
	ReasonWrongType   = "wrong_type"
	ReasonLineTooLong = "line_too_long"
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
		ok := s.object(func(key, val []byte) bool {
			modelled, err := setField(r, unquote(key), val)
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
		msgs, ok := unifiedMessages(val)
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

// unifiedMessages decodes val if it is a conversation in the unified shape.
func unifiedMessages(val []byte) ([]sift.Message, bool) {
	if val[0] != '[' {
		return nil, false
	}
	var raw []map[string]json.RawMessage
	if json.Unmarshal(val, &raw) != nil {
		return nil, false
	}
	msgs := make([]sift.Message, 0, len(raw))
	for _, m := range raw {
		if len(m) != 2 {
			return nil, false
		}
		var role, content string
		if json.Unmarshal(m["role"], &role) != nil || json.Unmarshal(m["content"], &content) != nil ||
			sift.RoleOf(role) == 0 || m["content"][0] != '"' {
			return nil, false
		}
		msgs = append(msgs, sift.Message{Role: role, Content: content})
	}
	return msgs, true
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

// unquote returns the contents of a valid JSON string literal.
func unquote(lit []byte) []byte {
	if bytes.IndexByte(lit, '\\') < 0 {
		return lit[1 : len(lit)-1]
	}
	var s string
	json.Unmarshal(lit, &s) // valid by construction
	return []byte(s)
}

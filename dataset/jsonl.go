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
	if !json.Valid(line) {
		var raw json.RawMessage
		err := json.Unmarshal(line, &raw)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return &rowError{ReasonParse, fmt.Sprintf("%s at byte %d", se, se.Offset)}
		}
		return &rowError{ReasonParse, fmt.Sprint(err)}
	}
	i := skipWS(line, 0)
	if line[i] != '{' {
		return &rowError{ReasonWrongType, fmt.Sprintf("record is a JSON %s, want an object", kindOf(line[i]))}
	}
	meta := (*scratch)[:0]
	i++
	for {
		i = skipWS(line, i)
		if line[i] == '}' {
			break
		}
		kEnd := skipString(line, i)
		key := line[i:kEnd]
		i = skipWS(line, kEnd) + 1 // ':'
		i = skipWS(line, i)
		vEnd := skipValue(line, i)
		val := line[i:vEnd]
		i = skipWS(line, vEnd)
		if line[i] == ',' {
			i++
		}
		modelled, err := setField(r, unquote(key), val)
		if err != nil {
			return err
		}
		if !modelled {
			if len(meta) == 0 {
				meta = append(meta, '{')
			} else {
				meta = append(meta, ',')
			}
			meta = append(meta, key...)
			meta = append(meta, ':')
			meta = append(meta, val...)
		}
	}
	if len(meta) > 0 {
		meta = append(meta, '}')
		r.Meta = meta
	}
	*scratch = meta
	return nil
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

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string literal starting at i.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// skipValue returns the index after the (valid) JSON value starting at i.
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return i
	}
	for ; i < len(b); i++ {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return i
		}
	}
	return i
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

package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/siftdata/sift"
	"github.com/siftdata/sift/internal/jsontext"
)

// field is one member of a JSON object, in input order.
type field struct {
	key string
	v   value
}

// value is a JSON value: either raw JSON text, or a string or conversation
// the reader already decoded into the text or messages column.
type value struct {
	raw  []byte         // JSON text, when str and msgs are unset
	str  *string        // from the text column
	msgs []sift.Message // from the messages column
}

func rawValue(b []byte) value { return value{raw: b} }

// kind names the JSON type of v as JSON Schema does.
func (v value) kind() string {
	switch {
	case v.str != nil:
		return "string"
	case v.msgs != nil:
		return "array"
	}
	switch v.raw[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 'n':
		return "null"
	case 't', 'f':
		return "boolean"
	}
	return "number"
}

// string returns v's string value, if it is a string.
func (v value) string() (string, bool) {
	if v.str != nil {
		return *v.str, true
	}
	if v.msgs != nil || v.raw[0] != '"' {
		return "", false
	}
	return decodeString(v.raw), true
}

// appendJSON appends v as JSON text.
func (v value) appendJSON(dst []byte) []byte {
	switch {
	case v.str != nil:
		return sift.AppendJSONString(dst, *v.str)
	case v.msgs != nil:
		dst = append(dst, '[')
		for i, m := range v.msgs {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"role":`...)
			dst = sift.AppendJSONString(dst, m.Role)
			dst = append(dst, `,"content":`...)
			dst = sift.AppendJSONString(dst, m.Content)
			dst = append(dst, '}')
		}
		return append(dst, ']')
	}
	return append(dst, v.raw...)
}

// decodeString decodes a valid JSON string literal.
func decodeString(raw []byte) string {
	if !utf8.Valid(raw) {
		var s string
		_ = json.Unmarshal(raw, &s) // raw was checked by jsontext.Valid; bad UTF-8 becomes U+FFFD
		return s
	}
	return string(jsontext.Unquote(raw))
}

var (
	errNotObject = errors.New("not a JSON object")
	errBadJSON   = errors.New("invalid JSON")
)

// parseObject splits a JSON object into its members. The raw values alias
// data.
func parseObject(data []byte) ([]field, error) {
	if !jsontext.Valid(data) {
		return nil, errBadJSON
	}
	return scanObject(data)
}

// scanObject splits valid JSON text into object members.
func scanObject(data []byte) ([]field, error) {
	i := skipSpace(data, 0)
	if data[i] != '{' {
		return nil, errNotObject
	}
	var fs []field
	for i = skipSpace(data, i+1); data[i] != '}'; {
		end := skipValue(data, i)
		key := decodeString(data[i:end])
		i = skipSpace(data, end)
		i = skipSpace(data, i+1) // ':'
		end = skipValue(data, i)
		fs = append(fs, field{key, rawValue(data[i:end])})
		i = skipSpace(data, end)
		if data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	return fs, nil
}

// scanArray splits valid JSON array text into its elements.
func scanArray(data []byte) [][]byte {
	var out [][]byte
	for i := skipSpace(data, 1); data[i] != ']'; {
		end := skipValue(data, i)
		out = append(out, data[i:end])
		i = skipSpace(data, end)
		if data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	return out
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the valid JSON value starting at i.
func skipValue(data []byte, i int) int {
	switch data[i] {
	case '"':
		for j := i + 1; ; j++ {
			switch data[j] {
			case '\\':
				j++
			case '"':
				return j + 1
			}
		}
	case '{', '[':
		depth := 0
		for j := i; ; j++ {
			switch data[j] {
			case '"':
				j = skipValue(data, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
	}
	j := i
	for j < len(data) && !strings.ContainsRune(",}] \t\r\n", rune(data[j])) {
		j++
	}
	return j
}

// appendObject appends fs as a compact JSON object.
func appendObject(dst []byte, fs []field) []byte {
	dst = append(dst, '{')
	for i, f := range fs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendMember(dst, f)
	}
	return append(dst, '}')
}

func appendMember(dst []byte, f field) []byte {
	dst = sift.AppendJSONString(dst, f.key)
	dst = append(dst, ':')
	start := len(dst)
	dst = f.v.appendJSON(dst)
	if f.v.raw != nil && bytes.ContainsAny(f.v.raw, " \t\r\n") {
		// Compact raw input so a JSONL line never breaks.
		var c bytes.Buffer
		_ = json.Compact(&c, dst[start:])
		dst = append(dst[:start], c.Bytes()...)
	}
	return dst
}

// index returns the position of key in fs, or -1.
func index(fs []field, key string) int {
	for i, f := range fs {
		if f.key == key {
			return i
		}
	}
	return -1
}

// take removes the value at a dotted path from fs. A nested object left
// empty is removed too; one left non-empty stays, minus the taken member.
func take(fs []field, path string) (value, []field, bool) {
	head, rest, nested := strings.Cut(path, ".")
	i := index(fs, head)
	if i < 0 {
		return value{}, fs, false
	}
	if !nested {
		v := fs[i].v
		return v, append(fs[:i:i], fs[i+1:]...), true
	}
	if fs[i].v.kind() != "object" {
		return value{}, fs, false
	}
	sub, _ := scanObject(fs[i].v.raw)
	v, sub, ok := take(sub, rest)
	if !ok {
		return value{}, fs, false
	}
	out := append([]field(nil), fs[:i]...)
	if len(sub) > 0 {
		out = append(out, field{head, rawValue(appendObject(nil, sub))})
	}
	return v, append(out, fs[i+1:]...), true
}

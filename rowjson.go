package sift

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// AppendRowJSON appends row of rec as one JSON object to dst: id, then text
// or messages, source, the fields kept in meta (spliced back at top level,
// so a record read from JSONL is written back as it came), and finally any
// extra columns stages added. Null fields are left out.
func AppendRowJSON(dst []byte, rec arrow.RecordBatch, row int) []byte {
	c := ColsOf(rec)
	dst = append(dst, `{"id":`...)
	dst = AppendJSONString(dst, c.ID.Value(row))
	if c.Text.IsValid(row) {
		dst = append(dst, `,"text":`...)
		dst = AppendJSONString(dst, c.Text.Value(row))
	}
	if c.Messages.IsValid(row) {
		dst = append(dst, `,"messages":`...)
		dst = AppendMessagesJSON(dst, c, row)
	}
	if c.Source.IsValid(row) {
		dst = append(dst, `,"source":`...)
		dst = AppendJSONString(dst, c.Source.Value(row))
	}
	if c.Meta.IsValid(row) {
		if m := c.Meta.Value(row); len(m) > 2 {
			dst = append(dst, ',')
			dst = append(dst, m[1:len(m)-1]...)
		}
	}
	for i := numCore; i < int(rec.NumCols()); i++ {
		col := rec.Column(i)
		if col.IsNull(row) {
			continue
		}
		dst = append(dst, ',')
		dst = AppendJSONString(dst, rec.Schema().Field(i).Name)
		dst = append(dst, ':')
		dst = AppendValueJSON(dst, col, row)
	}
	return append(dst, '}')
}

// AppendMessagesJSON appends the conversation of row as a JSON array of
// {"role","content"} objects.
func AppendMessagesJSON(dst []byte, c Cols, row int) []byte {
	start, end := c.Messages.ValueOffsets(row)
	dst = append(dst, '[')
	for j := start; j < end; j++ {
		if j > start {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"role":`...)
		dst = AppendJSONString(dst, c.Role.Value(int(j)))
		dst = append(dst, `,"content":`...)
		dst = AppendJSONString(dst, c.Content.Value(int(j)))
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

// AppendValueJSON appends the JSON form of col[row].
func AppendValueJSON(dst []byte, col arrow.Array, row int) []byte {
	if col.IsNull(row) {
		return append(dst, "null"...)
	}
	switch a := col.(type) {
	case *array.String:
		return AppendJSONString(dst, a.Value(row))
	case *array.Float64:
		return appendFloat(dst, a.Value(row))
	case *array.Float32:
		return appendFloat(dst, float64(a.Value(row)))
	case *array.Int64:
		return strconv.AppendInt(dst, a.Value(row), 10)
	case *array.Int32:
		return strconv.AppendInt(dst, int64(a.Value(row)), 10)
	case *array.Boolean:
		return strconv.AppendBool(dst, a.Value(row))
	case *array.Struct: // fields in schema order, not sorted as a map would be
		dst = append(dst, '{')
		st := a.DataType().(*arrow.StructType)
		for i := 0; i < a.NumField(); i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendJSONString(dst, st.Field(i).Name)
			dst = append(dst, ':')
			dst = AppendValueJSON(dst, a.Field(i), row)
		}
		return append(dst, '}')
	}
	v, err := json.Marshal(col.GetOneForMarshal(row))
	if err != nil {
		return AppendJSONString(dst, col.ValueStr(row))
	}
	return append(dst, v...)
}

func appendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	// encoding/json's choice: plain notation unless the exponent is extreme.
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		return strconv.AppendFloat(dst, f, 'e', -1, 64)
	}
	return strconv.AppendFloat(dst, f, 'f', -1, 64)
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string literal. Invalid UTF-8 is
// replaced by U+FFFD, as encoding/json does; HTML characters are not escaped.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

package jsontext

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValid(t *testing.T) {
	for _, s := range []string{
		`{}`, `[]`, `""`, `0`, `-0.5e+10`, `{"a":[1,2,{"b":null}],"c":"\u00e9\n"}`, ` true `,
		`{`, `{"a"}`, `{"a":}`, `[1,]`, `01`, `1.`, `.5`, `-`, `"\x"`, `"\u12"`, "\"tab\there\"", `nul`, `{} {}`, `1e`,
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	} {
		if got, want := Valid([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("Valid(%.40q) = %v, json.Valid says %v", s, got, want)
		}
	}
}

func FuzzValid(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `[1,"x",{"y":[true,false,null]}]`, `"\ud83d\ude00"`, `-12.5E-3`, `{"a":"b",}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Valid(b), json.Valid(b); got != want {
			t.Fatalf("Valid(%q) = %v, json.Valid says %v", b, got, want)
		}
	})
}

// FuzzUnquote checks Unquote against encoding/json's
// on every valid JSON string literal of valid UTF-8.
func FuzzUnquote(f *testing.F) {
	for _, s := range []string{`"plain"`, `"a\nb\t\"c\"\\\/"`, `"\u00e9\u4e2d\ud83d\ude00"`, `"\ud800"`, `"\udc00\ud800x"`, `"\ud83d\u0041"`, `"\ud83d\ud83d\ude00"`, `"é中"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, lit string) {
		var want string
		if !utf8.ValidString(lit) || len(lit) < 2 || lit[0] != '"' || lit[len(lit)-1] != '"' || json.Unmarshal([]byte(lit), &want) != nil {
			return
		}
		if got := string(Unquote([]byte(lit))); got != want {
			t.Errorf("Unquote(%q) = %q, encoding/json %q", lit, got, want)
		}
	})
}

func TestSpecial(t *testing.T) {
	for c := range 256 {
		want := c == '"' || c == '\\' || c < 0x20
		for pos := range 8 {
			w := uint64(0x6161616161616161) // "aaaaaaaa"
			w = w&^(0xff<<(8*pos)) | uint64(c)<<(8*pos)
			if got := special(w); got != want {
				t.Fatalf("special with byte %#x at %d = %v, want %v", c, pos, got, want)
			}
		}
	}
}

// FuzzMembers checks that Members splits every valid object into the
// members encoding/json decodes, in order, and refuses everything else.
func FuzzMembers(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":[1,{"c":"\""}],"a":null}`, ` { } `, `{"x":"long string with \\ and \n escapes"}`, `[1]`, `{"a":1}{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var keys []string
		var vals []string
		ok := Members(b, func(k, v []byte) bool {
			keys = append(keys, string(Unquote(k)))
			vals = append(vals, string(v))
			return true
		})
		var obj map[string]json.RawMessage
		trimmed := strings.TrimLeft(string(b), " \t\r\n")
		isObj := json.Valid(b) && strings.HasPrefix(trimmed, "{") && json.Unmarshal(b, &obj) == nil
		if ok != isObj {
			t.Fatalf("Members(%q) ok = %v, encoding/json object: %v", b, ok, isObj)
		}
		if !ok || !utf8.Valid(b) {
			return
		}
		for i, k := range keys {
			if got, want := vals[i], string(obj[k]); indexLast(keys, k) == i && got != want {
				t.Errorf("Members(%q): %q = %s, encoding/json %s", b, k, got, want)
			}
		}
		if len(obj) > len(keys) {
			t.Errorf("Members(%q) gave %d members, encoding/json %d keys", b, len(keys), len(obj))
		}
	})
}

func indexLast(ss []string, s string) int {
	for i := len(ss) - 1; i >= 0; i-- {
		if ss[i] == s {
			return i
		}
	}
	return -1
}

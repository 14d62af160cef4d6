package jsontext

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"github.com/siftdata/sift/internal/realtext"
	"math/bits"
	"os"
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
	isSpecial := func(c byte) bool { return c == '"' || c == '\\' || c < 0x20 }
	for c := range 256 {
		for pos := range 8 {
			for _, fill := range []byte{'a', 0xe4, 0x1f} {
				var w [8]byte
				for i := range w {
					w[i] = fill
				}
				w[pos] = byte(c)
				first := -1
				for i, x := range w {
					if isSpecial(x) {
						first = i
						break
					}
				}
				m := special(binary.LittleEndian.Uint64(w[:]))
				got := -1
				if m != 0 {
					got = bits.TrailingZeros64(m) / 8
				}
				if got != first {
					t.Fatalf("special(%q) marks byte %d first, want %d", w, got, first)
				}
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

// BenchmarkMembers splits 8 MB of real JSONL records (package realtext)
// into members, as the reader does.
func BenchmarkMembers(b *testing.B) {
	var buf bytes.Buffer
	if _, err := realtext.Write(&buf, 8e6); err != nil {
		if errors.Is(err, realtext.ErrMissing) && os.Getenv("CI") == "" {
			b.Skip(err)
		}
		b.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range lines {
			if !Members(l, func(_, _ []byte) bool { return true }) {
				b.Fatalf("Members(%.80q) = false", l)
			}
		}
	}
}

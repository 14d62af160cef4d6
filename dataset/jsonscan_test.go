package dataset

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestValidJSON(t *testing.T) {
	for _, s := range []string{
		`{}`, `[]`, `""`, `0`, `-0.5e+10`, `{"a":[1,2,{"b":null}],"c":"\u00e9\n"}`, ` true `,
		`{`, `{"a"}`, `{"a":}`, `[1,]`, `01`, `1.`, `.5`, `-`, `"\x"`, `"\u12"`, "\"tab\there\"", `nul`, `{} {}`, `1e`,
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	} {
		if got, want := validJSON([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("validJSON(%.40q) = %v, json.Valid says %v", s, got, want)
		}
	}
}

func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `[1,"x",{"y":[true,false,null]}]`, `"\ud83d\ude00"`, `-12.5E-3`, `{"a":"b",}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid says %v", b, got, want)
		}
	})
}

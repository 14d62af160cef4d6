package schema

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
	"github.com/xeipuuv/gojsonschema"
)

// FuzzNormalize: no panic; every row is either rejected or comes out as a
// record that matches the unified JSON Schema, that every encoder writes as
// valid JSON, and that normalizes to itself again.
func FuzzNormalize(f *testing.F) {
	files, _ := filepath.Glob("testdata/golden/*.jsonl")
	for _, p := range files {
		fh, err := os.Open(p)
		if err != nil {
			f.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			f.Add(sc.Text(), uint8(0))
		}
		fh.Close()
	}
	f.Add("{\"id\":\"x\",\"text\":\" \\r\\n\\u0000\\uff21\\ufb01 \"}", uint8(15))
	f.Add(`{"a":{"b":`, uint8(0))
	f.Fuzz(func(t *testing.T, line string, bits uint8) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		opts := TextOptions{Newlines: bits&1 != 0, StripControl: bits&2 != 0, Trim: bits&4 != 0}
		opts.Unicode = [...]string{"none", "nfc", "nfkc", "none"}[bits>>3&3]
		n, err := NewNormalizer(WithText(opts))
		if err != nil {
			t.Fatal(err)
		}
		row, err := readRow("f", 1, []byte(line))
		if err != nil { // not a record the reader passes on: hand it over raw
			row = sift.Row{ID: "f:1", Text: &line, Meta: line}
		}
		bld := sift.NewBuilder(mem)
		defer bld.Release()
		bld.Append(row)
		rec := bld.NewBatch()
		defer rec.Release()
		rows, rejects := process(t, mem, n, rec)
		if len(rejects) == 1 {
			return
		}
		res, err := unifiedSchema().Validate(gojsonschema.NewStringLoader(rows[0]))
		if err != nil || !res.Valid() {
			t.Fatalf("output %s fails the unified schema: %v %v", rows[0], err, res.Errors())
		}
		again := batchOf(t, mem, rows[0])
		defer again.Release()
		for _, f := range outputFormats {
			enc, _ := Encoder(f)
			if out := enc(nil, again, 0); !json.Valid(out) {
				t.Fatalf("%s encoder wrote invalid JSON %s", f, out)
			}
		}
		b := sift.NewBatch(mem, "again", again)
		out, err := n.Process(context.Background(), b)
		if err != nil {
			t.Fatal(err)
		}
		defer out.Release()
		if len(b.Rejects()) != 0 {
			t.Fatalf("%s normalized, then rejected: %+v", rows[0], b.Rejects())
		}
		enc, _ := Encoder(Unified)
		if got := string(enc(nil, out, 0)); got != rows[0] {
			t.Fatalf("not idempotent:\n%s\n%s", rows[0], got)
		}
	})
}

// FuzzTextOptions: every option is idempotent and does what it says.
func FuzzTextOptions(f *testing.F) {
	f.Add(" a\r\n\r\x00b\u0085\uff21e\u0301 ")
	f.Fuzz(func(t *testing.T, s string) {
		tn, _ := newTextNorm(TextOptions{Newlines: true, StripControl: true, Unicode: "nfkc", Trim: true})
		out := tn.Apply(s)
		if tn.Apply(out) != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, out, tn.Apply(out))
		}
		for _, r := range out {
			if r == '\r' || isControl(r) {
				t.Fatalf("%q kept control %U", out, r)
			}
		}
	})
}

// FuzzUnifiedValid checks the validator's fast path: every row it passes,
// the unified JSON Schema passes too.
func FuzzUnifiedValid(f *testing.F) {
	f.Add("a", "text", true, "user", "hi", "")
	f.Add("a", "", false, "user", "hi", `{"k":[1,2]}`)
	f.Add("", "t", true, "system", "", "{}")
	f.Add("x", "", false, "robot", "c", " {} ")
	f.Add("x", "", false, "tool", "c", "{} trailing")
	f.Add("x", "t", true, "user", "c", "[]")
	f.Fuzz(func(t *testing.T, id, text string, isText bool, role, content, meta string) {
		r := sift.Row{ID: id, Meta: meta}
		if isText {
			r.Text = &text
		} else if role != "" {
			r.Messages = []sift.Message{{Role: role, Content: content}}
		}
		if !unifiedValid(r) {
			return
		}
		n := &Normalizer{}
		if err := n.validate(r); err != nil { // no user schema: unifiedValid decides alone
			t.Fatalf("validate short-circuits, but %+v", err)
		}
		doc := map[string]any{"id": r.ID}
		if r.Text != nil {
			doc["text"] = *r.Text
		} else {
			doc["messages"] = []any{map[string]any{"role": role, "content": content}}
		}
		if meta != "" {
			var m any
			if err := json.Unmarshal([]byte(meta), &m); err != nil {
				t.Fatalf("meta %q passed but does not decode: %v", meta, err)
			}
			doc["meta"] = m
		}
		if err := check("unified schema", unifiedSchema(), doc); err != nil {
			t.Fatalf("fast path passed %+v; the schema says %+v", r, err)
		}
	})
}

// FuzzPlain: the word-at-a-time test agrees with the byte-at-a-time one.
func FuzzPlain(f *testing.F) {
	for _, s := range []string{"plain text\tand\nlines", "é", "a\x7fb", "0123456789abcdef\r", "\x1f", strings.Repeat("x", 17) + "\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := true
		for i := 0; i < len(s); i++ {
			want = want && plainByte(s[i])
		}
		if got := plain(s); got != want {
			t.Fatalf("plain(%q) = %v, want %v", s, got, want)
		}
	})
}

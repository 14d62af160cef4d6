package dataset_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/klauspost/compress/zstd"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/dataset"
)

const sample = `{"id":"a","text":"plain text","lang":"en","score":0.5}
{"id":"b","text":"中文文本，带标点。","tags":["x","y"],"nested":{"k":[1,{"z":null}]}}
{"id":"c","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello\nthere"}],"source":"chat.jsonl"}
{"id":"d","instruction":"Translate","input":"bonjour","output":"hello"}
{"id":"e","conversations":[{"from":"human","value":"q"},{"from":"gpt","value":"a"}]}
{"text":"no id, escapes \" \\ \t \u00e9 \ud83d\ude00","empty":{},"t":true,"n":null}
{"id":"g","messages":[{"role":"user","content":[{"type":"text","text":"parts"}]}]}
{"id":"h","text":null,"meta":{"kept":"as a field"}}
`

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// readAll reads inputs and returns each row as JSON, plus the rejects.
func readAll(t *testing.T, mem memory.Allocator, batch int, inputs ...string) ([]string, []sift.Reject) {
	t.Helper()
	r, err := dataset.Open(mem, inputs, dataset.WithBatchSize(batch), dataset.WithMaxLineBytes(4096))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var rows []string
	var rejects []sift.Reject
	for {
		rec, rej, err := r.Next(context.Background())
		if err == io.EOF {
			return rows, rejects
		}
		if err != nil {
			t.Fatal(err)
		}
		rejects = append(rejects, rej...)
		if rec != nil {
			for i := 0; i < int(rec.NumRows()); i++ {
				rows = append(rows, string(sift.AppendRowJSON(nil, rec, i)))
			}
			rec.Release()
		}
	}
}

func decodeLines(t *testing.T, lines []string) []any {
	t.Helper()
	var out []any
	for _, l := range lines {
		var v any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		out = append(out, v)
	}
	return out
}

func TestJSONLRoundTripIsLossless(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	in := write(t, dir, "in.jsonl", sample)
	rows, rej := readAll(t, mem, 3, in)
	if len(rej) != 0 {
		t.Fatalf("rejects: %+v", rej)
	}
	want := decodeLines(t, strings.Split(strings.TrimSpace(sample), "\n"))
	want[5].(map[string]any)["id"] = in + ":6" // the stable id of a row without one
	if got := decodeLines(t, rows); !reflect.DeepEqual(got, want) {
		t.Errorf("round trip changed records:\n got %v\nwant %v", got, want)
	}
	// Only a unified conversation is mapped to the messages column.
	if !strings.Contains(rows[2], `"messages":[{"role":"user"`) || !strings.HasPrefix(rows[6], `{"id":"g","messages":[{"role":"user","content":[`) {
		t.Errorf("messages mapping: %s / %s", rows[2], rows[6])
	}
}

func TestColumnarRoundTrip(t *testing.T) {
	for _, ext := range []string{".parquet", ".arrow", ".jsonl.gz", ".jsonl.zst"} {
		t.Run(ext, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			dir := t.TempDir()
			in := write(t, dir, "in.jsonl", sample)
			want, _ := readAll(t, mem, 4, in)
			out := filepath.Join(dir, "out"+ext)
			copyTo(t, mem, out, 3, in)
			got, rej := readAll(t, mem, 5, out)
			if len(rej) != 0 {
				t.Fatalf("rejects: %+v", rej)
			}
			if !reflect.DeepEqual(decodeLines(t, got), decodeLines(t, want)) {
				t.Errorf("round trip through %s changed records:\n got %q\nwant %q", ext, got, want)
			}
		})
	}
}

// copyTo reads inputs in batches of n and writes them to out.
func copyTo(t testing.TB, mem memory.Allocator, out string, n int, inputs ...string) {
	t.Helper()
	r, err := dataset.Open(mem, inputs, dataset.WithBatchSize(n))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w, err := dataset.Create(mem, out, dataset.WithChunkRows(4))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sift.NewPipeline(r, w, sift.WithAllocator(mem)).Run(context.Background()); err != nil {
		w.Abort()
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestColumnarOutputIndependentOfBatchSize(t *testing.T) {
	for _, ext := range []string{".parquet", ".arrow"} {
		t.Run(ext, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			dir := t.TempDir()
			in := write(t, dir, "in.jsonl", strings.Repeat(sample, 5))
			var first []byte
			for _, n := range []int{1, 3, 1000} {
				out := filepath.Join(dir, fmt.Sprintf("out%d%s", n, ext))
				copyTo(t, mem, out, n, in)
				b, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				if first == nil {
					first = b
				} else if !bytes.Equal(b, first) {
					t.Errorf("batch size %d gives different bytes", n)
				}
			}
		})
	}
}

func TestBadRowsBecomeRejects(t *testing.T) {
	long := `{"text":"` + strings.Repeat("x", 5000) + `"}`
	for _, tc := range []struct {
		name, file, content string
		want                []string // reason per rejected row, in order
		rows                int
	}{
		{"jsonl", "in.jsonl", "{\"id\":\"ok\",\"text\":\"fine\"}\nnot json\n{\"text\": 42}\n[1,2]\n{\"id\":{}}\n" + long + "\n{\"text\":\"\xff\"}\n{\"id\":\"ok2\"}\n{\"text\":\"unterminated\n",
			[]string{"parse_error", "wrong_type", "wrong_type", "wrong_type", "line_too_long", "invalid_utf8", "parse_error"}, 2},
		{"csv", "in.csv", "id,text,lang\n1,hello,en\n2,\"two\",en,extra\n3,\"\xff\",en\n4,\"multi\nline\",en\n5,\"bad\"quote,en\n",
			[]string{"parse_error", "invalid_utf8", "parse_error"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			p := write(t, t.TempDir(), tc.file, tc.content)
			for _, batch := range []int{1, 2, 100} {
				rows, rej := readAll(t, mem, batch, p)
				var reasons []string
				for _, r := range rej {
					reasons = append(reasons, r.Reason)
					if !strings.HasPrefix(r.Detail, p+":") || len(r.Record) == 0 {
						t.Errorf("reject lacks file:line or record: %+v", r)
					}
				}
				if !reflect.DeepEqual(reasons, tc.want) || len(rows) != tc.rows {
					t.Errorf("batch %d: reasons %v rows %d; want %v rows %d", batch, reasons, len(rows), tc.want, tc.rows)
				}
			}
		})
	}
}

func TestColumnarWrongTypes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "text", Type: arrow.PrimitiveTypes.Float64, Nullable: true}, {Name: "x", Type: arrow.BinaryTypes.String}}, nil)
	b := array.NewRecordBuilder(mem, schema)
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{7, 8}, nil)
	b.Field(1).(*array.Float64Builder).AppendValues([]float64{1, 0}, []bool{true, false})
	b.Field(2).(*array.StringBuilder).AppendValues([]string{"a", "b"}, nil)
	rec := b.NewRecordBatch()
	b.Release()
	defer rec.Release()
	p := filepath.Join(t.TempDir(), "typed.parquet")
	f, _ := os.Create(p)
	w, err := pqarrow.NewFileWriter(schema, f, nil, pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	w.Close()
	rows, rej := readAll(t, mem, 10, p)
	if len(rej) != 1 || rej[0].Reason != "wrong_type" || !strings.Contains(rej[0].Detail, `"text"`) {
		t.Fatalf("rejects %+v", rej)
	}
	if len(rows) != 1 || rows[0] != `{"id":"8","x":"b"}` {
		t.Errorf("rows %q", rows)
	}
}

func TestBrokenFilesFailNamingTheFile(t *testing.T) {
	dir := t.TempDir()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(strings.Repeat(sample, 200)))
	zw.Close()
	var zs bytes.Buffer
	ze, _ := zstd.NewWriter(&zs)
	ze.Write([]byte(strings.Repeat(sample, 200)))
	ze.Close()
	for _, tc := range []struct{ name, content string }{
		{"trunc.jsonl.gz", gz.String()[:gz.Len()/2]},
		{"trunc.jsonl.zst", zs.String()[:zs.Len()/2]},
		{"corrupt.parquet", "PAR1 this is not parquet PAR1"},
		{"corrupt.arrow", "ARROW1\x00\x00garbage"},
		{"notgzip.jsonl.gz", "plain text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			p := write(t, dir, tc.name, tc.content)
			r, err := dataset.Open(mem, []string{p})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for err == nil {
				var rec arrow.RecordBatch
				rec, _, err = r.Next(context.Background())
				if rec != nil {
					rec.Release()
				}
			}
			if err == io.EOF || !strings.Contains(err.Error(), p) {
				t.Errorf("err = %v, want an error naming %s", err, p)
			}
		})
	}
}

func TestExpand(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "data", "sub"), 0o755)
	for _, n := range []string{"data/train-0.parquet", "data/train-1.parquet", "data/sub/x.jsonl", "data/README.md", "data/.hidden.jsonl"} {
		write(t, dir, n, "")
	}
	got, err := dataset.Expand(filepath.Join(dir, "data"), filepath.Join(dir, "data/train-*.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	var rel []string
	for _, g := range got {
		r, _ := filepath.Rel(dir, g)
		rel = append(rel, r)
	}
	want := []string{"data/sub/x.jsonl", "data/train-0.parquet", "data/train-1.parquet"}
	if !reflect.DeepEqual(rel, want) {
		t.Errorf("Expand = %v, want %v", rel, want)
	}
	if _, err := dataset.Expand(filepath.Join(dir, "nothing-*.jsonl")); err == nil {
		t.Error("a glob matching nothing is not an error")
	}
}

func TestAbortLeavesNothing(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	for _, name := range []string{"o.jsonl.zst", "o.parquet", "o.arrow"} {
		w, err := dataset.Create(mem, filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		b := sift.NewBuilder(mem)
		s := "x"
		b.Append(sift.Row{ID: "1", Text: &s})
		rec := b.NewBatch()
		b.Release()
		w.Write(context.Background(), rec)
		rec.Release()
		w.Abort()
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("abort left %v", ents)
	}
	if _, err := dataset.Create(mem, filepath.Join(dir, "x.txt")); !errors.Is(err, dataset.ErrFormat) {
		t.Errorf("err = %v, want ErrFormat", err)
	}
}

func FuzzJSONLReader(f *testing.F) {
	for _, l := range strings.Split(sample, "\n") {
		f.Add(l)
	}
	f.Add(`{"id":1e5}`)
	f.Add(`{"a":"\u0000","b":[[[[]]]]}`)
	f.Add("\uFEFF{\"id\":\"a\",\"text\":\"x\",\"text\":\"y\"}\n{\"messages\":[{\"role\":\"user\",\"role\":\"tool\",\"content\":\"c\"}]}")
	f.Add(`{"id":"big","text":"` + strings.Repeat("é", 3000) + `"}`)
	f.Fuzz(func(t *testing.T, line string) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		p := write(t, t.TempDir(), "f.jsonl", line)
		rows, rej := readAll(t, mem, 2, p)
		nonblank := 0
		for _, l := range strings.Split(strings.TrimPrefix(line, "\uFEFF"), "\n") {
			if strings.TrimSpace(strings.TrimSuffix(l, "\r")) != "" {
				nonblank++
			}
		}
		if len(rows)+len(rej) != nonblank {
			t.Fatalf("%q: %d rows + %d rejects for %d lines", line, len(rows), len(rej), nonblank)
		}
		for _, r := range rows {
			if !json.Valid([]byte(r)) {
				t.Fatalf("%q gave invalid JSON %s", line, r)
			}
		}
	})
}

func TestIPCStreamInput(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := sift.NewBuilder(mem)
	for i := range 5 {
		s := fmt.Sprint("row ", i)
		b.Append(sift.Row{ID: fmt.Sprint(i), Text: &s})
	}
	rec := b.NewBatch()
	b.Release()
	defer rec.Release()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(rec.Schema()), ipc.WithAllocator(mem))
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	w.Close()
	p := write(t, t.TempDir(), "in.arrows", buf.String())
	rows, rej := readAll(t, mem, 2, p)
	if len(rej) != 0 || len(rows) != 5 || rows[4] != `{"id":"4","text":"row 4"}` {
		t.Errorf("rows %q rejects %v", rows, rej)
	}
}

// TestEscapedFieldsAcrossLines: strings with escapes in every mapped field,
// on consecutive lines of one batch, decode as encoding/json decodes them
// (the reader reuses its buffers from line to line).
func TestEscapedFieldsAcrossLines(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	var lines []string
	for i := range 6 {
		lines = append(lines, fmt.Sprintf(`{"id":"id\t%d\u00e9","text":"line %d\nwith \"quotes\" \ud83d\ude00 and \\ back","source":"s\/%d"}`, i, i, i),
			fmt.Sprintf(`{"id":"c%d","messages":[{"role":"user","content":"q\n%d \u4e2d"},{"role":"assistant","content":"a\t%d"}],"k\u0041":"v\n"}`, i, i, i))
	}
	rows, rej := readAll(t, mem, 4, write(t, t.TempDir(), "e.jsonl", strings.Join(lines, "\n")))
	if len(rej) != 0 || len(rows) != len(lines) {
		t.Fatalf("%d rows, rejects %v", len(rows), rej)
	}
	for i, l := range lines {
		var want, got map[string]any
		if err := json.Unmarshal([]byte(l), &want); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(rows[i]), &got); err != nil {
			t.Fatal(err)
		}
		if meta, ok := got["meta"].(map[string]any); ok { // unmapped members come back under meta
			delete(got, "meta")
			for k, v := range meta {
				got[k] = v
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("line %d:\n got %v\nwant %v", i, got, want)
		}
	}
}

// TestWriteLinesIsWrite: lines encoded apart with AppendLines (with the
// default encoder and with one of the caller's) and handed to WriteLines
// make the file Write makes of the same batches, compressed or not; and
// WriteLines on a columnar output panics, as documented.
func TestWriteLinesIsWrite(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	r, err := dataset.Open(mem, []string{write(t, dir, "in.jsonl", sample)}, dataset.WithBatchSize(3))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var recs []arrow.RecordBatch
	for {
		rec, _, err := r.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	defer func() {
		for _, rec := range recs {
			rec.Release()
		}
	}()
	idOnly := func(dst []byte, rec arrow.RecordBatch, row int) []byte {
		return fmt.Appendf(dst, `{"id":%q}`, sift.ColsOf(rec).ID.Value(row))
	}
	for _, tc := range []struct {
		name string
		enc  dataset.EncodeFunc
	}{{"out.jsonl", nil}, {"out.jsonl.zst", nil}, {"ids.jsonl", idOnly}} {
		var opts []dataset.WriteOption
		if tc.enc != nil {
			opts = append(opts, dataset.WithEncoder(tc.enc))
		}
		files := [2]string{filepath.Join(dir, "w-"+tc.name), filepath.Join(dir, "l-"+tc.name)}
		for i, path := range files {
			w, err := dataset.Create(mem, path, opts...)
			if err != nil {
				t.Fatal(err)
			}
			for _, rec := range recs {
				if i == 0 {
					err = w.Write(context.Background(), rec)
				} else {
					err = w.WriteLines(dataset.AppendLines(nil, rec, tc.enc))
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		}
		a, _ := os.ReadFile(files[0])
		b, _ := os.ReadFile(files[1])
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s: WriteLines wrote %d bytes, Write %d, not the same", tc.name, len(b), len(a))
		}
	}
	w, err := dataset.Create(mem, filepath.Join(dir, "out.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	defer func() {
		if recover() == nil {
			t.Error("WriteLines on a Parquet output did not panic")
		}
	}()
	w.WriteLines([]byte("{}\n"))
}

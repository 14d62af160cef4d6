package dataset_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
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
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	kgzip "github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/dataset"
)

// readFile reads path with the given batch size and line limit; unlike
// readAll it returns a read error instead of failing the test.
func readFile(t testing.TB, mem memory.Allocator, batch, maxLine int, path string) ([]string, []sift.Reject, error) {
	t.Helper()
	r, err := dataset.Open(mem, []string{path}, dataset.WithBatchSize(batch), dataset.WithMaxLineBytes(maxLine))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var rows []string
	var rejects []sift.Reject
	for {
		rec, rej, err := r.Next(context.Background())
		if err == io.EOF {
			return rows, rejects, nil
		}
		if err != nil {
			return rows, rejects, err
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

// rawRecord decodes a reader reject's record, the raw input as a JSON string.
func rawRecord(t *testing.T, r sift.Reject) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(r.Record, &s); err != nil {
		t.Fatalf("record %s: %v", r.Record, err)
	}
	return s
}

// The reproductions of issue 10 (items 3, 4 and 8) and their neighbours:
// each bad record becomes one reject with its exact reason, raw text and
// line, and the records after it are read.
func TestBadRecordsAreRejectedAndReadingResumes(t *testing.T) {
	long := strings.Repeat("x", 100_000)
	type rej struct {
		reason, raw string
		line        int
	}
	for _, tc := range []struct {
		name, file, content string
		rows                []string
		rejects             []rej
	}{
		{"csv bare quote", "s.csv", "id,text\n1,one\n2,a\"b\n3,three\n",
			[]string{`{"id":"1","text":"one"}`, `{"id":"3","text":"three"}`},
			[]rej{{"parse_error", `2,a"b`, 3}}},
		{"csv unescaped inner quotes", "s.csv", "id,text\n1,\"say \"hi\" now\"\n2,two\n",
			[]string{`{"id":"2","text":"two"}`},
			[]rej{{"parse_error", `1,"say "hi" now"`, 2}}},
		{"csv fault inside a multi-line field", "s.csv", "id,text\n1,\"multi\nline \"bad\" x\n2,\"ok\r\nfine\"\r\n3,three",
			[]string{`{"id":"2","text":"ok\nfine"}`, `{"id":"3","text":"three"}`},
			[]rej{{"parse_error", "1,\"multi\nline \"bad\" x", 2}}},
		{"csv field count", "s.csv", "id,text\n1,one,extra\n2,two\n",
			[]string{`{"id":"2","text":"two"}`},
			[]rej{{"parse_error", `1,one,extra`, 2}}},
		{"csv byte-order mark", "s.csv", "\uFEFFid,text\n1,one\n",
			[]string{`{"id":"1","text":"one"}`}, nil},
		{"csv header names a column twice", "s.csv", "id,text,text\n1,keep me,other\n",
			nil, []rej{{"duplicate_key", `1,keep me,other`, 2}}},
		{"csv line too long keeps its start and id", "s.csv", "id,text\n7," + long + "\n8,short\n",
			[]string{`{"id":"8","text":"short"}`},
			[]rej{{"line_too_long", "7," + long[:4094], 2}}},
		{"jsonl duplicate text", "s.jsonl", `{"id":"a","text":"keep me","text":"other"}` + "\n" + `{"id":"b","text":"fine"}`,
			[]string{`{"id":"b","text":"fine"}`},
			[]rej{{"duplicate_key", `{"id":"a","text":"keep me","text":"other"}`, 1}}},
		{"jsonl duplicate id spelt with an escape", "s.jsonl", `{"id":"a","text":"t","\u0069d":"b"}`,
			nil, []rej{{"duplicate_key", `{"id":"a","text":"t","\u0069d":"b"}`, 1}}},
		{"jsonl null text then text", "s.jsonl", `{"id":"a","text":null,"text":"x"}`,
			nil, []rej{{"duplicate_key", `{"id":"a","text":null,"text":"x"}`, 1}}},
		{"jsonl turn with role twice", "s.jsonl", `{"id":"c","messages":[{"role":"user","role":"assistant","content":"hi"}]}`,
			nil, []rej{{"duplicate_key", `{"id":"c","messages":[{"role":"user","role":"assistant","content":"hi"}]}`, 1}}},
		{"jsonl turn with content twice, not unified", "s.jsonl", `{"id":"c","messages":[{"role":"user","content":"a","content":[1],"x":1}]}`,
			nil, []rej{{"duplicate_key", `{"id":"c","messages":[{"role":"user","content":"a","content":[1],"x":1}]}`, 1}}},
		{"jsonl byte-order mark", "s.jsonl", "\uFEFF" + `{"id":"a","text":"x"}` + "\n",
			[]string{`{"id":"a","text":"x"}`}, nil},
		{"jsonl line too long keeps its start and id", "s.jsonl", `{"id":"big","text":"` + long + `"}` + "\n" + `{"id":"b","text":"t"}`,
			[]string{`{"id":"b","text":"t"}`},
			[]rej{{"line_too_long", `{"id":"big","text":"` + long[:4096-len(`{"id":"big","text":"`)], 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			p := write(t, t.TempDir(), tc.file, tc.content)
			for _, batch := range []int{1, 2, 100} {
				rows, rejects, err := readFile(t, mem, batch, 8192, p)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(rows, tc.rows) {
					t.Errorf("batch %d: rows\n got %q\nwant %q", batch, rows, tc.rows)
				}
				if len(rejects) != len(tc.rejects) {
					t.Fatalf("batch %d: rejects %+v, want %d", batch, rejects, len(tc.rejects))
				}
				for i, r := range rejects {
					w := tc.rejects[i]
					if r.Reason != w.reason || rawRecord(t, r) != w.raw || !strings.HasPrefix(r.Detail, fmt.Sprintf("%s:%d: ", p, w.line)) {
						t.Errorf("batch %d: reject %s %q (%s), want %s %q at line %d", batch, r.Reason, r.Record[:min(len(r.Record), 80)], r.Detail, w.reason, w.raw[:min(len(w.raw), 80)], w.line)
					}
				}
			}
		})
	}
}

// An over-long line's reject carries the row's id when its start holds it,
// and the line's start is cut at a character boundary.
func TestLineTooLongReject(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	zh := strings.Repeat("数据", 200_000) // far past bufio's buffer
	p := write(t, dir, "l.jsonl", `{"id":"doc-9","text":"`+zh+"\"}\n"+`{"text":"`+zh+"\"}\n")
	_, rej, err := readFile(t, mem, 10, 1<<16, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(rej) != 2 || rej[0].ID != "doc-9" || rej[1].ID != p+":2" {
		t.Fatalf("rejects %+v", rej)
	}
	for _, r := range rej {
		s := rawRecord(t, r)
		if len(s) > 4096 || len(s) < 4090 || !strings.HasPrefix(s, `{"`) || strings.ContainsRune(s, '\uFFFD') {
			t.Errorf("kept %d bytes %q…", len(s), s[:40])
		}
	}
	c := write(t, dir, "l.csv", "text,id\n"+zh+",z\n")
	_, rej, err = readFile(t, mem, 10, 1<<16, c)
	if err != nil || len(rej) != 1 || rej[0].Reason != "line_too_long" || rej[0].ID != c+":2" {
		t.Fatalf("csv: %v %+v", err, rej)
	}
	c = write(t, dir, "m.csv", "id,text\n\"q,1\","+zh+"\n")
	if _, rej, _ = readFile(t, mem, 10, 1<<16, c); len(rej) != 1 || rej[0].ID != "q,1" {
		t.Fatalf("csv id: %+v", rej)
	}
}

// A quoted field still open at the end of the file leaves the record
// boundaries unknown: the file fails with its name and the line.
func TestCSVUnclosedQuoteFailsTheFile(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	// The reproduction of issue 10, item 3.
	p := write(t, t.TempDir(), "s.csv", "id,text\n1,one\n2,\"oops\n3,three\n4,four\n")
	_, _, err := readFile(t, mem, 100, 1<<20, p)
	if err == nil || !strings.Contains(err.Error(), p+": line 3: quoted field not closed") {
		t.Errorf("err = %v", err)
	}
}

// TestEveryReaderCountsEveryRecord counts each file's physical records
// with code other than the reader's (line splitting, encoding/csv, the
// Arrow and Parquet readers) and checks that the reader accounts for every
// one: rows out + rejects = records.
func TestEveryReaderCountsEveryRecord(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	const n = 500

	// JSONL: good rows, malformed lines, duplicate keys, wrong types,
	// invalid UTF-8, an over-long line, blank lines.
	var jl bytes.Buffer
	jl.WriteString("\uFEFF")
	for i := range n {
		switch i % 7 {
		case 1:
			fmt.Fprintf(&jl, "{\"id\":\"%d\",\"text\":\"unterminated\n", i)
		case 2:
			fmt.Fprintf(&jl, `{"id":"%d","text":"a","text":"b"}`+"\n\n", i)
		case 3:
			fmt.Fprintf(&jl, `{"id":"%d","text":7}`+"\r\n", i)
		case 4:
			fmt.Fprintf(&jl, "{\"id\":\"%d\",\"text\":\"\xff\"}\n", i)
		case 5:
			fmt.Fprintf(&jl, `{"id":"%d","text":"%s"}`+"\n", i, strings.Repeat("long ", 2000))
		default:
			fmt.Fprintf(&jl, `{"id":"%d","text":"row %d","messages":[{"role":"user","content":"q"}]}`+"\n", i, i)
		}
	}
	jsonlCount := func(b []byte) int {
		k := 0
		for _, l := range bytes.Split(b, []byte("\n")) {
			if len(bytes.TrimSpace(l)) > 0 {
				k++
			}
		}
		return k
	}
	files := map[string]int{}
	files[write(t, dir, "a.jsonl", jl.String())] = jsonlCount(jl.Bytes())
	var gz bytes.Buffer
	zw := kgzip.NewWriter(&gz)
	zw.Write(jl.Bytes())
	zw.Close()
	files[write(t, dir, "a.jsonl.gz", gz.String())] = jsonlCount(decompressed(t, "gz", gz.Bytes()))
	ze, _ := zstd.NewWriter(nil)
	zs := ze.EncodeAll(jl.Bytes(), nil)
	ze.Close()
	files[write(t, dir, "a.jsonl.zst", string(zs))] = jsonlCount(decompressed(t, "zst", zs))

	// CSV: quoted multi-line fields, CRLF, and faults that stay on their
	// line, so encoding/csv with LazyQuotes finds the same boundaries.
	var cs bytes.Buffer
	cs.WriteString("\uFEFFid,text,lang\r\n")
	for i := range n {
		switch i % 6 {
		case 1:
			fmt.Fprintf(&cs, "%d,\"two\nlines, \"\"quoted\"\"\",en\n", i)
		case 2:
			fmt.Fprintf(&cs, "%d,bare\"quote,en\n", i)
		case 3:
			fmt.Fprintf(&cs, "%d,\"say \"hi\" now\",en\r\n", i)
		case 4:
			fmt.Fprintf(&cs, "%d,too,many,fields\n", i)
		case 5:
			fmt.Fprintf(&cs, "%d,%s,en\n", i, strings.Repeat("w", 9000))
		default:
			fmt.Fprintf(&cs, "%d,row %d,en\n", i, i)
		}
	}
	cr := csv.NewReader(bytes.NewReader(cs.Bytes()))
	cr.LazyQuotes, cr.FieldsPerRecord = true, -1
	all, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	files[write(t, dir, "a.csv", cs.String())] = len(all) - 1 // less the header

	// Parquet and Arrow IPC: a meta column that is sometimes not an
	// object, text that is sometimes invalid UTF-8, nulls.
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "text", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "meta", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	var batches []arrow.RecordBatch
	for b := range 3 {
		rb := array.NewRecordBuilder(mem, schema)
		for i := range n / 3 {
			rb.Field(0).(*array.Int64Builder).Append(int64(b*n + i))
			tb, mb := rb.Field(1).(*array.StringBuilder), rb.Field(2).(*array.StringBuilder)
			switch i % 5 {
			case 1:
				tb.Append("bad \xfe")
			case 2:
				tb.AppendNull()
			default:
				tb.Append(fmt.Sprint("row ", i))
			}
			switch i % 4 {
			case 1:
				mb.Append(`not an object`)
			case 2:
				mb.AppendNull()
			default:
				mb.Append(`{"k":1}`)
			}
		}
		batches = append(batches, rb.NewRecordBatch())
		rb.Release()
	}
	defer func() {
		for _, b := range batches {
			b.Release()
		}
	}()
	pq := filepath.Join(dir, "a.parquet")
	fh, _ := os.Create(pq)
	pw, err := pqarrow.NewFileWriter(schema, fh, nil, pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range batches {
		if err := pw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	files[pq] = parquetRows(t, mem, pq)
	for _, name := range []string{"a.arrow", "a.arrows"} {
		var buf bytes.Buffer
		var w interface {
			Write(arrow.RecordBatch) error
			Close() error
		}
		if name == "a.arrow" {
			w, err = ipc.NewFileWriter(&buf, ipc.WithSchema(schema), ipc.WithAllocator(mem))
			if err != nil {
				t.Fatal(err)
			}
		} else {
			w = ipc.NewWriter(&buf, ipc.WithSchema(schema), ipc.WithAllocator(mem))
		}
		for _, b := range batches {
			if err := w.Write(b); err != nil {
				t.Fatal(err)
			}
		}
		w.Close()
		p := write(t, dir, name, buf.String())
		files[p] = ipcRows(t, mem, buf.Bytes(), name == "a.arrow")
	}

	for p, want := range files {
		for _, batch := range []int{1, 7, 1000} {
			rows, rej, err := readFile(t, mem, batch, 4096, p)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows)+len(rej) != want || len(rej) == 0 || len(rows) == 0 {
				t.Errorf("%s, batch %d: %d rows + %d rejects, want %d records", filepath.Base(p), batch, len(rows), len(rej), want)
			}
		}
	}
}

func decompressed(t *testing.T, kind string, b []byte) []byte {
	t.Helper()
	var r io.Reader
	var err error
	if kind == "gz" {
		r, err = kgzip.NewReader(bytes.NewReader(b))
	} else {
		var d *zstd.Decoder
		d, err = zstd.NewReader(bytes.NewReader(b))
		if err == nil {
			defer d.Close()
			r = d
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(bufio.NewReader(r))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// parquetRows counts a Parquet file's rows by reading it as a table.
func parquetRows(t *testing.T, mem memory.Allocator, path string) int {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := file.NewParquetReader(fh)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, mem)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	return int(tbl.NumRows())
}

// ipcRows counts the rows of an Arrow IPC file or stream.
func ipcRows(t *testing.T, mem memory.Allocator, b []byte, isFile bool) int {
	t.Helper()
	k := 0
	if isFile {
		fr, err := ipc.NewFileReader(bytes.NewReader(b), ipc.WithAllocator(mem))
		if err != nil {
			t.Fatal(err)
		}
		defer fr.Close()
		for i := range fr.NumRecords() {
			rec, err := fr.RecordBatch(i)
			if err != nil {
				t.Fatal(err)
			}
			k += int(rec.NumRows())
			rec.Release()
		}
		return k
	}
	r, err := ipc.NewReader(bytes.NewReader(b), ipc.WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	for r.Next() {
		k += int(r.RecordBatch().NumRows())
	}
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
	return k
}

// A columnar file that names a column twice has every row rejected as
// duplicate_key; nothing is read from one of the two at random.
func TestColumnarDuplicateColumn(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.BinaryTypes.String}, {Name: "text", Type: arrow.BinaryTypes.String}, {Name: "text", Type: arrow.BinaryTypes.String}}, nil)
	rb := array.NewRecordBuilder(mem, schema)
	rb.Field(0).(*array.StringBuilder).AppendValues([]string{"a", "b"}, nil)
	rb.Field(1).(*array.StringBuilder).AppendValues([]string{"keep me", "x"}, nil)
	rb.Field(2).(*array.StringBuilder).AppendValues([]string{"other", "y"}, nil)
	rec := rb.NewRecordBatch()
	rb.Release()
	defer rec.Release()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema), ipc.WithAllocator(mem))
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	w.Close()
	p := write(t, t.TempDir(), "d.arrows", buf.String())
	rows, rej, err := readFile(t, mem, 10, 1<<20, p)
	if err != nil || len(rows) != 0 || len(rej) != 2 || rej[0].Reason != "duplicate_key" || !strings.Contains(string(rej[0].Record), `"keep me"`) {
		t.Errorf("err %v rows %q rejects %+v", err, rows, rej)
	}
}

func FuzzCSVReader(f *testing.F) {
	for _, s := range []string{
		"id,text\n1,one\n2,\"oops\n3,three\n",
		"\uFEFFid,text,lang\r\n1,\"a\r\nb\",en\r\n2,bare\"q,en\n3,\"x\"y,en\n",
		"text,text\nx,y\n",
		"id,text\n\"q,1\"," + strings.Repeat("long ", 30) + "\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		p := write(t, t.TempDir(), "f.csv", data)
		rows, rej, err := readFile(t, mem, 3, 64, p)
		if err != nil && !strings.Contains(err.Error(), p) {
			t.Fatalf("%q: error %v does not name the file", data, err)
		}
		if n := strings.Count(data, "\n") + 1; len(rows)+len(rej) > n {
			t.Fatalf("%q: %d rows and %d rejects from %d lines", data, len(rows), len(rej), n)
		}
		for _, r := range rows {
			if !json.Valid([]byte(r)) {
				t.Fatalf("%q gave invalid JSON %s", data, r)
			}
		}
		for _, r := range rej {
			if !json.Valid(r.Record) || len(r.Record) > 2*6*4096 {
				t.Fatalf("%q: reject record %s", data, r.Record)
			}
		}
	})
}

// FuzzColumnarReader feeds damaged Parquet and Arrow IPC files to the
// reader: each must read or fail with its name, never panic or exhaust
// memory. A Parquet file's tail is replaced; an IPC file or stream is
// damaged anywhere, schema and footer included (the reader checks their
// flatbuffers before arrow-go reads them, ipccheck.go): the patch's first
// two bytes choose where the rest is XORed in.
func FuzzColumnarReader(f *testing.F) {
	mem := memory.NewGoAllocator()
	dir := f.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	if err := os.WriteFile(in, []byte(sample), 0o644); err != nil {
		f.Fatal(err)
	}
	exts := []string{".parquet", ".arrow", ".arrows"}
	var seeds [3][]byte
	for i, ext := range exts[:2] {
		out := filepath.Join(dir, "seed"+ext)
		copyTo(f, mem, out, 3, in)
		b, err := os.ReadFile(out)
		if err != nil {
			f.Fatal(err)
		}
		seeds[i] = b
	}
	b := sift.NewBuilder(mem)
	s := "stream row"
	b.Append(sift.Row{ID: "1", Text: &s, Meta: `{"k":[1]}`})
	b.Append(sift.Row{ID: "2", Messages: []sift.Message{{Role: "user", Content: "q"}}})
	rec := b.NewBatch()
	b.Release()
	var buf bytes.Buffer
	sw := ipc.NewWriter(&buf, ipc.WithSchema(rec.Schema()), ipc.WithAllocator(mem))
	if err := sw.Write(rec); err != nil {
		f.Fatal(err)
	}
	sw.Close()
	rec.Release()
	seeds[2] = buf.Bytes()

	for k := range seeds {
		f.Add(uint8(k), []byte{})
		f.Add(uint8(k), []byte{0, 0, 0, 0, 0xff, 0xff, 0, 1})
	}
	f.Fuzz(func(t *testing.T, kind uint8, patch []byte) {
		k := int(kind) % len(exts)
		data := bytes.Clone(seeds[k])
		if k == 0 {
			if len(patch) > 0 { // the patch replaces the file's tail, footer included
				cut := max(0, len(data)-len(patch))
				data = append(data[:cut], patch...)
			}
		} else if len(patch) > 2 {
			at := int(binary.LittleEndian.Uint16(patch)) % len(data)
			for i, c := range patch[2:min(len(patch), len(data)-at+2)] {
				data[at+i] ^= c
			}
		}
		p := filepath.Join(t.TempDir(), "f"+exts[k])
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := dataset.Open(memory.NewGoAllocator(), []string{p}, dataset.WithBatchSize(64))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		// A damaged row count can make a file of a few bytes declare
		// billions of (null) rows; the first thousands are enough here.
		for n := 0; n < 10_000; {
			rec, rej, err := r.Next(context.Background())
			if err == io.EOF {
				break
			}
			if err != nil {
				if !strings.Contains(err.Error(), p) {
					t.Fatalf("error %v does not name the file", err)
				}
				break
			}
			n += len(rej)
			if rec != nil {
				for i := 0; i < int(rec.NumRows()); i++ {
					if row := sift.AppendRowJSON(nil, rec, i); !json.Valid(row) {
						t.Fatalf("invalid JSON row %s", row)
					}
				}
				n += int(rec.NumRows())
				rec.Release()
			}
		}
	})
}

package schema

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
)

// readRow maps one JSON object the way the dataset reader does: id (a
// number becomes its text; none gives "<file>:<line>"), text (string or
// null), messages only when already unified, source (string); every other
// member stays in meta, in input order. Other types of id, text and source
// are the reader's wrong_type rejects, an error here.
func readRow(file string, line int, data []byte) (sift.Row, error) {
	fs, err := parseObject(data)
	if err != nil {
		return sift.Row{}, err
	}
	r := sift.Row{ID: fmt.Sprintf("%s:%d", file, line)}
	var meta []field
	for _, f := range fs {
		k := f.v.kind()
		switch {
		case f.key == "id" && (k == "string" || k == "number"):
			r.ID, _ = f.v.string()
			if k == "number" {
				r.ID = string(f.v.raw)
			}
		case f.key == "text" && k == "string":
			s, _ := f.v.string()
			r.Text = &s
		case f.key == "text" && k == "null":
		case f.key == "source" && k == "string":
			r.Source, _ = f.v.string()
		case f.key == "id" || f.key == "text" || f.key == "source":
			return r, fmt.Errorf("wrong_type: %s is %s", f.key, k)
		case f.key == "messages" && unifiedMessages(f.v.raw) != nil:
			r.Messages = unifiedMessages(f.v.raw)
		default:
			meta = append(meta, f)
		}
	}
	if len(meta) > 0 {
		r.Meta = string(appendObject(nil, meta))
	}
	return r, nil
}

func unifiedMessages(raw []byte) []sift.Message {
	if raw[0] != '[' {
		return nil
	}
	msgs := []sift.Message{}
	for _, t := range scanArray(raw) {
		if t[0] != '{' {
			return nil
		}
		tf, _ := scanObject(t)
		ri, ci := index(tf, "role"), index(tf, "content")
		if len(tf) != 2 || ri < 0 || ci < 0 || tf[ri].v.kind() != "string" || tf[ci].v.kind() != "string" {
			return nil
		}
		role, _ := tf[ri].v.string()
		if sift.RoleOf(role) == 0 {
			return nil
		}
		content, _ := tf[ci].v.string()
		msgs = append(msgs, sift.Message{Role: role, Content: content})
	}
	return msgs
}

// batchOf builds one batch from JSON lines.
func batchOf(t testing.TB, mem memory.Allocator, lines ...string) arrow.RecordBatch {
	t.Helper()
	bld := sift.NewBuilder(mem)
	defer bld.Release()
	for i, l := range lines {
		r, err := readRow("t", i+1, []byte(l))
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		bld.Append(r)
	}
	return bld.NewBatch()
}

// readFile reads a JSONL file into batches of at most size rows.
func readFile(t testing.TB, mem memory.Allocator, path string, size int) []arrow.RecordBatch {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bld := sift.NewBuilder(mem)
	defer bld.Release()
	var recs []arrow.RecordBatch
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		r, err := readRow(filepath.Base(path), line, sc.Bytes())
		if err != nil {
			t.Fatalf("%s:%d: %v", path, line, err)
		}
		bld.Append(r)
		if bld.Len() == size {
			recs = append(recs, bld.NewBatch())
		}
	}
	if bld.Len() > 0 {
		recs = append(recs, bld.NewBatch())
	}
	return recs
}

// process runs st on rec by hand and returns the kept rows as unified JSON
// and the rejects as "id reason: detail".
func process(t testing.TB, mem memory.Allocator, st sift.Stage, rec arrow.RecordBatch) (rows, rejects []string) {
	t.Helper()
	b := sift.NewBatch(mem, "normalize", rec)
	out, err := st.Process(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	enc, _ := Encoder(Unified)
	for i := range int(out.NumRows()) {
		rows = append(rows, string(enc(nil, out, i)))
	}
	for _, r := range b.Rejects() {
		rejects = append(rejects, r.ID+" "+r.Reason+": "+r.Detail)
	}
	if got := len(rows) + len(rejects); got != int(rec.NumRows()) {
		t.Fatalf("%d rows in, %d out + %d rejected", rec.NumRows(), len(rows), len(rejects))
	}
	return rows, rejects
}

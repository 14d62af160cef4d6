package dataset

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// FuzzIPCCheck feeds arbitrary bytes to the footer and message checks:
// they must never panic, and a footer they accept must give blocks that
// lie in it.
func FuzzIPCCheck(f *testing.F) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(f, 0)
	bld := array.NewStringBuilder(mem)
	bld.AppendValues([]string{"a", "bc"}, nil)
	col := bld.NewArray()
	bld.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: "text", Type: arrow.BinaryTypes.String, Nullable: true,
		Metadata: arrow.NewMetadata([]string{"k"}, []string{"v"})}}, nil)
	rec := array.NewRecordBatch(schema, []arrow.Array{col}, 2)
	col.Release()
	var buf bytes.Buffer
	w, err := ipc.NewFileWriter(&buf, ipc.WithSchema(schema), ipc.WithAllocator(mem), ipc.WithZstd())
	if err != nil {
		f.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		f.Fatal(err)
	}
	w.Close()
	rec.Release()
	b := buf.Bytes()
	n := int(binary.LittleEndian.Uint32(b[len(b)-10:]))
	f.Add(true, b[len(b)-10-n:len(b)-10])
	m := int(binary.LittleEndian.Uint32(b[12:]))
	f.Add(false, b[16:16+m])
	f.Fuzz(func(t *testing.T, footer bool, data []byte) {
		if !footer {
			checkMessage(data)
			return
		}
		dicts, batches, err := checkFooter(data)
		if err == nil && (len(dicts)+len(batches))*24 > len(data) {
			t.Fatalf("%d blocks in a %d-byte footer", len(dicts)+len(batches), len(data))
		}
	})
}

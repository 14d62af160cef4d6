package dataset_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/metrics"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/dataset"
)

// ipcSeed is an undamaged IPC input and the byte ranges of its flatbuffers
// (schema message, record batch metadata, footer) that are damaged byte by
// byte.
type ipcSeed struct {
	name, ext string
	data      []byte
	spans     [][2]int
}

// ipcSeeds builds IPC files and streams as sift and other writers make
// them: sift's own file, a stream of two batches, and LZ4/zstd compressed
// ones with a dictionary-encoded column.
func ipcSeeds(t testing.TB) []ipcSeed {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	if err := os.WriteFile(in, []byte(sample), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "sift.arrow")
	copyTo(t, mem, out, 3, in)
	own, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	seeds := []ipcSeed{{name: "sift file", ext: ".arrow", data: own}}

	b := sift.NewBuilder(mem)
	for i, s := range []string{"stream row", "中文文本", "third"} {
		b.Append(sift.Row{ID: fmt.Sprint(i), Text: &s, Meta: `{"k":[1]}`})
	}
	b.Append(sift.Row{ID: "m", Messages: []sift.Message{{Role: "user", Content: "q"}, {Role: "assistant", Content: "a"}}})
	rec := b.NewBatch()
	b.Release()
	defer rec.Release()
	var buf bytes.Buffer
	sw := ipc.NewWriter(&buf, ipc.WithSchema(rec.Schema()), ipc.WithAllocator(mem))
	for range 2 {
		if err := sw.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	sw.Close()
	seeds = append(seeds, ipcSeed{name: "stream", ext: ".arrows", data: bytes.Clone(buf.Bytes())})

	// A dictionary column and compressed buffers: the paths pyarrow's
	// Feather files (LZ4 by default) take.
	db := array.NewDictionaryBuilder(mem, &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String})
	for _, s := range []string{"web", "book", "web", "code"} {
		db.(*array.BinaryDictionaryBuilder).AppendString(s)
	}
	dict := db.NewArray()
	db.Release()
	defer dict.Release()
	cols := append(append([]arrow.Array{}, rec.Columns()...), dict)
	fields := append(append([]arrow.Field{}, rec.Schema().Fields()...), arrow.Field{Name: "tag", Type: dict.DataType(), Nullable: true})
	drec := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, rec.NumRows())
	defer drec.Release()
	for _, c := range []struct {
		name string
		opt  ipc.Option
	}{{"lz4", ipc.WithLZ4()}, {"zstd", ipc.WithZstd()}} {
		buf.Reset()
		fw, err := ipc.NewFileWriter(&buf, ipc.WithSchema(drec.Schema()), ipc.WithAllocator(mem), c.opt)
		if err != nil {
			t.Fatal(err)
		}
		if err := fw.Write(drec); err != nil {
			t.Fatal(err)
		}
		if err := fw.Close(); err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, ipcSeed{name: c.name + " file", ext: ".arrow", data: bytes.Clone(buf.Bytes())})
		buf.Reset()
		sw := ipc.NewWriter(&buf, ipc.WithSchema(drec.Schema()), ipc.WithAllocator(mem), c.opt)
		if err := sw.Write(drec); err != nil {
			t.Fatal(err)
		}
		sw.Close()
		seeds = append(seeds, ipcSeed{name: c.name + " stream", ext: ".arrows", data: bytes.Clone(buf.Bytes())})
	}
	for i := range seeds {
		seeds[i].spans = ipcSpans(t, seeds[i].data, seeds[i].ext == ".arrow")
	}
	return seeds
}

// ipcSpans finds the metadata of every message of an IPC file or stream,
// and the footer of a file, by walking the format independently of the
// reader: a message is 0xFFFFFFFF, a 4-byte length, that many bytes of
// metadata, then a body whose length is the message's bodyLength field.
func ipcSpans(t testing.TB, b []byte, isFile bool) [][2]int {
	var spans [][2]int
	at, end := 0, len(b)
	if isFile {
		at = 8
		n := int(binary.LittleEndian.Uint32(b[len(b)-10:]))
		end = len(b) - 10 - n
		spans = append(spans, [2]int{end, len(b)})
	}
	for at+8 <= end && binary.LittleEndian.Uint32(b[at:]) == 0xFFFFFFFF {
		n := int(binary.LittleEndian.Uint32(b[at+4:]))
		if n == 0 {
			break
		}
		meta := b[at+8 : at+8+n]
		spans = append(spans, [2]int{at, at + 8 + n})
		at += 8 + n + int(bodyLength(t, meta))
	}
	if len(spans) < 2 {
		t.Fatalf("found %d flatbuffers", len(spans))
	}
	return spans
}

// bodyLength reads the bodyLength field (vtable slot 10) of a Message
// flatbuffer.
func bodyLength(t testing.TB, meta []byte) int64 {
	root := int(binary.LittleEndian.Uint32(meta))
	vt := root - int(int32(binary.LittleEndian.Uint32(meta[root:])))
	if binary.LittleEndian.Uint16(meta[vt:]) <= 10 {
		return 0
	}
	o := int(binary.LittleEndian.Uint16(meta[vt+10:]))
	if o == 0 {
		return 0
	}
	return int64(binary.LittleEndian.Uint64(meta[root+o:]))
}

// readDamaged reads a damaged input to its end and checks the outcome: it
// reads, with valid rows and every Arrow buffer given back, or fails
// naming the file; no panic escapes. leaked is the Arrow memory a failed
// read did not give back: arrow-go's array constructors retain their data
// before checking it, so when one panics on a damaged layout the data is
// never released (the Go allocator's memory is still collected).
func readDamaged(t testing.TB, path, damage string) (failed bool, leaked int64) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	r, err := dataset.Open(mem, []string{path}, dataset.WithBatchSize(64))
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < 10_000; {
		rec, rej, err := r.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("%s: error %v does not name the file", damage, err)
			}
			failed = true
			break
		}
		n += len(rej)
		if rec != nil {
			for i := 0; i < int(rec.NumRows()); i++ {
				if row := sift.AppendRowJSON(nil, rec, i); !json.Valid(row) {
					t.Fatalf("%s: invalid JSON row %s", damage, row)
				}
			}
			n += int(rec.NumRows())
			rec.Release()
		}
	}
	if err := r.Close(); err != nil && !failed {
		t.Fatalf("%s: close: %v", damage, err)
	}
	leaked = int64(mem.CurrentAlloc())
	if leaked != 0 && !failed {
		t.Fatalf("%s: read, but %d bytes of Arrow memory not given back", damage, leaked)
	}
	return failed, leaked
}

// The damaged inputs run in a child process whose address space is capped
// (ulimit -v), so an unbounded allocation is a crash the parent sees, not
// a slow machine; inside, each read's heap allocations are measured
// against ipcDamageAllocLimit. Without the checks of ipccheck.go the first
// damaged schema byte that inflates a vector length kills the child.
const ipcDamageChild = "SIFT_IPC_DAMAGE_CHILD"

// ipcDamageLimitKiB is the child's address-space limit: the test binary
// reserves about 2.1 GB of address space before it allocates anything
// (VmPeak), and a damaged 32-bit length asks for more than the rest.
const ipcDamageLimitKiB = 4 << 20

// ipcDamageAllocLimit bounds the heap bytes one read of a damaged input of
// a few KB may allocate, all of it garbage included; an undamaged one
// allocates about 1 MB (a zstd decoder's buffers, mostly).
const ipcDamageAllocLimit = 64 << 20

// heapAllocs is the heap bytes allocated by the process so far.
func heapAllocs() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestDamagedIPCUnderMemoryCap damages real IPC files and streams and reads
// each under a memory cap: each must read or fail naming the file, never
// crash, and no read may allocate more than ipcDamageAllocLimit. Damaged:
// every byte of the footer and the schema message (flipped), every 4th
// byte of each batch's and dictionary's metadata, and 200 random damages
// per input (1–8 bytes anywhere, or a 4-byte length-sized value in a
// flatbuffer). SIFT_IPC_DAMAGE=all flips every byte three ways and makes
// 2,000 random damages; -short flips every 7th byte.
func TestDamagedIPCUnderMemoryCap(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector reserves more address space than the cap")
	}
	if os.Getenv(ipcDamageChild) == "" {
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		args := []string{"-c", fmt.Sprintf(`ulimit -v %d && exec "$0" -test.run='^TestDamagedIPCUnderMemoryCap$' -test.v`, ipcDamageLimitKiB), exe}
		if testing.Short() {
			args = append(args, "-test.short")
		}
		cmd := exec.Command("sh", args...)
		cmd.Env = append(os.Environ(), ipcDamageChild+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			// The cause and the failing goroutine come first; the other
			// goroutines' stacks are noise.
			for _, mark := range []string{"runtime: out of memory", "fatal error", "panic:", "--- FAIL"} {
				if i := bytes.Index(out, []byte(mark)); i >= 0 {
					out = out[i:]
					break
				}
			}
			out = out[:min(len(out), 6000)]
			t.Fatalf("the child reading damaged IPC inputs under a %d MiB address-space limit failed: %v\n%s",
				ipcDamageLimitKiB>>10, err, out)
		}
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, "damaged:") {
				t.Log(strings.TrimSpace(l))
			}
		}
		return
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(10, 1))
	extremes := []uint32{0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFF0, 0x00FFFFFF, 1 << 30}
	flips, stride, batchStride, random := []byte{0xFF}, 1, 4, 200
	if os.Getenv("SIFT_IPC_DAMAGE") == "all" {
		flips, batchStride, random = []byte{0xFF, 0x80, 0x01}, 1, 2000
	} else if testing.Short() {
		stride, batchStride, random = 7, 7, 50
	}
	for _, s := range ipcSeeds(t) {
		p := filepath.Join(dir, "in"+s.ext)
		if failed, _ := readDamaged(t, write(t, dir, "in"+s.ext, string(s.data)), s.name); failed {
			t.Fatalf("%s: the undamaged seed does not read", s.name)
		}
		var runs, failed, leaky int
		var most uint64
		try := func(data []byte, damage string, a ...any) {
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			runs++
			before := heapAllocs()
			f, leaked := readDamaged(t, p, s.name+": "+fmt.Sprintf(damage, a...))
			if n := heapAllocs() - before; n > ipcDamageAllocLimit {
				t.Fatalf("%s: %s: reading allocated %d bytes", s.name, fmt.Sprintf(damage, a...), n)
			} else {
				most = max(most, n)
			}
			if f {
				failed++
			}
			if leaked != 0 {
				leaky++
			}
		}
		// The footer and schema come first in spans; the other messages
		// (dictionaries, batches) after them.
		schemas := 1
		if s.ext == ".arrow" {
			schemas = 2
		}
		for k, sp := range s.spans {
			step := stride
			if k >= schemas {
				step = batchStride
			}
			for i := sp[0]; i < sp[1]; i += step {
				for _, x := range flips {
					data := bytes.Clone(s.data)
					data[i] ^= x
					try(data, "byte %d ^= %#x", i, x)
				}
			}
		}
		for range random {
			data := bytes.Clone(s.data)
			if rng.IntN(2) == 0 {
				sp := s.spans[rng.IntN(len(s.spans))]
				at := sp[0] + rng.IntN(max(1, sp[1]-sp[0]-4))
				v := extremes[rng.IntN(len(extremes))]
				binary.LittleEndian.PutUint32(data[at:], v)
				try(data, "%#x at %d", v, at)
				continue
			}
			var ds []string
			for range 1 + rng.IntN(8) {
				i, v := rng.IntN(len(data)), byte(rng.Uint32())
				data[i] = v
				ds = append(ds, fmt.Sprintf("%d=%#x", i, v))
			}
			try(data, "bytes %s", strings.Join(ds, " "))
		}
		fmt.Printf("damaged: %s (%d bytes): %d inputs, %d failed by name (%d leaving arrow-go buffers to the GC), %d read; at most %d KB allocated by one read\n",
			s.name, len(s.data), runs, failed, leaky, runs-failed, most>>10)
	}
}

// TestIPCMessageLengthsAreBounded plants the lengths a damaged input
// declares at the places arrow-go would allocate them, and checks the
// named error each gives.
func TestIPCMessageLengthsAreBounded(t *testing.T) {
	seeds := ipcSeeds(t)
	dir := t.TempDir()
	sfile, stream := seeds[0], seeds[1]
	put := func(b []byte, at int, v uint32) []byte {
		b = bytes.Clone(b)
		binary.LittleEndian.PutUint32(b[at:], v)
		return b
	}
	// fieldsVec finds the schema's field vector by following the
	// flatbuffer: root table, then slots (Message.header, Footer.schema,
	// Schema.fields).
	fieldsVec := func(b []byte, slots ...int) int {
		le := binary.LittleEndian
		pos := int(le.Uint32(b))
		for _, slot := range slots {
			vt := pos - int(int32(le.Uint32(b[pos:])))
			at := pos + int(le.Uint16(b[vt+slot:]))
			pos = at + int(le.Uint32(b[at:]))
		}
		return pos
	}
	footer := sfile.spans[0][0]
	schemaMsg := stream.data[8:]
	for _, tc := range []struct {
		name, ext string
		data      []byte
		want      string
	}{
		{"stream metadata length", ".arrows", put(stream.data, 4, 0x7FFFFFF0), "longer than the"},
		{"stream field vector length", ".arrows", put(stream.data, 8+fieldsVec(schemaMsg, 8, 6), 0x10000000), "damaged IPC message metadata"},
		{"footer length", ".arrow", put(sfile.data, len(sfile.data)-10, 0x7FFFFFF0), "footer's length"},
		{"footer field vector length", ".arrow", put(sfile.data, footer+fieldsVec(sfile.data[footer:], 6, 6), 0x10000000), "damaged IPC file footer"},
		{"old-format stream", ".arrows", put(stream.data, 0, 0x7FFFFFF0), "longer than the"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+tc.ext)
			if err := os.WriteFile(p, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, _, err := readFile(t, memory.NewGoAllocator(), 64, 1<<20, p)
			if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one naming %s with %q", err, p, tc.want)
			}
		})
	}
	// A decompressed length beyond the cap: the first buffer of the LZ4
	// stream's batch declares 1 TiB.
	lz := seeds[2]
	var batch [2]int
	for _, sp := range lz.spans[1:] {
		batch = sp // the last message before the footer is the batch
	}
	data := bytes.Clone(lz.data)
	binary.LittleEndian.PutUint64(data[batch[1]:], 1<<40)
	p := filepath.Join(dir, "lz4-tib.arrow")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := readFile(t, memory.NewGoAllocator(), 64, 1<<20, p)
	var want = "decoding needs more than"
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want one naming %s with %q", err, p, want)
	}
	if errors.Is(err, io.EOF) {
		t.Fatal("a damaged file reads as ended")
	}
}

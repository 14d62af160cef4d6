package dataset

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/siftdata/sift"
)

// File is an output file written atomically: bytes go to a temporary file
// beside the target, which Close renames into place. Abort (or a failed
// Close) removes it. JSONL and CSV paths ending in .gz or .zst are
// compressed.
type File struct {
	path string
	tmp  *os.File
	bw   *bufio.Writer
	cw   io.WriteCloser
	done bool
}

// CreateFile starts writing path.
func CreateFile(path string) (*File, error) {
	_, c, err := formatOf(path)
	if errors.Is(err, ErrFormat) {
		c, err = plain, nil // any other name: written as given
	}
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, err
	}
	f := &File{path: path, tmp: tmp, bw: bufio.NewWriterSize(tmp, 1<<16)}
	if f.cw, err = compressor(f.bw, c); err != nil {
		f.Abort()
		return nil, err
	}
	return f, nil
}

// Write writes p.
func (f *File) Write(p []byte) (int, error) { return f.cw.Write(p) }

// Close flushes the file and renames it into place.
func (f *File) Close() error {
	if f.done {
		return nil
	}
	err := f.cw.Close()
	if err == nil {
		err = f.bw.Flush()
	}
	if err == nil {
		err = f.tmp.Sync()
	}
	if e := f.tmp.Close(); err == nil {
		err = e
	}
	if err == nil {
		err = os.Rename(f.tmp.Name(), f.path)
	}
	f.done = true
	if err != nil {
		os.Remove(f.tmp.Name())
		return fmt.Errorf("%s: %w", f.path, err)
	}
	return nil
}

// Abort discards the file. It is safe after Close, and does nothing then.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.tmp.Close()
	os.Remove(f.tmp.Name())
}

// EncodeFunc appends row of rec as one JSON line (without the newline).
type EncodeFunc func(dst []byte, rec arrow.RecordBatch, row int) []byte

// Writer writes unified batches to a file in the format its extension names.
// It implements sift.Sink. Close commits the file; Abort discards it.
type Writer struct {
	f      *File
	format Format
	enc    EncodeFunc
	mem    memory.Allocator
	chunk  int
	buf    []byte

	pending []arrow.RecordBatch // Parquet/IPC rows waiting for a full chunk
	nPend   int
	pq      *pqarrow.FileWriter
	ipcw    *ipc.FileWriter
}

var _ sift.Sink = (*Writer)(nil)

// WriteOption configures a [Writer].
type WriteOption func(*Writer)

// WithEncoder sets how JSONL rows are encoded (default sift.AppendRowJSON).
func WithEncoder(e EncodeFunc) WriteOption { return func(w *Writer) { w.enc = e } }

// WithChunkRows sets the rows per Parquet row group or IPC batch (default
// 65536). Rows are re-chunked to exactly this size, so the file's bytes do
// not depend on the pipeline's batch size.
func WithChunkRows(n int) WriteOption { return func(w *Writer) { w.chunk = n } }

// Create starts writing path; batches' Arrow memory comes from mem.
func Create(mem memory.Allocator, path string, opts ...WriteOption) (*Writer, error) {
	format, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	if format == CSV {
		return nil, fmt.Errorf("%s: CSV output is not supported (write .jsonl, .parquet or .arrow)", path)
	}
	w := &Writer{format: format, enc: sift.AppendRowJSON, mem: mem, chunk: 1 << 16}
	for _, o := range opts {
		o(w)
	}
	if w.chunk <= 0 {
		return nil, fmt.Errorf("chunk rows: %d, want > 0", w.chunk)
	}
	if w.f, err = CreateFile(path); err != nil {
		return nil, err
	}
	return w, nil
}

// Write appends rec (borrowed).
func (w *Writer) Write(_ context.Context, rec arrow.RecordBatch) error {
	if w.format == JSONL {
		for i := 0; i < int(rec.NumRows()); i++ {
			w.buf = append(w.enc(w.buf[:0], rec, i), '\n')
			if _, err := w.f.Write(w.buf); err != nil {
				return fmt.Errorf("%s: %w", w.f.path, err)
			}
		}
		return nil
	}
	rec.Retain()
	w.pending = append(w.pending, rec)
	w.nPend += int(rec.NumRows())
	for w.nPend >= w.chunk {
		if err := w.flushChunk(w.chunk); err != nil {
			return err
		}
	}
	return nil
}

// flushChunk writes the first n pending rows as one chunk.
func (w *Writer) flushChunk(n int) error {
	var parts []arrow.RecordBatch
	left := n
	for left > 0 {
		r := w.pending[0]
		if int(r.NumRows()) <= left {
			parts = append(parts, r)
			w.pending = w.pending[1:]
			left -= int(r.NumRows())
			continue
		}
		parts = append(parts, r.NewSlice(0, int64(left)))
		w.pending[0] = r.NewSlice(int64(left), r.NumRows())
		r.Release()
		left = 0
	}
	w.nPend -= n
	chunk, err := concat(w.mem, parts)
	for _, p := range parts {
		p.Release()
	}
	if err != nil {
		return err
	}
	defer chunk.Release()
	return w.writeChunk(chunk)
}

// concat copies parts into one contiguous batch. It copies even a single
// part: a slice would carry its parent's buffer layout into the file.
func concat(mem memory.Allocator, parts []arrow.RecordBatch) (arrow.RecordBatch, error) {
	schema := parts[0].Schema()
	cols := make([]arrow.Array, schema.NumFields())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	rows := int64(0)
	for _, p := range parts {
		if !p.Schema().Equal(schema) {
			return nil, fmt.Errorf("batch schema changed mid-stream: %s vs %s", p.Schema(), schema)
		}
		rows += p.NumRows()
	}
	for c := range cols {
		arrs := make([]arrow.Array, len(parts))
		for i, p := range parts {
			arrs[i] = p.Column(c)
		}
		var err error
		if cols[c], err = array.Concatenate(arrs, mem); err != nil {
			return nil, err
		}
	}
	return array.NewRecordBatch(schema, cols, rows), nil
}

func (w *Writer) writeChunk(rec arrow.RecordBatch) error {
	var err error
	switch w.format {
	case Parquet:
		if w.pq == nil {
			// Dictionary encoding is off: when a chunk outgrows its
			// dictionary, arrow-go (v18.8.0) falls back to plain pages and
			// lists the chunk's page encodings in Go map order, so the same
			// rows gave different footers (docs/upstream-parquet-encoding-stats.md).
			// zstd takes back most of what dictionaries save on repeated values.
			props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd), parquet.WithCompressionLevel(1),
				parquet.WithAllocator(w.mem), parquet.WithMaxRowGroupLength(int64(w.chunk)), parquet.WithDictionaryDefault(false))
			w.pq, err = pqarrow.NewFileWriter(rec.Schema(), w.f, props, pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(w.mem)))
			if err != nil {
				break
			}
		}
		err = w.pq.Write(rec)
	case IPC:
		if w.ipcw == nil {
			w.ipcw, err = ipc.NewFileWriter(w.f, ipc.WithSchema(rec.Schema()), ipc.WithAllocator(w.mem))
			if err != nil {
				break
			}
		}
		err = w.ipcw.Write(rec)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", w.f.path, err)
	}
	return nil
}

// Close writes what is pending and commits the file. An empty columnar
// output still gets a valid file with the unified schema.
func (w *Writer) Close() error {
	err := func() error {
		if w.nPend > 0 {
			if err := w.flushChunk(w.nPend); err != nil {
				return err
			}
		}
		if w.format == JSONL {
			return nil
		}
		if w.pq == nil && w.ipcw == nil {
			b := array.NewRecordBuilder(w.mem, sift.Schema)
			empty := b.NewRecordBatch()
			b.Release()
			defer empty.Release()
			if err := w.writeChunk(empty); err != nil {
				return err
			}
		}
		if w.pq != nil {
			return w.pq.Close()
		}
		return w.ipcw.Close()
	}()
	if err != nil {
		w.Abort()
		return fmt.Errorf("%s: %w", w.f.path, err)
	}
	return w.f.Close()
}

// Abort discards the output and releases pending batches.
func (w *Writer) Abort() {
	for _, r := range w.pending {
		r.Release()
	}
	w.pending, w.nPend = nil, 0
	w.f.Abort()
}

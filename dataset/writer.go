package dataset

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/siftdata/sift"
)

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

	// writing receives the result of the chunk being written in the
	// background (nil: none). Write hands a full chunk to a goroutine and
	// goes on taking rows: encoding 65 536 rows into Parquet is a tenth of
	// a second or more, which held up every step before the sink. Chunks
	// are written one at a time, in order.
	writing chan error
	cpu     time.Duration // of chunk writes (see CPU)

	finished  bool
	finishErr error
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

// Create starts writing path, as [CreateFile] does; batches' Arrow memory
// comes from mem. The format is the extension's; a stream (see [IsStream])
// whose name has no known extension, such as /dev/null or [Stdout], gets
// JSONL.
func Create(mem memory.Allocator, path string, opts ...WriteOption) (*Writer, error) {
	format, err := FormatOf(path)
	if errors.Is(err, ErrFormat) && IsStream(path) {
		format, err = JSONL, nil
	}
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
		w.buf = AppendLines(w.buf[:0], rec, w.enc)
		return w.WriteLines(w.buf)
	}
	rec.Retain()
	w.pending = append(w.pending, rec)
	w.nPend += int(rec.NumRows())
	for w.nPend >= w.chunk {
		if err := w.flushChunk(w.chunk, true); err != nil {
			return err
		}
	}
	return nil
}

// AppendLines appends the rows of rec to dst as JSON lines, each ending
// in a newline, encoded by enc (nil: sift.AppendRowJSON): what a JSONL
// Writer with that encoder writes for rec. A program can encode batches on
// several goroutines and hand the lines to one Writer ([Writer.WriteLines]).
func AppendLines(dst []byte, rec arrow.RecordBatch, enc EncodeFunc) []byte {
	if enc == nil {
		enc = sift.AppendRowJSON
	}
	for i := 0; i < int(rec.NumRows()); i++ {
		dst = append(enc(dst, rec, i), '\n')
	}
	return dst
}

// WriteLines appends JSON lines encoded already, as [AppendLines] encodes
// them. It panics unless the output is JSONL.
func (w *Writer) WriteLines(p []byte) error {
	if w.format != JSONL {
		panic(fmt.Sprintf("dataset: WriteLines on a %v output", w.format))
	}
	_, err := w.f.Write(p)
	return err
}

// CPU returns the CPU time spent concatenating and encoding chunks
// (Parquet and IPC), which is not part of any Write call: a chunk is
// written in the background, and the last one by Finish. Call it after
// Finish.
func (w *Writer) CPU() time.Duration { return w.cpu }

// wait waits for the chunk being written in the background, if any, and
// returns its error.
func (w *Writer) wait() error {
	if w.writing == nil {
		return nil
	}
	err := <-w.writing
	w.writing = nil
	return err
}

// flushChunk writes the first n pending rows as one chunk, in the
// background if async, after the chunk before it.
func (w *Writer) flushChunk(n int, async bool) error {
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
	if err := w.wait(); err != nil {
		for _, p := range parts {
			p.Release()
		}
		return err
	}
	write := func() (err error) {
		w.cpu += sift.CPUTime(func() {
			var chunk arrow.RecordBatch
			chunk, err = concat(w.mem, parts)
			for _, p := range parts {
				p.Release()
			}
			if err != nil {
				return
			}
			defer chunk.Release()
			err = w.writeChunk(chunk)
		})
		return err
	}
	if !async {
		return write()
	}
	done := make(chan error, 1)
	w.writing = done
	go func() { done <- write() }()
	return nil
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
	return w.named(err)
}

// named makes err name the output's path, once.
func (w *Writer) named(err error) error {
	var pe *os.PathError
	if err == nil || errors.As(err, &pe) && pe.Path == w.f.path {
		return err
	}
	return fmt.Errorf("%s: %w", w.f.path, err)
}

// Finish writes what is pending and the file's footer, and syncs it (see
// [File.Finish]). An empty columnar output still gets a valid file with
// the unified schema. Nothing may be written after.
func (w *Writer) Finish() error {
	if w.finished {
		return w.finishErr
	}
	w.finished = true
	err := func() error {
		if err := w.wait(); err != nil {
			return err
		}
		if w.nPend > 0 {
			if err := w.flushChunk(w.nPend, false); err != nil {
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
	if err == nil {
		err = w.f.Finish()
	}
	w.finishErr = w.named(err)
	return w.finishErr
}

// Close finishes the file and commits it; on error it is discarded.
func (w *Writer) Close() error {
	if err := w.Finish(); err != nil {
		w.Abort()
		return err
	}
	return w.f.Close()
}

// Abort discards the output and releases pending batches, after the
// chunk being written in the background, if any.
func (w *Writer) Abort() {
	w.wait()
	for _, r := range w.pending {
		r.Release()
	}
	w.pending, w.nPend = nil, 0
	w.f.Abort()
}

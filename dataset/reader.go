package dataset

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
)

// Reader reads files as one stream of unified batches. It implements
// sift.Source.
type Reader struct {
	mem       memory.Allocator
	files     []string // not yet opened
	sizes     []int64  // of every file, for InputProgress
	batchSize int
	maxLine   int
	cur       fileReader
	rb        *sift.Builder
	split     *Split // of the only file, see OpenSplit
}

var _ sift.Source = (*Reader)(nil)

// fileReader reads one file into a row builder.
type fileReader interface {
	// fill appends up to n rows to rb and returns the rows it rejected;
	// io.EOF when the file is done.
	fill(rb *sift.Builder, n int) ([]sift.Reject, error)
	// offset is how many of the file's bytes have been read, about.
	offset() int64
	close() error
}

// ReadOption configures a [Reader].
type ReadOption func(*Reader)

// WithBatchSize sets the rows per batch (default 1024).
func WithBatchSize(n int) ReadOption { return func(r *Reader) { r.batchSize = n } }

// WithMaxLineBytes sets the longest JSONL line or CSV record read (default
// 64 MiB); longer ones are rejected as line_too_long, the reject keeping
// the first 4 KiB.
func WithMaxLineBytes(n int) ReadOption { return func(r *Reader) { r.maxLine = n } }

// Open returns a Reader over inputs (files, globs or directories; see
// [Expand]). Batches allocate from mem. Close the reader when done.
func Open(mem memory.Allocator, inputs []string, opts ...ReadOption) (*Reader, error) {
	files, err := Expand(inputs...)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if _, err := FormatOf(f); err != nil {
			return nil, err
		}
	}
	r := &Reader{mem: mem, files: files, sizes: fileSizes(files), batchSize: 1024, maxLine: 64 << 20}
	for _, o := range opts {
		o(r)
	}
	if r.batchSize <= 0 {
		return nil, fmt.Errorf("batch_size: %d, want > 0", r.batchSize)
	}
	if r.maxLine <= 0 {
		return nil, fmt.Errorf("max_line_bytes: %d, want > 0", r.maxLine)
	}
	return r, nil
}

// Files returns the files the reader reads, in order.
func (r *Reader) Files() []string { return r.files }

// Next returns the next batch (owned by the caller) and the rows rejected
// while reading it, or io.EOF after the last file.
func (r *Reader) Next(ctx context.Context) (arrow.RecordBatch, []sift.Reject, error) {
	if r.rb == nil {
		r.rb = sift.NewBuilder(r.mem)
	}
	var rejects []sift.Reject
	for r.rb.Len() < r.batchSize {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		if r.cur == nil {
			if len(r.files) == 0 {
				break
			}
			fr, err := openFile(r.mem, r.files[0], r.maxLine, r.split)
			if err != nil {
				return nil, nil, err
			}
			r.cur, r.files = fr, r.files[1:]
		}
		rej, err := r.cur.fill(r.rb, r.batchSize-r.rb.Len())
		rejects = append(rejects, rej...)
		if err == io.EOF {
			err = r.cur.close()
			r.cur = nil
		}
		if err != nil {
			return nil, nil, err
		}
		if len(rejects) >= r.batchSize {
			break // hand bad rows on even when no good rows come
		}
	}
	if r.rb.Len() == 0 && len(rejects) == 0 {
		return nil, nil, io.EOF
	}
	var rec arrow.RecordBatch
	if r.rb.Len() > 0 {
		rec = r.rb.NewBatch()
	}
	return rec, rejects, nil
}

// Close releases the reader's resources.
func (r *Reader) Close() error {
	var err error
	if r.cur != nil {
		err = r.cur.close()
		r.cur = nil
	}
	if r.rb != nil {
		r.rb.Release()
		r.rb = nil
	}
	return err
}

// openFile opens path, or the part sp of it when sp is not nil.
func openFile(mem memory.Allocator, path string, maxLine int, sp *Split) (fileReader, error) {
	f, c, err := formatOf(path)
	if err != nil {
		return nil, err
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	var fr fileReader
	switch f {
	case JSONL, CSV:
		var rc io.ReadCloser
		rc, err = decompress(fh, c)
		if err != nil {
			fh.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if f == JSONL {
			jf := newJSONLFile(path, fh, rc, maxLine)
			if sp != nil {
				jf.line = int(sp.Before)
				err = jf.seek(sp.Start, sp.End)
			}
			fr = jf
		} else {
			fr, err = newCSVFile(path, fh, rc, maxLine)
		}
	case Parquet:
		fr, err = newParquetFile(mem, path, fh, sp)
	case IPC:
		fr, err = newIPCFile(mem, path, fh)
	}
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return fr, nil
}

// rejectLine makes the reject of an unreadable input row.
func rejectLine(path string, line int, e *rowError, raw []byte) sift.Reject {
	return sift.Reject{
		ID:     fmt.Sprintf("%s:%d", path, line),
		Reason: e.reason,
		Detail: fmt.Sprintf("%s:%d: %s", path, line, e.detail),
		Record: sift.AppendJSONString(nil, string(raw)),
	}
}

// rejectKeep bounds the text an over-long row's reject keeps: its start,
// where the id usually is, not the whole line.
const rejectKeep = 4096

// rejectLong makes the reject of a row longer than maxLine, size bytes
// long, of which start is the beginning. id is the row's id if it could be
// found in start, or nil.
func rejectLong(path string, line, maxLine, size int, start, id []byte) sift.Reject {
	if len(start) < size {
		start = trimPartialRune(start)
	}
	rid := fmt.Sprintf("%s:%d", path, line)
	if id != nil {
		rid = string(id)
	}
	return sift.Reject{
		ID:     rid,
		Reason: ReasonLineTooLong,
		Detail: fmt.Sprintf("%s:%d: %d bytes, longer than %d; the record keeps the first %d", path, line, size, maxLine, len(start)),
		Record: sift.AppendJSONString(nil, string(start)),
	}
}

// trimPartialRune drops a UTF-8 character cut off at the end of b.
func trimPartialRune(b []byte) []byte {
	for i := 1; i <= min(utf8.UTFMax, len(b)); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			break
		}
	}
	return b
}

// skipBOM drops a UTF-8 byte-order mark at the start of br.
func skipBOM(br *bufio.Reader) {
	if b, _ := br.Peek(3); string(b) == bom {
		br.Discard(3)
	}
}

// bom is the UTF-8 byte-order mark.
const bom = "\uFEFF"

// stableID appends the id of a row without one, "<file>:<n>", to buf[:0].
func stableID(buf []byte, path string, n int) []byte {
	return strconv.AppendInt(append(append(buf[:0], path...), ':'), int64(n), 10)
}

package dataset

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/siftdata/sift"
)

type jsonlFile struct {
	path    string
	fh      *os.File
	rc      io.ReadCloser
	br      *bufio.Reader
	maxLine int
	line    int
	pos     int64  // offset in the file of the next byte br returns
	end     int64  // no line starting at or after it is read; -1: none
	buf     []byte // over-long-for-bufio lines
	bufs    lineBufs
	idbuf   []byte
	r       sift.RawRow
}

func newJSONLFile(path string, fh *os.File, rc io.ReadCloser, maxLine int) *jsonlFile {
	br := bufio.NewReaderSize(rc, 1<<16)
	return &jsonlFile{path: path, fh: fh, rc: rc, br: br, maxLine: maxLine, end: -1}
}

// readLine returns the next line without its end, and its length. A line
// longer than maxLine is consumed whole but only its first rejectKeep bytes
// are returned.
func (f *jsonlFile) readLine() (line []byte, size int, err error) {
	f.buf = f.buf[:0]
	if f.end >= 0 && f.pos >= f.end {
		return nil, 0, io.EOF
	}
	first := f.pos == 0
	for {
		chunk, err := f.br.ReadSlice('\n')
		f.pos += int64(len(chunk))
		if err != nil && err != bufio.ErrBufferFull && err != io.EOF {
			return nil, 0, err
		}
		if err == io.EOF && len(chunk) == 0 && size == 0 {
			return nil, 0, io.EOF
		}
		size += len(chunk)
		if err == bufio.ErrBufferFull || len(f.buf) > 0 {
			// Longer than bufio's buffer: gather the line, or only its
			// start once it is past maxLine.
			keep := len(chunk)
			if size > f.maxLine+2 {
				keep = max(0, min(keep, rejectKeep-len(f.buf)))
			}
			f.buf = append(f.buf, chunk[:keep]...)
			if err == bufio.ErrBufferFull {
				continue
			}
		}
		line = chunk
		if len(f.buf) > 0 {
			line = f.buf
		}
		if n := len(chunk); n > 0 && chunk[n-1] == '\n' {
			size--
			if n > 1 && chunk[n-2] == '\r' {
				size--
			}
		}
		if first && bytes.HasPrefix(line, []byte(bom)) {
			// A byte-order mark belongs to the first line, so that a split
			// boundary inside it cannot move the line to the next split.
			line, size = line[len(bom):], size-len(bom)
		}
		if size > f.maxLine {
			return line[:min(len(line), rejectKeep)], size, nil
		}
		return line[:size], size, nil
	}
}

func (f *jsonlFile) fill(rb *sift.Builder, n int) ([]sift.Reject, error) {
	var rejects []sift.Reject
	for added := 0; added < n; {
		line, size, err := f.readLine()
		if err == io.EOF {
			return rejects, io.EOF
		}
		if err != nil {
			return rejects, fmt.Errorf("%s: line %d: %w", f.path, f.line+1, describe(err))
		}
		f.line++
		if size > f.maxLine {
			rejects = append(rejects, rejectLong(f.path, f.line, f.maxLine, size, line, jsonID(line)))
			continue
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		f.r = sift.RawRow{}
		if e := parseJSONLine(line, &f.r, &f.bufs); e != nil {
			rejects = append(rejects, rejectLine(f.path, f.line, e, line))
			continue
		}
		if f.r.ID == nil {
			f.idbuf = stableID(f.idbuf, f.path, f.line)
			f.r.ID = f.idbuf
		}
		rb.AppendRaw(&f.r)
		added++
	}
	return rejects, nil
}

func (f *jsonlFile) close() error {
	err := f.rc.Close()
	if e := f.fh.Close(); err == nil {
		err = e
	}
	return err
}

// describe names the usual decompression failures plainly.
func describe(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("truncated or corrupt compressed stream: %w", err)
	}
	return err
}

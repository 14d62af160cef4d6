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
	buf     []byte // over-long-for-bufio lines
	scratch []byte
	idbuf   []byte
	r       sift.RawRow
}

func newJSONLFile(path string, fh *os.File, rc io.ReadCloser, maxLine int) *jsonlFile {
	return &jsonlFile{path: path, fh: fh, rc: rc, br: bufio.NewReaderSize(rc, 1<<16), maxLine: maxLine}
}

// readLine returns the next line without its end, or tooLong if it passed
// the limit (the line is consumed).
func (f *jsonlFile) readLine() (line []byte, tooLong bool, err error) {
	f.buf = f.buf[:0]
	for {
		chunk, err := f.br.ReadSlice('\n')
		if len(f.buf)+len(chunk) > f.maxLine+2 {
			tooLong = true
			f.buf = append(f.buf[:0], chunk[:min(len(chunk), 256)]...)
		} else if err == bufio.ErrBufferFull || len(f.buf) > 0 {
			f.buf = append(f.buf, chunk...)
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && len(chunk) == 0 && len(f.buf) == 0:
			return nil, false, io.EOF
		case err != nil && err != io.EOF:
			return nil, false, err
		}
		if tooLong {
			return f.buf, true, nil
		}
		if len(f.buf) > 0 {
			chunk = f.buf
		}
		chunk = bytes.TrimSuffix(chunk, []byte("\n"))
		return bytes.TrimSuffix(chunk, []byte("\r")), false, nil
	}
}

func (f *jsonlFile) fill(rb *sift.Builder, n int) ([]sift.Reject, error) {
	var rejects []sift.Reject
	for added := 0; added < n; {
		line, tooLong, err := f.readLine()
		if err == io.EOF {
			return rejects, io.EOF
		}
		if err != nil {
			return rejects, fmt.Errorf("%s: line %d: %w", f.path, f.line+1, describe(err))
		}
		f.line++
		if tooLong {
			rejects = append(rejects, rejectLine(f.path, f.line, &rowError{ReasonLineTooLong,
				fmt.Sprintf("line longer than %d bytes", f.maxLine)}, line))
			continue
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		f.r = sift.RawRow{}
		if e := parseJSONLine(line, &f.r, &f.scratch); e != nil {
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

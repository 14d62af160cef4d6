package dataset

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"unicode/utf8"

	"github.com/siftdata/sift"
)

// csvFile reads a CSV file with a header row. Columns id, text and source
// are mapped; the others go to meta as strings.
type csvFile struct {
	path   string
	fh     *os.File
	rc     io.ReadCloser
	sc     csvScanner
	header []string
	dup    string // a column name the header repeats, or ""
	r      sift.RawRow
	idbuf  []byte
}

func newCSVFile(path string, fh *os.File, rc io.ReadCloser, maxLine int) (*csvFile, error) {
	f := &csvFile{path: path, fh: fh, rc: rc, sc: csvScanner{br: bufio.NewReaderSize(rc, 1<<16), maxLine: maxLine}}
	skipBOM(f.sc.br)
	tooLong, err := f.sc.next()
	switch {
	case err == io.EOF:
		return f, nil // an empty file: no header, no rows
	case err != nil:
		rc.Close()
		return nil, fmt.Errorf("reading CSV header: %w", describe(err))
	case tooLong:
		rc.Close()
		return nil, fmt.Errorf("CSV header longer than %d bytes", maxLine)
	case f.sc.fault != "":
		rc.Close()
		return nil, fmt.Errorf("CSV header, line %d: %s", f.sc.start, f.sc.fault)
	}
	seen := map[string]bool{}
	for _, h := range f.sc.split() {
		name := string(h)
		if seen[name] && f.dup == "" {
			f.dup = name
		}
		seen[name] = true
		f.header = append(f.header, name)
	}
	return f, nil
}

func (f *csvFile) fill(rb *sift.Builder, n int) ([]sift.Reject, error) {
	var rejects []sift.Reject
	for added := 0; added < n; {
		if f.header == nil {
			return rejects, io.EOF
		}
		tooLong, err := f.sc.next()
		if err == io.EOF {
			return rejects, io.EOF
		}
		if err != nil {
			return rejects, fmt.Errorf("%s: %w", f.path, describe(err))
		}
		line := f.sc.start
		if tooLong {
			rejects = append(rejects, rejectLong(f.path, line, f.sc.maxLine, f.sc.rawLen, f.sc.raw, f.idIn(f.sc.raw)))
			continue
		}
		if f.sc.fault != "" {
			rejects = append(rejects, rejectLine(f.path, line, &rowError{ReasonParse, f.sc.fault}, f.sc.raw))
			continue
		}
		if e := f.row(f.sc.split()); e != nil {
			rejects = append(rejects, rejectLine(f.path, line, e, f.sc.raw))
			continue
		}
		if f.r.ID == nil {
			f.idbuf = stableID(f.idbuf, f.path, line)
			f.r.ID = f.idbuf
		}
		rb.AppendRaw(&f.r)
		added++
	}
	return rejects, nil
}

// row maps a record's fields (views of the scanner's buffer) into f.r.
func (f *csvFile) row(fields [][]byte) *rowError {
	if len(fields) != len(f.header) {
		return &rowError{ReasonParse, fmt.Sprintf("%d fields, header has %d", len(fields), len(f.header))}
	}
	for _, v := range fields {
		if !utf8.Valid(v) {
			return &rowError{ReasonUTF8, fmt.Sprintf("invalid UTF-8 at byte %d of a field", invalidAt(v))}
		}
	}
	if f.dup != "" {
		return &rowError{ReasonDuplicateKey, fmt.Sprintf("header names column %q twice", f.dup)}
	}
	f.r = sift.RawRow{}
	var meta []byte
	for i, v := range fields {
		switch name := f.header[i]; name {
		case sift.ColID:
			f.r.ID = v
		case sift.ColText:
			f.r.Text, f.r.HasText = v, true
		case sift.ColSource:
			f.r.Source, f.r.HasSource = v, true
		default:
			kv := sift.AppendJSONString(nil, name)
			kv = append(kv, ':')
			meta = appendMember(meta, sift.AppendJSONString(kv, string(v)))
		}
	}
	if len(meta) > 0 {
		f.r.Meta = append(meta, '}')
	}
	return nil
}

// idIn returns the id field of an over-long record if start, the record's
// beginning, holds it whole; else nil.
func (f *csvFile) idIn(start []byte) []byte {
	col := slices.Index(f.header, sift.ColID)
	if col < 0 {
		return nil
	}
	s := csvScanner{br: bufio.NewReader(bytes.NewReader(start)), maxLine: len(start) + 1}
	_, err := s.next()
	fields := s.split()
	if err == nil && s.fault == "" {
		fields = fields[:len(fields)-1] // the last one is cut short
	}
	if col >= len(fields) || !utf8.Valid(fields[col]) {
		return nil
	}
	return fields[col]
}

func (f *csvFile) close() error {
	err := f.rc.Close()
	if e := f.fh.Close(); err == nil {
		err = e
	}
	return err
}

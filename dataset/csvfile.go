package dataset

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/siftdata/sift"
)

// csvFile reads a CSV file with a header row. Columns id, text and source
// are mapped; the others go to meta as strings.
type csvFile struct {
	path    string
	fh      *os.File
	rc      io.ReadCloser
	cr      *csv.Reader
	header  []string
	maxLine int
	rec     int
	r       sift.RawRow
	idbuf   []byte
}

func newCSVFile(path string, fh *os.File, rc io.ReadCloser, maxLine int) (*csvFile, error) {
	cr := csv.NewReader(rc)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	h, err := cr.Read()
	if err != nil {
		rc.Close()
		return nil, fmt.Errorf("reading CSV header: %w", describe(err))
	}
	return &csvFile{path: path, fh: fh, rc: rc, cr: cr, header: append([]string(nil), h...), maxLine: maxLine}, nil
}

func (f *csvFile) fill(rb *sift.Builder, n int) ([]sift.Reject, error) {
	var rejects []sift.Reject
	for added := 0; added < n; {
		fields, err := f.cr.Read()
		if err == io.EOF {
			return rejects, io.EOF
		}
		f.rec++
		line, _ := f.cr.FieldPos(0)
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			rejects = append(rejects, rejectLine(f.path, pe.StartLine, &rowError{ReasonParse, pe.Err.Error()}, nil))
			continue
		}
		if err != nil {
			return rejects, fmt.Errorf("%s: record %d: %w", f.path, f.rec, describe(err))
		}
		if e := f.row(fields); e != nil {
			rejects = append(rejects, rejectLine(f.path, line, e, []byte(fmt.Sprintf("%q", fields))))
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

func (f *csvFile) row(fields []string) *rowError {
	if len(fields) != len(f.header) {
		return &rowError{ReasonParse, fmt.Sprintf("%d fields, header has %d", len(fields), len(f.header))}
	}
	size := 0
	for _, v := range fields {
		size += len(v)
		if !utf8.ValidString(v) {
			return &rowError{ReasonUTF8, "invalid UTF-8"}
		}
	}
	if size > f.maxLine {
		return &rowError{ReasonLineTooLong, fmt.Sprintf("record longer than %d bytes", f.maxLine)}
	}
	f.r = sift.RawRow{}
	var meta []byte
	for i, v := range fields {
		switch name := f.header[i]; name {
		case sift.ColID:
			f.r.ID = []byte(v)
		case sift.ColText:
			f.r.Text, f.r.HasText = []byte(v), true
		case sift.ColSource:
			f.r.Source, f.r.HasSource = []byte(v), true
		default:
			kv := sift.AppendJSONString(nil, name)
			kv = append(kv, ':')
			meta = appendMember(meta, sift.AppendJSONString(kv, v))
		}
	}
	if len(meta) > 0 {
		f.r.Meta = append(meta, '}')
	}
	return nil
}

func (f *csvFile) close() error {
	err := f.rc.Close()
	if e := f.fh.Close(); err == nil {
		err = e
	}
	return err
}

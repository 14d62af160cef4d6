package dataset

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/internal/jsontext"
)

// columnarFile maps the batches of a Parquet or IPC file to unified rows.
type columnarFile struct {
	path   string
	fh     *os.File
	rr     array.RecordReader
	closer func() error
	cur    arrow.RecordBatch
	pos    int // next row of cur
	row    int // rows read from the file
	want   int // rows the file's footer declares, or -1
	m      colMap
	r      sift.RawRow
	meta   []byte
	idbuf  []byte
}

// newParquetFile opens a Parquet file, or only the row groups of sp when
// sp is not nil.
func newParquetFile(mem memory.Allocator, path string, fh *os.File, sp *Split) (fileReader, error) {
	pf, err := file.NewParquetReader(fh)
	if err != nil {
		return nil, err
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1024}, mem)
	if err != nil {
		pf.Close()
		return nil, err
	}
	var groups []int // all
	want, before := pf.NumRows(), int64(0)
	if sp != nil {
		before = sp.Before
		if !sp.Whole() {
			if sp.End > int64(pf.NumRowGroups()) {
				pf.Close()
				return nil, fmt.Errorf("split of row groups [%d, %d): the file has %d", sp.Start, sp.End, pf.NumRowGroups())
			}
			want = 0
			for g := sp.Start; g < sp.End; g++ {
				groups = append(groups, int(g))
				want += pf.RowGroup(int(g)).NumRows()
			}
		}
	}
	rr, err := fr.GetRecordReader(context.Background(), nil, groups)
	if err != nil {
		pf.Close()
		return nil, err
	}
	return &columnarFile{path: path, fh: fh, rr: rr, closer: pf.Close, row: int(before), want: int(before + want)}, nil
}

// newIPCFile opens an Arrow IPC file or stream. arrow-go trusts the
// flatbuffers and lengths it reads, so every footer and message is checked
// (ipccheck.go) and sized against the bytes the file holds before arrow-go
// sees it, and arrow-go allocates through a cappedAllocator: a damaged
// input fails by name instead of exhausting memory.
func newIPCFile(mem memory.Allocator, path string, fh *os.File) (fr fileReader, err error) {
	defer func() {
		if r := recover(); r != nil {
			fr, err = nil, fmt.Errorf("damaged Arrow data: %v", r)
		}
	}()
	fi, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	size := int64(-1) // a FIFO or device: its length is not known
	if fi.Mode().IsRegular() {
		size = fi.Size()
	}
	cm := newCappedAllocator(mem, size)
	br := bufio.NewReaderSize(fh, 64<<10)
	magic, err := br.Peek(6)
	if err != nil {
		return nil, fmt.Errorf("not an Arrow IPC file: %w", err)
	}
	if string(magic) == "ARROW1" {
		if size < 0 {
			return nil, errors.New("an Arrow IPC file (not stream) must be a regular file: it is read from its end")
		}
		dicts, batches, err := readIPCFooter(fh, size)
		if err != nil {
			return nil, err
		}
		for i, b := range dicts {
			if err := checkIPCBlock(fh, b, size, msgDictionaryBatch); err != nil {
				return nil, fmt.Errorf("dictionary %d: %w", i, err)
			}
		}
		fr, err := ipc.NewFileReader(fh, ipc.WithAllocator(cm), ipc.WithMetadataSizeLimit(size), ipc.WithBodySizeLimit(size))
		if err != nil {
			return nil, err
		}
		it := &ipcFileIter{fr: fr, fh: fh, size: size, blocks: batches}
		return &columnarFile{path: path, fh: fh, rr: it, closer: fr.Close, want: -1}, nil
	}
	mr := &ipcMessages{r: br, left: size, mem: cm}
	mr.refs.Add(1)
	r, err := ipc.NewReaderFromMessageReader(mr, ipc.WithAllocator(cm))
	if err != nil {
		return nil, err
	}
	return &columnarFile{path: path, fh: fh, rr: r, want: -1}, nil
}

// ipcFileIter walks an IPC file's batches as a RecordReader, checking each
// batch's message before arrow-go reads it.
type ipcFileIter struct {
	array.RecordReader // nil: only the methods below are used
	fr                 *ipc.FileReader
	fh                 *os.File
	size               int64
	blocks             []ipcBlock
	i                  int
	cur                arrow.RecordBatch
	err                error
}

func (it *ipcFileIter) Next() bool {
	if it.cur != nil {
		it.cur.Release()
		it.cur = nil
	}
	if it.i >= len(it.blocks) || it.i >= it.fr.NumRecords() {
		return false
	}
	if err := checkIPCBlock(it.fh, it.blocks[it.i], it.size, msgRecordBatch); err != nil {
		it.err = fmt.Errorf("record batch %d: %w", it.i, err)
		return false
	}
	it.cur, it.err = it.fr.RecordBatchAt(it.i) // ours to release
	it.i++
	return it.err == nil
}
func (it *ipcFileIter) RecordBatch() arrow.RecordBatch { return it.cur }
func (it *ipcFileIter) Err() error                     { return it.err }
func (it *ipcFileIter) Release() {
	if it.cur != nil {
		it.cur.Release()
		it.cur = nil
	}
}

// fill maps rows of the file's batches. arrow-go does not verify all it
// decodes (see ipccheck.go): a damaged Parquet page or an IPC batch whose
// buffers disagree with its lengths can make it, or an array accessor
// here, panic (found by FuzzColumnarReader). The panic fails the file by
// name, like any unreadable file, and the run goes on to clean up.
func (f *columnarFile) fill(rb *sift.Builder, n int) (rejects []sift.Reject, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: damaged Arrow data: %v", f.path, r)
		}
	}()
	for added := 0; added < n; {
		if f.cur == nil || f.pos >= int(f.cur.NumRows()) {
			if !f.rr.Next() {
				if err := f.rr.Err(); err != nil && err != io.EOF {
					return rejects, fmt.Errorf("%s: %w", f.path, err)
				}
				if f.want >= 0 && f.row != f.want {
					return rejects, fmt.Errorf("%s: read %d rows, the footer declares %d", f.path, f.row, f.want)
				}
				return rejects, io.EOF
			}
			f.cur, f.pos = f.rr.RecordBatch(), 0
			if f.m, err = mapColumns(f.cur); err != nil {
				return rejects, fmt.Errorf("%s: damaged Arrow data: %w", f.path, err)
			}
		}
		f.row++
		i := f.pos
		f.pos++
		if e := f.m.row(f.cur, i, &f.r, &f.meta); e != nil {
			rejects = append(rejects, sift.Reject{
				ID:     fmt.Sprintf("%s:%d", f.path, f.row),
				Reason: e.reason,
				Detail: fmt.Sprintf("%s: row %d: %s", f.path, f.row, e.detail),
				Record: allColumnsJSON(f.cur, i),
			})
			continue
		}
		if f.r.ID == nil {
			f.idbuf = stableID(f.idbuf, f.path, f.row)
			f.r.ID = f.idbuf
		}
		rb.AppendRaw(&f.r)
		added++
	}
	return rejects, nil
}

func (f *columnarFile) close() error {
	f.rr.Release()
	var err error
	if f.closer != nil {
		err = f.closer()
	}
	if e := f.fh.Close(); err == nil && !errors.Is(e, os.ErrClosed) {
		err = e // the Parquet reader closes fh itself
	}
	return err
}

type stringish interface {
	arrow.Array
	Value(int) string
}

// colMap locates the unified columns of an input batch.
type colMap struct {
	id, text, src arrow.Array
	msgs          *array.List
	rest          []int  // columns kept in meta
	dup           string // a column name the schema repeats, or ""
}

// mapColumns locates the unified columns of rec and checks the turn
// offsets of its messages column, which size an allocation per row: a
// damaged file's offsets must not ask for more turns than it holds.
func mapColumns(rec arrow.RecordBatch) (colMap, error) {
	var m colMap
	seen := map[string]bool{}
	for i, f := range rec.Schema().Fields() {
		if seen[f.Name] && m.dup == "" {
			m.dup = f.Name
		}
		seen[f.Name] = true
		col := rec.Column(i)
		switch f.Name {
		case sift.ColID:
			m.id = col
		case sift.ColText:
			m.text = col
		case sift.ColSource:
			m.src = col
		case sift.ColMessages:
			if l, ok := col.(*array.List); ok && arrow.TypeEqual(l.DataType().(*arrow.ListType).Elem(), sift.MessageType) {
				if err := checkTurns(l); err != nil {
					return m, err
				}
				m.msgs = l
				continue
			}
			m.rest = append(m.rest, i)
		case sift.ColMeta:
			if _, ok := col.(stringish); ok {
				m.rest = append(m.rest, -1-i) // spliced, not nested
				continue
			}
			m.rest = append(m.rest, i)
		default:
			m.rest = append(m.rest, i)
		}
	}
	return m, nil
}

// checkTurns checks that the offsets of a messages column rise and stay
// within its role and content columns.
func checkTurns(l *array.List) error {
	st := l.ListValues().(*array.Struct)
	n := int64(min(st.Field(0).Len(), st.Field(1).Len()))
	offs := l.Offsets()
	if l.Len() > 0 && len(offs) < l.Len()+1 {
		return fmt.Errorf("column %q has %d offsets for %d rows", sift.ColMessages, len(offs), l.Len())
	}
	for i := 0; i < l.Len(); i++ {
		if a, b := int64(offs[i]), int64(offs[i+1]); a < 0 || b < a || b > n {
			return fmt.Errorf("column %q: row %d has turns %d to %d of %d", sift.ColMessages, i+1, a, b, n)
		}
	}
	return nil
}

func (m *colMap) row(rec arrow.RecordBatch, i int, r *sift.RawRow, meta *[]byte) *rowError {
	*r = sift.RawRow{}
	if m.dup != "" {
		return &rowError{ReasonDuplicateKey, fmt.Sprintf("column %q twice", m.dup)}
	}
	if m.id != nil && m.id.IsValid(i) {
		switch a := m.id.(type) {
		case stringish:
			r.ID = []byte(a.Value(i))
		case *array.Int64, *array.Int32, *array.Uint64, *array.Uint32, *array.Int16, *array.Int8:
			r.ID = []byte(a.ValueStr(i))
		default:
			return &rowError{ReasonWrongType, fmt.Sprintf("column %q is %s, want a string or integer", sift.ColID, m.id.DataType())}
		}
	}
	for _, c := range []struct {
		col  arrow.Array
		name string
		dst  *[]byte
		ok   *bool
	}{{m.text, sift.ColText, &r.Text, &r.HasText}, {m.src, sift.ColSource, &r.Source, &r.HasSource}} {
		if c.col == nil || c.col.IsNull(i) {
			continue
		}
		s, ok := c.col.(stringish)
		if !ok {
			return &rowError{ReasonWrongType, fmt.Sprintf("column %q is %s, want a string", c.name, c.col.DataType())}
		}
		*c.dst, *c.ok = []byte(s.Value(i)), true
	}
	if m.msgs != nil && m.msgs.IsValid(i) {
		st := m.msgs.ListValues().(*array.Struct)
		role, content := st.Field(0).(*array.String), st.Field(1).(*array.String)
		start, end := m.msgs.ValueOffsets(i)
		r.Messages = make([]sift.Message, 0, end-start)
		for j := int(start); j < int(end); j++ {
			r.Messages = append(r.Messages, sift.Message{Role: role.Value(j), Content: content.Value(j)})
		}
	}
	for _, c := range []struct {
		name string
		v    []byte
	}{{sift.ColID, r.ID}, {sift.ColText, r.Text}, {sift.ColSource, r.Source}} {
		if !utf8.Valid(c.v) {
			return &rowError{ReasonUTF8, fmt.Sprintf("column %q: invalid UTF-8 at byte %d", c.name, invalidAt(c.v))}
		}
	}
	for j, msg := range r.Messages {
		if !utf8.ValidString(msg.Role) || !utf8.ValidString(msg.Content) {
			return &rowError{ReasonUTF8, fmt.Sprintf("column %q: turn %d: invalid UTF-8", sift.ColMessages, j)}
		}
	}
	b := (*meta)[:0]
	for _, ci := range m.rest {
		if ci < 0 { // a meta column: splice its members
			s := rec.Column(-1 - ci).(stringish)
			if s.IsNull(i) {
				continue
			}
			v := bytes.TrimSpace([]byte(s.Value(i)))
			if len(v) == 0 || v[0] != '{' || !jsontext.Valid(v) {
				return &rowError{ReasonWrongType, fmt.Sprintf("column %q is not a JSON object", sift.ColMeta)}
			}
			if !utf8.Valid(v) {
				return &rowError{ReasonUTF8, fmt.Sprintf("column %q: invalid UTF-8 at byte %d", sift.ColMeta, invalidAt(v))}
			}
			if inner := bytes.TrimSpace(v[1 : len(v)-1]); len(inner) > 0 {
				b = appendMember(b, inner)
			}
			continue
		}
		col := rec.Column(ci)
		if col.IsNull(i) {
			continue
		}
		kv := sift.AppendJSONString(nil, rec.Schema().Field(ci).Name)
		kv = append(kv, ':')
		b = appendMember(b, sift.AppendValueJSON(kv, col, i))
	}
	if len(b) > 0 {
		b = append(b, '}')
		r.Meta = b
	}
	*meta = b
	return nil
}

func appendMember(b, member []byte) []byte {
	if len(b) == 0 {
		b = append(b, '{')
	} else {
		b = append(b, ',')
	}
	return append(b, member...)
}

// allColumnsJSON renders row i of rec with every column, for rejects.
func allColumnsJSON(rec arrow.RecordBatch, i int) []byte {
	b := []byte{'{'}
	for c, f := range rec.Schema().Fields() {
		if c > 0 {
			b = append(b, ',')
		}
		b = sift.AppendJSONString(b, f.Name)
		b = append(b, ':')
		b = sift.AppendValueJSON(b, rec.Column(c), i)
	}
	return append(b, '}')
}

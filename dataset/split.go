package dataset

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
)

// Split is a part of one input file that a [Reader] can read on its own, so
// that workers can share a large file:
//
//   - for an uncompressed JSONL file, the lines that start in bytes
//     [Start, End);
//   - for a Parquet file, the row groups [Start, End);
//   - for any file, End < 0 means the whole file (Start is then 0).
//
// Before is the number of lines (JSONL) or rows (Parquet) of the file
// before the split. Rows without an id get "<file>:<n>" and rejects name
// their line or row counting from there, so the splits of a file read the
// same rows, ids and rejects as the whole file, in the same order.
type Split struct {
	Path       string
	Start, End int64
	Before     int64
}

// Whole reports whether s is a whole file.
func (s Split) Whole() bool { return s.End < 0 }

// Splits divides a file into parts of about size bytes for [OpenSplit]:
// an uncompressed JSONL file at fixed byte offsets, a Parquet file at row
// group boundaries (groups of about size compressed bytes), anything else
// (compressed or CSV text, Arrow IPC, files of at most size bytes) as one
// whole split. A Parquet split's Before is set; a JSONL split's Before is
// only known from the lines of the splits before it: count them with
// [Split.LineStarts] (each split on its own) and add them up, as
// [NumberSplits] does.
func Splits(path string, size int64) ([]Split, error) {
	if size <= 0 {
		return nil, fmt.Errorf("split size: %d, want > 0", size)
	}
	f, c, err := formatOf(path)
	if err != nil {
		return nil, err
	}
	whole := []Split{{Path: path, End: -1}}
	if c != plain || (f != JSONL && f != Parquet) {
		return whole, nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() || fi.Size() <= size {
		return whole, nil
	}
	if f == Parquet {
		return parquetSplits(path, size)
	}
	var out []Split
	for s := int64(0); s < fi.Size(); s += size {
		out = append(out, Split{Path: path, Start: s, End: min(s+size, fi.Size())})
	}
	return out, nil
}

// parquetSplits groups a Parquet file's row groups into splits of at least
// size compressed bytes (the last may be smaller).
func parquetSplits(path string, size int64) ([]Split, error) {
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer pf.Close()
	md := pf.MetaData()
	var out []Split
	var rows, bytes int64
	start := 0
	for g := range md.NumRowGroups() {
		rg := md.RowGroup(g)
		bytes += rg.TotalCompressedSize()
		if bytes >= size || g == md.NumRowGroups()-1 {
			out = append(out, Split{Path: path, Start: int64(start), End: int64(g + 1), Before: rows})
			for i := start; i <= g; i++ {
				rows += md.RowGroup(i).NumRows()
			}
			start, bytes = g+1, 0
		}
	}
	if len(out) == 1 {
		out[0] = Split{Path: path, End: -1}
	}
	return out, nil
}

// LineStarts returns how many lines of an uncompressed JSONL file start in
// s's bytes: what a reader of s reads, empty lines included. It reads only
// those bytes (and the one before them).
func (s Split) LineStarts() (int64, error) {
	if s.Whole() {
		return 0, errors.New("LineStarts of a whole-file split")
	}
	fh, err := os.Open(s.Path)
	if err != nil {
		return 0, err
	}
	defer fh.Close()
	// A line starts at 0 and after every '\n' but one ending the file; so
	// the line starts in [Start, End) are Start == 0 plus the '\n's in
	// [Start-1, End-1).
	var n int64
	from := s.Start - 1
	if s.Start == 0 {
		n, from = 1, 0
	}
	buf := make([]byte, 1<<16)
	r := io.NewSectionReader(fh, from, s.End-1-from)
	for {
		k, err := r.Read(buf)
		n += int64(bytes.Count(buf[:k], []byte{'\n'}))
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, fmt.Errorf("%s: %w", s.Path, err)
		}
	}
}

// NumberSplits sets the Before of a file's JSONL splits, given in order,
// from the line starts of each ([Split.LineStarts]). It panics if the two
// slices differ in length.
func NumberSplits(splits []Split, lineStarts []int64) {
	if len(splits) != len(lineStarts) {
		panic("dataset: NumberSplits: one line count per split")
	}
	var before int64
	for i := range splits {
		splits[i].Before = before
		before += lineStarts[i]
	}
}

// OpenSplit returns a Reader over one split of a file (see [Split]).
func OpenSplit(mem memory.Allocator, s Split, opts ...ReadOption) (*Reader, error) {
	r, err := Open(mem, []string{s.Path}, opts...)
	if err != nil {
		return nil, err
	}
	if !s.Whole() || s.Before != 0 {
		f, c, _ := formatOf(s.Path)
		if c != plain || (f != JSONL && f != Parquet) || s.Start < 0 || s.End < s.Start || s.Before < 0 ||
			f == Parquet && !s.Whole() && s.End == s.Start { // no row group: GetRecordReader would read all
			return nil, fmt.Errorf("%s: cannot read split [%d, %d) after %d: want a byte range of an uncompressed JSONL file or at least one row group of a Parquet file", s.Path, s.Start, s.End, s.Before)
		}
		r.split = &s
	}
	return r, nil
}

// seekJSONL positions f at the first line starting at or after start, and
// makes it stop before the first line starting at or after end.
func (f *jsonlFile) seek(start, end int64) error {
	f.end = end
	if start == 0 {
		return nil
	}
	if _, err := f.fh.Seek(start-1, io.SeekStart); err != nil {
		return err
	}
	f.br = bufio.NewReaderSize(f.fh, 1<<16)
	f.pos = start - 1
	for {
		chunk, err := f.br.ReadSlice('\n')
		f.pos += int64(len(chunk))
		if err == io.EOF {
			return nil
		}
		if err != bufio.ErrBufferFull {
			return err
		}
	}
}

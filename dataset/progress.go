package dataset

import (
	"io"
	"os"
)

// InputProgress returns the bytes of the input files read so far and
// their total size, as they are on disk (compressed files count their
// compressed bytes), so that a caller can tell how far a run is and
// estimate when it ends. total is 0 when it is unknown: an input is not a
// regular file (a FIFO, a device). done is exact at file boundaries;
// within a file it is the file's read offset, which runs ahead of the rows
// handed out by the buffer, or for Parquet the share of its rows read. It
// implements [sift.Sized]; call it from the goroutine calling Next.
func (r *Reader) InputProgress() (done, total int64) {
	opened := len(r.sizes) - len(r.files)
	finished := opened
	if r.cur != nil {
		finished--
	}
	for i, s := range r.sizes {
		if s < 0 {
			return 0, 0
		}
		total += s
		if i < finished {
			done += s
		}
	}
	if r.cur != nil {
		done += min(r.cur.offset(), r.sizes[finished])
	}
	return done, total
}

// fileSizes returns the size of each file, -1 for one that is not a
// regular file or cannot be read.
func fileSizes(files []string) []int64 {
	sizes := make([]int64, len(files))
	for i, f := range files {
		sizes[i] = -1
		if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() {
			sizes[i] = fi.Size()
		}
	}
	return sizes
}

// seekOffset is fh's read offset, 0 if it has none (a pipe).
func seekOffset(fh *os.File) int64 {
	n, err := fh.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0
	}
	return n
}

func (f *jsonlFile) offset() int64 { return seekOffset(f.fh) }
func (f *csvFile) offset() int64   { return seekOffset(f.fh) }

// offset of a Parquet file, which is read at offsets (its file offset
// does not move), is its size times the share of its rows read; an IPC
// stream's is its read offset, and an IPC file's 0 until it is done.
func (f *columnarFile) offset() int64 {
	if f.want > 0 {
		if fi, err := f.fh.Stat(); err == nil {
			return fi.Size() * int64(f.row) / int64(f.want)
		}
	}
	return seekOffset(f.fh)
}

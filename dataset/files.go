package dataset

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	kgzip "github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Format is a file format.
type Format string

// Formats known by extension.
const (
	JSONL   Format = "jsonl"
	Parquet Format = "parquet"
	IPC     Format = "arrow"
	CSV     Format = "csv"
)

// ErrFormat is returned for a path whose extension names no known format.
var ErrFormat = errors.New("unknown file format")

// Compression of a JSONL or CSV file, from its extension.
type compression int

const (
	plain compression = iota
	gzipped
	zstded
)

// FormatOf returns the format of path from its extension, ignoring a .gz or
// .zst suffix.
func FormatOf(path string) (Format, error) {
	f, _, err := formatOf(path)
	return f, err
}

func formatOf(path string) (Format, compression, error) {
	name := strings.ToLower(filepath.Base(path))
	c := plain
	switch {
	case strings.HasSuffix(name, ".gz"):
		c, name = gzipped, strings.TrimSuffix(name, ".gz")
	case strings.HasSuffix(name, ".zst"):
		c, name = zstded, strings.TrimSuffix(name, ".zst")
	}
	var f Format
	switch filepath.Ext(name) {
	case ".jsonl", ".json", ".ndjson":
		f = JSONL
	case ".parquet":
		f = Parquet
	case ".arrow", ".ipc", ".feather", ".arrows":
		f = IPC
	case ".csv":
		f = CSV
	default:
		return "", 0, fmt.Errorf("%s: %w (want .jsonl, .parquet, .arrow or .csv)", path, ErrFormat)
	}
	if c != plain && (f == Parquet || f == IPC) {
		return "", 0, fmt.Errorf("%s: %w: %s files carry their own compression", path, ErrFormat, f)
	}
	return f, c, nil
}

// Expand resolves inputs — files, glob patterns and directories — into a
// sorted, de-duplicated list of files. Directories are walked recursively
// for files of known formats. A pattern or path that matches nothing is an
// error.
func Expand(inputs ...string) ([]string, error) {
	var out []string
	for _, in := range inputs {
		var matches []string
		if strings.ContainsAny(in, "*?[") {
			m, err := filepath.Glob(in)
			if err != nil {
				return nil, fmt.Errorf("input %q: %w", in, err)
			}
			matches = m
		} else {
			matches = []string{in}
		}
		if len(matches) == 0 {
			return nil, fmt.Errorf("input %q: no files match", in)
		}
		for _, m := range matches {
			fi, err := os.Stat(m)
			if err != nil {
				return nil, fmt.Errorf("input: %w", err)
			}
			if !fi.IsDir() {
				out = append(out, m)
				continue
			}
			n := len(out)
			err = filepath.WalkDir(m, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if !d.IsDir() && !strings.HasPrefix(d.Name(), ".") {
					if _, err := FormatOf(p); err == nil {
						out = append(out, p)
					}
				}
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("input %q: %w", m, err)
			}
			if len(out) == n {
				return nil, fmt.Errorf("input %q: directory holds no dataset files", m)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// decompress wraps r according to c.
func decompress(r io.Reader, c compression) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	switch c {
	case gzipped:
		return kgzip.NewReader(br)
	case zstded:
		d, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		return d.IOReadCloser(), nil
	}
	return io.NopCloser(br), nil
}

// compressor wraps w according to c.
func compressor(w io.Writer, c compression) (io.WriteCloser, error) {
	switch c {
	case gzipped:
		return kgzip.NewWriterLevel(w, gzip.DefaultCompression)
	case zstded:
		return zstd.NewWriter(w, zstd.WithEncoderConcurrency(1))
	}
	return nopCloser{w}, nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

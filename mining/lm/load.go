package lm

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/klauspost/compress/gzip"
)

// Load reads a model from path, recognizing its format by content, not by
// name: a KenLM binary file (build_binary's output, see [ReadBinary]) is
// mapped read-only where the platform has mmap, so that loading takes
// milliseconds and processes share its pages; anything else is read as an
// ARPA file, plain or gzip-compressed. A gzip-compressed binary file, or
// one from a FIFO or device (read once, in order), is read into memory.
//
// A mapped model stays mapped until the Model is garbage collected.
func Load(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := load(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

func load(f *os.File) (*Model, error) {
	if st, err := f.Stat(); err == nil && !st.Mode().IsRegular() {
		return ReadModel(f) // a FIFO or device: read once, no seeking or mapping
	}
	head := make([]byte, len(binPrefix))
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, err
	}
	if IsBinary(head[:n]) {
		data, unmap, err := mapFile(f)
		if err != nil {
			return nil, err
		}
		m, err := ReadBinary(data)
		if err != nil {
			unmap()
			return nil, err
		}
		if unmap != nil {
			runtime.AddCleanup(m, func(unmap func()) { unmap() }, unmap)
		}
		return m, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return ReadModel(f)
}

// ReadModel reads a model in ARPA or KenLM binary format, either plain or
// gzip-compressed, recognized by content. A binary model is read into
// memory; [Load] maps it instead.
func ReadModel(r io.Reader) (*Model, error) {
	size, sized := inputSize(r)
	br, closer, err := gunzipped(r)
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	if head, _ := br.Peek(len(binPrefix)); IsBinary(head) {
		data, err := io.ReadAll(br)
		if err != nil {
			return nil, err
		}
		return ReadBinary(data)
	}
	return readARPAFrom(br, false, newCountLimit(size, sized, closer))
}

// readAll is mapFile's fallback where there is no mmap.
func readAll(f *os.File) ([]byte, func(), error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, nil, err
	}
	b, err := io.ReadAll(f)
	return b, func() {}, err
}

// gunzipped buffers r, decompressing it if it starts with gzip's magic
// bytes. The closer releases the decompressor.
func gunzipped(r io.Reader) (*bufio.Reader, io.Closer, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	if magic, _ := br.Peek(2); len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		return br, io.NopCloser(nil), nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, nil, err
	}
	return bufio.NewReaderSize(zr, 1<<16), zr, nil
}

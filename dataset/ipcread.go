package dataset

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// ipcMemoryFloor and ipcMemoryFactor set the memory arrow-go may hold at
// once while it decodes an IPC input of n bytes: ipcMemoryFloor +
// ipcMemoryFactor×n. An uncompressed input needs at most about twice its
// largest message; LZ4 or zstd buffers of real data expand a few times.
// A damaged decompressed length asks for far more and fails by name.
const (
	ipcMemoryFloor  = 64 << 20
	ipcMemoryFactor = 32
	// ipcMemoryUnsized is the limit for a FIFO or device, whose length is
	// not known.
	ipcMemoryUnsized = 1 << 30
)

// errIPCMemory is the panic value of a cappedAllocator over its limit.
type errIPCMemory struct{ want, limit int64 }

func (e errIPCMemory) Error() string {
	return fmt.Sprintf("decoding needs more than %d bytes of memory at once, the limit for this input "+
		"(%d + %d × its size): it is damaged, or compressed more than %d times",
		e.limit, ipcMemoryFloor, ipcMemoryFactor, ipcMemoryFactor)
}

// cappedAllocator bounds the bytes an allocator has handed out and not
// yet taken back. Over the limit it panics: arrow-go's allocation calls
// have no error, and the reader turns the panic into the file's error.
type cappedAllocator struct {
	memory.Allocator
	limit int64
	live  atomic.Int64
}

func newCappedAllocator(mem memory.Allocator, size int64) *cappedAllocator {
	limit := int64(ipcMemoryUnsized)
	if size >= 0 {
		limit = ipcMemoryFloor + ipcMemoryFactor*size
	}
	return &cappedAllocator{Allocator: mem, limit: limit}
}

func (a *cappedAllocator) take(n int) {
	if v := a.live.Add(int64(n)); n > 0 && v > a.limit {
		a.live.Add(-int64(n))
		panic(errIPCMemory{v, a.limit})
	}
}

func (a *cappedAllocator) Allocate(n int) []byte {
	a.take(n)
	return a.Allocator.Allocate(n)
}

func (a *cappedAllocator) Reallocate(n int, b []byte) []byte {
	a.take(n - len(b))
	return a.Allocator.Reallocate(n, b)
}

func (a *cappedAllocator) Free(b []byte) {
	a.live.Add(-int64(len(b)))
	a.Allocator.Free(b)
}

// ipcMagic ends an IPC file; its footer's length is just before it.
const ipcMagic = "ARROW1"

// readIPCFooter reads and checks the footer of an IPC file of size bytes,
// as arrow-go will read it.
func readIPCFooter(r io.ReaderAt, size int64) (dicts, batches []ipcBlock, err error) {
	tail := make([]byte, 4+len(ipcMagic))
	if size < int64(2*len(ipcMagic)+4) {
		return nil, nil, fmt.Errorf("an Arrow IPC file of %d bytes is too short", size)
	}
	if _, err := r.ReadAt(tail, size-int64(len(tail))); err != nil {
		return nil, nil, err
	}
	if string(tail[4:]) != ipcMagic {
		return nil, nil, errors.New("an Arrow IPC file must end with ARROW1: it is cut short or damaged")
	}
	n := int64(binary.LittleEndian.Uint32(tail))
	if n <= 0 || n > size-int64(2*len(ipcMagic)+4) {
		return nil, nil, fmt.Errorf("the footer's length %d does not fit in the %d-byte file", n, size)
	}
	footer := make([]byte, n)
	if _, err := r.ReadAt(footer, size-int64(len(tail))-n); err != nil {
		return nil, nil, err
	}
	return checkFooter(footer)
}

// checkIPCBlock checks the message a footer block points to: that it lies
// in the file and that its metadata is a whole message of type want.
func checkIPCBlock(r io.ReaderAt, b ipcBlock, size int64, want int) error {
	if b.offset < 0 || b.meta < 8 || b.body < 0 || b.offset > size || int64(b.meta) > size-b.offset ||
		b.body > size-b.offset-int64(b.meta) {
		return fmt.Errorf("block (offset %d, metadata %d, body %d bytes) does not fit in the %d-byte file",
			b.offset, b.meta, b.body, size)
	}
	meta := make([]byte, b.meta)
	if _, err := r.ReadAt(meta, b.offset); err != nil {
		return err
	}
	prefix := 4
	if binary.LittleEndian.Uint32(meta) == 0xFFFFFFFF {
		prefix = 8
	}
	typ, body, err := checkMessage(meta[prefix:])
	if err != nil {
		return err
	}
	if typ != want {
		return fmt.Errorf("message at %d has type %d, want %d", b.offset, typ, want)
	}
	if body != b.body {
		return fmt.Errorf("message at %d declares a %d-byte body, the footer %d", b.offset, body, b.body)
	}
	return nil
}

// ipcMessages reads the messages of an IPC stream for arrow-go's reader,
// checking each one's metadata before arrow-go decodes it. No length is
// trusted beyond the bytes left in the file, and when that is not known
// (a FIFO) a part is read as it arrives, so memory follows the bytes that
// are really there.
type ipcMessages struct {
	r    io.Reader
	left int64 // bytes not yet read, or -1 if not known
	mem  memory.Allocator
	msg  *ipc.Message
	refs atomic.Int64
}

func (m *ipcMessages) Retain() { m.refs.Add(1) }

func (m *ipcMessages) Release() {
	if m.refs.Add(-1) == 0 && m.msg != nil {
		m.msg.Release()
		m.msg = nil
	}
}

func (m *ipcMessages) consumed(n int64) {
	if m.left >= 0 {
		m.left -= n
	}
}

// read reads the next n bytes of the stream; what names the part.
func (m *ipcMessages) read(n int64, what string) (*memory.Buffer, error) {
	if m.left >= 0 {
		if n > m.left {
			return nil, fmt.Errorf("message %s of %d bytes is longer than the %d bytes left in the file", what, n, m.left)
		}
		m.consumed(n)
		buf := memory.NewResizableBuffer(m.mem)
		buf.Resize(int(n))
		if _, err := io.ReadFull(m.r, buf.Bytes()); err != nil {
			buf.Release()
			return nil, fmt.Errorf("reading message %s: %w", what, noEOF(err))
		}
		return buf, nil
	}
	var b bytes.Buffer
	if got, err := io.CopyN(&b, m.r, n); err != nil {
		return nil, fmt.Errorf("reading message %s: %d of %d bytes: %w", what, got, n, noEOF(err))
	}
	return memory.NewBufferBytes(b.Bytes()), nil
}

// noEOF reports a stream cut inside a message as such, not as its end.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func (m *ipcMessages) Message() (*ipc.Message, error) {
	if m.msg != nil {
		m.msg.Release()
		m.msg = nil
	}
	var hdr [4]byte
	if _, err := io.ReadFull(m.r, hdr[:]); err != nil {
		if err == io.EOF { // a stream may end without its end marker
			return nil, io.EOF
		}
		return nil, noEOF(err)
	}
	m.consumed(4)
	n := binary.LittleEndian.Uint32(hdr[:])
	if n == 0xFFFFFFFF { // the continuation marker; older streams lack it
		if _, err := io.ReadFull(m.r, hdr[:]); err != nil {
			return nil, noEOF(err)
		}
		m.consumed(4)
		n = binary.LittleEndian.Uint32(hdr[:])
	}
	if n == 0 {
		return nil, io.EOF // the end marker
	}
	if n < 8 || n > 1<<31-1 {
		return nil, fmt.Errorf("message metadata length %d is not valid", n)
	}
	meta, err := m.read(int64(n), "metadata")
	if err != nil {
		return nil, err
	}
	defer meta.Release()
	_, bodyLen, err := checkMessage(meta.Bytes())
	if err != nil {
		return nil, err
	}
	if bodyLen < 0 {
		return nil, fmt.Errorf("message body length %d is not valid", bodyLen)
	}
	body, err := m.read(bodyLen, "body")
	if err != nil {
		return nil, err
	}
	defer body.Release()
	m.msg = ipc.NewMessage(meta, body)
	return m.msg, nil
}

package dedup

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"testing"
)

// FuzzReadIndex reads damaged saved indexes: ReadIndex must return an
// index or ErrBadIndex, never panic or allocate what the data does not
// hold, and an index it returns must save and read back.
func FuzzReadIndex(f *testing.F) {
	x, err := NewIndex(DefaultIndex)
	if err != nil {
		f.Fatal(err)
	}
	for i, fp := range synthFingerprints(40) {
		if _, err := x.Add(&fp, fmt.Sprint("doc-", i)); err != nil {
			f.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := x.WriteTo(&buf, []byte("extra")); err != nil {
		f.Fatal(err)
	}
	x.Close()
	f.Add(buf.Bytes())
	f.Add(buf.Bytes()[:buf.Len()/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		x, extra, err := ReadIndex(bytes.NewReader(data))
		if err != nil {
			return
		}
		defer x.Close()
		var out bytes.Buffer
		if err := x.WriteTo(&out, extra); err != nil {
			t.Fatal(err)
		}
		y, _, err := ReadIndex(&out)
		if err != nil {
			t.Fatalf("saved index does not read back: %v", err)
		}
		defer y.Close()
		if y.Len() != x.Len() {
			t.Fatalf("read back %d documents, saved %d", y.Len(), x.Len())
		}
	})
}

// A header that declares 4 GiB of extra bytes the data does not hold is a
// bad index, found without allocating them.
func TestReadIndexHugeExtra(t *testing.T) {
	x, err := NewIndex(DefaultIndex)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := x.WriteTo(&buf, nil); err != nil {
		t.Fatal(err)
	}
	x.Close()
	b := buf.Bytes()
	// The header is the magic and ten uvarints; the ninth is the extra
	// bytes' length, 0 here (one byte).
	p := len(indexMagic)
	for range 8 {
		for b[p] >= 0x80 {
			p++
		}
		p++
	}
	if b[p] != 0 {
		t.Fatalf("extra length byte %#x, want 0", b[p])
	}
	bad := append(append(append([]byte(nil), b[:p]...), 0xff, 0xff, 0xff, 0xff, 0x0f), b[p+1:]...)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.TotalAlloc
	if _, _, err := ReadIndex(bytes.NewReader(bad)); !errors.Is(err, ErrBadIndex) {
		t.Fatalf("err = %v, want ErrBadIndex", err)
	}
	runtime.ReadMemStats(&ms)
	if grew := ms.TotalAlloc - before; grew > 64<<20 {
		t.Errorf("reading allocated %d bytes", grew)
	}
}

// Package take gathers rows of Arrow record batches into new ones.
//
// It does what Arrow's compute Take and Filter kernels do, for the column
// types sift's batches have, with fewer copies: the rows to take are split
// into runs of consecutive rows, each run is copied with one copy per
// buffer, and every output buffer is allocated once at its exact size.
// Arrow's variable-width kernels grow their value buffers by doubling,
// copying and clearing as they go, which in a six-step recipe cost more
// than the filtering stages themselves. Other column types go through
// compute.Take.
package take

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// run is the rows [start, end) of an array, in its logical positions.
type run struct{ start, end int }

// runs splits rows into maximal runs of consecutive rows.
func runs(rows []int) []run {
	var rs []run
	for i := 0; i < len(rows); {
		j := i + 1
		for j < len(rows) && rows[j] == rows[j-1]+1 {
			j++
		}
		rs = append(rs, run{rows[i], rows[j-1] + 1})
		i = j
	}
	return rs
}

// Record returns a batch of rec's rows at the given positions, in that
// order; positions may repeat. The result is owned by the caller and its
// buffers come from mem. It panics if a position is out of range.
func Record(ctx context.Context, mem memory.Allocator, rec arrow.RecordBatch, rows []int) (arrow.RecordBatch, error) {
	n := int(rec.NumRows())
	for _, r := range rows {
		if r < 0 || r >= n {
			panic(fmt.Sprintf("take: row %d of a %d-row batch", r, n))
		}
	}
	rs := runs(rows)
	cols := make([]arrow.Array, rec.NumCols())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, col := range rec.Columns() {
		d, err := data(ctx, mem, col.Data(), rs, len(rows))
		if err != nil {
			return nil, fmt.Errorf("take %s: %w", rec.ColumnName(i), err)
		}
		cols[i] = array.MakeFromData(d)
		d.Release()
	}
	return array.NewRecordBatch(rec.Schema(), cols, int64(len(rows))), nil
}

// Array returns an array of a's values at the given positions, as Record
// does for a batch.
func Array(ctx context.Context, mem memory.Allocator, a arrow.Array, rows []int) (arrow.Array, error) {
	for _, r := range rows {
		if r < 0 || r >= a.Len() {
			panic(fmt.Sprintf("take: row %d of a %d-row array", r, a.Len()))
		}
	}
	d, err := data(ctx, mem, a.Data(), runs(rows), len(rows))
	if err != nil {
		return nil, err
	}
	defer d.Release()
	return array.MakeFromData(d), nil
}

// data returns the n rows of d in runs rs, owned by the caller.
func data(ctx context.Context, mem memory.Allocator, d arrow.ArrayData, rs []run, n int) (arrow.ArrayData, error) {
	if !supported(d.DataType()) {
		return viaCompute(ctx, mem, d, rs, n)
	}
	off := d.Offset()
	bufs := make([]*memory.Buffer, len(d.Buffers()))
	defer func() {
		for _, b := range bufs {
			if b != nil {
				b.Release()
			}
		}
	}()
	var children []arrow.ArrayData
	defer func() {
		for _, c := range children {
			c.Release()
		}
	}()
	nulls := 0
	if d.NullN() != 0 && d.Buffers()[0] != nil { // a slice's count may be unknown (-1)
		bufs[0], nulls = bitmap(mem, d.Buffers()[0].Bytes(), off, rs, n)
	}
	switch dt := d.DataType().(type) {
	case *arrow.StringType, *arrow.BinaryType:
		var vrs []run
		var size int
		bufs[1], vrs, size = rebase(mem, offsets(d), rs, n)
		bufs[2] = alloc(mem, size)
		out, at := bufs[2].Bytes(), 0
		for _, r := range vrs {
			at += copy(out[at:], d.Buffers()[2].Bytes()[r.start:r.end])
		}
	case *arrow.ListType:
		var crs []run
		var size int
		bufs[1], crs, size = rebase(mem, offsets(d), rs, n)
		c, err := data(ctx, mem, d.Children()[0], crs, size)
		if err != nil {
			return nil, err
		}
		children = append(children, c)
	case *arrow.StructType:
		// A struct's children are indexed with the struct's own offset.
		crs := rs
		if off != 0 {
			crs = make([]run, len(rs))
			for i, r := range rs {
				crs[i] = run{r.start + off, r.end + off}
			}
		}
		for _, cd := range d.Children() {
			c, err := data(ctx, mem, cd, crs, n)
			if err != nil {
				return nil, err
			}
			children = append(children, c)
		}
	case *arrow.BooleanType:
		bufs[1] = alloc(mem, int(bitutil.BytesForBits(int64(n))))
		copyBits(d.Buffers()[1].Bytes(), off, rs, bufs[1].Bytes())
	case arrow.FixedWidthDataType:
		w := dt.BitWidth() / 8
		bufs[1] = alloc(mem, n*w)
		src, out := d.Buffers()[1].Bytes(), bufs[1].Bytes()
		at := 0
		for _, r := range rs {
			at += copy(out[at:], src[(off+r.start)*w:(off+r.end)*w])
		}
	}
	return array.NewData(d.DataType(), n, bufs, children, nulls, 0), nil
}

// offsets returns the 32-bit offsets of d's values, from its first row's
// to its last row's end.
func offsets(d arrow.ArrayData) []int32 {
	return arrow.Int32Traits.CastFromBytes(d.Buffers()[1].Bytes())[d.Offset() : d.Offset()+d.Len()+1]
}

// rebase returns new offsets for the rows in rs of an array with offsets
// src, one run after another from 0, with the runs of values (or child
// rows) those rows span and their number.
func rebase(mem memory.Allocator, src []int32, rs []run, n int) (*memory.Buffer, []run, int) {
	buf := alloc(mem, arrow.Int32Traits.BytesRequired(n+1))
	offs := arrow.Int32Traits.CastFromBytes(buf.Bytes())
	vrs := make([]run, 0, len(rs))
	k, at := 0, int32(0)
	for _, r := range rs {
		base := src[r.start]
		for i := r.start; i < r.end; i++ {
			offs[k] = at + src[i] - base
			k++
		}
		if src[r.end] > base {
			vrs = append(vrs, run{int(base), int(src[r.end])})
		}
		at += src[r.end] - base
	}
	offs[k] = at
	return buf, vrs, int(at)
}

// supported reports whether data copies arrays of type t itself.
func supported(t arrow.DataType) bool {
	switch t := t.(type) {
	case *arrow.StringType, *arrow.BinaryType, *arrow.BooleanType:
		return true
	case *arrow.ListType:
		return supported(t.Elem())
	case *arrow.StructType:
		for _, f := range t.Fields() {
			if !supported(f.Type) {
				return false
			}
		}
		return true
	case arrow.FixedWidthDataType:
		switch t.ID() {
		case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32,
			arrow.UINT64, arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64, arrow.DATE32, arrow.DATE64,
			arrow.TIMESTAMP, arrow.TIME32, arrow.TIME64, arrow.DURATION:
			return true
		}
	}
	return false
}

// alloc returns a buffer of exactly size bytes from mem. Buffers that are
// written in full need no clearing, but Arrow's Go allocator clears anyway.
func alloc(mem memory.Allocator, size int) *memory.Buffer {
	b := memory.NewResizableBuffer(mem)
	b.Resize(size)
	return b
}

// bitmap returns the validity bitmap of the rows in rs, and their nulls.
func bitmap(mem memory.Allocator, src []byte, off int, rs []run, n int) (*memory.Buffer, int) {
	b := alloc(mem, int(bitutil.BytesForBits(int64(n))))
	copyBits(src, off, rs, b.Bytes())
	return b, n - bitutil.CountSetBits(b.Bytes(), 0, n)
}

// copyBits copies the bits of the rows in rs, one after another, to out.
func copyBits(src []byte, off int, rs []run, out []byte) {
	at := 0
	for _, r := range rs {
		bitutil.CopyBitmap(src, off+r.start, r.end-r.start, out, at)
		at += r.end - r.start
	}
}

// viaCompute takes the rows of d with Arrow's Take kernel, for the types
// data does not copy itself.
func viaCompute(ctx context.Context, mem memory.Allocator, d arrow.ArrayData, rs []run, n int) (arrow.ArrayData, error) {
	ib := array.NewInt64Builder(mem)
	defer ib.Release()
	ib.Reserve(n)
	for _, r := range rs {
		for i := r.start; i < r.end; i++ {
			ib.UnsafeAppend(int64(i))
		}
	}
	idx := ib.NewArray()
	defer idx.Release()
	a := array.MakeFromData(d)
	defer a.Release()
	out, err := compute.TakeArray(compute.WithAllocator(ctx, mem), a, idx)
	if err != nil {
		return nil, err
	}
	defer out.Release()
	od := out.Data()
	od.Retain()
	return od, nil
}

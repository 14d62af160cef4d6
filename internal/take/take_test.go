package take

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

var testSchema = arrow.NewSchema([]arrow.Field{
	{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "l", Type: arrow.ListOf(arrow.StructOf(
		arrow.Field{Name: "role", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "content", Type: arrow.BinaryTypes.String, Nullable: true},
	)), Nullable: true},
	{Name: "f", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "i", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), Nullable: true}, // through compute
}, nil)

// randomBatch builds a batch of n rows with nulls and empty values in every
// column.
func randomBatch(t *testing.T, mem memory.Allocator, r *rand.Rand, n int) arrow.RecordBatch {
	rb := array.NewRecordBuilder(mem, testSchema)
	defer rb.Release()
	word := func() string { return string(make([]byte, r.IntN(5)))[:0] + "abcdefghij"[:r.IntN(11)] }
	for range n {
		null := func() bool { return r.IntN(5) == 0 }
		s := rb.Field(0).(*array.StringBuilder)
		if null() {
			s.AppendNull()
		} else {
			s.Append(word())
		}
		l := rb.Field(1).(*array.ListBuilder)
		if null() {
			l.AppendNull()
		} else {
			l.Append(true)
			st := l.ValueBuilder().(*array.StructBuilder)
			for range r.IntN(4) {
				st.Append(!null())
				for _, f := range []int{0, 1} {
					if null() {
						st.FieldBuilder(f).(*array.StringBuilder).AppendNull()
					} else {
						st.FieldBuilder(f).(*array.StringBuilder).Append(word())
					}
				}
			}
		}
		if null() {
			rb.Field(2).AppendNull()
			rb.Field(3).AppendNull()
			rb.Field(4).AppendNull()
			rb.Field(5).AppendNull()
		} else {
			rb.Field(2).(*array.Float64Builder).Append(r.Float64())
			rb.Field(3).(*array.BooleanBuilder).Append(r.IntN(2) == 0)
			rb.Field(4).(*array.Int32Builder).Append(r.Int32())
			m := rb.Field(5).(*array.MapBuilder)
			m.Append(true)
			m.KeyBuilder().(*array.StringBuilder).Append(word() + "k")
			m.ItemBuilder().(*array.Int64Builder).Append(r.Int64())
		}
	}
	return rb.NewRecordBatch()
}

// TestRecordMatchesCompute checks Record against Arrow's Take kernel on
// random batches, sliced batches, and row lists with runs, repeats, reversals
// and none at all.
func TestRecordMatchesCompute(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	for iter := range 300 {
		n := r.IntN(40)
		full := randomBatch(t, mem, r, n+4)
		lo := r.IntN(3)
		rec := full.NewSlice(int64(lo), int64(lo+n)) // arrays with offsets
		full.Release()
		var rows []int
		switch iter % 4 {
		case 0: // a filter: ascending, with gaps
			for i := range n {
				if r.IntN(4) != 0 {
					rows = append(rows, i)
				}
			}
		case 1: // all rows
			for i := range n {
				rows = append(rows, i)
			}
		default: // any order, repeats
			if n > 0 {
				for range r.IntN(2 * n) {
					rows = append(rows, r.IntN(n))
				}
			}
		}
		got, err := Record(ctx, mem, rec, rows)
		if err != nil {
			t.Fatal(err)
		}
		ib := array.NewInt64Builder(mem)
		for _, i := range rows {
			ib.Append(int64(i))
		}
		idx := ib.NewArray()
		ib.Release()
		for c := range rec.NumCols() {
			want, err := compute.TakeArray(compute.WithAllocator(ctx, mem), rec.Column(int(c)), idx)
			if err != nil {
				t.Fatal(err)
			}
			if !array.Equal(got.Column(int(c)), want) {
				t.Fatalf("iteration %d, column %s, rows %v:\ngot  %v\nwant %v", iter, rec.ColumnName(int(c)), rows, got.Column(int(c)), want)
			}
			if got.Column(int(c)).NullN() != want.NullN() {
				t.Fatalf("column %s: %d nulls, want %d", rec.ColumnName(int(c)), got.Column(int(c)).NullN(), want.NullN())
			}
			want.Release()
		}
		idx.Release()
		got.Release()
		rec.Release()
	}
}

func TestRecordPanicsOutOfRange(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := randomBatch(t, mem, rand.New(rand.NewPCG(3, 4)), 3)
	defer rec.Release()
	for _, rows := range [][]int{{3}, {-1}, {0, 1, 2, 5}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("rows %v: no panic", rows)
				}
			}()
			Record(context.Background(), mem, rec, rows)
		}()
	}
}

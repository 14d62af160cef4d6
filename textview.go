package sift

import (
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift/seg"
)

// TextView is how a stage sees the text of a row: the text column for text
// rows, and for conversation rows the contents of the selected roles. It is
// the one place that knows the layout, so every stage measures and rewrites
// the same text.
type TextView struct {
	rec   arrow.RecordBatch
	c     Cols
	roles Roles
	buf   []byte
	segs  *segCache     // words of the parts, computed on demand
	words []seg.Segment // Words' result for conversations
}

// NewTextView returns a view of rec (borrowed) that reads messages of the
// given roles. Its words are its own; a stage gets a view sharing the
// words of its batch with [Batch.TextView].
func NewTextView(rec arrow.RecordBatch, roles Roles) *TextView {
	return &TextView{rec: rec, c: ColsOf(rec), roles: roles}
}

// Cols returns the unified columns the view reads.
func (v *TextView) Cols() Cols { return v.c }

// IsConversation reports whether row is a conversation row.
func (v *TextView) IsConversation(row int) bool { return v.c.Messages.IsValid(row) }

// Text returns the text of row. For conversation rows the selected turns are
// joined with "\n". The string aliases Arrow memory or the view's buffer: it
// is valid until the next call to Text and while the batch is alive; clone
// it to keep it. A null text is "".
func (v *TextView) Text(row int) string {
	if !v.c.Messages.IsValid(row) {
		return v.c.Text.Value(row)
	}
	start, end := v.c.Messages.ValueOffsets(row)
	v.buf = v.buf[:0]
	first := true
	single := ""
	n := 0
	for i := int(start); i < int(end); i++ {
		if !v.selected(i) {
			continue
		}
		s := v.c.Content.Value(i)
		if n == 0 {
			single = s
		}
		n++
		if !first {
			v.buf = append(v.buf, '\n')
		}
		first = false
		v.buf = append(v.buf, s...)
	}
	if n <= 1 {
		return single
	}
	return unsafe.String(unsafe.SliceData(v.buf), len(v.buf))
}

// Parts calls fn for each piece of row's text: once with msg = -1 for a
// text row, or once per selected turn with its index within the
// conversation.
func (v *TextView) Parts(row int, fn func(msg int, s string)) {
	if !v.c.Messages.IsValid(row) {
		fn(-1, v.c.Text.Value(row))
		return
	}
	start, end := v.c.Messages.ValueOffsets(row)
	for i := int(start); i < int(end); i++ {
		if v.selected(i) {
			fn(i-int(start), v.c.Content.Value(i))
		}
	}
}

func (v *TextView) selected(child int) bool {
	return v.c.Role.IsValid(child) && v.roles.Has(v.c.Role.Value(child))
}

// TextBytes returns the total UTF-8 size of all text and message contents in
// rec. It costs O(1): it reads offsets only.
func TextBytes(rec arrow.RecordBatch) int64 {
	if rec == nil || rec.NumRows() == 0 {
		return 0
	}
	c := ColsOf(rec)
	to := c.Text.ValueOffsets()
	n := int64(to[len(to)-1] - to[0])
	if c.Content.Len() > 0 {
		start, _ := c.Messages.ValueOffsets(0)
		_, end := c.Messages.ValueOffsets(c.Messages.Len() - 1)
		co := c.Content.ValueOffsets()
		n += int64(co[end] - co[start])
	}
	return n
}

// RewriteFunc returns the new text of one piece of a row. msg is -1 for a
// text row, else the index of the turn within its conversation.
type RewriteFunc func(row, msg int, s string) string

// RewriteText returns rec with fn applied to the text of every text row and
// the content of every selected turn. Columns fn leaves unchanged are shared
// with rec, not copied. rec is borrowed; the result is owned by the caller.
func RewriteText(mem memory.Allocator, rec arrow.RecordBatch, roles Roles, fn RewriteFunc) arrow.RecordBatch {
	v := NewTextView(rec, roles)
	c := v.c
	n := int(rec.NumRows())

	// Rewrites rarely change sizes much: reserve the input's sizes up front.
	tb := array.NewStringBuilder(mem)
	defer tb.Release()
	to := c.Text.ValueOffsets()
	tb.Reserve(n)
	tb.ReserveData(int(to[len(to)-1] - to[0]))
	textChanged := false
	for i := 0; i < n; i++ {
		if !c.Text.IsValid(i) {
			tb.AppendNull()
			continue
		}
		old := c.Text.Value(i)
		s := old
		if !c.Messages.IsValid(i) {
			s = fn(i, -1, old)
		}
		textChanged = textChanged || s != old
		tb.Append(s)
	}

	lb := array.NewListBuilderWithField(mem, arrow.Field{Name: "item", Type: MessageType, Nullable: true})
	defer lb.Release()
	sb := lb.ValueBuilder().(*array.StructBuilder)
	rb, cb := sb.FieldBuilder(0).(*array.StringBuilder), sb.FieldBuilder(1).(*array.StringBuilder)
	if k := c.Content.Len(); k > 0 {
		ro, co := c.Role.ValueOffsets(), c.Content.ValueOffsets()
		rb.Reserve(k)
		rb.ReserveData(int(ro[len(ro)-1] - ro[0]))
		cb.Reserve(k)
		cb.ReserveData(int(co[len(co)-1] - co[0]))
	}
	msgChanged := false
	for i := 0; i < n; i++ {
		if !c.Messages.IsValid(i) {
			lb.AppendNull()
			continue
		}
		lb.Append(true)
		start, end := c.Messages.ValueOffsets(i)
		for j := int(start); j < int(end); j++ {
			sb.Append(true)
			if c.Role.IsValid(j) {
				rb.Append(c.Role.Value(j))
			} else {
				rb.AppendNull()
			}
			old := c.Content.Value(j)
			s := old
			if v.selected(j) {
				s = fn(i, j-int(start), old)
			}
			msgChanged = msgChanged || s != old
			cb.Append(s)
		}
	}

	cols := rec.Columns()
	out := make([]arrow.Array, len(cols))
	copy(out, cols)
	if textChanged {
		a := tb.NewArray()
		defer a.Release()
		out[idxText] = a
	}
	if msgChanged {
		a := lb.NewArray()
		defer a.Release()
		out[idxMessages] = a
	}
	return array.NewRecordBatch(rec.Schema(), out, int64(n))
}

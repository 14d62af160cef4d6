package dataset

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
)

// rowBuilder appends unified rows from raw bytes without string copies.
type rowBuilder struct {
	b                   *array.RecordBuilder
	id, text, src, meta *array.StringBuilder
	msgs                *array.ListBuilder
	msg                 *array.StructBuilder
	role, content       *array.StringBuilder
}

func newRowBuilder(mem memory.Allocator) *rowBuilder {
	b := array.NewRecordBuilder(mem, sift.Schema)
	lb := b.Field(2).(*array.ListBuilder)
	sb := lb.ValueBuilder().(*array.StructBuilder)
	return &rowBuilder{
		b:    b,
		id:   b.Field(0).(*array.StringBuilder),
		text: b.Field(1).(*array.StringBuilder),
		msgs: lb, msg: sb,
		role:    sb.FieldBuilder(0).(*array.StringBuilder),
		content: sb.FieldBuilder(1).(*array.StringBuilder),
		src:     b.Field(3).(*array.StringBuilder),
		meta:    b.Field(4).(*array.StringBuilder),
	}
}

// row is one record decoded from input, referencing the input's bytes.
type row struct {
	id, text, src, meta []byte
	hasText, hasSrc     bool
	msgs                []sift.Message // nil: no messages
}

func (r *row) reset() {
	*r = row{msgs: r.msgs[:0]}
	r.msgs = nil
}

func (rb *rowBuilder) append(r *row) {
	rb.id.BinaryBuilder.Append(r.id)
	appendOpt(rb.text, r.text, r.hasText)
	if r.msgs != nil {
		rb.msgs.Append(true)
		for _, m := range r.msgs {
			rb.msg.Append(true)
			rb.role.Append(m.Role)
			rb.content.Append(m.Content)
		}
	} else {
		rb.msgs.AppendNull()
	}
	appendOpt(rb.src, r.src, r.hasSrc)
	appendOpt(rb.meta, r.meta, len(r.meta) > 0)
}

func appendOpt(b *array.StringBuilder, v []byte, ok bool) {
	if !ok {
		b.AppendNull()
		return
	}
	b.BinaryBuilder.Append(v)
}

func (rb *rowBuilder) len() int { return rb.id.Len() }

func (rb *rowBuilder) batch() arrow.RecordBatch { return rb.b.NewRecordBatch() }

func (rb *rowBuilder) release() { rb.b.Release() }

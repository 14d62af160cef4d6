package sift

import (
	"fmt"
	"strings"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Names of the unified record columns, in schema order.
const (
	ColID       = "id"       // string, never null
	ColText     = "text"     // string, null for conversation rows
	ColMessages = "messages" // list<struct<role, content>>, null for text rows
	ColSource   = "source"   // string: input file or dataset name
	ColMeta     = "meta"     // JSON object text holding every unmapped input field
)

// MessageType is the Arrow type of one conversation turn.
var MessageType = arrow.StructOf(
	arrow.Field{Name: "role", Type: arrow.BinaryTypes.String},
	arrow.Field{Name: "content", Type: arrow.BinaryTypes.String},
)

// Schema is the unified record schema. Every batch in a pipeline starts with
// these five columns; stages may append more.
var Schema = arrow.NewSchema([]arrow.Field{
	{Name: ColID, Type: arrow.BinaryTypes.String},
	{Name: ColText, Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: ColMessages, Type: arrow.ListOf(MessageType), Nullable: true},
	{Name: ColSource, Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: ColMeta, Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

// Column indexes of the unified columns.
const (
	idxID = iota
	idxText
	idxMessages
	idxSource
	idxMeta
	numCore
)

// Message is one conversation turn.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Row is one unified record in plain Go form. It is the slow, convenient
// path: stages work on Arrow columns, tests and readers build Rows.
type Row struct {
	ID       string
	Text     *string   // nil for conversation rows
	Messages []Message // nil for text rows
	Source   string
	Meta     string // JSON object text, or "" for none
}

// Builder accumulates [Row]s into a record batch of [Schema].
type Builder struct {
	b                 *array.RecordBuilder
	id, text, src, mt *array.StringBuilder
	msgs              *array.ListBuilder
	msg               *array.StructBuilder
	role, content     *array.StringBuilder
	last              builderSizes // of the batch before, to reserve for the next
}

// builderSizes are the rows, messages and string bytes per column of a
// batch.
type builderSizes struct {
	rows, msgs                         int
	id, text, src, meta, role, content int
}

// NewBuilder returns a Builder that allocates from mem. Release it when done.
func NewBuilder(mem memory.Allocator) *Builder {
	rb := array.NewRecordBuilder(mem, Schema)
	lb := rb.Field(idxMessages).(*array.ListBuilder)
	sb := lb.ValueBuilder().(*array.StructBuilder)
	return &Builder{
		b:       rb,
		id:      rb.Field(idxID).(*array.StringBuilder),
		text:    rb.Field(idxText).(*array.StringBuilder),
		src:     rb.Field(idxSource).(*array.StringBuilder),
		mt:      rb.Field(idxMeta).(*array.StringBuilder),
		msgs:    lb,
		msg:     sb,
		role:    sb.FieldBuilder(0).(*array.StringBuilder),
		content: sb.FieldBuilder(1).(*array.StringBuilder),
	}
}

// RawRow is a [Row] whose strings are bytes, for readers that decode into
// reused buffers. HasText and HasSource tell an empty string from a null; an
// empty Meta is null.
type RawRow struct {
	ID, Text, Source, Meta []byte
	HasText, HasSource     bool
	Messages               []Message // nil for text rows
}

// Append adds r.
func (b *Builder) Append(r Row) {
	raw := RawRow{ID: bytesOf(r.ID), Source: bytesOf(r.Source), HasSource: r.Source != "", Meta: bytesOf(r.Meta), Messages: r.Messages}
	if r.Text != nil {
		raw.Text, raw.HasText = bytesOf(*r.Text), true
	}
	b.AppendRaw(&raw)
}

// bytesOf views s as bytes without copying; AppendRaw only reads them.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// AppendRaw adds r, copying its bytes.
func (b *Builder) AppendRaw(r *RawRow) {
	if b.last.rows > 0 && b.id.Len() == 0 {
		b.reserve(b.last)
		b.last = builderSizes{}
	}
	b.id.BinaryBuilder.Append(r.ID)
	appendOpt(b.text, r.Text, r.HasText)
	if r.Messages != nil {
		b.msgs.Append(true)
		for _, m := range r.Messages {
			b.msg.Append(true)
			b.role.Append(m.Role)
			b.content.Append(m.Content)
		}
	} else {
		b.msgs.AppendNull()
	}
	appendOpt(b.src, r.Source, r.HasSource)
	appendOpt(b.mt, r.Meta, len(r.Meta) > 0)
}

func appendOpt(b *array.StringBuilder, v []byte, ok bool) {
	if !ok {
		b.AppendNull()
		return
	}
	b.BinaryBuilder.Append(v)
}

// Len is the number of rows appended since the last NewBatch.
func (b *Builder) Len() int { return b.id.Len() }

// NewBatch returns the rows appended so far as a batch owned by the caller
// and resets the builder. The next batch starts with room for as much as
// this one held, so its buffers do not grow (copy and clear) step by step.
func (b *Builder) NewBatch() arrow.RecordBatch {
	b.last = builderSizes{rows: b.id.Len(), msgs: b.content.Len(), id: b.id.DataLen(), text: b.text.DataLen(),
		src: b.src.DataLen(), meta: b.mt.DataLen(), role: b.role.DataLen(), content: b.content.DataLen()}
	return b.b.NewRecordBatch()
}

// ReserveLike makes room for rows like those of rec: as many, with as many
// messages and bytes per column, and meta's bytes again for the messages,
// into which normalization moves fields of meta. A stage building a new
// batch from its input calls it first, so that the buffers do not grow
// (copy and clear) step by step.
func (b *Builder) ReserveLike(rec arrow.RecordBatch) {
	c := ColsOf(rec)
	size := func(a *array.String) int {
		if a.Len() == 0 {
			return 0
		}
		o := a.ValueOffsets()
		return int(o[len(o)-1] - o[0])
	}
	s := builderSizes{rows: int(rec.NumRows()), id: size(c.ID), text: size(c.Text), src: size(c.Source), meta: size(c.Meta)}
	if s.rows > 0 {
		start, _ := c.Messages.ValueOffsets(0)
		_, end := c.Messages.ValueOffsets(s.rows - 1)
		s.msgs = int(end - start)
		ro, co := c.Role.ValueOffsets(), c.Content.ValueOffsets()
		s.role, s.content = int(ro[end]-ro[start]), int(co[end]-co[start])+s.meta
	}
	b.reserve(s)
}

// reserve makes room for s more, plus an eighth for a slightly larger
// batch.
func (b *Builder) reserve(s builderSizes) {
	more := func(n int) int { return n + n/8 }
	for _, x := range []struct {
		b       *array.StringBuilder
		n, data int
	}{{b.id, s.rows, s.id}, {b.text, s.rows, s.text}, {b.src, s.rows, s.src}, {b.mt, s.rows, s.meta},
		{b.role, s.msgs, s.role}, {b.content, s.msgs, s.content}} {
		x.b.Reserve(more(x.n))
		x.b.ReserveData(more(x.data))
	}
	b.msgs.Reserve(more(s.rows))
	b.msg.Reserve(more(s.msgs))
}

// Release frees the builder's buffers.
func (b *Builder) Release() { b.b.Release() }

// Cols gives typed access to the unified columns of a batch. The arrays are
// borrowed from the batch and valid while it is.
type Cols struct {
	ID, Text, Source, Meta *array.String
	Messages               *array.List
	Role, Content          *array.String // children of Messages
}

// ColsOf returns the unified columns of rec.
// It panics if rec does not start with [Schema]'s columns.
func ColsOf(rec arrow.RecordBatch) Cols {
	if rec.NumCols() < numCore {
		panic(fmt.Sprintf("sift: batch has %d columns, want the %d unified ones first", rec.NumCols(), numCore))
	}
	for i, f := range Schema.Fields() {
		if g := rec.Schema().Field(i); g.Name != f.Name || !arrow.TypeEqual(g.Type, f.Type) {
			panic(fmt.Sprintf("sift: column %d is %s %s, want %s %s", i, g.Name, g.Type, f.Name, f.Type))
		}
	}
	l := rec.Column(idxMessages).(*array.List)
	st := l.ListValues().(*array.Struct)
	return Cols{
		ID:       rec.Column(idxID).(*array.String),
		Text:     rec.Column(idxText).(*array.String),
		Source:   rec.Column(idxSource).(*array.String),
		Meta:     rec.Column(idxMeta).(*array.String),
		Messages: l,
		Role:     st.Field(0).(*array.String),
		Content:  st.Field(1).(*array.String),
	}
}

// Roles is a set of conversation roles, used to choose which turns of a
// conversation a stage reads or rewrites.
type Roles uint8

// The conversation roles of the unified record.
const (
	RoleSystem Roles = 1 << iota
	RoleUser
	RoleAssistant
	RoleTool
	AllRoles = RoleSystem | RoleUser | RoleAssistant | RoleTool
)

var roleNames = [...]string{"system", "user", "assistant", "tool"}

// RoleOf returns the single-role set for name, or 0 if name is not a role.
func RoleOf(name string) Roles {
	for i, n := range roleNames {
		if n == name {
			return 1 << i
		}
	}
	return 0
}

// ParseRoles parses role names into a set. An empty list gives def.
func ParseRoles(names []string, def Roles) (Roles, error) {
	if len(names) == 0 {
		return def, nil
	}
	var r Roles
	for _, n := range names {
		x := RoleOf(n)
		if x == 0 {
			return 0, fmt.Errorf("unknown role %q (want one of %s)", n, strings.Join(roleNames[:], ", "))
		}
		r |= x
	}
	return r, nil
}

// Has reports whether the set holds the role called name.
func (r Roles) Has(name string) bool { return r&RoleOf(name) != 0 }

// Names lists the roles in the set.
func (r Roles) Names() []string {
	var out []string
	for i, n := range roleNames {
		if r&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

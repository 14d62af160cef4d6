package sift

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
//
// It does not use Arrow's builders: those grow their buffers by doubling
// and clear every byte they grow into (twice, with the Go allocator), which
// cost a reader more than parsing. A Builder appends string bytes straight
// into Arrow buffers, first sized like the same column of the last batch
// (or as [Builder.ReserveLike] asks), and NewBatch hands them to the batch
// without a copy; offsets and validity go into Go slices reused from batch
// to batch, and are copied. Appending more than 2 GiB to one string column
// of a batch panics: Arrow strings have 32-bit offsets.
type Builder struct {
	mem memory.Allocator
	*builderCols
}

// builderCols are a Builder's slices, pooled: a stage makes a Builder per
// batch, and would otherwise grow (and clear) new slices each time.
type builderCols struct {
	id, text, src, meta strCol
	msgs                listCol // offsets into role and content
	msg                 bitCol  // validity of the message structs
	role, content       strCol
}

var builderPool = sync.Pool{New: func() any { return new(builderCols) }}

// strCols returns the string columns.
func (c *builderCols) strCols() []*strCol {
	return []*strCol{&c.id, &c.text, &c.src, &c.meta, &c.role, &c.content}
}

// reset empties the columns, keeping the memory of their Go slices.
func (c *builderCols) reset() {
	for _, s := range c.strCols() {
		s.reset()
	}
	c.msgs.offsets = c.msgs.offsets[:0]
	c.msgs.valid.reset()
	c.msg.reset()
}

// strCol is a string column being built.
type strCol struct {
	mem     memory.Allocator
	offsets []int32        // one per value, plus the first 0
	data    *memory.Buffer // the values, from mem; nil until the first value of a batch
	n       int            // bytes of data used
	last    int            // bytes of the last batch, the first guess for the next
	hint    int            // bytes ReserveLike asked for, allocated with the first value
	valid   bitCol
}

// listCol is the list column being built.
type listCol struct {
	offsets []int32
	valid   bitCol
}

// bitCol is a validity bitmap being built.
type bitCol struct {
	bits  []byte
	n     int
	nulls int
}

func (c *bitCol) append(ok bool) {
	if c.n%8 == 0 {
		c.bits = append(c.bits, 0)
	}
	if ok {
		c.bits[c.n/8] |= 1 << (c.n % 8)
	} else {
		c.nulls++
	}
	c.n++
}

func (c *bitCol) reset() { c.bits, c.n, c.nulls = c.bits[:0], 0, 0 }

func (c *strCol) append(v []byte) {
	if len(c.offsets) == 0 {
		c.offsets = append(c.offsets, 0)
	}
	if c.n+len(v) > math.MaxInt32 {
		panic("sift: a string column of one batch passed 2 GiB (Arrow's 32-bit offsets); use a smaller batch size")
	}
	if c.data == nil || c.n+len(v) > c.data.Cap() {
		c.reserve(len(v))
	}
	c.n += copy(c.data.Buf()[c.n:], v)
	c.offsets = append(c.offsets, int32(c.n))
	c.valid.append(true)
}

// reserve makes room for size more bytes: at least the last batch's
// bytes, and at least double when it grows, as append does, so that a
// batch larger than the last grows its buffer a few times only.
func (c *strCol) reserve(size int) {
	if c.data == nil {
		c.data = memory.NewResizableBuffer(c.mem)
		c.data.Reserve(max(c.n+size, c.hint, c.last, 4096))
		return
	}
	if c.n+size > c.data.Cap() {
		c.data.Reserve(max(c.n+size, 2*c.data.Cap()))
	}
}

func (c *strCol) appendNull() {
	if len(c.offsets) == 0 {
		c.offsets = append(c.offsets, 0)
	}
	c.offsets = append(c.offsets, int32(c.n))
	c.valid.append(false)
}

// reset empties the column, releasing values not handed to a batch.
func (c *strCol) reset() {
	if c.data != nil {
		c.data.Release()
		c.data = nil
	}
	c.offsets, c.n, c.hint = c.offsets[:0], 0, 0
	c.valid.reset()
}

// grow makes room for n more values of size bytes in all. The bytes are
// allocated with the first value that is not null: a column left all null
// allocates none.
func (c *strCol) grow(n, size int) {
	c.offsets = slices.Grow(c.offsets, n+1)
	if c.data == nil {
		c.hint = max(c.hint, c.n+size)
	} else {
		c.reserve(size)
	}
	c.valid.bits = slices.Grow(c.valid.bits, n/8+1)
}

// newBuffer returns a buffer from mem holding a copy of b.
func newBuffer(mem memory.Allocator, b []byte) *memory.Buffer {
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(len(b))
	copy(buf.Bytes(), b)
	return buf
}

// bitmap returns the validity buffer, or nil when every value is valid.
func (c *bitCol) bitmap(mem memory.Allocator) *memory.Buffer {
	if c.nulls == 0 {
		return nil
	}
	return newBuffer(mem, c.bits)
}

func releaseBuffers(bufs []*memory.Buffer) {
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
}

// data returns the column as Arrow array data owned by the caller.
func (c *strCol) arrayData(mem memory.Allocator) arrow.ArrayData {
	if len(c.offsets) == 0 {
		c.offsets = append(c.offsets, 0)
	}
	if c.data == nil {
		c.data = memory.NewResizableBuffer(mem)
	}
	c.data.ResizeNoShrink(c.n)
	c.last, c.hint = c.n, 0
	bufs := []*memory.Buffer{c.valid.bitmap(mem), newBuffer(mem, arrow.Int32Traits.CastToBytes(c.offsets)), c.data}
	c.data = nil // the batch's now
	defer releaseBuffers(bufs)
	return array.NewData(arrow.BinaryTypes.String, c.valid.n, bufs, nil, c.valid.nulls, 0)
}

// NewBuilder returns a Builder whose batches allocate from mem. Release it
// when done.
func NewBuilder(mem memory.Allocator) *Builder {
	c := builderPool.Get().(*builderCols)
	for _, s := range c.strCols() {
		s.mem = mem
	}
	return &Builder{mem, c}
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
	b.id.append(r.ID)
	appendOpt(&b.text, r.Text, r.HasText)
	if len(b.msgs.offsets) == 0 {
		b.msgs.offsets = append(b.msgs.offsets, 0)
	}
	if r.Messages != nil {
		for _, m := range r.Messages {
			b.msg.append(true)
			b.role.append(bytesOf(m.Role))
			b.content.append(bytesOf(m.Content))
		}
	}
	b.msgs.offsets = append(b.msgs.offsets, int32(b.msg.n))
	b.msgs.valid.append(r.Messages != nil)
	appendOpt(&b.src, r.Source, r.HasSource)
	appendOpt(&b.meta, r.Meta, len(r.Meta) > 0)
}

func appendOpt(c *strCol, v []byte, ok bool) {
	if !ok {
		c.appendNull()
		return
	}
	c.append(v)
}

// Len is the number of rows appended since the last NewBatch.
func (b *Builder) Len() int { return b.id.valid.n }

// NewBatch returns the rows appended so far as a batch owned by the caller
// and resets the builder, which keeps its memory for the next batch.
func (b *Builder) NewBatch() arrow.RecordBatch {
	mem := b.mem
	role, content := b.role.arrayData(mem), b.content.arrayData(mem)
	defer role.Release()
	defer content.Release()
	msg := array.NewData(MessageType, b.msg.n, []*memory.Buffer{b.msg.bitmap(mem)}, []arrow.ArrayData{role, content}, b.msg.nulls, 0)
	defer msg.Release()
	if len(b.msgs.offsets) == 0 {
		b.msgs.offsets = append(b.msgs.offsets, 0)
	}
	lbufs := []*memory.Buffer{b.msgs.valid.bitmap(mem), newBuffer(mem, arrow.Int32Traits.CastToBytes(b.msgs.offsets))}
	msgs := array.NewData(Schema.Field(idxMessages).Type, b.msgs.valid.n, lbufs, []arrow.ArrayData{msg}, b.msgs.valid.nulls, 0)
	releaseBuffers(lbufs)
	defer msgs.Release()
	cols := make([]arrow.Array, numCore)
	for i, d := range []arrow.ArrayData{idxID: b.id.arrayData(mem), idxText: b.text.arrayData(mem), idxMessages: msgs,
		idxSource: b.src.arrayData(mem), idxMeta: b.meta.arrayData(mem)} {
		cols[i] = array.MakeFromData(d)
		if i != idxMessages {
			d.Release()
		}
	}
	n := int64(b.Len())
	rec := array.NewRecordBatch(Schema, cols, n)
	for _, c := range cols {
		c.Release()
	}
	b.reset()
	return rec
}

// ReserveLike makes room for rows like those of rec: as many, with as many
// messages and bytes per column, and meta's bytes again for the messages,
// into which normalization moves fields of meta. A stage building a new
// batch from its input calls it first, so that the buffers do not grow
// step by step.
func (b *Builder) ReserveLike(rec arrow.RecordBatch) {
	c := ColsOf(rec)
	size := func(a *array.String) int {
		if a.Len() == 0 {
			return 0
		}
		o := a.ValueOffsets()
		return int(o[len(o)-1] - o[0])
	}
	rows := int(rec.NumRows())
	b.id.grow(rows, size(c.ID))
	b.text.grow(rows, size(c.Text))
	b.src.grow(rows, size(c.Source))
	b.meta.grow(rows, size(c.Meta))
	b.msgs.offsets = slices.Grow(b.msgs.offsets, rows+1)
	b.msgs.valid.bits = slices.Grow(b.msgs.valid.bits, rows/8+1)
	if rows > 0 {
		start, _ := c.Messages.ValueOffsets(0)
		_, end := c.Messages.ValueOffsets(rows - 1)
		n := int(end - start)
		ro, co := c.Role.ValueOffsets(), c.Content.ValueOffsets()
		b.role.grow(n, int(ro[end]-ro[start]))
		b.content.grow(n, int(co[end]-co[start])+size(c.Meta))
		b.msg.bits = slices.Grow(b.msg.bits, n/8+1)
	}
}

// Release hands the builder's memory on to the next Builder (rows not yet
// taken by NewBatch are dropped). The builder must not be used after.
func (b *Builder) Release() {
	if b.builderCols == nil {
		return
	}
	b.reset()
	for _, s := range b.strCols() {
		s.mem = nil // not to keep the allocator alive in the pool
	}
	builderPool.Put(b.builderCols)
	b.builderCols = nil
}

// Cols gives typed access to the unified columns of a batch. The arrays are
// borrowed from the batch and valid while it is.
type Cols struct {
	ID, Text, Source, Meta *array.String
	Messages               *array.List
	Role, Content          *array.String // children of Messages
}

// checkedSchema is the schema ColsOf last found to start with [Schema]'s
// columns. Rows are often read one at a time through ColsOf (reject
// records, JSON lines), and checking every field each time (Fields copies
// them) was most of the cost of a reject.
var checkedSchema atomic.Pointer[arrow.Schema]

// ColsOf returns the unified columns of rec.
// It panics if rec does not start with [Schema]'s columns.
func ColsOf(rec arrow.RecordBatch) Cols {
	if sc := rec.Schema(); checkedSchema.Load() != sc {
		if rec.NumCols() < numCore {
			panic(fmt.Sprintf("sift: batch has %d columns, want the %d unified ones first", rec.NumCols(), numCore))
		}
		for i, f := range Schema.Fields() {
			if g := sc.Field(i); g.Name != f.Name || !arrow.TypeEqual(g.Type, f.Type) {
				panic(fmt.Sprintf("sift: column %d is %s %s, want %s %s", i, g.Name, g.Type, f.Name, f.Type))
			}
		}
		checkedSchema.Store(sc)
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

package dataset

import (
	"encoding/binary"
	"fmt"
)

// arrow-go (v18.8.0) decodes Arrow IPC flatbuffers without verifying them:
// a vector length read from a damaged footer or message becomes a make of
// that many fields, and an offset that wraps around 2³² makes a cycle the
// schema decoder recurses into forever. Both are runtime fatal errors, not
// panics, so no recover can stop them. The checks below walk the footer,
// schema and message tables arrow-go reads, field by field, before it reads
// them: every table, vtable, string and vector must lie inside the buffer,
// offsets go forward, nesting is at most maxFieldDepth deep, and no more
// tables are visited than the buffer could hold, so shared subtrees cannot
// multiply the work. Only the fields arrow-go reads are checked; the slot
// numbers are those of Arrow's Schema.fbs, Message.fbs and File.fbs.

// maxFieldDepth bounds the nesting of a schema's fields; arrow-go's array
// loader refuses deeper nesting (kMaxNestingDepth) too.
const maxFieldDepth = 64

// ipcBlock is a record batch or dictionary entry of an IPC file's footer.
type ipcBlock struct {
	offset int64
	meta   int32
	body   int64
}

// fbCheck walks one flatbuffer; the first problem found is kept in err and
// makes every later step a no-op.
type fbCheck struct {
	b      []byte
	budget int // tables that may still be visited
	err    error
}

func newFBCheck(b []byte) *fbCheck {
	// A table is at least its 4-byte vtable offset, and every visit of a
	// table in a tree is reached through its own 4-byte reference.
	return &fbCheck{b: b, budget: len(b)/4 + 1}
}

func (c *fbCheck) fail(format string, a ...any) {
	if c.err == nil {
		c.err = fmt.Errorf(format, a...)
	}
}

func (c *fbCheck) u32(p int) int { return int(binary.LittleEndian.Uint32(c.b[p:])) }
func (c *fbCheck) u16(p int) int { return int(binary.LittleEndian.Uint16(c.b[p:])) }

// fbTable is a checked table: its position, its vtable and their sizes.
type fbTable struct{ pos, vt, vtLen, size int }

// table checks the table at pos; ok is false if it is not whole.
func (c *fbCheck) table(pos int) (t fbTable, ok bool) {
	if c.err != nil {
		return t, false
	}
	if c.budget--; c.budget < 0 {
		c.fail("more tables than the %d-byte buffer can hold", len(c.b))
		return t, false
	}
	if pos < 0 || pos > len(c.b)-4 {
		c.fail("table at %d is outside the %d-byte buffer", pos, len(c.b))
		return t, false
	}
	vt := pos - int(int32(binary.LittleEndian.Uint32(c.b[pos:])))
	if vt < 0 || vt > len(c.b)-4 {
		c.fail("vtable of the table at %d is outside the buffer", pos)
		return t, false
	}
	t = fbTable{pos: pos, vt: vt, vtLen: c.u16(vt), size: c.u16(vt + 2)}
	if t.vtLen < 4 || t.vtLen%2 != 0 || t.vtLen > len(c.b)-vt || t.size < 4 || t.size > len(c.b)-pos {
		c.fail("table at %d has a damaged vtable", pos)
		return t, false
	}
	return t, true
}

// field returns the position of the field in vtable slot (4, 6, …) of t
// after checking that its n bytes lie inside the table, or 0 if the field
// is absent or damaged.
func (c *fbCheck) field(t fbTable, slot, n int) int {
	if c.err != nil || slot+2 > t.vtLen {
		return 0
	}
	o := c.u16(t.vt + slot)
	if o == 0 {
		return 0
	}
	if o < 4 || o+n > t.size {
		c.fail("field %d of the table at %d lies outside it", slot, t.pos)
		return 0
	}
	return t.pos + o
}

// scalar reads the unsigned little-endian field of n bytes (1, 2 or 4) in
// slot, or 0 if it is absent.
func (c *fbCheck) scalar(t fbTable, slot, n int) int {
	p := c.field(t, slot, n)
	if p == 0 {
		return 0
	}
	switch n {
	case 1:
		return int(c.b[p])
	case 2:
		return c.u16(p)
	}
	return c.u32(p)
}

// follow returns where the offset stored at p points. Offsets only go
// forward; arrow-go adds them in 32 bits, so one that wraps would point
// backwards and could make a cycle.
func (c *fbCheck) follow(p int) int {
	q := p + c.u32(p)
	if q <= p || q > len(c.b)-4 {
		c.fail("offset at %d points outside the buffer", p)
		return 0
	}
	return q
}

// ref returns the position of the table, string or vector slot refers
// to, or 0 if it is absent or damaged.
func (c *fbCheck) ref(t fbTable, slot int) int {
	p := c.field(t, slot, 4)
	if p == 0 {
		return 0
	}
	return c.follow(p)
}

// vector checks the vector in slot, of n elements of elem bytes each, and
// returns the position of its first element.
func (c *fbCheck) vector(t fbTable, slot, elem int) (start, n int) {
	q := c.ref(t, slot)
	if q == 0 {
		return 0, 0
	}
	n, start = c.u32(q), q+4
	if n < 0 || n > (len(c.b)-start)/elem {
		c.fail("vector at %d declares %d elements of %d bytes, more than the buffer holds", q, n, elem)
		return 0, 0
	}
	return start, n
}

// tables checks the vector of tables in slot and each table with check.
func (c *fbCheck) tables(t fbTable, slot int, check func(fbTable)) {
	start, n := c.vector(t, slot, 4)
	for i := 0; i < n && c.err == nil; i++ {
		if e, ok := c.table(c.follow(start + 4*i)); ok {
			check(e)
		}
	}
}

// sub checks the table slot refers to, if present, with check.
func (c *fbCheck) sub(t fbTable, slot int, check func(fbTable)) {
	if q := c.ref(t, slot); q != 0 {
		if s, ok := c.table(q); ok {
			check(s)
		}
	}
}

func (c *fbCheck) keyValues(t fbTable, slot int) {
	c.tables(t, slot, func(kv fbTable) {
		c.vector(kv, 4, 1) // key
		c.vector(kv, 6, 1) // value
	})
}

func (c *fbCheck) schema(s fbTable) {
	c.field(s, 4, 2) // endianness
	c.tables(s, 6, func(f fbTable) { c.fieldTable(f, 0) })
	c.keyValues(s, 8)
	c.vector(s, 10, 8) // features
}

// typeFields lists the scalar fields (vtable slot, size) of each Type
// union member arrow-go reads, by Type number; members not listed are
// empty tables.
var typeFields = map[int][][2]int{
	2:  {{4, 4}, {6, 1}},         // Int: bitWidth, is_signed
	3:  {{4, 2}},                 // FloatingPoint: precision
	7:  {{4, 4}, {6, 4}, {8, 4}}, // Decimal: precision, scale, bitWidth
	8:  {{4, 2}},                 // Date: unit
	9:  {{4, 2}, {6, 4}},         // Time: unit, bitWidth
	10: {{4, 2}},                 // Timestamp: unit (timezone below)
	11: {{4, 2}},                 // Interval: unit
	14: {{4, 2}},                 // Union: mode (typeIds below)
	15: {{4, 4}},                 // FixedSizeBinary: byteWidth
	16: {{4, 4}},                 // FixedSizeList: listSize
	17: {{4, 1}},                 // Map: keysSorted
	18: {{4, 2}},                 // Duration: unit
}

// maxType is the largest Type number arrow-go knows (LargeListView); it
// panics on larger ones.
const maxType = 26

func (c *fbCheck) fieldTable(f fbTable, depth int) {
	if depth >= maxFieldDepth {
		c.fail("fields nest more than %d deep", maxFieldDepth)
		return
	}
	c.vector(f, 4, 1) // name
	c.field(f, 6, 1)  // nullable
	typ := c.scalar(f, 8, 1)
	if typ > maxType {
		c.fail("field at %d has unknown type %d", f.pos, typ)
		return
	}
	c.sub(f, 10, func(ty fbTable) {
		for _, sf := range typeFields[typ] {
			c.field(ty, sf[0], sf[1])
		}
		switch typ {
		case 10:
			c.vector(ty, 6, 1) // timezone
		case 14:
			c.vector(ty, 6, 4) // typeIds
		}
	})
	c.sub(f, 12, func(d fbTable) { // dictionary
		c.field(d, 4, 8) // id
		c.sub(d, 6, func(it fbTable) {
			c.field(it, 4, 4)
			c.field(it, 6, 1)
		})
		c.field(d, 8, 1)  // isOrdered
		c.field(d, 10, 2) // dictionaryKind
	})
	c.tables(f, 14, func(ch fbTable) { c.fieldTable(ch, depth+1) })
	c.keyValues(f, 16)
}

// recordBatch checks a RecordBatch table whose message body is bodyLen
// bytes: every buffer must lie in the body, or arrow-go panics slicing it
// and leaks the buffers it has already taken.
func (c *fbCheck) recordBatch(r fbTable, bodyLen int64) {
	c.field(r, 4, 8)   // length
	c.vector(r, 6, 16) // nodes
	compressed := false
	c.sub(r, 10, func(bc fbTable) {
		compressed = true
		c.field(bc, 4, 1) // codec
		c.field(bc, 6, 1) // method
	})
	start, n := c.vector(r, 8, 16) // buffers
	for i := 0; i < n && c.err == nil; i++ {
		off := int64(binary.LittleEndian.Uint64(c.b[start+16*i:]))
		size := int64(binary.LittleEndian.Uint64(c.b[start+16*i+8:]))
		if off < 0 || size < 0 || off > bodyLen || size > bodyLen-off || compressed && size > 0 && size < 8 {
			c.fail("buffer %d (offset %d, %d bytes) is not inside the %d-byte body", i, off, size, bodyLen)
		}
	}
	c.vector(r, 12, 8) // variadicBufferCounts
}

func (c *fbCheck) root() (fbTable, bool) {
	if len(c.b) < 8 {
		c.fail("%d bytes are too few for a flatbuffer", len(c.b))
		return fbTable{}, false
	}
	return c.table(c.u32(0))
}

// Message header types, as in Message.fbs.
const (
	msgSchema          = 1
	msgDictionaryBatch = 2
	msgRecordBatch     = 3
)

// checkMessage checks the metadata flatbuffer of an IPC message before
// arrow-go decodes it, and returns its header type and body length.
func checkMessage(b []byte) (typ int, bodyLen int64, err error) {
	c := newFBCheck(b)
	m, ok := c.root()
	if ok {
		c.field(m, 4, 2) // version
		typ = c.scalar(m, 6, 1)
		if p := c.field(m, 10, 8); p != 0 {
			bodyLen = int64(binary.LittleEndian.Uint64(b[p:]))
		}
		c.keyValues(m, 12)
		q := c.ref(m, 8)
		if q == 0 {
			c.fail("message has no header")
		}
		h, _ := c.table(q)
		switch {
		case c.err != nil:
		case typ == msgSchema:
			c.schema(h)
		case typ == msgDictionaryBatch:
			c.field(h, 4, 8) // id
			c.sub(h, 6, func(r fbTable) { c.recordBatch(r, bodyLen) })
			c.field(h, 8, 1) // isDelta
		case typ == msgRecordBatch:
			c.recordBatch(h, bodyLen)
		default:
			c.fail("message type %d is not a schema, dictionary or record batch", typ)
		}
	}
	if c.err != nil {
		return 0, 0, fmt.Errorf("damaged IPC message metadata: %w", c.err)
	}
	return typ, bodyLen, nil
}

// checkFooter checks an IPC file's footer flatbuffer, schema included,
// before arrow-go decodes it, and returns its dictionary and record batch
// blocks.
func checkFooter(b []byte) (dicts, batches []ipcBlock, err error) {
	c := newFBCheck(b)
	blocks := func(t fbTable, slot int) []ipcBlock {
		start, n := c.vector(t, slot, 24)
		bs := make([]ipcBlock, n)
		for i := range bs {
			p := start + 24*i
			bs[i] = ipcBlock{
				offset: int64(binary.LittleEndian.Uint64(b[p:])),
				meta:   int32(binary.LittleEndian.Uint32(b[p+8:])),
				body:   int64(binary.LittleEndian.Uint64(b[p+16:])),
			}
		}
		return bs
	}
	if f, ok := c.root(); ok {
		c.field(f, 4, 2) // version
		c.sub(f, 6, c.schema)
		if c.ref(f, 6) == 0 {
			c.fail("footer has no schema")
		}
		dicts = blocks(f, 8)
		batches = blocks(f, 10)
		c.keyValues(f, 12)
	}
	if c.err != nil {
		return nil, nil, fmt.Errorf("damaged IPC file footer: %w", c.err)
	}
	return dicts, batches, nil
}

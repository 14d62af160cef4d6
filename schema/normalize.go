package schema

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/internal/jsontext"
	"github.com/xeipuuv/gojsonschema"
)

// JSONSchema is the unified record as a JSON Schema (draft 7): an id,
// exactly one of text or messages, an optional source and a meta object.
// [ArrowSchema] is the same record as Arrow columns.
//
//go:embed unified.schema.json
var JSONSchema []byte

// ArrowSchema is the Arrow form of [JSONSchema]: it is [sift.Schema], where
// meta is JSON object text and messages is list<struct<role, content>>.
var ArrowSchema = sift.Schema

var unifiedSchema = sync.OnceValue(func() *gojsonschema.Schema {
	s, err := gojsonschema.NewSchema(gojsonschema.NewBytesLoader(JSONSchema))
	if err != nil {
		panic("schema: embedded unified.schema.json: " + err.Error())
	}
	return s
})

// Normalizer is stage normalize. It maps each row, as the reader read it,
// from its input format to the unified record, applies the text options,
// and validates the result against [JSONSchema] and an optional user
// schema. Rows it cannot map or that fail validation are rejected with one
// of the Reason constants. It is stateless and safe for concurrent use.
//
// Normalize reads the row's original fields: id, text, messages and source
// as the reader mapped them, and the members of meta. Columns appended by
// earlier stages are kept unchanged.
type Normalizer struct {
	format  Format
	mapping *Mapping
	mapper  mapper
	opts    TextOptions
	text    textNorm
	user    []byte
	userSch *gojsonschema.Schema
}

var _ sift.Stage = (*Normalizer)(nil)

// Option configures a [Normalizer].
type Option func(*Normalizer)

// WithFormat forces every record to be read as f (default [Auto]).
func WithFormat(f Format) Option { return func(n *Normalizer) { n.format = f } }

// WithMapping reads every record with the dotted paths of m (format
// [Custom]).
func WithMapping(m Mapping) Option { return func(n *Normalizer) { n.mapping = &m } }

// WithText sets the text normalization options (default [DefaultText]).
func WithText(o TextOptions) Option { return func(n *Normalizer) { n.opts = o } }

// WithUserSchema adds a JSON Schema that every normalized record must also
// match, for domain rules such as required meta fields, maximum lengths or
// a required assistant turn. It sees the record as [JSONSchema] describes
// it, with meta as an object.
func WithUserSchema(schemaJSON []byte) Option { return func(n *Normalizer) { n.user = schemaJSON } }

// NewNormalizer returns a normalize stage. Configuration errors name the
// option's recipe field.
func NewNormalizer(opts ...Option) (*Normalizer, error) {
	n := &Normalizer{format: Auto, opts: DefaultText}
	for _, o := range opts {
		o(n)
	}
	var err error
	if n.text, err = newTextNorm(n.opts); err != nil {
		return nil, err
	}
	switch {
	case n.mapping != nil:
		if n.format != Auto && n.format != Custom {
			return nil, fmt.Errorf("format: %q conflicts with mapping (use auto or custom)", n.format)
		}
		n.format = Custom
		m := *n.mapping
		if err := m.check(); err != nil {
			return nil, err
		}
		n.mapping = &m
		n.mapper = customMapper(m)
	case n.format == Custom:
		return nil, fmt.Errorf("format: custom needs a mapping")
	case n.format != Auto:
		if !isInput(n.format) {
			return nil, fmt.Errorf("format: %q is not one of auto, %s, custom", n.format, joinFormats(inputFormats))
		}
		n.mapper = mapperFor(n.format)
	}
	if n.user != nil {
		s, err := gojsonschema.NewSchema(gojsonschema.NewBytesLoader(n.user))
		if err != nil {
			return nil, fmt.Errorf("schema: %w", err)
		}
		n.userSch = s
	}
	unifiedSchema()
	return n, nil
}

func isInput(f Format) bool {
	for _, g := range inputFormats {
		if f == g {
			return true
		}
	}
	return false
}

func joinFormats(fs []Format) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = string(f)
	}
	return strings.Join(s, ", ")
}

// Process normalizes b.Rec (borrowed); the result is owned by the caller.
// It counts rows per input format as "format.<name>" and rows whose text
// the options changed as "text_changed".
func (n *Normalizer) Process(ctx context.Context, b *sift.Batch) (arrow.RecordBatch, error) {
	c := sift.ColsOf(b.Rec)
	rows := int(b.Rec.NumRows())
	norm := make([]sift.Row, rows)
	// The text column, most of a batch's bytes, is passed on as it is
	// when no kept row's text changed, as is usual: rows whose text is
	// their input's, and conversions into messages that leave text null.
	sameText := true
	for i := range rows {
		r, f, changed, err := n.row(c, i)
		if err != nil {
			b.Reject(i, err.reason, err.detail)
			norm[i] = sift.Row{ID: c.ID.Value(i)} // a placeholder, dropped by Keep
			continue
		}
		b.Count("format."+string(f), 1)
		if changed {
			b.Count("text_changed", 1)
		}
		norm[i] = r
		sameText = sameText && (r.Text == nil) == !c.Text.IsValid(i) && (r.Text == nil || *r.Text == c.Text.Value(i))
	}
	bld := sift.NewBuilder(b.Mem)
	defer bld.Release()
	bld.ReserveLike(b.Rec)
	for _, r := range norm {
		if sameText {
			r.Text = nil // the input's column stands in for it
		}
		bld.Append(r)
	}
	core := bld.NewBatch()
	defer core.Release()
	cols := append(append([]arrow.Array(nil), core.Columns()...), b.Rec.Columns()[len(core.Columns()):]...)
	if sameText {
		cols[textColumn] = c.Text
	}
	out := array.NewRecordBatch(b.Rec.Schema(), cols, int64(rows))
	defer out.Release()
	return b.Keep(ctx, out)
}

// textColumn is the index of the text column in a batch.
var textColumn = sift.Schema.FieldIndices(sift.ColText)[0]

// fields returns the members of row's original object, except id and
// source, in the order id, text, messages, source, meta members.
func fields(c sift.Cols, i int) ([]field, *rowError) {
	var fs []field
	if c.Text.IsValid(i) {
		s := c.Text.Value(i)
		fs = append(fs, field{"text", value{str: &s}})
	}
	if c.Messages.IsValid(i) {
		start, end := c.Messages.ValueOffsets(i)
		msgs := make([]sift.Message, 0, end-start)
		for j := int(start); j < int(end); j++ {
			msgs = append(msgs, sift.Message{Role: c.Role.Value(j), Content: c.Content.Value(j)})
		}
		fs = append(fs, field{"messages", value{msgs: msgs}})
	}
	if c.Meta.IsValid(i) {
		meta := c.Meta.Value(i) // aliases the column: parseObject's values are copied before the batch goes
		m, err := parseObject(unsafe.Slice(unsafe.StringData(meta), len(meta)))
		if err != nil {
			return nil, rejectf(ReasonBadJSON, "meta: %v", err)
		}
		fs = append(fs, m...)
	}
	if dup := duplicate(fs); dup != "" {
		return nil, rejectf(ReasonDuplicateKey, "key %q twice", dup)
	}
	return fs, nil
}

// row normalizes row i.
func (n *Normalizer) row(c sift.Cols, i int) (r sift.Row, f Format, changed bool, err *rowError) {
	r = sift.Row{ID: c.ID.Value(i)}
	if c.Source.IsValid(i) {
		r.Source = c.Source.Value(i)
	}
	fs, err := fields(c, i)
	if err != nil {
		return r, "", false, err
	}
	if n.mapping != nil {
		if fs, err = n.mapIDSource(fs, &r); err != nil {
			return r, "", false, err
		}
	}
	f, m := n.format, n.mapper
	if f == Auto {
		var ok bool
		if f, ok = detect(fs); !ok {
			return r, "", false, unknown("no known format", fs)
		}
		m = mapperFor(f)
	} else if f != Custom && !matches(f, fs) {
		return r, "", false, unknown("not "+string(f), fs)
	}
	rec, fs, err := m(fs)
	if err != nil {
		return r, "", false, err
	}
	if rec.msgs != nil && len(rec.msgs) == 0 {
		return r, "", false, rejectf(ReasonEmptyConv, "no turns")
	}
	if r.Meta, err = metaOf(fs, rec.msgMeta); err != nil {
		return r, "", false, err
	}
	if changed, err = n.normText(&rec, &r); err != nil {
		return r, "", false, err
	}
	return r, f, changed, n.validate(r)
}

// mapIDSource applies the id and source paths of a custom mapping.
func (n *Normalizer) mapIDSource(fs []field, r *sift.Row) ([]field, *rowError) {
	for _, p := range []struct {
		path string
		dst  *string
	}{{n.mapping.ID, &r.ID}, {n.mapping.Source, &r.Source}} {
		if p.path == "" {
			continue
		}
		v, rest, ok := take(fs, p.path)
		if !ok {
			continue
		}
		switch v.kind() {
		case "string":
			*p.dst, _ = v.string()
		case "number":
			*p.dst = string(v.raw)
		default:
			return nil, rejectf(ReasonSchemaInvalid, "%s: %s, want string or number", p.path, v.kind())
		}
		fs = rest
	}
	return fs, nil
}

// metaOf returns the meta object text of the unmapped members fs: the
// members of an input "meta" object first (so re-normalizing unified
// output is the identity), then the other members, then the turn fields.
func metaOf(fs []field, msgMeta []byte) (string, *rowError) {
	if i := index(fs, "meta"); i >= 0 && fs[i].v.kind() == "object" {
		inner, _ := scanObject(fs[i].v.raw)
		fs = append(inner, append(fs[:i:i], fs[i+1:]...)...)
	}
	if msgMeta != nil {
		fs = append(fs, field{MessageMetaKey, rawValue(msgMeta)})
	}
	if dup := duplicate(fs); dup != "" {
		return "", rejectf(ReasonMetaConflict, "key %q is both in meta and at top level", dup)
	}
	if len(fs) == 0 {
		return "", nil
	}
	return string(appendObject(nil, fs)), nil
}

// normText checks and rewrites the text or every turn's content.
func (n *Normalizer) normText(rec *record, r *sift.Row) (changed bool, err *rowError) {
	if rec.text != nil {
		p := plain(*rec.text)
		if !p && !utf8.ValidString(*rec.text) {
			return false, rejectf(ReasonInvalidUTF8, "text is not valid UTF-8")
		}
		s := n.text.apply(*rec.text, p)
		r.Text = &s
		return s != *rec.text, nil
	}
	r.Messages = make([]sift.Message, len(rec.msgs))
	for j, m := range rec.msgs {
		p := plain(m.Content)
		if !p && !utf8.ValidString(m.Content) {
			return false, rejectf(ReasonInvalidUTF8, "messages[%d].content is not valid UTF-8", j)
		}
		s := n.text.apply(m.Content, p)
		changed = changed || s != m.Content
		r.Messages[j] = sift.Message{Role: m.Role, Content: s}
	}
	return changed, nil
}

// validate checks r against the unified schema and the user schema.
func (n *Normalizer) validate(r sift.Row) *rowError {
	if n.userSch == nil && unifiedValid(r) {
		return nil
	}
	doc := map[string]any{"id": r.ID}
	if r.Text != nil {
		doc["text"] = *r.Text
	} else {
		msgs := make([]any, len(r.Messages))
		for j, m := range r.Messages {
			msgs[j] = map[string]any{"role": m.Role, "content": m.Content}
		}
		doc["messages"] = msgs
	}
	if r.Source != "" {
		doc["source"] = r.Source
	}
	if r.Meta != "" {
		d := json.NewDecoder(strings.NewReader(r.Meta))
		d.UseNumber()
		var meta any
		if err := d.Decode(&meta); err != nil {
			return rejectf(ReasonBadJSON, "meta: %v", err)
		}
		doc["meta"] = meta
	}
	if err := check("unified schema", unifiedSchema(), doc); err != nil {
		return err
	}
	if n.userSch != nil {
		return check("schema", n.userSch, doc)
	}
	return nil
}

// unifiedValid reports that r certainly matches the unified schema, without
// building a document for the validator: a non-empty id, text or at least
// one message, roles of the schema's enum, and meta empty or a JSON object.
// When it says false, the validator decides and explains.
func unifiedValid(r sift.Row) bool {
	if r.ID == "" || r.Text == nil && len(r.Messages) == 0 || r.Text != nil && r.Messages != nil {
		return false
	}
	for _, m := range r.Messages {
		switch m.Role {
		case "system", "user", "assistant", "tool": // the schema's enum
		default:
			return false
		}
	}
	meta := strings.TrimLeft(r.Meta, " \t\r\n")
	return r.Meta == "" || strings.HasPrefix(meta, "{") && jsontext.Valid(unsafe.Slice(unsafe.StringData(meta), len(meta)))
}

func check(name string, s *gojsonschema.Schema, doc map[string]any) *rowError {
	res, err := s.Validate(gojsonschema.NewRawLoader(doc))
	if err != nil {
		return rejectf(ReasonSchemaInvalid, "%s: %v", name, err)
	}
	if res.Valid() {
		return nil
	}
	var b bytes.Buffer
	for k, e := range res.Errors() {
		if k == 3 {
			fmt.Fprintf(&b, "; and %d more", len(res.Errors())-k)
			break
		}
		if k > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %s", e.Field(), e.Description())
	}
	return rejectf(ReasonSchemaInvalid, "%s: %s", name, b.String())
}

package schema

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/siftdata/sift"
)

// Reject reasons of the export stage: the row cannot be written in the
// output format without losing part of it.
const (
	ReasonTextRecord      = "text_record"      // a text row, for a chat-only format
	ReasonUnsupportedRole = "unsupported_role" // a tool turn, for Alpaca
	ReasonTurnOrder       = "turn_order"       // not [system] (user, assistant)+, for Alpaca
	ReasonKeyConflict     = "key_conflict"     // a meta key or column the format itself writes
	ReasonNotNormalized   = "not_normalized"   // not exactly one of text and messages
)

var outputFormats = []Format{Unified, OpenAI, ShareGPT, Alpaca}

func checkOutput(f Format) error {
	for _, g := range outputFormats {
		if f == g {
			return nil
		}
	}
	return fmt.Errorf("format: %q is not one of %s", f, joinFormats(outputFormats))
}

// Export is a stage that rejects the rows its output format cannot
// express, so that the writer never truncates a record silently. Run it
// last, before writing with [Encoder] of the same format. It keeps the
// rows it accepts unchanged and is safe for concurrent use.
type Export struct{ f Format }

var _ sift.Stage = (*Export)(nil)

// NewExport returns the export check for output format f: unified, openai,
// sharegpt or alpaca.
func NewExport(f Format) (*Export, error) {
	if err := checkOutput(f); err != nil {
		return nil, err
	}
	return &Export{f}, nil
}

// Process rejects the rows of b.Rec (borrowed) that format f cannot
// express; the result is owned by the caller.
func (e *Export) Process(ctx context.Context, b *sift.Batch) (arrow.RecordBatch, error) {
	var buf []byte
	for i := range int(b.Rec.NumRows()) {
		var err *rowError
		if buf, err = appendFormat(buf[:0], e.f, b.Rec, i); err != nil {
			b.Reject(i, err.reason, err.detail)
		}
	}
	return b.Keep(ctx, b.Rec)
}

// Encoder returns the function that appends row of rec (borrowed) to dst
// as one JSON object of output format f, without a trailing newline:
//
//   - unified: {"id", "text" or "messages", "source", "meta":{...}}, with
//     columns appended by stages added to meta;
//   - openai: {"id", "messages":[{"role","content",...}], "source", ...};
//   - sharegpt: {"id", "conversations":[{"from","value",...}], "source",
//     ...}, with roles human, gpt, function_call (an assistant turn
//     followed by a tool turn), observation and system;
//   - alpaca: {"id", "instruction", "input":"", "output", "system",
//     "history":[[user, assistant], ...], "source", ...}, where the last
//     exchange becomes instruction and output.
//
// In the last three, the members of meta and the columns stages appended
// follow at top level, and [MessageMetaKey] goes back into the turns. A
// row that [Export] would reject is written as [sift.AppendRowJSON] does.
func Encoder(f Format) (func(dst []byte, rec arrow.RecordBatch, row int) []byte, error) {
	if err := checkOutput(f); err != nil {
		return nil, err
	}
	return func(dst []byte, rec arrow.RecordBatch, row int) []byte {
		out, err := appendFormat(dst, f, rec, row)
		if err != nil {
			return sift.AppendRowJSON(dst, rec, row)
		}
		return out
	}, nil
}

// appendFormat appends row in format f, or explains why it cannot.
func appendFormat(dst []byte, f Format, rec arrow.RecordBatch, row int) ([]byte, *rowError) {
	c := sift.ColsOf(rec)
	var extra []field // meta members, then appended columns
	if c.Meta.IsValid(row) {
		m, err := parseObject([]byte(c.Meta.Value(row)))
		if err != nil {
			return dst, rejectf(ReasonBadJSON, "meta: %v", err)
		}
		extra = m
	}
	for j := len(sift.Schema.Fields()); j < int(rec.NumCols()); j++ {
		if col := rec.Column(j); col.IsValid(row) {
			extra = append(extra, field{rec.Schema().Field(j).Name, rawValue(sift.AppendValueJSON(nil, col, row))})
		}
	}
	dst = append(dst, `{"id":`...)
	dst = sift.AppendJSONString(dst, c.ID.Value(row))
	if c.Text.IsValid(row) == c.Messages.IsValid(row) {
		return dst, rejectf(ReasonNotNormalized, "want exactly one of text and messages; run normalize first")
	}
	var msgs []sift.Message // nil for a text row
	if c.Messages.IsValid(row) {
		start, end := c.Messages.ValueOffsets(row)
		msgs = make([]sift.Message, 0, end-start)
		for j := int(start); j < int(end); j++ {
			msgs = append(msgs, sift.Message{Role: c.Role.Value(j), Content: c.Content.Value(j)})
		}
	}
	var err *rowError
	switch {
	case f == Unified:
		dst = appendUnified(dst, c, row, msgs, extra)
		if dup := duplicate(extra); dup != "" {
			err = rejectf(ReasonKeyConflict, "meta key %q is also a column", dup)
		}
		return dst, err
	case msgs == nil:
		return dst, rejectf(ReasonTextRecord, "%s holds conversations only", f)
	}
	turnMeta, extra := turnMetaOf(extra, len(msgs))
	keys := []string{"id", "source"}
	switch f {
	case OpenAI:
		dst, err = appendTurns(dst, "messages", "role", "content", msgs, openAIRole, turnMeta)
		keys = append(keys, "messages")
	case ShareGPT:
		dst, err = appendTurns(dst, "conversations", "from", "value", msgs, shareGPTRole, turnMeta)
		keys = append(keys, "conversations")
	case Alpaca:
		dst, err = appendAlpaca(dst, msgs)
		keys = append(keys, "instruction", "input", "output", "system", "history")
		if turnMeta != nil {
			extra = append(extra, field{MessageMetaKey, rawValue(turnMeta)})
		}
	}
	if err != nil {
		return dst, err
	}
	if c.Source.IsValid(row) {
		dst = append(dst, `,"source":`...)
		dst = sift.AppendJSONString(dst, c.Source.Value(row))
	}
	for _, x := range extra {
		for _, k := range keys {
			if x.key == k {
				return dst, rejectf(ReasonKeyConflict, "meta key %q is a key of %s", k, f)
			}
		}
		dst = append(dst, ',')
		dst = appendMember(dst, x)
	}
	if dup := duplicate(extra); dup != "" {
		return dst, rejectf(ReasonKeyConflict, "key %q twice among meta and columns", dup)
	}
	return append(dst, '}'), nil
}

func appendUnified(dst []byte, c sift.Cols, row int, msgs []sift.Message, extra []field) []byte {
	if msgs == nil {
		dst = append(dst, `,"text":`...)
		dst = sift.AppendJSONString(dst, c.Text.Value(row))
	} else {
		dst = append(dst, `,"messages":`...)
		dst = value{msgs: msgs}.appendJSON(dst)
	}
	if c.Source.IsValid(row) {
		dst = append(dst, `,"source":`...)
		dst = sift.AppendJSONString(dst, c.Source.Value(row))
	}
	if len(extra) > 0 {
		dst = append(dst, `,"meta":`...)
		dst = appendObject(dst, extra)
	}
	return append(dst, '}')
}

// turnMetaOf removes MessageMetaKey from extra when it holds one object per
// turn, and returns it.
func turnMetaOf(extra []field, turns int) ([]byte, []field) {
	i := index(extra, MessageMetaKey)
	if i < 0 || extra[i].v.kind() != "array" {
		return nil, extra
	}
	raw := extra[i].v.raw
	elems := scanArray(raw)
	if len(elems) != turns {
		return nil, extra
	}
	for _, e := range elems {
		if e[0] != '{' {
			return nil, extra
		}
	}
	return raw, append(extra[:i:i], extra[i+1:]...)
}

func openAIRole(msgs []sift.Message, j int) string { return msgs[j].Role }

func shareGPTRole(msgs []sift.Message, j int) string {
	switch msgs[j].Role {
	case "user":
		return "human"
	case "assistant":
		if j+1 < len(msgs) && msgs[j+1].Role == "tool" {
			return "function_call"
		}
		return "gpt"
	case "tool":
		return "observation"
	}
	return msgs[j].Role
}

// appendTurns appends ,"list":[{role: ..., content: ..., turn meta}...].
func appendTurns(dst []byte, list, roleKey, contentKey string, msgs []sift.Message, role func([]sift.Message, int) string, turnMeta []byte) ([]byte, *rowError) {
	var tm [][]byte
	if turnMeta != nil {
		tm = scanArray(turnMeta)
	}
	dst = append(dst, ',')
	dst = sift.AppendJSONString(dst, list)
	dst = append(dst, `:[`...)
	for j, m := range msgs {
		if j > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '{')
		dst = sift.AppendJSONString(dst, roleKey)
		dst = append(dst, ':')
		dst = sift.AppendJSONString(dst, role(msgs, j))
		dst = append(dst, ',')
		dst = sift.AppendJSONString(dst, contentKey)
		dst = append(dst, ':')
		dst = sift.AppendJSONString(dst, m.Content)
		if tm != nil {
			tf, _ := scanObject(tm[j])
			for _, x := range tf {
				if x.key == roleKey || x.key == contentKey {
					return dst, rejectf(ReasonKeyConflict, "%s[%d]: turn meta key %q is a key of the turn", list, j, x.key)
				}
				dst = append(dst, ',')
				dst = appendMember(dst, x)
			}
		}
		dst = append(dst, '}')
	}
	return append(dst, ']'), nil
}

// appendAlpaca appends the Alpaca members of [system] (user, assistant)+.
func appendAlpaca(dst []byte, msgs []sift.Message) ([]byte, *rowError) {
	var sys *string
	off := 0
	if len(msgs) > 0 && msgs[0].Role == "system" {
		sys = &msgs[0].Content
		msgs, off = msgs[1:], 1
	}
	for j, m := range msgs {
		want := "user"
		if j%2 == 1 {
			want = "assistant"
		}
		switch {
		case m.Role == "tool":
			return dst, rejectf(ReasonUnsupportedRole, "messages[%d] is a tool turn; alpaca has none", j+off)
		case m.Role != want:
			return dst, rejectf(ReasonTurnOrder, "messages[%d] is %s, want %s: alpaca needs [system] (user, assistant)+", j+off, m.Role, want)
		}
	}
	if len(msgs) == 0 || len(msgs)%2 != 0 {
		return dst, rejectf(ReasonTurnOrder, "conversation ends without an assistant turn: alpaca needs [system] (user, assistant)+")
	}
	last := len(msgs) - 2
	dst = append(dst, `,"instruction":`...)
	dst = sift.AppendJSONString(dst, msgs[last].Content)
	dst = append(dst, `,"input":"","output":`...)
	dst = sift.AppendJSONString(dst, msgs[last+1].Content)
	if sys != nil {
		dst = append(dst, `,"system":`...)
		dst = sift.AppendJSONString(dst, *sys)
	}
	if last > 0 {
		dst = append(dst, `,"history":[`...)
		for j := 0; j < last; j += 2 {
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, '[')
			dst = sift.AppendJSONString(dst, msgs[j].Content)
			dst = append(dst, ',')
			dst = sift.AppendJSONString(dst, msgs[j+1].Content)
			dst = append(dst, ']')
		}
		dst = append(dst, ']')
	}
	return dst, nil
}

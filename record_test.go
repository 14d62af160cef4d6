package sift_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
)

// TestBuilderBatches builds batches of hostile shapes one after another
// (the builder reuses its memory) and reads every value back.
func TestBuilderBatches(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	empty := ""
	long := strings.Repeat("長い", 5000)
	shapes := [][]sift.Row{
		{},
		{{ID: "only-id"}},
		{{ID: "a", Text: &empty, Source: "s", Meta: `{"k":1}`}, {ID: "b", Messages: []sift.Message{}}, {ID: "c", Text: &long}},
		{{ID: "d", Messages: []sift.Message{{Role: "user", Content: ""}, {Role: "assistant", Content: long}}}, {ID: "e"}},
	}
	for round := range 3 {
		for k, rows := range shapes {
			b := sift.NewBuilder(mem)
			for _, r := range rows {
				b.Append(r)
			}
			if b.Len() != len(rows) {
				t.Fatalf("shape %d: Len %d, want %d", k, b.Len(), len(rows))
			}
			rec := b.NewBatch()
			if b.Len() != 0 {
				t.Fatalf("shape %d: Len %d after NewBatch", k, b.Len())
			}
			b.Release()
			c := sift.ColsOf(rec)
			if int(rec.NumRows()) != len(rows) {
				t.Fatalf("shape %d: %d rows, want %d", k, rec.NumRows(), len(rows))
			}
			for i, r := range rows {
				got := sift.Row{ID: c.ID.Value(i), Source: c.Source.Value(i), Meta: c.Meta.Value(i)}
				if c.Text.IsValid(i) {
					s := c.Text.Value(i)
					got.Text = &s
				}
				if c.Messages.IsValid(i) {
					got.Messages = []sift.Message{}
					s, e := c.Messages.ValueOffsets(i)
					for j := s; j < e; j++ {
						got.Messages = append(got.Messages, sift.Message{Role: c.Role.Value(int(j)), Content: c.Content.Value(int(j))})
					}
				}
				if show(got) != show(r) || c.Source.IsValid(i) != (r.Source != "") || c.Meta.IsValid(i) != (r.Meta != "") {
					t.Errorf("round %d shape %d row %d: got %s, want %s", round, k, i, show(got), show(r))
				}
			}
			rec.Release()
		}
	}
}

func show(r sift.Row) string {
	text := "<null>"
	if r.Text != nil {
		text = fmt.Sprintf("%.20q", *r.Text)
	}
	msgs := "<null>"
	if r.Messages != nil {
		msgs = fmt.Sprintf("%d turns %.40q", len(r.Messages), fmt.Sprint(r.Messages))
	}
	return fmt.Sprintf("%s text=%s msgs=%s source=%q meta=%q", r.ID, text, msgs, r.Source, r.Meta)
}

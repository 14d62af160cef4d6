package clean_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/clean"
)

func TestLengthFilter(t *testing.T) {
	rows := []sift.Row{
		text("en-3", "three words here"),
		text("en-5", "one two three four five"),
		text("zh-4", "数据清洗"),
		text("mixed", "Go语言 rocks"), // Go, 语, 言, rocks
		{ID: "chat", Messages: []sift.Message{{Role: "system", Content: "be brief"}, {Role: "user", Content: "hi"}, {Role: "assistant", Content: "hello there friend"}}},
		text("empty", ""),
	}
	for _, tc := range []struct {
		name     string
		min, max int
		opts     []clean.LengthOption
		want     map[string]string // id -> reason; absent ids are kept
	}{
		{"words", 4, 4, nil, map[string]string{"en-3": "too_short", "en-5": "too_long", "chat": "too_long", "empty": "too_short"}},
		{"chars", 4, 16, []clean.LengthOption{clean.WithUnit(clean.Chars)}, map[string]string{"en-5": "too_long", "chat": "too_long", "empty": "too_short"}},
		{"bytes", 15, 0, []clean.LengthOption{clean.WithUnit(clean.Bytes)}, map[string]string{"empty": "too_short", "mixed": "too_short", "zh-4": "too_short"}},
		{"assistant only", 3, 3, []clean.LengthOption{clean.WithRoles(sift.RoleAssistant)}, map[string]string{"en-5": "too_long", "zh-4": "too_long", "mixed": "too_long", "empty": "too_short"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			f, err := clean.NewLengthFilter(tc.min, tc.max, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			b := sift.NewBuilder(mem)
			for _, r := range rows {
				b.Append(r)
			}
			rec := b.NewBatch()
			b.Release()
			defer rec.Release()
			batch := sift.NewBatch(mem, "length_filter", rec)
			out, err := f.Process(context.Background(), batch)
			if err != nil {
				t.Fatal(err)
			}
			defer out.Release()
			got := map[string]string{}
			for _, r := range batch.Rejects() {
				got[r.ID] = r.Reason
				if r.Detail == "" {
					t.Errorf("%s: no detail", r.ID)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("rejects %v, want %v", got, tc.want)
			}
			if int(out.NumRows())+len(got) != len(rows) {
				t.Errorf("%d kept + %d rejected != %d", out.NumRows(), len(got), len(rows))
			}
		})
	}
}

func TestLengthFilterConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		min, max int
		opts     []clean.LengthOption
		field    string
	}{
		{-1, 0, nil, "min"},
		{5, 4, nil, "max"},
		{0, 0, []clean.LengthOption{clean.WithUnit("lines")}, "unit"},
		{0, 0, []clean.LengthOption{clean.WithRoles(0)}, "roles"},
	} {
		if _, err := clean.NewLengthFilter(tc.min, tc.max, tc.opts...); err == nil || !strings.HasPrefix(err.Error(), tc.field+":") {
			t.Errorf("NewLengthFilter(%d, %d) error %v, want one naming %s", tc.min, tc.max, err, tc.field)
		}
	}
}

func text(id, s string) sift.Row { return sift.Row{ID: id, Text: &s} }

func ExampleLengthFilter() {
	mem := memory.NewGoAllocator()
	f, _ := clean.NewLengthFilter(3, 10)
	b := sift.NewBuilder(mem)
	b.Append(text("a", "too short"))
	b.Append(text("b", "机器学习很有趣")) // 7 words: one per Han character
	rec := b.NewBatch()
	b.Release()
	defer rec.Release()
	batch := sift.NewBatch(mem, "length_filter", rec)
	out, _ := f.Process(context.Background(), batch)
	defer out.Release()
	for _, r := range batch.Rejects() {
		fmt.Println(r.ID, r.Reason, r.Detail)
	}
	fmt.Println(out.NumRows(), "kept")
	// Output:
	// a too_short 2 words < min 3
	// 1 kept
}

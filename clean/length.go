package clean

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/recipe"
	"github.com/siftdata/sift/seg"
)

// Unit is what the length filter counts.
type Unit string

// Units of length.
const (
	Bytes Unit = "bytes" // UTF-8 bytes
	Chars Unit = "chars" // Unicode code points
	Words Unit = "words" // word-like segments of package seg; each Han/Kana character is one
)

// Length measures s in unit u.
func (u Unit) Length(s string) int {
	switch u {
	case Bytes:
		return len(s)
	case Chars:
		return utf8.RuneCountInString(s)
	}
	return seg.Count(s)
}

// LengthFilter drops rows whose text is shorter than Min or longer than Max
// (both inclusive bounds), with reasons "too_short" and "too_long".
type LengthFilter struct {
	unit     Unit
	min, max int
	roles    sift.Roles
}

var _ sift.Stage = (*LengthFilter)(nil)

// LengthOption configures a [LengthFilter].
type LengthOption func(*LengthFilter)

// WithUnit sets the unit (default Words).
func WithUnit(u Unit) LengthOption { return func(f *LengthFilter) { f.unit = u } }

// WithRoles sets which conversation turns are measured (default all).
func WithRoles(r sift.Roles) LengthOption { return func(f *LengthFilter) { f.roles = r } }

// NewLengthFilter returns a filter keeping rows with min ≤ length ≤ max.
// max 0 means no upper bound.
func NewLengthFilter(min, max int, opts ...LengthOption) (*LengthFilter, error) {
	f := &LengthFilter{unit: Words, min: min, max: max, roles: sift.AllRoles}
	for _, o := range opts {
		o(f)
	}
	switch {
	case f.unit != Bytes && f.unit != Chars && f.unit != Words:
		return nil, fmt.Errorf("unit: %q is not one of bytes, chars, words", f.unit)
	case min < 0:
		return nil, fmt.Errorf("min: %d is negative", min)
	case max != 0 && max < min:
		return nil, fmt.Errorf("max: %d is below min %d", max, min)
	case f.roles == 0:
		return nil, fmt.Errorf("roles: empty")
	}
	return f, nil
}

// Process keeps rows within bounds. b.Rec is borrowed; the result is owned
// by the caller.
func (f *LengthFilter) Process(ctx context.Context, b *sift.Batch) (arrow.RecordBatch, error) {
	v := b.TextView(f.roles)
	for i := 0; i < int(b.Rec.NumRows()); i++ {
		var n int
		if f.unit == Words {
			n = len(v.Words(i)) // shared with later stages
		} else {
			n = f.unit.Length(v.Text(i))
		}
		switch {
		case n < f.min:
			b.Reject(i, "too_short", fmt.Sprintf("%d %s < min %d", n, f.unit, f.min))
		case f.max > 0 && n > f.max:
			b.Reject(i, "too_long", fmt.Sprintf("%d %s > max %d", n, f.unit, f.max))
		}
	}
	return b.Keep(ctx, b.Rec)
}

// LengthSpec is the recipe spec of stage "length_filter".
type LengthSpec struct {
	Unit  string   `yaml:"unit" doc:"bytes, chars or words (UAX #29 words; each Han/Kana character is one)"`
	Min   int      `yaml:"min" doc:"smallest length kept (inclusive)"`
	Max   int      `yaml:"max" doc:"largest length kept (inclusive); 0 for no limit"`
	Roles []string `yaml:"roles" doc:"conversation roles measured; empty for all"`
}

func init() {
	recipe.Register("length_filter", "Drops rows whose text is too short or too long.",
		LengthSpec{Unit: "words", Min: 50, Max: 1024},
		func(s LengthSpec, _ recipe.Env) (sift.Stage, error) {
			roles, err := sift.ParseRoles(s.Roles, sift.AllRoles)
			if err != nil {
				return nil, fmt.Errorf("roles: %w", err)
			}
			return NewLengthFilter(s.Min, s.Max, WithUnit(Unit(s.Unit)), WithRoles(roles))
		})
}

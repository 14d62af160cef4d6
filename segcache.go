package sift

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/siftdata/sift/seg"
)

// Shared segmentation.
//
// Many stages need the words of every row: the length filter counts them,
// both dedups hash them, augmentation rewrites them. A batch segments each
// text once, on first request through [TextView.Words] or
// [TextView.PartWords] of a view from [Batch.TextView], and the pipeline
// hands the result to the next step together with the rows, for every row
// whose text that step did not change (see [Batch.Keep] and [Batch.Pass]).
// So a recipe with a length filter and two dedups segments its text once,
// not three times, and a stage never sees words of text it does not have.

// segCache holds the word-like segments ([seg.AppendWords]) of the parts of
// one batch, computed on demand. A part is a row's text (part number row)
// or one message's content (part number rows + its index in the content
// column - base, the index of the batch's first message). Segments are
// offsets into the part's own string, so they stay valid when the rows
// move to another batch with their text unchanged.
type segCache struct {
	rec   arrow.RecordBatch // the batch whose parts these are
	rows  int
	base  int
	parts [][]seg.Segment // the words of each part; nil if not computed
	free  []seg.Segment   // room for more words, after the last computed
}

// chunkWords is the least number of words allocated at once: segments are
// appended to chunks, never moved, so parts can share them.
const chunkWords = 1 << 14

func newSegCache(rec arrow.RecordBatch) *segCache {
	c := &segCache{rec: rec, rows: int(rec.NumRows())}
	c.parts = make([][]seg.Segment, c.rows+c.messages(ColsOf(rec)))
	return c
}

// messages sets c.base and returns the number of messages of the batch.
func (c *segCache) messages(cols Cols) int {
	if c.rows == 0 {
		return 0
	}
	start, _ := cols.Messages.ValueOffsets(0)
	_, end := cols.Messages.ValueOffsets(c.rows - 1)
	c.base = int(start)
	return int(end - start)
}

// msg returns the part number of the message at index i of the content
// column.
func (c *segCache) msg(i int) int { return c.rows + i - c.base }

// part returns the words of part p, whose text is s.
func (c *segCache) part(p int, s string) []seg.Segment {
	if ws := c.parts[p]; ws != nil {
		return ws
	}
	// A text has at most half its bytes, plus one, words, nearly always
	// (an ASCII word ends before a byte that is not in a word); if not,
	// append moves this part's words alone.
	if need := len(s)/2 + 1; cap(c.free) < need {
		c.free = make([]seg.Segment, 0, max(chunkWords, need))
	}
	ws := seg.AppendWords(c.free, s)
	ws = ws[:len(ws):len(ws)]
	if len(ws) <= cap(c.free) { // else append moved them
		c.free = c.free[len(ws):len(ws)]
	}
	c.parts[p] = ws
	return ws
}

// carry returns the cache of out, a batch holding rows keep of c.rec (in
// order; nil for all) with possibly rewritten text: the computed words of
// every part whose text is unchanged, and none of the others.
func (c *segCache) carry(out arrow.RecordBatch, keep []int) *segCache {
	if out == c.rec {
		return c
	}
	n := &segCache{rec: out, rows: int(out.NumRows())}
	oc, ic := ColsOf(out), ColsOf(c.rec)
	n.parts = make([][]seg.Segment, n.rows+n.messages(oc))
	sameText := oc.Text == ic.Text || oc.Text.Data() == ic.Text.Data()
	sameContent := oc.Content == ic.Content || oc.Content.Data() == ic.Content.Data()
	for i := 0; i < n.rows; i++ {
		r := i
		if keep != nil {
			r = keep[i]
		}
		if sameText || oc.Text.IsValid(i) == ic.Text.IsValid(r) && oc.Text.Value(i) == ic.Text.Value(r) {
			n.parts[i] = c.parts[r]
		}
		if !oc.Messages.IsValid(i) || !ic.Messages.IsValid(r) {
			continue
		}
		os, oe := oc.Messages.ValueOffsets(i)
		is, ie := ic.Messages.ValueOffsets(r)
		if oe-os != ie-is {
			continue
		}
		for j := range int(oe - os) {
			o, in := int(os)+j, int(is)+j
			if sameContent || oc.Content.Value(o) == ic.Content.Value(in) {
				n.parts[n.msg(o)] = c.parts[c.msg(in)]
			}
		}
	}
	return n
}

// Words returns the word-like segments of v.Text(row), as
// [seg.AppendWords] gives them, with offsets into that string. Turns are
// joined by "\n", which always separates words, so the words of a
// conversation are those of its turns. The result is shared: do not modify
// it; it is valid until the next call of Words on v and while the batch is
// alive.
func (v *TextView) Words(row int) []seg.Segment {
	c := v.cache()
	if !v.c.Messages.IsValid(row) {
		return c.part(row, v.c.Text.Value(row))
	}
	start, end := v.c.Messages.ValueOffsets(row)
	v.words = v.words[:0]
	var off uint32
	n := 0
	var single []seg.Segment
	for i := int(start); i < int(end); i++ {
		if !v.selected(i) {
			continue
		}
		s := v.c.Content.Value(i)
		ws := c.part(c.msg(i), s)
		if n == 0 {
			single = ws
		}
		n++
		for _, w := range ws {
			v.words = append(v.words, seg.Segment{Start: w.Start + off, End: w.End + off, Kind: w.Kind})
		}
		off += uint32(len(s)) + 1
	}
	if n <= 1 {
		return single
	}
	return v.words
}

// PartWords calls fn for each piece of row's text, as [TextView.Parts]
// does, with its word-like segments (offsets into s). words is shared: do
// not modify it or keep it past the batch.
func (v *TextView) PartWords(row int, fn func(msg int, s string, words []seg.Segment)) {
	c := v.cache()
	if !v.c.Messages.IsValid(row) {
		s := v.c.Text.Value(row)
		fn(-1, s, c.part(row, s))
		return
	}
	start, end := v.c.Messages.ValueOffsets(row)
	for i := int(start); i < int(end); i++ {
		if v.selected(i) {
			s := v.c.Content.Value(i)
			fn(i-int(start), s, c.part(c.msg(i), s))
		}
	}
}

func (v *TextView) cache() *segCache {
	if v.segs == nil {
		v.segs = newSegCache(v.rec)
	}
	return v.segs
}

// TextView returns a view of b.Rec reading messages of the given roles,
// whose [TextView.Words] and [TextView.PartWords] share the batch's
// segmentation: with earlier steps, and with other views of b.
func (b *Batch) TextView(roles Roles) *TextView {
	v := NewTextView(b.Rec, roles)
	v.segs = b.segs()
	return v
}

// segs returns the segmentation cache of b.Rec, making it if b has none.
func (b *Batch) segs() *segCache {
	if b.words == nil || b.words.rec != b.Rec {
		b.words = newSegCache(b.Rec)
	}
	return b.words
}

// carryTo records that out, the stage's result, holds the rows keep of
// b.Rec (nil for all), so the pipeline can hand b's segmentation on.
func (b *Batch) carryTo(out arrow.RecordBatch, keep []int) {
	if b.words != nil && b.words.rec == b.Rec {
		b.acc.carried = b.words.carry(out, keep)
	}
}

// Next returns a Batch over out, the result of b's stage ([Batch.Keep] or
// [Batch.Pass]), for the stage called stage, with b's segmentation of the
// rows out kept with their text unchanged, as the pipeline hands it from
// step to step. A runner that drives the steps itself (sift's Beam module)
// calls it so that a length filter and a dedup after it segment each text
// once.
func (b *Batch) Next(stage string, out arrow.RecordBatch) *Batch {
	n := NewBatch(b.Mem, stage, out)
	n.words = b.carried(out)
	return n
}

// carried returns the segmentation to hand on with rec, the stage's
// result, or nil.
func (b *Batch) carried(rec arrow.RecordBatch) *segCache {
	if c := b.acc.carried; c != nil && c.rec == rec {
		return c
	}
	return nil
}

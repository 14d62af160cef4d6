package schema

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
)

// benchLines makes n synthetic JSONL records of format f: about 1 KB of
// text each, spread over the fields the format has.
func benchLines(f Format, n int) []string {
	words := strings.Fields("the river carries silt past old mills while herons wait on stones and the town clock strikes noon")
	sentence := func(i, k int) string {
		var b strings.Builder
		for j := range k {
			if j > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(words[(i*7+j*3)%len(words)])
		}
		return b.String() + "."
	}
	q := func(s string) string { return string(sift.AppendJSONString(nil, s)) }
	lines := make([]string, n)
	for i := range lines {
		id := fmt.Sprintf(`"id":"r%d"`, i)
		switch f {
		case Text:
			lines[i] = fmt.Sprintf(`{%s,"text":%s,"url":"https://example.org/%d","lang":"en"}`, id, q(sentence(i, 40)+"\n"+sentence(i+1, 130)), i)
		case Alpaca:
			lines[i] = fmt.Sprintf(`{%s,"instruction":%s,"input":%s,"output":%s,"category":"qa"}`, id, q(sentence(i, 15)), q(sentence(i+1, 30)), q(sentence(i+2, 125)))
		case ShareGPT:
			lines[i] = fmt.Sprintf(`{%s,"conversations":[{"from":"human","value":%s},{"from":"gpt","value":%s},{"from":"human","value":%s},{"from":"gpt","value":%s}]}`,
				id, q(sentence(i, 20)), q(sentence(i+1, 70)), q(sentence(i+2, 15)), q(sentence(i+3, 65)))
		case OpenAI: // unified shape: the reader decodes it into the messages column
			lines[i] = fmt.Sprintf(`{%s,"messages":[{"role":"system","content":"Be helpful."},{"role":"user","content":%s},{"role":"assistant","content":%s},{"role":"user","content":%s},{"role":"assistant","content":%s}]}`,
				id, q(sentence(i, 20)), q(sentence(i+1, 70)), q(sentence(i+2, 15)), q(sentence(i+3, 65)))
		case Pair:
			lines[i] = fmt.Sprintf(`{%s,"prompt":%s,"completion":%s}`, id, q(sentence(i, 40)), q(sentence(i+1, 130)))
		}
	}
	return lines
}

func benchBatch(b *testing.B, mem memory.Allocator, f Format) (arrow.RecordBatch, int64) {
	lines := benchLines(f, 1024)
	var size int64
	for _, l := range lines {
		size += int64(len(l)) + 1
	}
	return batchOf(b, mem, lines...), size
}

// BenchmarkNormalize measures stage normalize per input format on batches
// of 1024 records of about 1 KB; bytes are the records' JSONL size.
func BenchmarkNormalize(b *testing.B) {
	for _, f := range []Format{Text, Alpaca, ShareGPT, OpenAI, Pair} {
		b.Run(string(f), func(b *testing.B) {
			mem := memory.NewGoAllocator()
			rec, size := benchBatch(b, mem, f)
			defer rec.Release()
			n, _ := NewNormalizer()
			ctx := context.Background()
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				bt := sift.NewBatch(mem, "normalize", rec)
				out, err := n.Process(ctx, bt)
				if err != nil || out.NumRows() != rec.NumRows() {
					b.Fatal(err, bt.Rejects())
				}
				out.Release()
			}
			b.ReportMetric(float64(int64(b.N)*rec.NumRows())/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkExport measures the export check plus encoder per output
// format, on normalized ShareGPT records.
func BenchmarkExport(b *testing.B) {
	mem := memory.NewGoAllocator()
	in, size := benchBatch(b, mem, ShareGPT)
	defer in.Release()
	n, _ := NewNormalizer()
	rec, err := n.Process(context.Background(), sift.NewBatch(mem, "n", in))
	if err != nil {
		b.Fatal(err)
	}
	defer rec.Release()
	for _, f := range outputFormats {
		b.Run(string(f), func(b *testing.B) {
			exp, _ := NewExport(f)
			enc, _ := Encoder(f)
			b.SetBytes(size)
			b.ReportAllocs()
			var buf []byte
			for b.Loop() {
				out, _ := exp.Process(context.Background(), sift.NewBatch(mem, "export", rec))
				for i := range int(out.NumRows()) {
					buf = enc(buf[:0], out, i)
				}
				out.Release()
			}
			b.ReportMetric(float64(int64(b.N)*rec.NumRows())/b.Elapsed().Seconds(), "records/s")
		})
	}
}

package clean

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/recipe"
)

var piiTable = flag.Bool("pii.table", false, "print the corpus quality table as Markdown")

// genBatches builds record batches of rows (ids r0, r1, …).
func genBatches(t testing.TB, mem memory.Allocator, rows []genRow, size int) []arrow.RecordBatch {
	t.Helper()
	var recs []arrow.RecordBatch
	for i := 0; i < len(rows); i += size {
		bld := sift.NewBuilder(mem)
		for j := i; j < min(i+size, len(rows)); j++ {
			s := rows[j].text()
			bld.Append(sift.Row{ID: fmt.Sprintf("r%d", j), Text: &s})
		}
		recs = append(recs, bld.NewBatch())
		bld.Release()
	}
	return recs
}

// runStage runs st over recs (consumed) and returns the output texts by id.
func runStage(t testing.TB, mem memory.Allocator, st sift.Stage, recs []arrow.RecordBatch, workers int) (map[string]string, *sift.Stats, string) {
	t.Helper()
	var col sift.Collector
	var rej bytes.Buffer
	p := sift.NewPipeline(sift.NewSliceSource(recs...), &col, sift.WithStage("pii_redact", st), sift.WithAllocator(mem), sift.WithWorkers(workers), sift.WithRejects(&rej))
	stats, err := p.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, rec := range col.Recs {
		c := sift.ColsOf(rec)
		for i := 0; i < int(rec.NumRows()); i++ {
			out[c.ID.Value(i)] = strings.Clone(c.Text.Value(i))
		}
	}
	col.Release()
	return out, stats, rej.String()
}

// tally counts, per entity or decoy kind, how many values came out right.
type tally map[string]*[2]int // ok, total

func (t tally) add(k string, ok bool) {
	if t[k] == nil {
		t[k] = &[2]int{}
	}
	if ok {
		t[k][0]++
	}
	t[k][1]++
}

// check walks the segments of row through out: fillers must be intact,
// planted values replaced by their tag (and absent), decoys intact.
func checkRow(row genRow, out string, planted, decoys tally) (fillOK, fillAll int) {
	pos := 0
	resync := func(i int) { // to the next filler after segment i
		for j := i + 1; j < len(row); j++ {
			if row[j].kind == 'f' && row[j].text != "" {
				if k := strings.Index(out[pos:], row[j].text); k >= 0 {
					pos += k
				}
				return
			}
		}
		pos = len(out)
	}
	for i, s := range row {
		switch s.kind {
		case 'f':
			fillAll++
			if strings.HasPrefix(out[pos:], s.text) {
				fillOK++
				pos += len(s.text)
			} else {
				resync(i - 1)
				if strings.HasPrefix(out[pos:], s.text) {
					pos += len(s.text)
				}
			}
		case 'p':
			tag := "<" + strings.ToUpper(s.entity) + ">"
			start := pos
			if strings.HasPrefix(out[pos:], tag) {
				pos += len(tag)
			} else {
				resync(i)
			}
			planted.add(s.entity, !strings.Contains(out[start:pos], s.text) && pos > start)
		case 'd':
			ok := strings.HasPrefix(out[pos:], s.text)
			decoys.add(s.entity, ok)
			if !ok && testing.Verbose() {
				fmt.Printf("decoy %s %q lost: %q\n", s.entity, s.text, out[pos:min(len(out), pos+60)])
			}
			if ok {
				pos += len(s.text)
			} else {
				resync(i)
			}
		}
	}
	return fillOK, fillAll
}

// TestPIICorpus is the done-when of the PII stage: a recipe run (what
// `sift run` does) with pii_redact at defaults, on a generated mixed
// English/Chinese corpus, removes ≥ 99 % of the planted values of each
// entity and keeps ≥ 98 % of the decoys and all surrounding text.
func TestPIICorpus(t *testing.T) {
	dir := t.TempDir()
	g := newPIIGen(1)
	rows := make([]genRow, 4000)
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	for i := range rows {
		rows[i] = g.denseRow()
		enc.Encode(map[string]string{"id": fmt.Sprintf("r%d", i), "text": rows[i].text()})
	}
	if err := os.WriteFile(filepath.Join(dir, "in.jsonl"), in.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	rc, err := recipe.Parse([]byte("input: in.jsonl\noutput: out.jsonl\nbatch_size: 100\nworkers: 2\nstages:\n  - pii_redact\n"), dir)
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rep, err := recipe.Run(context.Background(), rc, recipe.RunOptions{Mem: mem})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "out.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var r struct{ ID, Text string }
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatal(err)
		}
		out[r.ID] = r.Text
	}
	if len(out) != len(rows) {
		t.Fatalf("%d rows out of %d", len(out), len(rows))
	}

	planted, decoys := tally{}, tally{}
	fillOK, fillAll := 0, 0
	for i, row := range rows {
		a, b := checkRow(row, out[fmt.Sprintf("r%d", i)], planted, decoys)
		if a != b && testing.Verbose() {
			t.Logf("row %d:\n in: %q\nout: %q", i, row.text(), out[fmt.Sprintf("r%d", i)])
		}
		fillOK += a
		fillAll += b
	}
	var md strings.Builder
	md.WriteString("| entity | planted | removed | rate |\n|---|---:|---:|---:|\n")
	removed := int64(0)
	for _, e := range PIIEntities {
		c := planted[e]
		removed += int64(c[0])
		rate := float64(c[0]) / float64(c[1])
		fmt.Fprintf(&md, "| %s | %d | %d | %.2f %% |\n", e, c[1], c[0], 100*rate)
		if rate < 0.99 {
			t.Errorf("%s: removed %d of %d planted values (%.2f%% < 99%%)", e, c[0], c[1], 100*rate)
		}
	}
	md.WriteString("\n| decoy | count | kept | rate |\n|---|---:|---:|---:|\n")
	ok, all := 0, 0
	for _, k := range sortedKeys(decoys) {
		c := decoys[k]
		ok, all = ok+c[0], all+c[1]
		fmt.Fprintf(&md, "| %s | %d | %d | %.2f %% |\n", k, c[1], c[0], 100*float64(c[0])/float64(c[1]))
	}
	rate := float64(ok) / float64(all)
	fmt.Fprintf(&md, "| **all decoys** | %d | %d | %.2f %% |\n\nSurrounding text segments intact: %d of %d.\n", all, ok, 100*rate, fillOK, fillAll)
	if rate < 0.98 {
		t.Errorf("kept %d of %d decoys (%.2f%% < 98%%)", ok, all, 100*rate)
	}
	if fillOK != fillAll {
		t.Errorf("%d of %d surrounding text segments changed", fillAll-fillOK, fillAll)
	}
	if *piiTable {
		fmt.Println(md.String())
	}
	found := int64(0)
	for _, e := range PIIEntities {
		found += rep.Stats.Stages[1].Counters[e]
	}
	if found < removed {
		t.Errorf("counters report %d findings, but %d values were removed", found, removed)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	var k []string
	for x := range m {
		k = append(k, x)
	}
	slices.Sort(k)
	return k
}

// TestPIIPrefilterMatchesNaive checks the prefilter against its oracle:
// every pattern run over the whole text must find exactly the same values.
func TestPIIPrefilterMatchesNaive(t *testing.T) {
	st, err := NewRedactor()
	if err != nil {
		t.Fatal(err)
	}
	fast := st.(*Redactor)
	slow := *fast
	slow.naive = true
	g := newPIIGen(2)
	for i := range 1500 {
		var s string
		if i%3 == 0 {
			s = g.typicalRow().text()
		} else {
			s = g.denseRow().text()
		}
		a, err1 := fast.detect(s, &scratch{})
		b, err2 := slow.detect(s, &scratch{})
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if !slices.EqualFunc(a, b, func(x, y match) bool { return x.start == y.start && x.end == y.end && x.rc.name == y.rc.name }) {
			t.Fatalf("text %q:\nprefilter %v\nnaive     %v", s, spans(s, a), spans(s, b))
		}
	}
}

func spans(s string, ms []match) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.rc.name+":"+s[m.start:m.end])
	}
	return out
}

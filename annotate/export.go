package annotate

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/dataset"
	"github.com/zeebo/xxh3"
)

// ExportOptions configure [Export].
type ExportOptions struct {
	// Rubric is the rubric of the labeling config and the templates
	// (default DefaultRubric).
	Rubric Rubric
	// Sample is the number of rows to sample; 0 exports every row.
	Sample int
	// Stratify names what the sample is stratified by: "source", a column
	// added by a stage (for example the perplexity bucket), or a top-level
	// member of meta. Empty: no strata.
	Stratify string
	// MinPerStratum is the least number of rows sampled from a stratum
	// (or all of it when smaller); default 1.
	MinPerStratum int
	// Seed seeds the sample.
	Seed uint64
}

// Export file names, written into the output directory.
const (
	TasksFile     = "tasks.json"     // Label Studio import: one task per sampled row
	ConfigFile    = "config.xml"     // Label Studio labeling config
	TemplateCSV   = "template.csv"   // spreadsheet template: id, annotator, dimensions, text
	TemplateJSONL = "template.jsonl" // the same as JSON lines
)

// ExportResult describes an export.
type ExportResult struct {
	Rows    int             `json:"rows"`    // rows read
	Sampled int             `json:"sampled"` // rows exported
	Strata  []StratumResult `json:"strata,omitempty"`
	// Unreadable counts input lines that could not be read as rows.
	Unreadable int      `json:"unreadable,omitempty"`
	Files      []string `json:"files"`
}

// StratumResult is one stratum's size and share of the sample.
type StratumResult struct {
	Value   string `json:"value"`
	Rows    int    `json:"rows"`
	Sampled int    `json:"sampled"`
}

// Export samples rows of the dataset files inputs and writes, into dir,
// a Label Studio import file, the matching labeling config and CSV and
// JSONL templates. The files appear only if all of them are written.
//
// The sample is stratified proportionally (largest remainders) with at
// least MinPerStratum rows per stratum. Within a stratum the rows with the
// smallest XXH3 hashes of (seed, id) are taken, so the sample depends on
// the seed and the ids only: not on the order, batch size or worker count,
// and a larger sample contains a smaller one with the same seed. Rows are
// written in input order.
func Export(ctx context.Context, mem memory.Allocator, inputs []string, dir string, o ExportOptions) (*ExportResult, error) {
	if o.Rubric == nil {
		o.Rubric = DefaultRubric()
	}
	if err := o.Rubric.Validate(); err != nil {
		return nil, fmt.Errorf("rubric: %w", err)
	}
	if o.MinPerStratum == 0 {
		o.MinPerStratum = 1
	}
	if o.Sample < 0 || o.MinPerStratum < 0 {
		return nil, fmt.Errorf("sample %d, min per stratum %d: want >= 0", o.Sample, o.MinPerStratum)
	}
	type entry struct {
		key uint64
		row int
	}
	strata := map[string][]entry{}
	res := &ExportResult{}
	// Pass 1: hash every row into its stratum.
	err := scan(ctx, mem, inputs, func(rec arrow.RecordBatch, c sift.Cols, row, index int) error {
		s := stratum(rec, c, row, o.Stratify)
		strata[s] = append(strata[s], entry{sampleKey(o.Seed, c.ID.Value(row)), index})
		return nil
	}, &res.Unreadable)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(strata))
	sizes := map[string]int{}
	for s, e := range strata {
		names = append(names, s)
		sizes[s] = len(e)
		res.Rows += len(e)
	}
	sort.Strings(names)
	alloc, err := allocate(names, sizes, o.Sample, o.MinPerStratum)
	if err != nil {
		return nil, err
	}
	chosen := map[int]bool{}
	for _, s := range names {
		e := strata[s]
		slices.SortFunc(e, func(a, b entry) int {
			if a.key != b.key {
				if a.key < b.key {
					return -1
				}
				return 1
			}
			return a.row - b.row
		})
		for _, x := range e[:alloc[s]] {
			chosen[x.row] = true
		}
		if o.Stratify != "" {
			res.Strata = append(res.Strata, StratumResult{Value: s, Rows: len(e), Sampled: alloc[s]})
		}
	}
	res.Sampled = len(chosen)

	// Pass 2: write the chosen rows in input order.
	w, err := newExportWriter(dir, o.Rubric)
	if err != nil {
		return nil, err
	}
	err = scan(ctx, mem, inputs, func(rec arrow.RecordBatch, c sift.Cols, row, index int) error {
		if !chosen[index] {
			return nil
		}
		return w.row(c, row, stratum(rec, c, row, o.Stratify), o.Stratify != "")
	}, new(int))
	if err != nil {
		w.abort()
		return nil, err
	}
	if err := w.close(); err != nil {
		return nil, err
	}
	res.Files = w.paths
	return res, nil
}

// scan calls fn for every readable row of inputs with its index in input
// order; unreadable lines are counted in bad.
func scan(ctx context.Context, mem memory.Allocator, inputs []string, fn func(arrow.RecordBatch, sift.Cols, int, int) error, bad *int) error {
	src, err := dataset.Open(mem, inputs)
	if err != nil {
		return err
	}
	defer src.Close()
	index := 0
	for {
		rec, rejects, err := src.Next(ctx)
		*bad += len(rejects)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if rec == nil {
			continue
		}
		c := sift.ColsOf(rec)
		for row := 0; row < int(rec.NumRows()); row++ {
			if err := fn(rec, c, row, index); err != nil {
				rec.Release()
				return err
			}
			index++
		}
		rec.Release()
	}
}

// sampleKey is the row's place in the sample order for seed.
func sampleKey(seed uint64, id string) uint64 { return xxh3.HashStringSeed(id, seed) }

// stratum returns the row's value of what the sample is stratified by.
func stratum(rec arrow.RecordBatch, c sift.Cols, row int, by string) string {
	switch by {
	case "":
		return ""
	case sift.ColSource:
		if c.Source.IsValid(row) {
			return c.Source.Value(row)
		}
		return ""
	}
	for i, f := range rec.Schema().Fields() {
		if f.Name == by && i >= 5 {
			col := rec.Column(i)
			if col.IsNull(row) {
				return ""
			}
			return jsonText(sift.AppendValueJSON(nil, col, row))
		}
	}
	if c.Meta.IsNull(row) {
		return ""
	}
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(c.Meta.Value(row)), &m) != nil {
		return ""
	}
	if v, ok := m[by]; ok {
		return jsonText(v)
	}
	return ""
}

// jsonText is a JSON value as text: a string unquoted, anything else as is.
func jsonText(v []byte) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	if string(v) == "null" {
		return ""
	}
	return string(v)
}

// allocate splits n sampled rows over strata in proportion to their sizes
// (Hamilton's largest remainders), giving each at least minPer rows (or all
// of a smaller stratum). n = 0, or n at least the total, takes everything.
func allocate(names []string, sizes map[string]int, n, minPer int) (map[string]int, error) {
	total := 0
	for _, s := range sizes {
		total += s
	}
	alloc := map[string]int{}
	if n == 0 || n >= total {
		for s, k := range sizes {
			alloc[s] = k
		}
		return alloc, nil
	}
	base := 0
	for _, s := range names {
		base += min(minPer, sizes[s])
	}
	if base > n {
		return nil, fmt.Errorf("sample %d is smaller than %d strata × minimum %d (%d rows)", n, len(names), minPer, base)
	}
	quota := map[string]float64{}
	sum := 0
	for _, s := range names {
		quota[s] = float64(n) * float64(sizes[s]) / float64(total)
		alloc[s] = min(sizes[s], max(min(minPer, sizes[s]), int(math.Floor(quota[s]))))
		sum += alloc[s]
	}
	// Give the rows left to the largest remainders, or take the excess
	// from the strata most above their quota; ties go by stratum name.
	for sum != n {
		best, bestV := "", math.Inf(-1)
		for _, s := range names {
			var v float64
			if sum < n {
				if alloc[s] >= sizes[s] {
					continue
				}
				v = quota[s] - float64(alloc[s])
			} else {
				if alloc[s] <= min(minPer, sizes[s]) {
					continue
				}
				v = float64(alloc[s]) - quota[s]
			}
			if v > bestV {
				best, bestV = s, v
			}
		}
		if sum < n {
			alloc[best]++
			sum++
		} else {
			alloc[best]--
			sum--
		}
	}
	return alloc, nil
}

// exportWriter writes the four export files.
type exportWriter struct {
	r                   Rubric
	tasks, tcsv, tjsonl *dataset.File
	cw                  *csv.Writer
	n                   int
	paths               []string
	buf                 []byte
}

func newExportWriter(dir string, r Rubric) (*exportWriter, error) {
	w := &exportWriter{r: r}
	var err error
	open := func(name string) *dataset.File {
		if err != nil {
			return nil
		}
		p := filepath.Join(dir, name)
		var f *dataset.File
		if f, err = dataset.CreateFile(p); err == nil {
			w.paths = append(w.paths, p)
		}
		return f
	}
	w.tasks, w.tcsv, w.tjsonl = open(TasksFile), open(TemplateCSV), open(TemplateJSONL)
	if err != nil {
		w.abort()
		return nil, err
	}
	w.tasks.Write([]byte("["))
	w.cw = csv.NewWriter(w.tcsv)
	header := append([]string{"id", "annotator"}, r.Names()...)
	w.cw.Write(append(header, "text"))
	return w, nil
}

// row writes one sampled row to the tasks and the templates.
func (w *exportWriter) row(c sift.Cols, row int, stratum string, withStratum bool) error {
	id := c.ID.Value(row)
	text := RenderText(c, row)
	b := w.buf[:0]
	if w.n > 0 {
		b = append(b, ',')
	}
	b = append(b, "\n{\"data\":{\"id\":"...)
	b = sift.AppendJSONString(b, id)
	b = append(b, `,"text":`...)
	b = sift.AppendJSONString(b, text)
	if c.Source.IsValid(row) {
		b = append(b, `,"source":`...)
		b = sift.AppendJSONString(b, c.Source.Value(row))
	}
	if withStratum {
		b = append(b, `,"stratum":`...)
		b = sift.AppendJSONString(b, stratum)
	}
	b = append(b, "}}"...)
	if _, err := w.tasks.Write(b); err != nil {
		return err
	}
	rec := append([]string{id, ""}, make([]string, len(w.r))...)
	if err := w.cw.Write(append(rec, text)); err != nil {
		return err
	}
	b = b[:0]
	b = append(b, `{"id":`...)
	b = sift.AppendJSONString(b, id)
	b = append(b, `,"annotator":""`...)
	for _, d := range w.r {
		b = append(b, ',')
		b = sift.AppendJSONString(b, d.Name)
		b = append(b, ":null"...)
	}
	b = append(b, `,"text":`...)
	b = sift.AppendJSONString(b, text)
	b = append(b, "}\n"...)
	w.buf = b
	w.n++
	_, err := w.tjsonl.Write(b)
	return err
}

func (w *exportWriter) abort() {
	for _, f := range []*dataset.File{w.tasks, w.tcsv, w.tjsonl} {
		if f != nil {
			f.Abort()
		}
	}
}

// close finishes the files and writes the labeling config; on error none
// is left behind.
func (w *exportWriter) close() error {
	w.tasks.Write([]byte("\n]\n"))
	w.cw.Flush()
	if err := w.cw.Error(); err != nil {
		w.abort()
		return err
	}
	cfg, err := dataset.CreateFile(filepath.Join(filepath.Dir(w.paths[0]), ConfigFile))
	if err != nil {
		w.abort()
		return err
	}
	cfg.Write(LabelingConfig(w.r))
	w.paths = append(w.paths, filepath.Join(filepath.Dir(w.paths[0]), ConfigFile))
	for i, f := range []*dataset.File{w.tasks, w.tcsv, w.tjsonl, cfg} {
		if err := f.Close(); err != nil {
			w.abort()
			cfg.Abort()
			for _, p := range w.paths[:i] { // all or nothing
				os.Remove(p)
			}
			return err
		}
	}
	return nil
}

// RenderText is the text annotators read for row: a document's text, or a
// conversation as "[role]" headed turns separated by blank lines.
func RenderText(c sift.Cols, row int) string {
	if c.Text.IsValid(row) {
		return c.Text.Value(row)
	}
	if !c.Messages.IsValid(row) {
		return ""
	}
	var sb strings.Builder
	start, end := c.Messages.ValueOffsets(row)
	for j := start; j < end; j++ {
		if j > start {
			sb.WriteString("\n\n")
		}
		sb.WriteString("[" + c.Role.Value(int(j)) + "]\n")
		sb.WriteString(c.Content.Value(int(j)))
	}
	return sb.String()
}

// maxChoices is the largest number of integer scores shown as radio
// buttons; wider ranges get a number field.
const maxChoices = 11

// LabelingConfig returns the Label Studio labeling config for r: the row's
// text, then per dimension a header with its range and descriptions and one
// control: Choices for nominal dimensions and for ordinal ones with at most
// 11 integer scores, Number otherwise. Controls are named after their
// dimension, which is how LoadLabels maps results back.
func LabelingConfig(r Rubric) []byte {
	var b bytes.Buffer
	esc := func(s string) string {
		var e bytes.Buffer
		xml.EscapeText(&e, []byte(s))
		return strings.ReplaceAll(e.String(), `"`, "&quot;")
	}
	b.WriteString("<View>\n  <Header value=\"$id\" size=\"5\"/>\n  <Text name=\"text\" value=\"$text\"/>\n")
	for _, d := range r {
		head := d.Name
		if d.Kind == Nominal {
			head += " (" + strings.Join(d.Values, " / ") + ")"
		} else {
			head += fmt.Sprintf(" (%s–%s)", fmtNum(d.Min), fmtNum(d.Max))
		}
		fmt.Fprintf(&b, "  <Header value=\"%s\" size=\"4\"/>\n", esc(head))
		for _, desc := range []string{d.Description, d.DescriptionZH} {
			if desc != "" {
				fmt.Fprintf(&b, "  <Header value=\"%s\" size=\"6\"/>\n", esc(desc))
			}
		}
		var choices []string
		switch {
		case d.Kind == Nominal:
			choices = d.Values
		case d.Kind == Ordinal && d.Min == math.Trunc(d.Min) && d.Max == math.Trunc(d.Max) && d.Max-d.Min < maxChoices:
			for v := d.Min; v <= d.Max; v++ {
				choices = append(choices, fmtNum(v))
			}
		}
		if choices != nil {
			fmt.Fprintf(&b, "  <Choices name=\"%s\" toName=\"text\" choice=\"single-radio\" showInline=\"true\">\n", esc(d.Name))
			for _, c := range choices {
				fmt.Fprintf(&b, "    <Choice value=\"%s\"/>\n", esc(c))
			}
			b.WriteString("  </Choices>\n")
			continue
		}
		fmt.Fprintf(&b, "  <Number name=\"%s\" toName=\"text\" min=\"%s\" max=\"%s\"/>\n", esc(d.Name), fmtNum(d.Min), fmtNum(d.Max))
	}
	b.WriteString("</View>\n")
	return b.Bytes()
}

package annotate

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Labels are the annotators' scores of a set of rows (units), held in
// memory. Each label is one annotator's scores of one unit, with a missing
// value (NaN) for every dimension the annotator left out.
//
// Memory: a label of the three-dimension default rubric costs 60–70 bytes
// with three annotators per row (its scores, annotator and line, and a third
// of its row's id and index entry), so about 15 million labels fit per GB
// (measured by TestLabelsMemory).
type Labels struct {
	Rubric Rubric
	// Annotators are the annotator names, in order of first appearance.
	Annotators []string
	// IDs are the unit (row) ids, in order of first appearance.
	IDs []string
	// Problems are the bad labels skipped when loading with [SkipBad],
	// in file order.
	Problems []Problem
	// Blank counts labels with no score at all (an empty template row or
	// an annotation with an empty result); they are not labels.
	Blank int

	unit map[string]int32
	ann  map[string]int32
	// One entry per label, grouped by unit (in IDs order) by finish; off
	// indexes the groups.
	lu, la, line []int32
	vals         []float64 // len(Rubric) per label
	off          []int32
	file         string
}

// Problem is a bad label: where it is and what is wrong.
type Problem struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Kind string `json:"kind"` // out_of_range, bad_value, unknown_dimension, duplicate, missing_id, missing_annotator
	Msg  string `json:"msg"`
}

func (p Problem) Error() string { return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg) }

// LoadOption configures [LoadLabels].
type LoadOption func(*loader)

// SkipBad makes bad labels (out-of-range or unknown values, unknown
// dimensions, duplicate (id, annotator) pairs, missing ids) problems that
// are recorded in [Labels.Problems] and skipped, instead of errors.
// Malformed JSON or CSV is always an error.
func SkipBad() LoadOption { return func(l *loader) { l.skip = true } }

// WithIDField sets the key of a Label Studio task's data that holds the row
// id (default "id").
func WithIDField(key string) LoadOption { return func(l *loader) { l.idField = key } }

// contextFields are template columns that are read by annotators, not
// scored: JSONL and CSV label files may carry them.
var contextFields = map[string]bool{"text": true, "source": true, "stratum": true, "messages": true}

type loader struct {
	*Labels
	skip    bool
	idField string
	data    []byte
	nl      []int // offsets of newlines in data
}

// LoadLabels reads a label file: a Label Studio JSON export (.json), or
// JSONL (.jsonl) or CSV (.csv) rows of id, annotator and one column per
// dimension. Errors name the file and line.
func LoadLabels(path string, r Rubric, opts ...LoadOption) (*Labels, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseLabels(data, path, r, opts...)
}

// ParseLabels reads label data; name is the file name used in errors, and
// its extension picks the format (.json: Label Studio export; .jsonl; .csv).
func ParseLabels(data []byte, name string, r Rubric, opts ...LoadOption) (*Labels, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	l := &loader{Labels: &Labels{Rubric: r, unit: map[string]int32{}, ann: map[string]int32{}, file: name},
		idField: "id", data: data}
	for _, o := range opts {
		o(l)
	}
	var err error
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		err = l.labelStudio()
	case ".jsonl", ".ndjson":
		err = l.jsonl()
	case ".csv":
		err = l.csv()
	default:
		return nil, fmt.Errorf("%s: unknown label format (want .json for a Label Studio export, .jsonl or .csv)", name)
	}
	if err != nil {
		return nil, err
	}
	if err := l.finish(); err != nil {
		return nil, err
	}
	l.data, l.nl = nil, nil
	return l.Labels, nil
}

// lineAt returns the 1-based line of byte offset off.
func (l *loader) lineAt(off int) int {
	if l.nl == nil {
		l.nl = []int{}
		for i, c := range l.data {
			if c == '\n' {
				l.nl = append(l.nl, i)
			}
		}
	}
	return sort.SearchInts(l.nl, off) + 1
}

// problem records a bad label, or returns it as the error.
func (l *loader) problem(line int, kind, msg string) error {
	p := Problem{File: l.file, Line: line, Kind: kind, Msg: msg}
	if !l.skip {
		return p
	}
	l.Problems = append(l.Problems, p)
	return nil
}

// add stores one label, unless bad (a value of it was already recorded as
// a problem). vals has one entry per dimension, NaN for missing; each
// present value is checked.
func (l *loader) add(line int, id, annotator string, vals []float64, bad bool) error {
	if bad {
		return nil
	}
	if id == "" {
		return l.problem(line, "missing_id", "label without an id")
	}
	any := false
	for d, v := range vals {
		if math.IsNaN(v) {
			continue
		}
		if err := l.Rubric[d].Check(v); err != nil {
			return l.badValue(line, err)
		}
		any = true
	}
	if !any {
		l.Blank++
		return nil
	}
	if annotator == "" {
		return l.problem(line, "missing_annotator", "label of "+strconv.Quote(id)+" without an annotator")
	}
	u, ok := l.unit[id]
	if !ok {
		u = int32(len(l.IDs))
		l.unit[id] = u
		l.IDs = append(l.IDs, id)
	}
	a, ok := l.ann[annotator]
	if !ok {
		a = int32(len(l.Annotators))
		l.ann[annotator] = a
		l.Annotators = append(l.Annotators, annotator)
	}
	l.lu = append(l.lu, u)
	l.la = append(l.la, a)
	l.line = append(l.line, int32(line))
	l.vals = append(l.vals, vals...)
	return nil
}

// finish groups labels by unit (a stable counting sort, so each unit's
// labels stay in file order) and finds duplicate (id, annotator) pairs.
func (l *loader) finish() error {
	D := len(l.Rubric)
	n := len(l.lu)
	off := make([]int32, len(l.IDs)+1)
	for _, u := range l.lu {
		off[u+1]++
	}
	for i := 1; i < len(off); i++ {
		off[i] += off[i-1]
	}
	pos := append([]int32(nil), off[:len(l.IDs)]...)
	lu, la, line := make([]int32, n), make([]int32, n), make([]int32, n)
	vals := make([]float64, n*D)
	for i, u := range l.lu {
		j := pos[u]
		pos[u]++
		lu[j], la[j], line[j] = u, l.la[i], l.line[i]
		copy(vals[int(j)*D:], l.vals[i*D:(i+1)*D])
	}
	// Duplicates: the first label of an (id, annotator) pair in file order
	// wins. Units have few labels, so a quadratic scan is cheapest.
	drop := map[int]bool{}
	for u := 0; u < len(l.IDs); u++ {
		for i := off[u]; i < off[u+1]; i++ {
			for j := off[u]; j < i; j++ {
				if la[j] == la[i] && !drop[int(j)] {
					msg := fmt.Sprintf("annotator %q labelled %q twice (first at line %d)", l.Annotators[la[i]], l.IDs[u], line[j])
					if err := l.problem(int(line[i]), "duplicate", msg); err != nil {
						return err
					}
					drop[int(i)] = true
					break
				}
			}
		}
	}
	if len(drop) > 0 {
		k := 0
		for i := 0; i < n; i++ {
			if drop[i] {
				continue
			}
			lu[k], la[k], line[k] = lu[i], la[i], line[i]
			copy(vals[k*D:], vals[i*D:(i+1)*D])
			k++
		}
		lu, la, line, vals = lu[:k], la[:k], line[:k], vals[:k*D]
		clear(off)
		for _, u := range lu {
			off[u+1]++
		}
		for i := 1; i < len(off); i++ {
			off[i] += off[i-1]
		}
		sort.SliceStable(l.Problems, func(i, j int) bool { return l.Problems[i].Line < l.Problems[j].Line })
	}
	l.lu, l.la, l.line, l.vals, l.off = lu, la, line, vals, off
	return nil
}

// Len is the number of labels.
func (l *Labels) Len() int { return len(l.lu) }

// Unit returns the index of the unit with id, or -1.
func (l *Labels) Unit(id string) int {
	if u, ok := l.unit[id]; ok {
		return int(u)
	}
	return -1
}

// Label is one annotator's scores of a unit; borrowed from [Labels].
type Label struct {
	Annotator int       // index into Annotators
	Line      int       // line in the label file
	Values    []float64 // one per dimension, NaN for missing
}

// Of returns the labels of unit u, in file order. It panics if u is out of
// range.
func (l *Labels) Of(u int) []Label { return l.AppendOf(nil, u) }

// AppendOf appends the labels of unit u to dst, like Of without allocating.
func (l *Labels) AppendOf(dst []Label, u int) []Label {
	D := len(l.Rubric)
	for i := l.off[u]; i < l.off[u+1]; i++ {
		dst = append(dst, Label{Annotator: int(l.la[i]), Line: int(l.line[i]), Values: l.vals[int(i)*D : int(i+1)*D]})
	}
	return dst
}

// NumLabels returns how many annotators labelled unit u.
func (l *Labels) NumLabels(u int) int { return int(l.off[u+1] - l.off[u]) }

// Units returns the reliability data of dimension d: per unit, the values
// given and by whom.
func (l *Labels) Units(d int) Units {
	D := len(l.Rubric)
	u := Units{Off: make([]int, 1, len(l.IDs)+1)}
	for j := 0; j < len(l.IDs); j++ {
		for i := l.off[j]; i < l.off[j+1]; i++ {
			if v := l.vals[int(i)*D+d]; !math.IsNaN(v) {
				u.Vals = append(u.Vals, v)
				u.Coder = append(u.Coder, l.la[i])
			}
		}
		u.Off = append(u.Off, len(u.Vals))
	}
	return u
}

// Label Studio's export: a list of tasks.
type lsTask struct {
	Data        map[string]json.RawMessage `json:"data"`
	Annotations []json.RawMessage          `json:"annotations"`
}

type lsAnnotation struct {
	CompletedBy  json.RawMessage   `json:"completed_by"`
	WasCancelled bool              `json:"was_cancelled"`
	Result       []json.RawMessage `json:"result"`
}

type lsResult struct {
	FromName string `json:"from_name"`
	Type     string `json:"type"`
	Value    struct {
		Choices []string     `json:"choices"`
		Rating  *json.Number `json:"rating"`
		Number  *json.Number `json:"number"`
	} `json:"value"`
}

// labelStudio reads a Label Studio JSON export: annotations[].result[] with
// from_name naming the dimension; cancelled annotations are skipped and
// completed_by names the annotator.
func (l *loader) labelStudio() error {
	dec := json.NewDecoder(bytes.NewReader(l.data))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return l.syntax(dec, err, "want a JSON list of Label Studio tasks")
	}
	D := len(l.Rubric)
	for dec.More() {
		start := l.skipSpace(int(dec.InputOffset()))
		var task lsTask
		if err := dec.Decode(&task); err != nil {
			return l.syntax(dec, err, "")
		}
		taskLine := l.lineAt(start)
		id, err := jsonID(task.Data[l.idField])
		if err != nil {
			if err := l.problem(taskLine, "missing_id", fmt.Sprintf("task data.%s: %v", l.idField, err)); err != nil {
				return err
			}
			continue
		}
		from := start
		for _, raw := range task.Annotations {
			at := l.find(raw, &from)
			var a lsAnnotation
			if err := json.Unmarshal(raw, &a); err != nil {
				return fmt.Errorf("%s:%d: annotation: %v", l.file, l.lineAt(at), err)
			}
			if a.WasCancelled {
				continue
			}
			annotator, err := jsonID(a.CompletedBy)
			if err != nil {
				var obj struct {
					ID    json.RawMessage `json:"id"`
					Email string          `json:"email"`
				}
				if json.Unmarshal(a.CompletedBy, &obj) == nil {
					annotator, _ = jsonID(obj.ID)
					if obj.Email != "" {
						annotator = obj.Email
					}
				}
			}
			vals := make([]float64, D)
			for i := range vals {
				vals[i] = math.NaN()
			}
			bad := false
			rfrom := at
			for _, rraw := range a.Result {
				rat := l.find(rraw, &rfrom)
				line := l.lineAt(rat)
				var r lsResult
				if err := json.Unmarshal(rraw, &r); err != nil {
					return fmt.Errorf("%s:%d: result: %v", l.file, line, err)
				}
				d := l.Rubric.Index(r.FromName)
				if d < 0 {
					if err := l.problem(line, "unknown_dimension", fmt.Sprintf("from_name %q is not a rubric dimension (%s)", r.FromName, strings.Join(l.Rubric.Names(), ", "))); err != nil {
						return err
					}
					bad = true
					continue
				}
				v, err := lsValue(l.Rubric[d], r)
				if err != nil {
					if err := l.badValue(line, err); err != nil {
						return err
					}
					bad = true
					continue
				}
				vals[d] = v
			}
			if err := l.add(l.lineAt(at), id, annotator, vals, bad); err != nil {
				return err
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return l.syntax(dec, err, "")
	}
	if dec.More() {
		return fmt.Errorf("%s:%d: data after the list of tasks", l.file, l.lineAt(int(dec.InputOffset())))
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err != io.EOF {
		return fmt.Errorf("%s:%d: data after the list of tasks", l.file, l.lineAt(l.skipSpace(int(dec.InputOffset()))))
	}
	return nil
}

// badValue records a value error as an out_of_range or bad_value problem.
func (l *loader) badValue(line int, err error) error {
	kind := "bad_value"
	if errors.Is(err, errRange) {
		kind = "out_of_range"
	}
	return l.problem(line, kind, err.Error())
}

// lsValue reads the score of dimension d from a result: choices (a
// category, or a number for numeric dimensions), rating or number.
func lsValue(d Dimension, r lsResult) (float64, error) {
	var v float64
	var err error
	switch {
	case len(r.Value.Choices) > 1:
		return 0, fmt.Errorf("%s: %d choices, want one", d.Name, len(r.Value.Choices))
	case len(r.Value.Choices) == 1:
		if d.Kind == Nominal {
			return d.Parse(r.Value.Choices[0])
		}
		v, err = strconv.ParseFloat(strings.TrimSpace(r.Value.Choices[0]), 64)
	case r.Value.Number != nil:
		v, err = r.Value.Number.Float64()
	case r.Value.Rating != nil:
		v, err = r.Value.Rating.Float64()
	default:
		return 0, fmt.Errorf("%s: result of type %q has no choices, rating or number", d.Name, r.Type)
	}
	if err != nil {
		return 0, fmt.Errorf("%s: not a number: %v", d.Name, err)
	}
	if d.Kind == Nominal {
		return 0, fmt.Errorf("%s: a nominal dimension needs a choice, got the number %v", d.Name, v)
	}
	return v, d.Check(v)
}

// find returns the offset of raw in the data at or after *from, and moves
// *from past it. Raw JSON values keep their bytes, so this locates nested
// values for line numbers.
func (l *loader) find(raw []byte, from *int) int {
	i := bytes.Index(l.data[*from:], raw)
	if i < 0 {
		return *from
	}
	at := *from + i
	*from = at + len(raw)
	return at
}

func (l *loader) skipSpace(off int) int {
	for off < len(l.data) {
		switch l.data[off] {
		case ' ', '\t', '\r', '\n', ',':
			off++
			continue
		}
		break
	}
	return off
}

// syntax turns a JSON decoding error into one with file and line.
func (l *loader) syntax(dec *json.Decoder, err error, want string) error {
	off := int(dec.InputOffset())
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = int(se.Offset)
	case errors.As(err, &te):
		off = int(te.Offset)
	}
	msg := want
	if err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			err, off = io.ErrUnexpectedEOF, len(l.data)
		}
		msg = err.Error()
		if want != "" {
			msg = want + ": " + msg
		}
	}
	return fmt.Errorf("%s:%d: malformed JSON: %s", l.file, l.lineAt(max(off-1, 0)), msg)
}

// jsonID reads an id or annotator: a string or a number.
func jsonID(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", errors.New("missing")
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		if s == "" {
			return "", errors.New("empty")
		}
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", fmt.Errorf("want a string or number, got %s", shorten(raw))
	}
	return n.String(), nil
}

func shorten(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}

// jsonl reads one {"id", "annotator", dimension: score, ...} object per
// line; null or absent dimensions are missing values.
func (l *loader) jsonl() error {
	D := len(l.Rubric)
	lineNo := 0
	for rest := l.data; len(rest) > 0; {
		lineNo++
		var ln []byte
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			ln, rest = rest[:i], rest[i+1:]
		} else {
			ln, rest = rest, nil
		}
		if len(bytes.TrimSpace(ln)) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(ln))
		dec.UseNumber()
		var obj map[string]json.RawMessage
		if err := dec.Decode(&obj); err != nil {
			return fmt.Errorf("%s:%d: malformed JSON: %v", l.file, lineNo, err)
		}
		if dec.More() {
			return fmt.Errorf("%s:%d: malformed JSON: more than one value on the line", l.file, lineNo)
		}
		if obj == nil {
			return fmt.Errorf("%s:%d: malformed JSON: want an object", l.file, lineNo)
		}
		id, err := jsonID(obj["id"])
		if err != nil {
			if err := l.problem(lineNo, "missing_id", "id: "+err.Error()); err != nil {
				return err
			}
			continue
		}
		annotator, _ := jsonID(obj["annotator"])
		vals := make([]float64, D)
		bad := false
		for d := range vals {
			vals[d] = math.NaN()
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if k == "id" || k == "annotator" || contextFields[k] {
				continue
			}
			d := l.Rubric.Index(k)
			if d < 0 {
				if err := l.problem(lineNo, "unknown_dimension", fmt.Sprintf("%q is not a rubric dimension (%s)", k, strings.Join(l.Rubric.Names(), ", "))); err != nil {
					return err
				}
				bad = true
				continue
			}
			raw := bytes.TrimSpace(obj[k])
			if string(raw) == "null" {
				continue
			}
			var s string
			if raw[0] == '"' {
				if err := json.Unmarshal(raw, &s); err != nil {
					return fmt.Errorf("%s:%d: malformed JSON: %v", l.file, lineNo, err)
				}
				if s == "" {
					continue
				}
			} else {
				s = string(raw)
			}
			v, err := l.Rubric[d].Parse(s)
			if err != nil {
				if err := l.badValue(lineNo, err); err != nil {
					return err
				}
				bad = true
				continue
			}
			vals[d] = v
		}
		if err := l.add(lineNo, id, annotator, vals, bad); err != nil {
			return err
		}
	}
	return nil
}

// csv reads a header of id, annotator, dimension names (and optional
// context columns) and one label per record; empty cells are missing.
func (l *loader) csv() error {
	r := csv.NewReader(bytes.NewReader(l.data))
	r.FieldsPerRecord = 0
	header, err := r.Read()
	if err != nil {
		if err == io.EOF {
			return fmt.Errorf("%s:1: empty CSV, want a header with id, annotator and the dimensions", l.file)
		}
		return fmt.Errorf("%s: malformed CSV: %v", l.file, err)
	}
	col := map[string]int{}
	dims := make([]int, len(header))
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		dims[i] = -1
		if _, dup := col[h]; dup {
			return fmt.Errorf("%s:1: column %q twice", l.file, h)
		}
		col[h] = i
		if h == "id" || h == "annotator" || contextFields[h] {
			continue
		}
		if dims[i] = l.Rubric.Index(h); dims[i] < 0 {
			return fmt.Errorf("%s:1: column %q is not a rubric dimension (%s)", l.file, h, strings.Join(l.Rubric.Names(), ", "))
		}
	}
	idCol, ok := col["id"]
	if !ok {
		return fmt.Errorf("%s:1: no id column", l.file)
	}
	annCol, hasAnn := col["annotator"]
	D := len(l.Rubric)
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: malformed CSV: %v", l.file, err)
		}
		line, _ := r.FieldPos(0)
		vals := make([]float64, D)
		for d := range vals {
			vals[d] = math.NaN()
		}
		bad := false
		for i, cell := range rec {
			if dims[i] < 0 || strings.TrimSpace(cell) == "" {
				continue
			}
			v, err := l.Rubric[dims[i]].Parse(cell)
			if err != nil {
				if err := l.badValue(line, err); err != nil {
					return err
				}
				bad = true
				continue
			}
			vals[dims[i]] = v
		}
		annotator := ""
		if hasAnn {
			annotator = strings.TrimSpace(rec[annCol])
		}
		if err := l.add(line, strings.TrimSpace(rec[idCol]), annotator, vals, bad); err != nil {
			return err
		}
	}
}

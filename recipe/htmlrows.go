package recipe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"html/template"
	"io"
	"math"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/caio/go-tdigest/v4"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/internal/sketch"
)

// histogram counts values in fixed bins, evenly spaced in log10 between
// Lo and Hi (values outside go to the end bins). Two histograms with the
// same bins merge by adding counts, so runs split across workers or
// machines summarize as one.
type histogram struct {
	Lo, Hi float64
	Counts []int64
}

func newLogHistogram(lo, hi float64, bins int) *histogram {
	return &histogram{Lo: lo, Hi: hi, Counts: make([]int64, bins)}
}

// pos is v's position on the axis, 0 at Lo and 1 at Hi.
func (h *histogram) pos(v float64) float64 {
	if v <= h.Lo {
		return 0
	}
	return (math.Log10(v) - math.Log10(h.Lo)) / (math.Log10(h.Hi) - math.Log10(h.Lo))
}

// edge is the lower edge of bin i (the upper of bin i-1).
func (h *histogram) edge(i int) float64 {
	return math.Pow(10, math.Log10(h.Lo)+float64(i)/float64(len(h.Counts))*(math.Log10(h.Hi)-math.Log10(h.Lo)))
}

func (h *histogram) add(v float64) {
	if math.IsNaN(v) {
		return
	}
	i := int(h.pos(v) * float64(len(h.Counts)))
	h.Counts[min(max(i, 0), len(h.Counts)-1)]++
}

// merge adds o's counts; it panics if the bins differ (a misuse).
func (h *histogram) merge(o *histogram) {
	if o.Lo != h.Lo || o.Hi != h.Hi || len(o.Counts) != len(h.Counts) {
		panic("recipe: merging histograms with different bins")
	}
	for i, c := range o.Counts {
		h.Counts[i] += c
	}
}

func (h *histogram) total() int64 {
	var n int64
	for _, c := range h.Counts {
		n += c
	}
	return n
}

// Lengths are in characters (runes), 1 to 10^6 in 48 bins, 8 a decade;
// perplexities 1 to 10^5 in 50 bins.
func newLengthHist() *histogram { return newLogHistogram(1, 1e6, 48) }
func newPPLHist() *histogram    { return newLogHistogram(1, 1e5, 50) }

// sample keeps the k items with the smallest hash of their key: a
// reservoir that picks the same rows whatever the order they arrive in,
// and merges by keeping the k smallest of both.
type sample struct {
	k     int
	items []sampled
}

type sampled struct {
	hash      uint64
	Key, A, B string
}

func (s *sample) offer(key string, a, b func() string) {
	h := fnv.New64a()
	h.Write([]byte(key))
	x := h.Sum64()
	if s.full(x) {
		return // the texts are not even made
	}
	s.offerHash(sampled{x, key, a(), b()})
}

func (s *sample) full(x uint64) bool { return len(s.items) == s.k && x >= s.items[s.k-1].hash }

func (s *sample) offerHash(it sampled) {
	if s.full(it.hash) {
		return
	}
	i := sort.Search(len(s.items), func(i int) bool { return s.items[i].hash > it.hash })
	s.items = append(s.items, sampled{})
	copy(s.items[i+1:], s.items[i:])
	s.items[i] = it
	if len(s.items) > s.k {
		s.items = s.items[:s.k]
	}
}

// merge keeps the k smallest of s and o; s.k must equal o.k.
func (s *sample) merge(o *sample) {
	for _, it := range o.items {
		s.offerHash(it)
	}
}

// exampleLen caps an example's length in runes.
const exampleLen = 400

// rowStats collects what the HTML report shows of the rows themselves,
// while the run streams: per step, length (and perplexity) histograms of
// the rows it passes on; per stage and reason, sampled rejected rows.
// Memory is bounded by the number of steps and reasons. Every example text
// passes through redact, when the recipe has a redactor, before it is kept.
type rowStats struct {
	mu      sync.Mutex
	redact  func(string) string
	steps   map[string]*stepRows
	rejects map[[2]string]*sample // stage, reason
	partial []byte                // a reject line not yet complete
	// detail holds the steps whose lengths, sources and scripts are
	// shown; nil for all.
	detail map[string]bool
	// profileStep is the step whose rows sift inspect profiles
	// (profileRows); "" in a run.
	profileStep string
}

type stepRows struct {
	length, ppl, rejectedPPL *histogram
	lengths                  *tdigest.TDigest // length quantiles, with length
	// profile holds what sift inspect shows besides; nil in a run.
	profile *profileRows
	sources map[string]int64 // rows by source, at most maxSources, the rest under otherSources
	han     [3]int64         // rows by Han share: none, under half, half or more
	// kept samples the rows the step passed on (id, text), so that a
	// duplicate it removed can be shown beside its keeper when the keeper
	// is among them: the pairs shown are a uniform sample of clusters.
	kept      *sample
	keptIndex map[string]string // kept's texts by id, made once rejects arrive
	dups      *sample           // keeper text, removed text
	clusters  map[string]int64  // rows removed per keeper in kept
	augmented *sample           // original text, copy text
}

// maxSources bounds the sources counted one by one.
const (
	maxSources   = 30
	otherSources = "(other sources)"
)

// hanClasses name stepRows.han's classes.
var hanClasses = [3]string{"no Han characters", "Han < 50%", "Han ≥ 50% (Chinese)"}

// keptSample is how many rows per step are kept as keeper candidates.
const keptSample = 256

func newRowStats() *rowStats {
	return &rowStats{steps: map[string]*stepRows{}, rejects: map[[2]string]*sample{}}
}

func (rs *rowStats) step(name string) *stepRows {
	s := rs.steps[name]
	if s == nil {
		s = &stepRows{length: newLengthHist(), lengths: sketch.NewDigest(), sources: map[string]int64{}}
		if name == rs.profileStep {
			s.profile = newProfileRows()
		}
		rs.steps[name] = s
	}
	return s
}

// textRedactor is implemented by the pii_redact stage.
type textRedactor interface{ RedactText(string) string }

// hook readies rs for a run of steps: it takes the first redactor among
// them, and returns the writer for the pipeline's rejects, which feeds rs
// and copies to rejects (nil for none).
func (rs *rowStats) hook(steps []sift.Step, rejects io.Writer) io.Writer {
	for _, s := range steps {
		if r, ok := s.Stage.(textRedactor); ok {
			rs.redact = r.RedactText
			break
		}
	}
	rs.detail = map[string]bool{sift.ReadStage: true}
	for i, s := range steps {
		if s.Name == "length_filter" && i > 0 {
			rs.detail[steps[i-1].Name] = true
		}
		if s.Name == "length_filter" || s.Name == "perplexity" || i == len(steps)-1 {
			rs.detail[s.Name] = true
		}
	}
	if rejects == nil {
		return rs
	}
	return io.MultiWriter(rejects, rs)
}

// tap takes one output batch of a step (a [sift.WithTap] function).
func (rs *rowStats) tap(step string, rec arrow.RecordBatch) {
	if !unified(rec) {
		return
	}
	v := sift.NewTextView(rec, sift.AllRoles)
	var ppl *array.Float64
	if idx := rec.Schema().FieldIndices("perplexity"); len(idx) == 1 {
		ppl, _ = rec.Column(idx[0]).(*array.Float64)
	}
	detail := rs.detail == nil || rs.detail[step]
	rs.mu.Lock()
	defer rs.mu.Unlock()
	s := rs.step(step)
	if s.kept == nil {
		s.kept = &sample{k: keptSample}
	}
	ids := v.Cols().ID
	augment := strings.HasPrefix(step, "augment")
	for i := range int(rec.NumRows()) {
		text := v.Text(i)
		s.kept.offer(ids.Value(i), func() string { return rs.example(text) }, none)
		if orig, _, ok := strings.Cut(ids.Value(i), "#aug"); ok && augment {
			// A copy follows its original in the batch.
			for j := i - 1; j >= 0; j-- {
				if ids.Value(j) == orig {
					if s.augmented == nil {
						s.augmented = &sample{k: 4}
					}
					before := strings.Clone(v.Text(j))
					after := strings.Clone(v.Text(i))
					s.augmented.offer(ids.Value(i), func() string { return rs.example(before) }, func() string { return rs.example(after) })
					break
				}
			}
			text = v.Text(i)
		}
		if !detail {
			continue
		}
		var n, han int
		for _, r := range text {
			n++
			if r >= 0x2e80 && unicode.Is(unicode.Han, r) { // no Han below U+2E80
				han++
			}
		}
		s.length.add(float64(n))
		s.lengths.Add(float64(n))
		class := 2
		switch {
		case han == 0:
			class = 0
		case 2*han < n:
			class = 1
		}
		s.han[class]++
		src := v.Cols().Source.Value(i)
		if src == "" {
			src = "(no source)"
		}
		if _, ok := s.sources[src]; !ok {
			if len(s.sources) >= maxSources {
				src = otherSources
			} else {
				src = strings.Clone(src) // it aliases the batch
			}
		}
		s.sources[src]++
		if s.profile != nil {
			s.profile.add(src, text, n, class)
		}
		if ppl != nil && step == "perplexity" && ppl.IsValid(i) {
			if s.ppl == nil {
				s.ppl = newPPLHist()
			}
			s.ppl.add(ppl.Value(i))
		}
	}
}

// unified reports whether rec has the unified columns first.
func unified(rec arrow.RecordBatch) bool {
	fs := sift.Schema.Fields()
	if int(rec.NumCols()) < len(fs) {
		return false
	}
	for i, f := range fs {
		if g := rec.Schema().Field(i); g.Name != f.Name || !arrow.TypeEqual(g.Type, f.Type) {
			return false
		}
	}
	return true
}

// Write takes the rejects output, one JSON object per line, as the
// pipeline writes it (in step order, so the samples are deterministic).
func (rs *rowStats) Write(p []byte) (int, error) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	n := len(p)
	if len(rs.partial) > 0 { // complete the line begun in an earlier write
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			rs.partial = append(rs.partial, p...)
			return n, nil
		}
		rs.reject(append(rs.partial, p[:i]...))
		rs.partial, p = rs.partial[:0], p[i+1:]
	}
	for {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			break
		}
		rs.reject(p[:i])
		p = p[i+1:]
	}
	rs.partial = append(rs.partial, p...) // a copy: p is the writer's
	return n, nil
}

type rejectLine struct {
	ID          string          `json:"id"`
	Stage       string          `json:"stage"`
	Reason      string          `json:"reason"`
	Detail      string          `json:"detail"`
	DuplicateOf string          `json:"duplicate_of"`
	Value       *float64        `json:"value"`
	Record      json.RawMessage `json:"record"`
}

func (rs *rowStats) reject(line []byte) {
	var r rejectLine
	if json.Unmarshal(line, &r) != nil {
		return
	}
	if r.Value != nil && r.Stage == "perplexity" {
		s := rs.step(r.Stage)
		if s.rejectedPPL == nil {
			s.rejectedPPL = newPPLHist()
		}
		s.rejectedPPL.add(*r.Value)
	}
	if r.DuplicateOf != "" {
		if st := rs.steps[r.Stage]; st != nil && st.kept != nil {
			if st.keptIndex == nil {
				st.keptIndex = map[string]string{}
				for _, it := range st.kept.items {
					st.keptIndex[it.Key] = it.A
				}
			}
			if keeper, ok := st.keptIndex[r.DuplicateOf]; ok {
				if st.clusters == nil {
					st.clusters = map[string]int64{}
				}
				st.clusters[r.DuplicateOf]++
				if st.dups == nil {
					st.dups = &sample{k: 5}
				}
				st.dups.offer(r.ID, func() string { return keeper }, func() string { return rs.example(recordText(r.Record)) })
			}
		}
	}
	key := [2]string{r.Stage, r.Reason}
	s := rs.rejects[key]
	if s == nil {
		s = &sample{k: 3}
		rs.rejects[key] = s
	}
	s.offer(r.ID, func() string { return rs.example(recordText(r.Record)) }, func() string {
		d := r.Detail
		if r.DuplicateOf != "" {
			d += " (duplicate of " + r.DuplicateOf + ")"
		}
		return rs.example(d)
	})
}

func none() string { return "" }

// recordText is the text of a rejected record: its text, its messages'
// contents, or the raw line of a row that could not be read.
func recordText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var rec struct {
		Text     string `json:"text"`
		Messages []struct {
			Role, Content string
		} `json:"messages"`
	}
	if json.Unmarshal(raw, &rec) != nil {
		return string(raw)
	}
	if rec.Text != "" {
		return rec.Text
	}
	if len(rec.Messages) == 0 {
		return string(raw) // neither: the record shows why it was rejected
	}
	var parts []string
	for _, m := range rec.Messages {
		parts = append(parts, m.Role+": "+m.Content)
	}
	return strings.Join(parts, "\n")
}

// example redacts s and cuts it to exampleLen runes. Redaction comes
// first, so a value cut in half is still found.
// To bound the redactor's work on long rows, the text is first cut
// redactSlack bytes after the shown part: a value that starts in the
// shown part and is shorter than that (a PEM private key is under 4 KiB)
// is still whole when the redactor sees it. The result is a copy: s may
// alias Arrow memory.
func (rs *rowStats) example(s string) string {
	if n := runeOffset(s, exampleLen) + redactSlack; n < len(s) {
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n]
	}
	if rs.redact != nil {
		s = rs.redact(s)
	}
	if n := runeOffset(s, exampleLen); n < len(s) {
		s = s[:n] + "…"
	}
	return strings.Clone(s)
}

const redactSlack = 8 << 10

// runeOffset is the byte offset of s's n-th rune, or len(s).
func runeOffset(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	return len(s)
}

// rowsView is the rows part of the page.
type rowsView struct {
	Note      string
	Hists     []template.HTML
	Breakdown []template.HTML
	Examples  []exampleView
	Redacted  bool
}

type exampleView struct {
	Title, Left, Right string
	Pairs              []pairView
}

type pairView struct{ A, B template.HTML }

// view draws the histograms of the steps, in run order.
func (rs *rowStats) view(stages []sift.StageStats) *rowsView {
	v := &rowsView{Redacted: rs.redact != nil,
		Note: "Lengths are in characters, on a log scale; counts are of the rows each step passed on."}
	for i, st := range stages {
		s := rs.steps[st.Name]
		if s == nil {
			continue
		}
		switch {
		case i == 0:
			v.Hists = append(v.Hists, histChart(withQuantiles("Length of the rows read", s), "characters (log scale)", s.length, nil))
		case st.Name == "length_filter":
			if prev := rs.steps[stages[i-1].Name]; prev != nil {
				v.Hists = append(v.Hists, histChart(withQuantiles("Length before length_filter", prev), "characters (log scale)", prev.length, nil))
			}
			v.Hists = append(v.Hists, histChart(withQuantiles("Length after length_filter", s), "characters (log scale)", s.length, nil))
		case i == len(stages)-1:
			v.Hists = append(v.Hists, histChart(withQuantiles("Length of the rows written", s), "characters (log scale)", s.length, nil))
		}
	}
	if len(stages) > 0 {
		first, last := rs.steps[stages[0].Name], rs.steps[stages[len(stages)-1].Name]
		if first != nil && last != nil {
			v.Breakdown = append(v.Breakdown, breakdown("Rows by source: written (dark) of read (light)", first.sources, last.sources))
			in, out := map[string]int64{}, map[string]int64{}
			for i, c := range hanClasses {
				in[c], out[c] = first.han[i], last.han[i]
			}
			v.Breakdown = append(v.Breakdown, breakdown("Rows by script: written (dark) of read (light)", in, out))
		}
	}
	keys := make([][2]string, 0, len(rs.rejects))
	for k := range rs.rejects {
		keys = append(keys, k)
	}
	order := map[string]int{}
	for i, st := range stages {
		order[st.Name] = i
	}
	sort.Slice(keys, func(i, j int) bool {
		if a, b := order[keys[i][0]], order[keys[j][0]]; a != b {
			return a < b
		}
		return keys[i][1] < keys[j][1]
	})
	for _, k := range keys {
		ex := exampleView{Title: k[0] + ": " + k[1], Left: "rejected row", Right: "why"}
		for _, it := range rs.rejects[k].items {
			ex.Pairs = append(ex.Pairs, pairView{template.HTML(esc(it.A)), template.HTML(esc(it.B))})
		}
		v.Examples = append(v.Examples, ex)
	}
	for _, st := range stages {
		s := rs.steps[st.Name]
		if s == nil {
			continue
		}
		for _, p := range []struct {
			s                  *sample
			title, left, right string
		}{
			{s.dups, st.Name + ": removed duplicates beside their keepers", "kept", "removed"},
			{s.augmented, st.Name + ": copies beside their originals", "original", "copy"},
		} {
			if p.s == nil {
				continue
			}
			ex := exampleView{Title: p.title + " (differences marked)", Left: p.left, Right: p.right}
			for _, it := range p.s.items {
				a, b := diffHTML(it.A, it.B)
				ex.Pairs = append(ex.Pairs, pairView{a, b})
			}
			v.Examples = append(v.Examples, ex)
		}
	}
	return v
}

// withQuantiles adds the median and p90 and p99 of s's lengths to title.
func withQuantiles(title string, s *stepRows) string {
	if s.lengths.Count() == 0 {
		return title
	}
	return fmt.Sprintf("%s: median %s, p90 %s, p99 %s", title, num(s.lengths.Quantile(0.5)), num(s.lengths.Quantile(0.9)), num(s.lengths.Quantile(0.99)))
}

// breakdown draws rows out of rows in per class, largest in first.
func breakdown(title string, in, out map[string]int64) template.HTML {
	bars := sortedBars(in)
	for k := range out {
		if _, ok := in[k]; !ok {
			bars = append(bars, bar{label: k}) // rows added under a class none was read in
		}
	}
	for i := range bars {
		b := &bars[i]
		b.back, b.value = b.value, float64(out[b.label])
		b.text = fmt.Sprintf("%d of %d", out[b.label], in[b.label])
	}
	return barChart(title, bars)
}

// clusterChart draws the sizes of the duplicate clusters whose keeper is
// in the step's kept sample (a uniform sample of clusters); "" for none.
func (rs *rowStats) clusterChart(step string) template.HTML {
	if rs == nil || rs.steps[step] == nil || len(rs.steps[step].clusters) == 0 {
		return ""
	}
	classes := []struct {
		label string
		min   int64
		n     int64
	}{{"2", 2, 0}, {"3", 3, 0}, {"4", 4, 0}, {"5–9", 5, 0}, {"10–99", 10, 0}, {"100+", 100, 0}}
	for _, removed := range rs.steps[step].clusters {
		size := removed + 1
		for i := len(classes) - 1; i >= 0; i-- {
			if size >= classes[i].min {
				classes[i].n++
				break
			}
		}
	}
	var bars []bar
	for _, c := range classes {
		bars = append(bars, bar{c.label, float64(c.n), fmt.Sprint(c.n), 0})
	}
	return barChart(fmt.Sprintf("Cluster sizes (rows per cluster) of %d sampled clusters", len(rs.steps[step].clusters)), bars)
}

// pplHist is the perplexity of every row a perplexity step scored, kept
// and rejected; nil without one. Rejected rows' values are their rejects'
// Value.
func (rs *rowStats) pplHist(step string) *histogram {
	if rs == nil || rs.steps[step] == nil {
		return nil
	}
	s := rs.steps[step]
	h := newPPLHist()
	for _, o := range []*histogram{s.ppl, s.rejectedPPL} {
		if o != nil {
			h.merge(o)
		}
	}
	return h
}

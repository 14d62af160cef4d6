package recipe

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/siftdata/sift"
)

// isHTML reports whether a report path asks for the HTML report.
func isHTML(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".html", ".htm":
		return true
	}
	return false
}

// WriteHTML writes rep as one self-contained HTML page: inline CSS and SVG
// charts, no scripts and nothing fetched from elsewhere, so that it opens
// anywhere, offline, and reads the same without JavaScript.
func WriteHTML(w io.Writer, rep *Report) error {
	return pageTmpl.Execute(w, newPage(rep))
}

// page is what the template shows; charts are prerendered SVG.
type page struct {
	Title    string
	Summary  [][2]string
	Error    string
	Warnings []string
	Funnel   template.HTML
	Time     template.HTML
	Stages   []stageView
	Rows     *rowsView
	Profile  *profileView // sift inspect's
	Recipe   string
	Versions [][2]string
}

type stageView struct {
	Name     string
	Table    [][2]string
	Reasons  template.HTML
	Counters template.HTML
	Clusters template.HTML
	Extra    template.HTML
	Report   [][2]string
}

func newPage(rep *Report) *page {
	p := &page{Title: "sift run report", Error: rep.Error, Warnings: rep.Warnings}
	st := rep.Stats
	if st == nil {
		st = &sift.Stats{}
	}
	cpu := st.WriteCPU
	for _, s := range st.Stages {
		cpu += s.CPU
	}
	mbs := "–"
	if st.WallSeconds > 0 {
		mbs = fmt.Sprintf("%.2f", float64(st.BytesIn)/1e6/st.WallSeconds)
	}
	p.Summary = [][2]string{
		{"Input", strings.Join(rep.Inputs, ", ")},
		{"Output", rep.Output},
		{"Rejects", rep.Rejects},
		{"Started", rep.Started.Format("2006-01-02 15:04:05 UTC")},
		{"Rows in", fmt.Sprint(st.RowsIn)},
		{"Rows added", fmt.Sprint(st.RowsAdded)},
		{"Rows out", fmt.Sprint(st.RowsOut)},
		{"Rows rejected", fmt.Sprint(st.RowsRejected)},
		{"Bytes in / out", fmt.Sprintf("%d / %d", st.BytesIn, st.BytesOut)},
		{"Wall time", fmt.Sprintf("%.3f s", st.WallSeconds)},
		{"CPU time", fmt.Sprintf("%.3f s", cpu.Seconds())},
		{"Throughput", mbs + " MB/s of text read"},
		{"Workers / batch size", orDefault(rep.Workers, "all cores") + " / " + orDefault(rep.Batch, "reader's default")},
	}
	if rep.Recipe != nil {
		p.Recipe = rep.Recipe.Text
	}
	for k, v := range rep.Versions {
		p.Versions = append(p.Versions, [2]string{k, v})
	}
	sort.Slice(p.Versions, func(i, j int) bool { return p.Versions[i][0] < p.Versions[j][0] })

	var funnel, times []bar
	for _, s := range st.Stages {
		funnel = append(funnel, bar{s.Name, float64(s.RowsOut), fmt.Sprintf("%d of %d", s.RowsOut, s.RowsIn), float64(s.RowsIn)})
		times = append(times, bar{s.Name, s.CPU.Seconds(), fmt.Sprintf("%.3f s CPU", s.CPU.Seconds()), 0})
		v := newStageView(s, rep.rows.pplHist(s.Name))
		v.Clusters = rep.rows.clusterChart(s.Name)
		p.Stages = append(p.Stages, v)
	}
	times = append(times, bar{"write", st.WriteCPU.Seconds(), fmt.Sprintf("%.3f s CPU", st.WriteCPU.Seconds()), 0})
	p.Funnel = barChart("Rows out (dark) of rows in (light), per stage", funnel)
	p.Time = barChart("CPU seconds per stage", times)
	if rep.rows != nil {
		p.Rows = rep.rows.view(st.Stages)
	}
	if rep.Profile != nil {
		// The profile shows the rows' distributions itself; the examples
		// (of unreadable and unmappable rows) stay.
		p.Title = "sift inspect report"
		p.Profile = newProfileView(rep.Profile, rep.rows)
		if p.Rows != nil {
			p.Rows.Hists, p.Rows.Breakdown = nil, nil
		}
		p.Summary = slices.DeleteFunc(p.Summary, func(kv [2]string) bool {
			return kv[0] == "Output" || kv[0] == "Rejects" || kv[0] == "Bytes in / out"
		})
	}
	return p
}

func newStageView(s sift.StageStats, ppl *histogram) stageView {
	v := stageView{Name: s.Name, Table: [][2]string{
		{"Rows in", fmt.Sprint(s.RowsIn)},
		{"Rows added", fmt.Sprint(s.RowsAdded)},
		{"Rows out", fmt.Sprint(s.RowsOut)},
		{"Rows rejected", fmt.Sprint(s.RowsRejected)},
		{"Workers", fmt.Sprint(s.Workers)},
		{"CPU time", fmt.Sprintf("%.3f s", s.CPU.Seconds())},
		{"Busy time", fmt.Sprintf("%.3f s", s.Busy.Seconds())},
	}}
	v.Reasons = barChart("Rejected, by reason", sortedBars(s.Rejected))
	title := "Counters"
	if s.Name == "pii_redact" {
		title = "PII found, per entity"
	}
	v.Counters = barChart(title, sortedBars(s.Counters))
	if s.Report != nil {
		var m map[string]any
		if b, err := json.Marshal(s.Report); err == nil && json.Unmarshal(b, &m) == nil {
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				b, _ := json.Marshal(m[k])
				v.Report = append(v.Report, [2]string{k, string(b)})
			}
			v.Extra = thresholdsChart(m, ppl)
		}
	}
	return v
}

// sortedBars turns counts into bars, largest first (ties by name).
func sortedBars(m map[string]int64) []bar {
	var bs []bar
	for k, n := range m {
		bs = append(bs, bar{k, float64(n), fmt.Sprint(n), 0})
	}
	sort.Slice(bs, func(i, j int) bool {
		if bs[i].value != bs[j].value {
			return bs[i].value > bs[j].value
		}
		return bs[i].label < bs[j].label
	})
	return bs
}

type bar struct {
	label string
	value float64
	text  string
	back  float64 // drawn light behind value, for "of how many": 0 for none
}

// barChart draws horizontal bars, one per row, scaled to the largest; it
// is empty when there are no bars.
func barChart(title string, bars []bar) template.HTML {
	if len(bars) == 0 {
		return ""
	}
	const width, labelW, textW, rowH = 960, 220, 140, 24
	maxV := 0.0
	for _, b := range bars {
		maxV = math.Max(maxV, math.Max(b.value, b.back))
	}
	h := rowH*len(bars) + 34
	var sb strings.Builder
	fmt.Fprintf(&sb, `<figure class="chart"><svg role="img" class="bars" viewBox="0 0 %d %d" width="%d" height="%d"><title>%s</title>`,
		width, h, width, h, esc(title))
	fmt.Fprintf(&sb, `<text x="0" y="18" class="t">%s</text>`, esc(title))
	for i, b := range bars {
		y := 30 + i*rowH
		w, bw := 0.0, 0.0
		if maxV > 0 {
			w = b.value / maxV * (width - labelW - textW)
			bw = b.back / maxV * (width - labelW - textW)
		}
		fmt.Fprintf(&sb, `<text x="%d" y="%d" text-anchor="end">%s</text>`, labelW-8, y+16, esc(b.label))
		if b.back > 0 {
			fmt.Fprintf(&sb, `<rect class="back" x="%d" y="%d" width="%.1f" height="%d"/>`, labelW, y+3, bw, rowH-6)
		}
		fmt.Fprintf(&sb, `<rect x="%d" y="%d" width="%.1f" height="%d"><title>%s: %s</title></rect>`, labelW, y+3, w, rowH-6, esc(b.label), esc(b.text))
		fmt.Fprintf(&sb, `<text x="%.1f" y="%d">%s</text>`, labelW+math.Max(w, bw)+6, y+16, esc(b.text))
	}
	sb.WriteString(`</svg></figure>`)
	return template.HTML(sb.String())
}

// marker is a labelled vertical line on a histogram, at value x.
type marker struct {
	x     float64
	label string
}

// histChart draws h as vertical bars with markers; xlog puts the x axis on
// a log scale (h's bins are then log-spaced).
func histChart(title, xlabel string, h *histogram, marks []marker) template.HTML {
	if h == nil || h.total() == 0 {
		return ""
	}
	const width, height, left, bottom, top = 960, 280, 60, 50, 30
	plotW, plotH := float64(width-left-20), float64(height-top-bottom)
	maxC := int64(0)
	for _, c := range h.Counts {
		maxC = max(maxC, c)
	}
	xOf := func(v float64) float64 {
		return left + (h.pos(v))*plotW
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, `<figure class="chart"><svg role="img" class="hist" viewBox="0 0 %d %d" width="%d" height="%d"><title>%s</title>`,
		width, height, width, height, esc(title))
	fmt.Fprintf(&sb, `<text x="0" y="18" class="t">%s</text>`, esc(title))
	bw := plotW / float64(len(h.Counts))
	for i, c := range h.Counts {
		bh := float64(c) / float64(maxC) * plotH
		fmt.Fprintf(&sb, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s–%s: %d</title></rect>`,
			left+float64(i)*bw+1, top+plotH-bh, math.Max(bw-2, 1), bh, num(h.edge(i)), num(h.edge(i+1)), c)
	}
	fmt.Fprintf(&sb, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" class="axis"/>`, left, top+plotH, width-20, top+plotH)
	for i := 0; i <= len(h.Counts); i += max(1, len(h.Counts)/8) {
		fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, left+float64(i)*bw, top+plotH+18, num(h.edge(i)))
	}
	fmt.Fprintf(&sb, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`, left+plotW/2, height-4, esc(xlabel))
	fmt.Fprintf(&sb, `<text x="4" y="%d">%d</text>`, top+10, maxC)
	for i, m := range marks {
		x := math.Min(math.Max(xOf(m.x), left), left+plotW)
		fmt.Fprintf(&sb, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%.1f" class="mark"/>`, x, top, x, top+plotH)
		fmt.Fprintf(&sb, `<text x="%.1f" y="%d" class="mark">%s</text>`, x+4, top+14+14*(i%3), esc(m.label))
	}
	sb.WriteString(`</svg></figure>`)
	return template.HTML(sb.String())
}

// thresholdsChart draws the perplexity thresholds a stage reports (lower,
// upper, bucket cuts) over the perplexity histogram when there is one, or
// as a table-like strip otherwise; "" if the report has none.
func thresholdsChart(m map[string]any, h *histogram) template.HTML {
	var marks []marker
	if v, ok := m["lower_ppl"].(float64); ok {
		marks = append(marks, marker{v, fmt.Sprintf("lower %s (%v)", num(v), m["lower_by"])})
	}
	if v, ok := m["upper_ppl"].(float64); ok {
		marks = append(marks, marker{v, fmt.Sprintf("upper %s (%v)", num(v), m["upper_by"])})
	}
	if cuts, ok := m["bucket_ppl"].([]any); ok {
		for i, c := range cuts {
			if v, ok := c.(float64); ok {
				marks = append(marks, marker{v, fmt.Sprintf("bucket %d|%d at %s", i, i+1, num(v))})
			}
		}
	}
	if len(marks) == 0 {
		return ""
	}
	if h == nil || h.total() == 0 {
		return histAxis("Perplexity thresholds", marks)
	}
	return histChart("Perplexity of the rows scored, with thresholds", "perplexity (log scale)", h, marks)
}

// histAxis draws only an axis spanning marks, and the marks.
func histAxis(title string, marks []marker) template.HTML {
	lo, hi := marks[0].x, marks[0].x
	for _, m := range marks {
		lo, hi = math.Min(lo, m.x), math.Max(hi, m.x)
	}
	h := newLogHistogram(math.Max(lo/2, 1e-3), hi*2, 40)
	h.Counts[0] = 1 // histChart needs a count to scale by; the title says there are none
	return histChart(title+" (no per-row scores collected)", "perplexity (log scale)", h, marks)
}

func esc(s string) string { return template.HTMLEscapeString(s) }

// num formats a value compactly for axis labels.
func num(v float64) string {
	switch {
	case v == math.Trunc(v) && math.Abs(v) < 1e6:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

var pageTmpl = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1000px;padding:16px;color:#222;background:#fff}
h1{font-size:24px}h2{font-size:20px;border-bottom:1px solid #ccc;margin-top:32px}h3{font-size:17px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}
svg{max-width:100%;height:auto;font:13px system-ui,sans-serif}svg rect{fill:#4472c4}svg rect.back{fill:#c9d6ee}svg .t{font-weight:bold;font-size:15px}
svg line.axis{stroke:#555}svg line.mark{stroke:#c0392b;stroke-width:2;stroke-dasharray:5 3}svg text.mark{fill:#c0392b}
figure{margin:8px 0}pre{background:#f6f6f6;padding:8px;overflow:auto;white-space:pre-wrap}
.err{color:#b00;font-weight:bold}.ex td{font-family:ui-monospace,monospace;font-size:13px;white-space:pre-wrap;max-width:440px}
mark{background:#ffe08a}del{background:#fbb;text-decoration:none}ins{background:#bfb;text-decoration:none}
</style></head><body>
<h1>{{.Title}}</h1>
{{if .Error}}<p class="err">The run failed: {{.Error}}</p>{{end}}
{{range .Warnings}}<p class="err">{{.}}</p>{{end}}
<section id="summary"><h2>Run summary</h2>
<table>{{range .Summary}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>{{end}}</table>
</section>
{{with .Profile}}<section id="profile"><h2>Profile</h2>
<table><tr><th>File</th><th>Format</th><th>Bytes</th><th>Rows</th></tr>{{range .Files}}<tr><td>{{index . 0}}</td><td>{{index . 1}}</td><td class="n">{{index . 2}}</td><td class="n">{{index . 3}}</td></tr>{{end}}</table>
<table>{{range .Summary}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>{{end}}</table>
{{range .Charts}}{{.}}{{end}}
{{if .Sources}}<table><tr><th>Source</th><th>Rows</th><th>Median length</th><th>Han ≥ 50%</th><th>Exact duplicates</th></tr>{{range .Sources}}<tr><td>{{index . 0}}</td><td class="n">{{index . 1}}</td><td class="n">{{index . 2}}</td><td class="n">{{index . 3}}</td><td class="n">{{index . 4}}</td></tr>{{end}}</table>{{end}}
</section>{{end}}
<section id="funnel"><h2>Funnel</h2>{{.Funnel}}</section>
<section id="time"><h2>Time</h2>{{.Time}}</section>
{{with .Rows}}{{if .Hists}}<section id="distributions"><h2>Distributions</h2>
<p>{{.Note}}</p>
{{range .Hists}}{{.}}{{end}}
</section>{{end}}
{{if .Breakdown}}<section id="breakdown"><h2>Sources and languages</h2>
<p>Language is told by the share of Han characters in a row's text.</p>
{{range .Breakdown}}{{.}}{{end}}
</section>{{end}}
{{if .Examples}}<section id="examples"><h2>Examples</h2>
<p>Sampled by a hash of the row id (the same rows at any worker count).{{if .Redacted}} Every example text went through the recipe's pii_redact redactor first.{{end}}</p>
{{range .Examples}}<h3>{{.Title}}</h3><table class="ex"><tr><th>{{.Left}}</th><th>{{.Right}}</th></tr>
{{range .Pairs}}<tr><td>{{.A}}</td><td>{{.B}}</td></tr>{{end}}</table>{{end}}
</section>{{end}}{{end}}
<section id="stages"><h2>Stages</h2>
{{range .Stages}}<section class="stage" id="stage-{{.Name}}"><h3>{{.Name}}</h3>
<table>{{range .Table}}<tr><th>{{index . 0}}</th><td class="n">{{index . 1}}</td></tr>{{end}}</table>
{{.Reasons}}{{.Counters}}{{.Clusters}}{{.Extra}}
{{if .Report}}<table>{{range .Report}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>{{end}}</table>{{end}}
</section>{{end}}
</section>
<section id="recipe"><h2>{{if .Recipe}}Recipe{{else}}Versions{{end}}</h2>{{if .Recipe}}<pre>{{.Recipe}}</pre>{{end}}
<table>{{range .Versions}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>{{end}}</table></section>
</body></html>
`))

// orDefault prints n, or what 0 means for that setting: the report keeps
// the value as given, and 0 there is "not set", not zero.
func orDefault(n int, zero string) string {
	if n == 0 {
		return zero
	}
	return strconv.Itoa(n)
}

package main

import (
	"bytes"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/siftdata/sift/recipe"
)

// sampleSecrets are personal values in sample.jsonl; the report must show
// none of them.
var sampleSecrets = []string{"Dana.Reyes+lists@Mail.Example.COM", "(415) 555-2671", "4539 1488 0343 6467",
	"203.0.113.77", "13812345678", "110105198506154322", "wang.wei@example.cn", "AKIAZ7QW4RTY5UIO3PLM"}

// reportSections are the ids every quickstart report has: the page's
// sections and one section per step.
var reportSections = []string{"summary", "funnel", "time", "distributions", "breakdown", "examples", "stages", "recipe",
	"stage-read", "stage-normalize", "stage-length_filter", "stage-exact_dedup", "stage-simhash_dedup",
	"stage-pii_redact", "stage-perplexity", "stage-augment_synonyms"}

// runQuickstart runs the quickstart quietly in a temporary directory.
func runQuickstart(t *testing.T) *recipe.Report {
	t.Helper()
	t.Setenv("TMPDIR", t.TempDir())
	devnull, _ := os.Open(os.DevNull)
	defer devnull.Close()
	stdout := os.Stdout
	os.Stdout = devnull
	rep, err := run()
	os.Stdout = stdout
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// reportPath is where the quickstart's recipe puts the HTML report.
func reportPath(rep *recipe.Report) string {
	return filepath.Join(filepath.Dir(rep.Output), "report.html")
}

// checkPage checks a report page (as written, or as a browser's DOM): its
// sections, a chart for every step, and no raw personal value.
func checkPage(t *testing.T, page []byte) {
	t.Helper()
	for _, v := range sampleSecrets {
		if !bytes.Contains(sample, []byte(v)) {
			t.Fatalf("sample.jsonl no longer has %q", v)
		}
		if bytes.Contains(page, []byte(v)) || bytes.Contains(page, []byte(html.EscapeString(v))) {
			t.Errorf("report shows the raw value %q", v)
		}
	}
	for _, want := range []string{"removed duplicates beside their keepers", "copies beside their originals", "<mark>",
		"Length before length_filter", "Length after length_filter", "with thresholds", "sampled clusters"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("report lacks %q", want)
		}
	}
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	charts := map[string][]string{} // section id → classes of its charts
	var walk func(n *html.Node, section string)
	walk = func(n *html.Node, section string) {
		if n.Type == html.ElementNode {
			for _, a := range n.Attr {
				if a.Key == "id" && n.Data == "section" {
					section = a.Val
					charts[section] = append(charts[section], "")
				}
				if a.Key == "class" && n.Data == "svg" {
					charts[section] = append(charts[section], a.Val)
				}
			}
			if n.Data == "script" {
				t.Error("report has a script")
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, section)
		}
	}
	walk(doc, "")
	for _, id := range reportSections {
		if _, ok := charts[id]; !ok {
			t.Errorf("no section %q", id)
		}
	}
	want := map[string]string{"funnel": "bars", "time": "bars", "distributions": "hist", "breakdown": "bars",
		"stage-read": "bars", "stage-normalize": "bars", "stage-length_filter": "bars", "stage-exact_dedup": "bars",
		"stage-simhash_dedup": "bars", "stage-pii_redact": "bars", "stage-perplexity": "hist", "stage-augment_synonyms": "bars"}
	for id, class := range want {
		if !strings.Contains(strings.Join(charts[id], " "), class) {
			t.Errorf("section %s has charts %q, want a %s chart", id, charts[id], class)
		}
	}
}

// TestQuickstartReport checks the HTML report the quickstart writes.
func TestQuickstartReport(t *testing.T) {
	page, err := os.ReadFile(reportPath(runQuickstart(t)))
	if err != nil {
		t.Fatal(err)
	}
	checkPage(t, page)
}

// TestQuickstartReportBrowser renders the quickstart's report in headless
// Chromium: the DOM it builds must have every section and chart, and a
// screenshot 1280 px wide must come out with something drawn. Without
// chromium it skips, except in CI (.ci/run installs it).
func TestQuickstartReportBrowser(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium not installed (apt-get install chromium)")
		}
		t.Skip("chromium not installed")
	}
	path, err := filepath.Abs(reportPath(runQuickstart(t)))
	if err != nil {
		t.Fatal(err)
	}
	browse := func(args ...string) []byte {
		t.Helper()
		args = append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir=" + t.TempDir()}, append(args, "file://"+path)...)
		cmd := exec.Command(chromium, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("chromium: %v\n%s", err, stderr.Bytes())
		}
		return out
	}
	checkPage(t, browse("--dump-dom"))

	shot := filepath.Join(t.TempDir(), "report.png")
	browse("--window-size=1280,2400", "--hide-scrollbars", "--screenshot="+shot)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	if b.Dx() != 1280 || b.Dy() != 2400 {
		t.Fatalf("screenshot is %v, want 1280×2400", b.Size())
	}
	// The charts' bars are blue (#4472c4); count such pixels.
	blue := 0
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 < 0x60 && g>>8 > 0x60 && g>>8 < 0x90 && bl>>8 > 0xb0 {
				blue++
			}
		}
	}
	if blue < 2000 {
		t.Errorf("screenshot has %d chart-blue pixels (of every 4th), want the bars drawn", blue)
	}
}

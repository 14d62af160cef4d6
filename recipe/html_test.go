package recipe_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"golang.org/x/net/html"

	"github.com/siftdata/sift/recipe"

	_ "github.com/siftdata/sift/clean"
	_ "github.com/siftdata/sift/dedup"
)

// planted are personal values put into rows that are kept, rows that a
// stage before pii_redact rejects (too short, duplicate) and a line that
// cannot be parsed. None may reach the HTML report.
var planted = []string{
	"dana.reyes@example.com", "wang.wei@example.cn", "(415) 555-2671", "13812345678",
	"AKIAZ7QW4RTY5UIO3PLM", "ghp_qsR6RZ24lPoQj3oPUlieI2nVsbBi1RMar1jf", "4539 1488 0343 6467",
}

func plantedInput() []byte {
	var b bytes.Buffer
	filler := "The river rose overnight and the ferry stayed tied to the dock until the water went down again."
	for i, v := range planted {
		fmt.Fprintf(&b, `{"id":"keep-%d","text":"Please reach %s today. %s"}`+"\n", i, v, filler)
		fmt.Fprintf(&b, `{"id":"short-%d","text":"mail %s"}`+"\n", i, v)
		fmt.Fprintf(&b, `{"id":"dup-%d","text":"Please reach %s today. %s"}`+"\n", i, v, filler)
		fmt.Fprintf(&b, `{"id":"broken-%d","text":"%s`+"\n", i, v) // unterminated string
	}
	return b.Bytes()
}

func runHTML(t *testing.T, stages string) (doc *html.Node, page, input []byte) {
	t.Helper()
	dir := t.TempDir()
	input = plantedInput()
	if err := os.WriteFile(filepath.Join(dir, "in.jsonl"), input, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := recipe.Parse([]byte("input: in.jsonl\noutput: out.jsonl\nrejects: rejects.jsonl\nreport: report.html\nbatch_size: 3\nstages:\n"+stages), dir)
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	if _, err := recipe.Run(context.Background(), r, recipe.RunOptions{Mem: mem}); err != nil {
		t.Fatal(err)
	}
	page, err = os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if doc, err = html.Parse(bytes.NewReader(page)); err != nil {
		t.Fatal(err)
	}
	return doc, page, input
}

// TestHTMLReportNoRawPII plants e-mails, phones, card numbers and keys in
// rows rejected before the redactor, rows it redacts and unreadable lines,
// and checks that none appears in the report while the rows do.
func TestHTMLReportNoRawPII(t *testing.T) {
	_, page, input := runHTML(t, "  - length_filter: {unit: words, min: 5}\n  - exact_dedup: {}\n  - pii_redact: {}\n")
	for _, v := range planted {
		if !bytes.Contains(input, []byte(v)) {
			t.Fatalf("fixture lost %q", v)
		}
		for _, form := range []string{v, html.EscapeString(v)} {
			if bytes.Contains(page, []byte(form)) {
				t.Errorf("report contains the raw value %q", v)
			}
		}
	}
	// The rows are there as examples, redacted: the test would see a leak.
	for _, want := range []string{"too_short", "duplicate", "parse_error", "&lt;EMAIL&gt;", "mail &lt;",
		"removed duplicates beside their keepers", "Cluster sizes"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// TestHTMLReportWithoutRedactor shows examples as they are when the recipe
// has no pii_redact stage: the planted values are then in the page, which
// shows that the previous test's check can fail.
func TestHTMLReportWithoutRedactor(t *testing.T) {
	_, page, _ := runHTML(t, "  - length_filter: {unit: words, min: 5}\n")
	if !bytes.Contains(page, []byte("wang.wei@example.cn")) {
		t.Error("example of a too-short row missing")
	}
}

// TestHTMLReportSelfContained checks the page's sections and charts, and
// that it loads nothing: no scripts, no external references.
func TestHTMLReportSelfContained(t *testing.T) {
	doc, _, _ := runHTML(t, "  - length_filter: {unit: words, min: 5}\n  - exact_dedup: {}\n  - pii_redact: {}\n")
	ids := map[string]bool{}
	svgs := map[string]int{}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "script", "link", "img", "iframe", "object", "embed":
				t.Errorf("page has a <%s> element", n.Data)
			case "svg":
				for _, a := range n.Attr {
					if a.Key == "class" {
						svgs[a.Val]++
					}
				}
			}
			for _, a := range n.Attr {
				switch {
				case a.Key == "id":
					ids[a.Val] = true
				case (a.Key == "src" || a.Key == "href") && !strings.HasPrefix(a.Val, "#"):
					t.Errorf("<%s %s=%q> refers outside the page", n.Data, a.Key, a.Val)
				case strings.HasPrefix(a.Key, "on"):
					t.Errorf("<%s %s> is a script", n.Data, a.Key)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	for _, id := range []string{"summary", "funnel", "time", "distributions", "breakdown", "examples", "stages", "recipe",
		"stage-read", "stage-length_filter", "stage-exact_dedup", "stage-pii_redact"} {
		if !ids[id] {
			t.Errorf("no element with id %q", id)
		}
	}
	// funnel, time, source, script, reasons of read, length_filter,
	// exact_dedup; PII counts
	if svgs["bars"] < 8 {
		t.Errorf("%d bar charts, want >= 8", svgs["bars"])
	}
	// lengths read, before and after the filter, written
	if svgs["hist"] != 4 {
		t.Errorf("%d histograms, want 4", svgs["hist"])
	}
}

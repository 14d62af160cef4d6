package clean

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// realTextRows reads real text as rows: the paragraphs of the Debian
// copyright files, the fortunes (English and Chinese) and Go's sources in
// chunks of 30 lines.
func realTextRows(t *testing.T) map[string][]string {
	rows := map[string][]string{}
	copyrights, _ := filepath.Glob("/usr/share/doc/*/copyright")
	for _, p := range copyrights {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for _, para := range strings.Split(string(b), "\n\n") {
			if strings.TrimSpace(para) != "" {
				rows["copyright"] = append(rows["copyright"], para)
			}
		}
	}
	fortunes, _ := filepath.Glob("/usr/share/games/fortunes/*")
	for _, p := range fortunes {
		if strings.HasSuffix(p, ".dat") || strings.HasSuffix(p, ".u8") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for _, f := range strings.Split(string(b), "\n%\n") {
			if strings.TrimSpace(f) != "" {
				rows["fortunes"] = append(rows["fortunes"], f)
			}
		}
	}
	filepath.WalkDir("/usr/local/go/src", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || len(rows["go"]) >= 30000 {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		lines := strings.Split(string(b), "\n")
		for i := 0; i < len(lines); i += 30 {
			rows["go"] = append(rows["go"], strings.Join(lines[i:min(i+30, len(lines))], "\n"))
		}
		return nil
	})
	return rows
}

// TestPIIRealText runs the default redactor over more than 40 000 rows of
// real text (SIFT_PII_REALTEXT=1; it takes a minute) and prints every
// IPv4 redaction with its context and the counts per recognizer, for the
// check that no section or version number is read as an address.
func TestPIIRealText(t *testing.T) {
	if os.Getenv("SIFT_PII_REALTEXT") == "" {
		t.Skip("set SIFT_PII_REALTEXT=1 to run the real-text check")
	}
	rows := realTextRows(t)
	total := 0
	for _, rs := range rows {
		total += len(rs)
	}
	if total < 40000 {
		t.Fatalf("only %d rows of real text (need /usr/share/doc, fortunes and Go's sources)", total)
	}
	r, err := NewTextRedactor()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, src := range sortedKeys(rows) {
		for _, s := range rows[src] {
			_, fs := r.Redact(s)
			for _, f := range fs {
				counts[src+" "+f.Recognizer]++
				if f.Recognizer == "ipv4" || testing.Verbose() {
					fmt.Printf("%s %s: %q in %q\n", src, f.Recognizer, s[f.Start:f.End], strings.ReplaceAll(s[max(0, f.Start-40):min(len(s), f.End+20)], "\n", " "))
				}
			}
		}
	}
	fmt.Printf("rows: copyright %d, fortunes %d, go %d (total %d)\n", len(rows["copyright"]), len(rows["fortunes"]), len(rows["go"]), total)
	for _, k := range sortedKeys(counts) {
		fmt.Printf("%s: %d\n", k, counts[k])
	}
}

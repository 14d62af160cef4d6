package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/siftdata/sift/recipe"
)

// inspectCorpus writes real text in three files: every fortune (Debian's
// fortunes and fortunes-zh, source = its fortune file, a malformed line
// every 500) as JSONL; the first 1,000 of them again, as exact
// duplicates, in a second JSONL file; and up to 300
// /usr/share/doc/*/copyright files as CSV (source = the package). It returns the paths, the records, the
// malformed lines and the texts of the readable records.
func inspectCorpus(t *testing.T, dir string) (paths []string, records, broken int, texts []string) {
	t.Helper()
	var a, b bytes.Buffer
	eachFortune(func(file string, i int, entry string) {
		line, _ := json.Marshal(map[string]string{"id": fmt.Sprintf("%s-%d", file, i), "text": entry, "source": file})
		a.Write(append(line, '\n'))
		if len(texts) < 2000 {
			b.Write(append(line, '\n'))
			texts = append(texts, entry)
			records++
		}
		texts = append(texts, entry)
		records++
		if records%500 == 0 {
			a.WriteString("{\"id\": \"cut\", \"text\": \"cut off\n")
			records++
			broken++
		}
	})
	if records < 5000 {
		if os.Getenv("CI") != "" {
			t.Fatal("fortunes packages not installed (.ci/run installs fortunes fortunes-zh)")
		}
		t.Skip("fortunes packages not installed (apt-get install fortunes fortunes-zh)")
	}
	var c bytes.Buffer
	w := csv.NewWriter(&c)
	w.Write([]string{"id", "text", "source"})
	copyrights, _ := filepath.Glob("/usr/share/doc/*/copyright")
	for i, f := range copyrights[:min(300, len(copyrights))] {
		data, err := os.ReadFile(f)
		if err != nil || !json.Valid(mustJSON(string(data))) {
			continue
		}
		pkg := filepath.Base(filepath.Dir(f))
		w.Write([]string{fmt.Sprint("c", i), string(data), "copyright/" + pkg})
		texts = append(texts, string(data))
		records++
	}
	w.Flush()
	for name, buf := range map[string]*bytes.Buffer{"fortunes.jsonl": &a, "again.jsonl": &b, "copyright.csv": &c} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"fortunes.jsonl", "again.jsonl", "copyright.csv"} {
		paths = append(paths, filepath.Join(dir, n))
	}
	return paths, records, broken, texts
}

func mustJSON(s string) []byte { b, _ := json.Marshal(s); return b }

// TestInspectRealText profiles real text and checks the counts against
// the corpus, the duplicate estimate against an exact count, and that the
// profile is the same at any worker count and batch size.
func TestInspectRealText(t *testing.T) {
	dir := t.TempDir()
	paths, records, broken, texts := inspectCorpus(t, dir)
	seen := map[string]bool{}
	for _, s := range texts {
		seen[strings.ReplaceAll(s, "\r\n", "\n")] = true // normalize turns CRLF into LF
	}
	wantDup := 1 - float64(len(seen))/float64(len(texts))
	var first []byte
	for _, args := range [][]string{{"--workers", "1"}, {"--workers", "3", "--batch-size", "7"}} {
		var out, stderr bytes.Buffer
		if err := cli(context.Background(), append(append([]string{"inspect", "--json"}, paths...), args...), nil, &out, &stderr); err != nil {
			t.Fatalf("%v\n%s", err, stderr.String())
		}
		if first == nil {
			first = out.Bytes()
		} else if !bytes.Equal(out.Bytes(), first) {
			t.Errorf("%v: profile differs from --workers 1", args)
		}
	}
	var p recipe.Profile
	if err := json.Unmarshal(first, &p); err != nil {
		t.Fatal(err)
	}
	if p.Rows != int64(records) || p.Unreadable != int64(broken) || p.Profiled+p.Unmapped+p.Unreadable != p.Rows || p.Profiled != int64(len(texts)) {
		t.Errorf("rows %d (want %d), unreadable %d (want %d), unmapped %d, profiled %d (want %d)", p.Rows, records, p.Unreadable, broken, p.Unmapped, p.Profiled, len(texts))
	}
	var fileRows int64
	for _, f := range p.Files {
		fileRows += f.Rows
		fi, _ := os.Stat(f.Path)
		if f.Bytes != fi.Size() {
			t.Errorf("%s: %d bytes, file has %d", f.Path, f.Bytes, fi.Size())
		}
	}
	byName := map[string]recipe.FileProfile{}
	for _, f := range p.Files {
		byName[filepath.Base(f.Path)] = f
	}
	if fileRows != p.Rows || byName["again.jsonl"].Rows != 1000 || byName["copyright.csv"].Format != "csv" || byName["fortunes.jsonl"].Format != "jsonl" {
		t.Errorf("files %+v", p.Files)
	}
	if p.Shapes["text"] != p.Profiled {
		t.Errorf("shapes %v, want all %d text", p.Shapes, p.Profiled)
	}
	if p.DistinctExact || math.Abs(p.DuplicateRate-wantDup) > 3*p.DistinctRelErr*(1-wantDup) {
		t.Errorf("duplicate rate %.4f (±%.4f), exactly %.4f", p.DuplicateRate, p.DistinctRelErr, wantDup)
	}
	if p.Script["Han ≥ 50% (Chinese)"] == 0 || p.Script["no Han characters"] == 0 {
		t.Errorf("script %v: want Chinese fortunes and English ones", p.Script)
	}
	q := p.Length
	if q == nil || !(q.Min <= q.P10 && q.P10 <= q.P50 && q.P50 <= q.P90 && q.P90 <= q.P99 && q.P99 <= q.Max) || q.Min < 1 {
		t.Errorf("length %+v", q)
	}
	var srcRows int64
	other := false
	for _, s := range p.Sources {
		srcRows += s.Rows
		other = other || s.Source == "(other sources)"
	}
	if srcRows != p.Profiled || !other || len(p.Sources) != 31 {
		t.Errorf("%d sources over %d rows, want 30 and the rest over %d", len(p.Sources), srcRows, p.Profiled)
	}
	t.Logf("%d rows, duplicates %.2f%% (exactly %.2f%%), length p50 %.0f", p.Rows, 100*p.DuplicateRate, 100*wantDup, q.P50)
}

// TestInspectOutputs: the text table and the HTML report, whose sections
// include the profile, and a report never written over an input.
func TestInspectOutputs(t *testing.T) {
	dir := t.TempDir()
	paths, _, _, _ := inspectCorpus(t, dir)
	html := filepath.Join(dir, "profile.html")
	var out, stderr bytes.Buffer
	if err := cli(context.Background(), []string{"inspect", paths[2], paths[1], "--report", html}, nil, &out, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	for _, want := range []string{"copyright.csv", "csv", "again.jsonl", "exact duplicates:", "median", "source", "copyright/"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	page, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<section id="profile">`, "sift inspect report", "Rows by record shape", "Length of the rows", "Rows by script", "Rows by source", "<svg"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("report lacks %q", want)
		}
	}
	before, _ := os.ReadFile(paths[1])
	err = cli(context.Background(), []string{"inspect", paths[1], "--report", paths[1]}, nil, &out, &stderr)
	if after, _ := os.ReadFile(paths[1]); err == nil || !strings.Contains(err.Error(), "same file") || !bytes.Equal(before, after) {
		t.Errorf("report over its input: %v", err)
	}
}

// TestInspectHostile: files that are not datasets fail by name, leave no
// report, and empty ones profile as empty.
func TestInspectHostile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(s), 0o644)
		return p
	}
	empty := write("empty.jsonl", "")
	openQuote := write("open.csv", "id,text\n1,\"a quote never closed\n2,more\n")
	badGz := write("bad.jsonl.gz", "\x1f\x8b\x08\x00 not gzip")
	noExt := write("notes", "plain text")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"/dev/null"}, "/dev/null"},
		{[]string{openQuote}, "open.csv"},
		{[]string{empty, badGz}, "bad.jsonl.gz"},
		{[]string{noExt}, "notes"},
		{[]string{filepath.Join(dir, "missing.jsonl")}, "missing.jsonl"},
		{nil, "at least one file"},
	} {
		report := filepath.Join(dir, "r.html")
		var out, stderr bytes.Buffer
		err := cli(context.Background(), append(append([]string{"inspect"}, tc.args...), "--report", report), nil, &out, &stderr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one naming %q", tc.args, err, tc.want)
		}
		if _, err := os.Stat(report); err == nil {
			t.Errorf("%v: a report was written", tc.args)
		}
	}
	var out, stderr bytes.Buffer
	if err := cli(context.Background(), []string{"inspect", "--json", empty}, nil, &out, &stderr); err != nil {
		t.Fatal(err)
	}
	var p recipe.Profile
	if err := json.Unmarshal(out.Bytes(), &p); err != nil || p.Rows != 0 || p.Length != nil || !p.DistinctExact || p.Sources == nil {
		t.Errorf("empty file: %v %s", err, out.String())
	}

	fifo := filepath.Join(dir, "pipe.jsonl")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	go func() {
		if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			f.WriteString("{\"text\":\"甲乙丙丁\"}\n{\"text\":\"甲乙丙丁\"}\n{\"text\":\"other\"}\n")
			f.Close()
		}
	}()
	out.Reset()
	if err := cli(context.Background(), []string{"inspect", "--json", fifo}, nil, &out, &stderr); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out.Bytes(), &p); err != nil || p.Rows != 3 || p.Files[0].Bytes != -1 || !p.DistinctExact || p.Distinct != 2 {
		t.Errorf("FIFO: %v %s", err, out.String())
	}
}

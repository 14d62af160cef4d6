package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fortuneCorpus writes the fortune cookies on this machine (Debian's
// fortunes and fortunes-zh packages) as JSONL, with a few malformed lines,
// and returns the path and the number of records.
func fortuneCorpus(t *testing.T, dir string) (string, int) {
	t.Helper()
	var sb strings.Builder
	n := 0
	eachFortune(func(file string, i int, entry string) {
		b, _ := json.Marshal(map[string]string{"id": fmt.Sprintf("%s-%d", file, i), "text": entry, "file": file})
		sb.Write(b)
		sb.WriteByte('\n')
		n++
		if n%997 == 0 {
			sb.WriteString("{\"id\": \"broken\", \"text\": \"cut off\n")
			n++
		}
	})
	if n < 2000 {
		if os.Getenv("CI") != "" {
			t.Fatal("fortunes packages not installed (.ci/run installs fortunes fortunes-zh)")
		}
		t.Skip("fortunes packages not installed (apt-get install fortunes fortunes-zh)")
	}
	p := filepath.Join(dir, "fortunes.jsonl")
	if err := os.WriteFile(p, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p, n
}

// eachFortune calls fn with every non-empty fortune cookie on this
// machine, its file's name and its index in the file.
func eachFortune(fn func(file string, i int, entry string)) {
	files, _ := filepath.Glob("/usr/share/games/fortunes/*")
	for _, f := range files {
		if filepath.Ext(f) != "" {
			continue // .dat indexes and .u8 links
		}
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for i, entry := range strings.Split(string(data), "\n%\n") {
			if entry = strings.TrimSpace(entry); entry != "" {
				fn(filepath.Base(f), i, entry)
			}
		}
	}
}

func lines(t *testing.T, p string) []string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func TestRunLengthFilterOnRealCorpus(t *testing.T) {
	dir := t.TempDir()
	in, n := fortuneCorpus(t, dir)
	recipePath := filepath.Join(dir, "recipe.yaml")
	os.WriteFile(recipePath, []byte("input: fortunes.jsonl\noutput: out.jsonl\nrejects: rejects.jsonl\nreport: report.json\nstages:\n  - length_filter: {unit: words, min: 10, max: 60}\n"), 0o644)
	var first []byte
	var firstRej []byte
	for _, args := range [][]string{{"--workers", "1"}, {"--workers", "2", "--batch-size", "7"}, {"--workers", "2", "--batch-size", "5000"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out := filepath.Join(dir, "out"+strings.Join(args, "")+".jsonl")
			rej := filepath.Join(dir, "rej"+strings.Join(args, "")+".jsonl")
			var stderr bytes.Buffer
			err := cli(context.Background(), append([]string{"run", recipePath, "--output", out, "--rejects", rej}, args...), nil, &stderr, &stderr)
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr.String())
			}
			kept, rejects := lines(t, out), lines(t, rej)
			if len(kept)+len(rejects) != n {
				t.Errorf("%d kept + %d rejected != %d input records", len(kept), len(rejects), n)
			}
			reasons := map[string]int{}
			for _, l := range rejects {
				var r struct{ ID, Stage, Reason, Detail string }
				if err := json.Unmarshal([]byte(l), &r); err != nil {
					t.Fatal(err)
				}
				reasons[r.Reason]++
				switch r.Reason {
				case "too_short", "too_long":
					var words, bound int
					var unit, rel string
					if _, err := fmt.Sscanf(r.Detail, "%d %s %s %s %d", &words, &unit, &rel, new(string), &bound); err != nil ||
						(r.Reason == "too_short") != (words < 10) || unit != "words" {
						t.Errorf("bad detail %q for %s", r.Detail, r.Reason)
					}
				case "parse_error":
					if !strings.HasPrefix(r.Detail, in+":") {
						t.Errorf("parse error detail %q lacks file:line", r.Detail)
					}
				default:
					t.Errorf("unexpected reason %s", r.Reason)
				}
			}
			if reasons["too_short"] == 0 || reasons["too_long"] == 0 || reasons["parse_error"] == 0 {
				t.Errorf("reasons %v", reasons)
			}
			b, _ := os.ReadFile(out)
			rb, _ := os.ReadFile(rej)
			if first == nil {
				first, firstRej = b, rb
			} else if !bytes.Equal(b, first) || !bytes.Equal(rb, firstRej) {
				t.Error("output or rejects differ from --workers 1")
			}
			if !strings.Contains(stderr.String(), "length_filter") {
				t.Errorf("no summary table on stderr:\n%s", stderr.String())
			}
		})
	}
	var rep struct {
		Stats struct{ RowsIn, RowsOut, RowsRejected int64 } `json:"stats"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, "report.json"))
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
}

func TestRunFailureLeavesNoOutput(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "in.jsonl.gz"), []byte("\x1f\x8b\x08\x00not really gzip"), 0o644)
	os.WriteFile(filepath.Join(dir, "r.yaml"), []byte("input: in.jsonl.gz\noutput: out.parquet\nrejects: rej.jsonl\nstages: [length_filter]\n"), 0o644)
	var stderr bytes.Buffer
	err := cli(context.Background(), []string{"run", filepath.Join(dir, "r.yaml"), "--quiet"}, nil, &stderr, &stderr)
	if err == nil || !strings.Contains(err.Error(), "in.jsonl.gz") {
		t.Fatalf("err = %v, want one naming the input", err)
	}
	for _, f := range []string{"out.parquet", "rej.jsonl"} {
		if _, err := os.Stat(filepath.Join(dir, f)); !os.IsNotExist(err) {
			t.Errorf("%s exists after a failed run", f)
		}
	}
}

func TestValidateAndStages(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "r.yaml")
	os.WriteFile(p, []byte("input: x.jsonl\noutput: y.jsonl\nstages:\n  - length_filter: {min: 3}\n"), 0o644)
	var out bytes.Buffer
	if err := cli(context.Background(), []string{"validate", p}, nil, &out, &out); err == nil || !strings.Contains(err.Error(), "x.jsonl") {
		t.Errorf("validate with a missing input: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "x.jsonl"), []byte(`{"text":"a b c"}`+"\n"), 0o644)
	if err := cli(context.Background(), []string{"validate", p}, nil, &out, &out); err != nil || !strings.Contains(out.String(), "ok (1 stages)") {
		t.Errorf("validate: %v %s", err, out.String())
	}
	os.WriteFile(p, []byte("stages:\n  - length_filter: {min: -3}\n"), 0o644)
	if err := cli(context.Background(), []string{"validate", p}, nil, &out, &out); err == nil || !strings.Contains(err.Error(), "min") {
		t.Errorf("validate of a bad recipe: %v", err)
	}
	out.Reset()
	if err := cli(context.Background(), []string{"stages"}, nil, &out, &out); err != nil || !strings.Contains(out.String(), "length_filter") || !strings.Contains(out.String(), "default 1024") {
		t.Errorf("stages: %v\n%s", err, out.String())
	}
}

func TestRunProfiles(t *testing.T) {
	dir := t.TempDir()
	fortuneCorpus(t, dir)
	recipePath := filepath.Join(dir, "recipe.yaml")
	os.WriteFile(recipePath, []byte("input: fortunes.jsonl\noutput: out.parquet\nreport: report.json\nstages:\n  - length_filter: {unit: words, min: 10, max: 60}\n  - exact_dedup: {}\n"), 0o644)
	cpu, mem := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "mem.pprof")
	var stderr bytes.Buffer
	if err := cli(context.Background(), []string{"run", recipePath, "--workers", "1", "--cpuprofile", cpu, "--memprofile", mem}, nil, &stderr, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	for _, p := range []string{cpu, mem} {
		b, err := os.ReadFile(p)
		if err != nil || len(b) < 100 || b[0] != 0x1f || b[1] != 0x8b { // pprof files are gzipped protobuf
			t.Errorf("%s: %d bytes, err %v: not a pprof profile", p, len(b), err)
		}
	}
	if !strings.Contains(stderr.String(), "cpu s") {
		t.Errorf("no CPU column in the summary:\n%s", stderr.String())
	}
	var rep struct {
		Stats struct {
			Stages []struct {
				Name string
				Busy float64 `json:"busy_seconds"`
				CPU  float64 `json:"cpu_seconds"`
			}
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "report.json"))
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	for _, s := range rep.Stats.Stages {
		// One worker: a thread's CPU time cannot exceed the wall time of
		// the calls it made.
		if s.Name != "read" && (s.CPU <= 0 || s.CPU > s.Busy+0.005) {
			t.Errorf("stage %s: cpu %.4f s, busy %.4f s", s.Name, s.CPU, s.Busy)
		}
	}
}

// TestRunBadProfilePath: a profile that cannot be created (its directory
// is a regular file) fails the run, naming the flag.
func TestRunBadProfilePath(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "r.yaml")
	os.WriteFile(p, []byte("input: x.jsonl\noutput: y.jsonl\nstages:\n  - length_filter: {min: 1}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "x.jsonl"), []byte(`{"text":"a b c"}`+"\n"), 0o644)
	var stderr bytes.Buffer
	err := cli(context.Background(), []string{"run", p, "--quiet", "--cpuprofile", filepath.Join(dir, "x.jsonl", "cpu.pprof")}, nil, &stderr, &stderr)
	if err == nil || !strings.Contains(err.Error(), "cpuprofile") {
		t.Errorf("err = %v, want a cpuprofile error", err)
	}
}

// TestRunProfileCollision: a profile path that names the input or the
// output is refused before anything is written, and the input is unchanged.
func TestRunProfileCollision(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "r.yaml")
	in := filepath.Join(dir, "x.jsonl")
	data := []byte(`{"text":"a b c"}` + "\n")
	os.WriteFile(p, []byte("input: x.jsonl\noutput: y.jsonl\nstages:\n  - length_filter: {min: 1}\n"), 0o644)
	os.WriteFile(in, data, 0o644)
	for _, tc := range []struct{ flag, path, want string }{
		{"--cpuprofile", in, "input"},
		{"--memprofile", in, "input"},
		{"--cpuprofile", filepath.Join(dir, "y.jsonl"), "output"},
	} {
		var stderr bytes.Buffer
		err := cli(context.Background(), []string{"run", p, "--quiet", tc.flag, tc.path}, nil, &stderr, &stderr)
		if err == nil || !strings.Contains(err.Error(), "same file") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s: err = %v, want a collision with the %s", tc.flag, tc.path, err, tc.want)
		}
		if got, _ := os.ReadFile(in); !bytes.Equal(got, data) {
			t.Fatalf("%s %s: the input was changed to %q", tc.flag, tc.path, got)
		}
		if _, err := os.Stat(filepath.Join(dir, "y.jsonl")); err == nil {
			t.Fatalf("%s %s: an output was written", tc.flag, tc.path)
		}
	}
}

package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain runs the test binary as sift-beam when a test asks it to, so
// that a test can signal a real sift-beam process.
func TestMain(m *testing.M) {
	if os.Getenv("SIFT_BEAM_TEST_MAIN") == "1" {
		os.Args = append([]string{"sift-beam"}, strings.Fields(os.Getenv("SIFT_BEAM_TEST_ARGS"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestSignalExit sends SIGINT and SIGTERM to a sift-beam run on prism once
// its job runs: it exits with 128 + the signal's number, says it stopped,
// and leaves no output shards.
func TestSignalExit(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	f, err := os.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := range 200000 {
		fmt.Fprintf(w, "{\"id\":\"r%d\",\"text\":\"row %d says the quick brown fox %d jumps over the lazy dog %d times\"}\n", i, i, i*7, i%13)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	rec := filepath.Join(dir, "r.yaml")
	if err := os.WriteFile(rec, []byte("stages:\n  - normalize: {}\n  - exact_dedup: {}\n  - pii_redact: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			out := filepath.Join(dir, sig.String())
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), "SIFT_BEAM_TEST_MAIN=1",
				"SIFT_BEAM_TEST_ARGS=run "+rec+" --runner=prism --input "+in+" --output "+filepath.Join(out, "out.jsonl")+" --rejects "+filepath.Join(out, "rej.jsonl"))
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var log strings.Builder
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				log.WriteString(sc.Text() + "\n")
				if strings.Contains(sc.Text(), "state: RUNNING") {
					time.Sleep(100 * time.Millisecond)
					if err := cmd.Process.Signal(sig); err != nil {
						t.Fatal(err)
					}
					break
				}
			}
			for sc.Scan() {
				log.WriteString(sc.Text() + "\n")
			}
			err = cmd.Wait()
			if code := cmd.ProcessState.ExitCode(); code != 128+int(sig) {
				t.Fatalf("exit %d (%v), want %d\n%s", code, err, 128+int(sig), log.String())
			}
			if !strings.Contains(log.String(), "sift-beam: "+sig.String()+": stopped") {
				t.Errorf("stderr does not say the run stopped:\n%s", log.String())
			}
			if left, _ := filepath.Glob(filepath.Join(out, "*")); len(left) > 0 {
				t.Errorf("the stopped run left %v", left)
			}
		})
	}
}

// TestProfileOverInputRefused: --cpuprofile naming an input is refused
// before the profile is created, and the input is left as it was.
func TestProfileOverInputRefused(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	const text = `{"id":"a","text":"one two three"}` + "\n"
	if err := os.WriteFile(in, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := filepath.Join(dir, "r.yaml")
	if err := os.WriteFile(rec, []byte("stages:\n  - normalize: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "SIFT_BEAM_TEST_MAIN=1",
		"SIFT_BEAM_TEST_ARGS=run "+rec+" --input "+in+" --output "+filepath.Join(dir, "out.jsonl")+" --cpuprofile "+in)
	log, err := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(log), "cpuprofile "+in+" are the same file") {
		t.Fatalf("exit %d (%v), want 1 and the collision named:\n%s", cmd.ProcessState.ExitCode(), err, log)
	}
	if b, _ := os.ReadFile(in); string(b) != text {
		t.Errorf("the input became %q", b)
	}
}

// TestTempClean: a run on prism leaves nothing in the temporary directory
// (Beam's loopback mode leaves a file there on every run unless sift-beam
// gives the process a directory of its own).
func TestTempClean(t *testing.T) {
	dir := t.TempDir()
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o777); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "in.jsonl")
	if err := os.WriteFile(in, []byte(`{"id":"a","text":"one two three"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := filepath.Join(dir, "r.yaml")
	if err := os.WriteFile(rec, []byte("stages:\n  - normalize: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "SIFT_BEAM_TEST_MAIN=1",
		"SIFT_BEAM_TEST_ARGS=run "+rec+" --runner=prism --input "+in+" --output "+filepath.Join(dir, "out", "out.jsonl"))
	if log, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("the run left %v in the temporary directory", left)
	}
	if out, _ := filepath.Glob(filepath.Join(dir, "out", "*")); len(out) != 1 {
		t.Errorf("output %v, want one shard", out)
	}
}

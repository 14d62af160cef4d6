package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/ipc"
)

// TestMain lets the tests run the test binary as the sift command, so that
// exit codes, signals, standard output and the umask are those a user sees.
func TestMain(m *testing.M) {
	if os.Getenv("SIFT_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// siftResult is what one sift process did.
type siftResult struct {
	exit           int
	stdout, stderr string
}

// runSift runs the sift command in dir with TMPDIR set to dir/tmp. A shell
// prefix such as "umask 027" runs first, in sh, as a user's shell would.
func runSift(t *testing.T, dir, shell string, args ...string) siftResult {
	t.Helper()
	cmd := siftCmd(dir, shell, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return siftResult{cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()}
}

func siftCmd(dir, shell string, args ...string) *exec.Cmd {
	self, _ := os.Executable()
	cmd := exec.Command(self, args...)
	if shell != "" {
		cmd = exec.Command("sh", append([]string{"-c", shell + ` && exec "$0" "$@"`, self}, args...)...)
	}
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SIFT_TEST_MAIN=1", "TMPDIR="+filepath.Join(dir, "tmp"))
	return cmd
}

// faultInput returns JSONL with good rows (7 words), short rows (1 word,
// rejected too_short by min: 3) and broken lines (parse_error).
func faultInput(prefix string, good, short, broken int) []byte {
	var b bytes.Buffer
	for i := range good + short + broken {
		switch {
		case i%5 == 4 && broken > 0:
			fmt.Fprintf(&b, "{\"id\": \"%s-b%d\", \"text\": \"cut off\n", prefix, i)
			broken--
		case i%3 == 2 && short > 0:
			fmt.Fprintf(&b, "{\"id\": \"%s-s%d\", \"text\": \"tiny\"}\n", prefix, i)
			short--
		case good > 0:
			fmt.Fprintf(&b, "{\"id\": \"%s-g%d\", \"text\": \"row %d has plenty of words here\"}\n", prefix, i, i)
			good--
		case short > 0:
			fmt.Fprintf(&b, "{\"id\": \"%s-s%d\", \"text\": \"tiny\"}\n", prefix, i)
			short--
		default:
			fmt.Fprintf(&b, "{\"id\": \"%s-b%d\", \"text\": \"cut off\n", prefix, i)
			broken--
		}
	}
	return b.Bytes()
}

// countLines counts the input's records on its own: one per line.
func countLines(b []byte) int { return bytes.Count(b, []byte("\n")) }

const faultRecipe = "input: in.jsonl\noutput: out.jsonl\nrejects: rejects.jsonl\nreport: report.json\nstages:\n  - length_filter: {unit: words, min: 3}\n"

// snapshot hashes every file under dir (a link by its target's name).
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			to, _ := os.Readlink(p)
			m[rel] = "link " + to
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.Sum256(b)
			m[rel] = hex.EncodeToString(h[:])
		case !d.IsDir():
			m[rel] = d.Type().String()
		}
		return nil
	})
	return m
}

// reasons reads a rejects file and counts its reasons.
func reasons(t *testing.T, b []byte) map[string]int {
	t.Helper()
	m := map[string]int{}
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if l == "" {
			continue
		}
		var r struct{ Reason string }
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("reject %q: %v", l, err)
		}
		m[r.Reason]++
	}
	return m
}

type reportFile struct {
	Stats struct {
		RowsIn       int64 `json:"rows_in"`
		RowsOut      int64 `json:"rows_out"`
		RowsRejected int64 `json:"rows_rejected"`
	} `json:"stats"`
	Warnings []string `json:"warnings"`
	Error    string   `json:"error"`
}

func readReport(t *testing.T, p string) reportFile {
	t.Helper()
	var r reportFile
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return r
}

// device returns /dev/null or /dev/full; as root, a private copy in dir,
// so that a regression cannot replace the machine's own.
func device(t *testing.T, dir, name string) string {
	if os.Geteuid() != 0 {
		return "/dev/" + name
	}
	minor := map[string]int{"null": 3, "full": 7}[name]
	p := filepath.Join(dir, name)
	if err := syscall.Mknod(p, syscall.S_IFCHR|0o666, 1<<8|minor); err != nil {
		t.Fatalf("mknod: %v", err)
	}
	return p
}

func isCharDevice(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode()&fs.ModeCharDevice != 0
}

// faultCase is one reproduction from issue 10 as a regression test.
type faultCase struct {
	name string
	// recipe, if not faultRecipe; in.jsonl always holds faultInput("in", 20, 6, 4).
	recipe string
	setup  func(t *testing.T, dir string) // more files, links, devices
	args   []string                       // after "run r.yaml --quiet"
	shell  string                         // e.g. "umask 027", run before sift
	exit   int
	stderr []string // substrings of stderr
	// changed are the files that may change, appear or vanish; every other
	// file under the directory must be byte-identical afterwards.
	changed []string
	// kept and rejected, when kept >= 0: out.jsonl (or stdout for "-") has
	// kept rows, and rejects.jsonl has exactly these reasons.
	kept     int
	rejected map[string]int
	check    func(t *testing.T, dir string, res siftResult)
}

const inGood, inShort, inBroken = 20, 6, 4

var inReasons = map[string]int{"too_short": inShort, "parse_error": inBroken}

func TestFaults(t *testing.T) {
	okFiles := []string{"out.jsonl", "rejects.jsonl", "report.json"}
	cases := []faultCase{
		// 1. Never replace what is not ours.
		{name: "rejects to a device", kept: inGood,
			setup: func(t *testing.T, dir string) {
				os.Symlink(device(t, dir, "null"), filepath.Join(dir, "null-link"))
			},
			args: []string{"--rejects", "null-link"}, changed: []string{"out.jsonl", "report.json"},
			check: func(t *testing.T, dir string, _ siftResult) {
				if !isCharDevice(filepath.Join(dir, "null-link")) {
					t.Error("the device was replaced")
				}
				if r := readReport(t, filepath.Join(dir, "report.json")); r.Stats.RowsRejected != inShort+inBroken {
					t.Errorf("report counts %d rejects", r.Stats.RowsRejected)
				}
			}},
		{name: "output to stdout", args: []string{"--output", "-"}, kept: inGood, rejected: inReasons,
			changed: []string{"rejects.jsonl", "report.json"}},
		{name: "rejects to a FIFO", args: []string{"--rejects", "rej.fifo"}, kept: inGood,
			setup: func(t *testing.T, dir string) {
				if err := syscall.Mkfifo(filepath.Join(dir, "rej.fifo"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			changed: []string{"out.jsonl", "report.json"}},
		{name: "output through a symlink", kept: inGood, rejected: inReasons,
			setup: func(t *testing.T, dir string) {
				os.Mkdir(filepath.Join(dir, "real"), 0o755)
				os.WriteFile(filepath.Join(dir, "real", "data.jsonl"), []byte("old\n"), 0o644)
				os.Symlink("real/data.jsonl", filepath.Join(dir, "out.jsonl"))
				os.Symlink("real/rej.jsonl", filepath.Join(dir, "rejects.jsonl")) // dangling
			},
			changed: []string{"real/data.jsonl", "real/rej.jsonl", "report.json"},
			check: func(t *testing.T, dir string, _ siftResult) {
				for _, l := range []string{"out.jsonl", "rejects.jsonl"} {
					if fi, err := os.Lstat(filepath.Join(dir, l)); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
						t.Errorf("%s is no longer a symlink", l)
					}
				}
			}},
		{name: "output is a directory", exit: 1, stderr: []string{"out.jsonl: is a directory"}, kept: -1,
			setup:   func(t *testing.T, dir string) { os.Mkdir(filepath.Join(dir, "out.jsonl"), 0o755) },
			changed: []string{"report.failed.json"}},

		// 2. Refuse path collisions before anything runs.
		{name: "rejects is the input", args: []string{"--rejects", "in.jsonl"}, exit: 1, kept: -1,
			stderr: []string{"input in.jsonl and rejects in.jsonl are the same file"}},
		{name: "output, rejects and report are one file", args: []string{"--output", "x.jsonl", "--rejects", "x.jsonl", "--report", "x.jsonl"},
			exit: 1, kept: -1, stderr: []string{"output x.jsonl and rejects x.jsonl are the same file"}},
		{name: "rejects is a hard link of the input", args: []string{"--rejects", "alias.jsonl"}, exit: 1, kept: -1,
			setup: func(t *testing.T, dir string) {
				os.Link(filepath.Join(dir, "in.jsonl"), filepath.Join(dir, "alias.jsonl"))
			},
			stderr: []string{"input in.jsonl and rejects alias.jsonl are the same file"}},
		{name: "output is a symlink to the input", args: []string{"--output", "link.jsonl"}, exit: 1, kept: -1,
			setup:  func(t *testing.T, dir string) { os.Symlink("in.jsonl", filepath.Join(dir, "link.jsonl")) },
			stderr: []string{"input in.jsonl and output link.jsonl are the same file"}},
		{name: "report is the recipe", args: []string{"--report", "r.yaml"}, exit: 1, kept: -1,
			stderr: []string{"recipe r.yaml and report r.yaml are the same file"}},
		{name: "dedup save is the input", exit: 1, kept: -1,
			recipe: "input: in.jsonl\noutput: out.jsonl\nstages:\n  - simhash_dedup: {save: ./in.jsonl}\n",
			stderr: []string{"simhash_dedup save", "are the same file"}},
		{name: "findings is the output", exit: 1, kept: -1,
			recipe: "input: in.jsonl\noutput: out.jsonl\nstages:\n  - pii_redact: {findings: out.jsonl, key: k}\n",
			stderr: []string{"output out.jsonl and pii_redact findings", "are the same file"}},
		{name: "rejects and report share a device", kept: inGood,
			setup: func(t *testing.T, dir string) {
				os.Symlink(device(t, dir, "null"), filepath.Join(dir, "null-link"))
			},
			args: []string{"--rejects", "null-link", "--report", "null-link"}, changed: []string{"out.jsonl"}},

		// 5. Leftovers and modes.
		{name: "stale temporary files are removed", kept: inGood, rejected: inReasons,
			setup: func(t *testing.T, dir string) {
				for _, n := range []string{".out.jsonl.tmp-0a1b2c3d4e5f", ".rejects.jsonl.tmp-ffffffffffff", ".report.json.tmp-0"} {
					os.WriteFile(filepath.Join(dir, n), []byte("{\"id\":\"secret\"}\n"), 0o600)
				}
				os.WriteFile(filepath.Join(dir, ".other.jsonl.tmp-0a1b2c3d4e5f"), []byte("not ours\n"), 0o600)
			},
			changed: append([]string{".out.jsonl.tmp-0a1b2c3d4e5f", ".rejects.jsonl.tmp-ffffffffffff", ".report.json.tmp-0"}, okFiles...),
			check: func(t *testing.T, dir string, _ siftResult) {
				if left := tempFiles(t, dir); len(left) != 1 || left[0] != ".other.jsonl.tmp-0a1b2c3d4e5f" {
					t.Errorf("temporary files left: %q, want only the one of another path", left)
				}
			}},
		{name: "modes follow the umask", shell: "umask 027", kept: inGood, rejected: inReasons, changed: okFiles,
			setup: func(t *testing.T, dir string) {
				os.WriteFile(filepath.Join(dir, "report.json"), []byte("{}"), 0o604)
				os.Chmod(filepath.Join(dir, "report.json"), 0o604)
			},
			check: func(t *testing.T, dir string, _ siftResult) {
				for f, want := range map[string]fs.FileMode{"out.jsonl": 0o640, "rejects.jsonl": 0o640, "report.json": 0o604} {
					if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Mode().Perm() != want {
						t.Errorf("%s: mode %v, want %v", f, fi.Mode().Perm(), want)
					}
				}
			}},

		// 6. Report integrity.
		{name: "report path not writable", args: []string{"--report", "plain/report.json"}, exit: 1, kept: -1,
			setup:  func(t *testing.T, dir string) { os.WriteFile(filepath.Join(dir, "plain"), nil, 0o644) },
			stderr: []string{"report: ", "plain/report.json"}},
		{name: "failed run keeps the good report", kept: -1, exit: 1, stderr: []string{"broken.jsonl.gz"},
			setup: func(t *testing.T, dir string) {
				if res := runSift(t, dir, "", "run", "r.yaml", "--quiet"); res.exit != 0 {
					t.Fatalf("first run: %+v", res)
				}
				os.WriteFile(filepath.Join(dir, "broken.jsonl.gz"), []byte("\x1f\x8b\x08\x00not really gzip"), 0o644)
			},
			args: []string{"--input", "in.jsonl", "--input", "broken.jsonl.gz"}, changed: []string{"report.failed.json"},
			check: func(t *testing.T, dir string, _ siftResult) {
				if r := readReport(t, filepath.Join(dir, "report.failed.json")); !strings.Contains(r.Error, "broken.jsonl.gz") {
					t.Errorf("failed report error %q", r.Error)
				}
				if r := readReport(t, filepath.Join(dir, "report.json")); r.Error != "" || r.Stats.RowsIn != inGood+inShort+inBroken {
					t.Errorf("good report changed: %+v", r)
				}
				if res := runSift(t, dir, "", "run", "r.yaml", "--quiet"); res.exit != 0 {
					t.Fatalf("third run: %+v", res)
				}
				if _, err := os.Stat(filepath.Join(dir, "report.failed.json")); !os.IsNotExist(err) {
					t.Error("a successful run left the failed report of an earlier one")
				}
			}},
		{name: "findings directory is created", kept: inGood + inShort + 1,
			recipe: "input: in.jsonl\noutput: out.jsonl\nstages:\n  - pii_redact: {findings: audit/deep/findings.jsonl, key: k}\n",
			setup: func(t *testing.T, dir string) {
				os.WriteFile(filepath.Join(dir, "in.jsonl"), append(faultInput("in", inGood, inShort, 0),
					"{\"id\": \"pii\", \"text\": \"mail bob@corp.example.com now\"}\n"...), 0o644)
			},
			changed: []string{"out.jsonl", "audit/deep/findings.jsonl"},
			check: func(t *testing.T, dir string, _ siftResult) {
				if b, err := os.ReadFile(filepath.Join(dir, "audit/deep/findings.jsonl")); err != nil || !bytes.Contains(b, []byte(`"pii"`)) {
					t.Errorf("findings %q, %v", b, err)
				}
			}},

		// 8. Smaller items.
		{name: "negative workers", args: []string{"--workers", "-1"}, exit: 1, kept: -1, stderr: []string{"--workers -1"}},
		{name: "negative batch size", args: []string{"--batch-size", "-5"}, exit: 1, kept: -1, stderr: []string{"--batch-size -5"}},
		{name: "zero batch size", args: []string{"--batch-size", "0"}, exit: 1, kept: -1, stderr: []string{"--batch-size 0"}},
		{name: "repeated input", args: []string{"--input", "in.jsonl", "--input", "more.jsonl"}, changed: okFiles,
			kept: inGood + 3, rejected: map[string]int{"too_short": inShort + 2, "parse_error": inBroken + 1},
			setup: func(t *testing.T, dir string) {
				os.WriteFile(filepath.Join(dir, "more.jsonl"), faultInput("more", 3, 2, 1), 0o644)
			}},
		{name: "write error names the output", shell: "ulimit -f 8", exit: 1, kept: -1,
			setup: func(t *testing.T, dir string) {
				os.WriteFile(filepath.Join(dir, "in.jsonl"), faultInput(strings.Repeat("long-", 200), 200, 0, 0), 0o644)
			},
			stderr: []string{"write out.jsonl: file too large"}, changed: []string{"report.failed.json"}},
		{name: "rejects to a full device", exit: 1, kept: -1, stderr: []string{"full-link: no space left on device"},
			setup: func(t *testing.T, dir string) {
				os.Symlink(device(t, dir, "full"), filepath.Join(dir, "full-link"))
			},
			args: []string{"--rejects", "full-link"}, changed: []string{"report.failed.json"}},
		{name: "fractional integer parameter", exit: 1, kept: -1,
			recipe: strings.Replace(faultRecipe, "min: 3", "min: 1.5", 1),
			stderr: []string{"key min: 1.5 is not a whole number"}},

		// The dedup index is an output of the run: in place with the others
		// after a successful run, nowhere after a failed one.
		{name: "dedup index is committed with the outputs", kept: inGood, rejected: inReasons,
			recipe:  faultRecipe + "  - simhash_dedup: {save: idx.bin}\n",
			changed: append([]string{"idx.bin"}, okFiles...),
			check: func(t *testing.T, dir string, _ siftResult) {
				if fi, err := os.Stat(filepath.Join(dir, "idx.bin")); err != nil || fi.Size() == 0 {
					t.Errorf("index: %v", err)
				}
				if left := tempFiles(t, dir); len(left) > 0 {
					t.Errorf("temporary files left: %q", left)
				}
			}},
		{name: "dedup index of a run that fails after it", exit: 1, kept: -1,
			recipe: faultRecipe + "  - simhash_dedup: {save: idx.bin}\n",
			setup: func(t *testing.T, dir string) {
				os.Symlink(device(t, dir, "full"), filepath.Join(dir, "full-link"))
			},
			// Rejects are written after every stage has flushed, so the
			// index is complete when the run fails.
			args: []string{"--rejects", "full-link"}, stderr: []string{"full-link: no space left on device"},
			changed: []string{"report.failed.json"},
			check: func(t *testing.T, dir string, _ siftResult) {
				if left := tempFiles(t, dir); len(left) > 0 {
					t.Errorf("temporary files left: %q", left)
				}
			}},
		{name: "dedup index of a failed run keeps the old one", exit: 1, kept: -1,
			recipe: faultRecipe + "  - simhash_dedup: {save: idx.bin}\n",
			setup: func(t *testing.T, dir string) {
				os.WriteFile(filepath.Join(dir, "idx.bin"), []byte("the index of an earlier run"), 0o644)
				os.Symlink(device(t, dir, "full"), filepath.Join(dir, "full-link"))
			},
			args: []string{"--rejects", "full-link"}, stderr: []string{"full-link: no space left on device"},
			changed: []string{"report.failed.json"}},
		{name: "dedup index to a device", kept: inGood, rejected: inReasons, changed: okFiles,
			recipe: faultRecipe + "  - simhash_dedup: {save: null-link}\n",
			setup: func(t *testing.T, dir string) {
				os.Symlink(device(t, dir, "null"), filepath.Join(dir, "null-link"))
			},
			check: func(t *testing.T, dir string, _ siftResult) {
				if !isCharDevice(filepath.Join(dir, "null-link")) {
					t.Error("the device was replaced")
				}
			}},
		{name: "dedup index is the rejects", exit: 1, kept: -1,
			recipe: faultRecipe + "  - simhash_dedup: {save: rejects.jsonl}\n",
			stderr: []string{"rejects", "simhash_dedup save", "are the same file"}},

		// Profiles are files of the run like any other.
		{name: "cpuprofile is the rejects", args: []string{"--cpuprofile", "rejects.jsonl"}, exit: 1, kept: -1,
			stderr: []string{"rejects rejects.jsonl and cpuprofile rejects.jsonl are the same file"}},
		{name: "memprofile is the report", args: []string{"--memprofile", "report.json"}, exit: 1, kept: -1,
			stderr: []string{"report report.json and memprofile report.json are the same file"}},
		{name: "memprofile is the failed report", args: []string{"--memprofile", "report.failed.json"}, exit: 1, kept: -1,
			stderr: []string{"failed report report.failed.json and memprofile report.failed.json are the same file"}},
		{name: "both profiles to one file", args: []string{"--cpuprofile", "p.pprof", "--memprofile", "p.pprof"}, exit: 1, kept: -1,
			stderr: []string{"cpuprofile p.pprof and memprofile p.pprof are the same file"}},
		{name: "cpuprofile is the recipe", args: []string{"--cpuprofile", "r.yaml"}, exit: 1, kept: -1,
			stderr: []string{"recipe r.yaml and cpuprofile r.yaml are the same file"}},
		{name: "cpuprofile is the dedup index", args: []string{"--cpuprofile", "idx.bin"}, exit: 1, kept: -1,
			recipe: "input: in.jsonl\noutput: out.jsonl\nstages:\n  - simhash_dedup: {save: idx.bin}\n",
			stderr: []string{"simhash_dedup save", "idx.bin and cpuprofile idx.bin are the same file"}},
		{name: "cpuprofile is a hard link of the input", args: []string{"--cpuprofile", "alias.pprof"}, exit: 1, kept: -1,
			setup: func(t *testing.T, dir string) {
				os.Link(filepath.Join(dir, "in.jsonl"), filepath.Join(dir, "alias.pprof"))
			},
			stderr: []string{"input in.jsonl and cpuprofile alias.pprof are the same file"}},
		{name: "memprofile is a symlink to the output", args: []string{"--memprofile", "link.pprof"}, exit: 1, kept: -1,
			setup:  func(t *testing.T, dir string) { os.Symlink("out.jsonl", filepath.Join(dir, "link.pprof")) },
			stderr: []string{"output out.jsonl and memprofile link.pprof are the same file"}},
		{name: "cpuprofile is the input FIFO", args: []string{"--input", "in.fifo", "--cpuprofile", "in.fifo"}, exit: 1, kept: -1,
			setup: func(t *testing.T, dir string) {
				if err := syscall.Mkfifo(filepath.Join(dir, "in.fifo"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			stderr: []string{"input in.fifo and cpuprofile in.fifo are the same file"}},
		{name: "profiles to a device", kept: inGood, rejected: inReasons, changed: okFiles,
			setup: func(t *testing.T, dir string) {
				os.Symlink(device(t, dir, "null"), filepath.Join(dir, "null-link"))
			},
			args: []string{"--cpuprofile", "null-link", "--memprofile", "null-link"},
			check: func(t *testing.T, dir string, _ siftResult) {
				if !isCharDevice(filepath.Join(dir, "null-link")) {
					t.Error("the device was replaced")
				}
			}},

		// Damaged Arrow IPC input fails by name, writes nothing and leaves
		// the report of an earlier good run alone.
		{name: "damaged IPC schema", args: []string{"--input", "bad.arrow"}, exit: 1, kept: -1,
			setup: func(t *testing.T, dir string) {
				b := siftIPC(t, dir)
				binary.LittleEndian.PutUint32(b[ipcFieldVector(t, b):], 0x10000000)
				os.WriteFile(filepath.Join(dir, "bad.arrow"), b, 0o644)
			},
			stderr:  []string{"bad.arrow: damaged IPC file footer"},
			changed: []string{"report.failed.json"}},
		{name: "damaged IPC stream through a FIFO", args: []string{"--input", "bad.arrows"}, exit: 1, kept: -1,
			setup: func(t *testing.T, dir string) {
				b := ipcStream(t, siftIPC(t, dir))
				binary.LittleEndian.PutUint32(b[4:], 0x7FFFFFF0) // the schema's metadata length
				feedFIFO(t, filepath.Join(dir, "bad.arrows"), b)
			},
			stderr:  []string{"bad.arrows: ", "reading message metadata", "unexpected EOF"},
			changed: []string{"report.failed.json"}},
		{name: "damaged IPC batch", args: []string{"--input", "bad.arrow"}, exit: 1, kept: -1,
			setup: func(t *testing.T, dir string) {
				b := siftIPC(t, dir)
				// The first batch's metadata length, just after the
				// schema message: longer than the file.
				n := int(binary.LittleEndian.Uint32(b[12:]))
				binary.LittleEndian.PutUint32(b[8+8+n+4:], 0x7FFFFFF0)
				os.WriteFile(filepath.Join(dir, "bad.arrow"), b, 0o644)
			},
			stderr:  []string{"bad.arrow: "},
			changed: []string{"report.failed.json"}},
		{name: "no rejects path warns", kept: inGood, changed: []string{"out.jsonl", "report.json"},
			recipe: strings.Replace(faultRecipe, "rejects: rejects.jsonl\n", "", 1),
			stderr: []string{"warning: 10 rejected rows were counted but not written"},
			check: func(t *testing.T, dir string, _ siftResult) {
				if r := readReport(t, filepath.Join(dir, "report.json")); len(r.Warnings) != 1 {
					t.Errorf("report warnings %q", r.Warnings)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runFaultCase(t, c) })
	}
}

func runFaultCase(t *testing.T, c faultCase) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "tmp"), 0o755)
	input := faultInput("in", inGood, inShort, inBroken)
	os.WriteFile(filepath.Join(dir, "in.jsonl"), input, 0o644)
	recipe := c.recipe
	if recipe == "" {
		recipe = faultRecipe
	}
	os.WriteFile(filepath.Join(dir, "r.yaml"), []byte(recipe), 0o644)
	if c.setup != nil {
		c.setup(t, dir)
	}
	var fifo chan []byte
	var keeper *os.File // holds the FIFO open so that its reader sees the end only after the run
	if fi, err := os.Stat(filepath.Join(dir, "rej.fifo")); err == nil && fi.Mode()&fs.ModeNamedPipe != 0 {
		if keeper, err = os.OpenFile(filepath.Join(dir, "rej.fifo"), os.O_RDWR, 0); err != nil {
			t.Fatal(err)
		}
		r, err := os.Open(filepath.Join(dir, "rej.fifo"))
		if err != nil {
			t.Fatal(err)
		}
		fifo = make(chan []byte, 1)
		go func() {
			b, _ := io.ReadAll(r)
			r.Close()
			fifo <- b
		}()
	}
	before := snapshot(t, dir)
	res := runSift(t, dir, c.shell, append([]string{"run", "r.yaml", "--quiet"}, c.args...)...)
	if keeper != nil {
		keeper.Close()
	}
	if res.exit != c.exit {
		t.Fatalf("exit %d, want %d\nstderr: %s", res.exit, c.exit, res.stderr)
	}
	for _, s := range c.stderr {
		if !strings.Contains(res.stderr, s) {
			t.Errorf("stderr %q lacks %q", res.stderr, s)
		}
	}
	for _, bad := range []string{"sift: sift:", ".tmp-", "\noutput:", "\nrejects:"} {
		if strings.Contains("\n"+res.stderr, bad) {
			t.Errorf("stderr %q holds %q", res.stderr, bad)
		}
	}
	after := snapshot(t, dir)
	for f := range mergeKeys(before, after) {
		if before[f] != after[f] && !slices.Contains(c.changed, f) {
			t.Errorf("%s changed (%q -> %q)", f, before[f], after[f])
		}
	}
	if c.kept < 0 {
		return
	}
	// Conservation, counted from the files and the input on their own.
	out := res.stdout
	if !slices.Contains(c.args, "-") {
		b, _ := os.ReadFile(filepath.Join(dir, "out.jsonl"))
		out = string(b)
	}
	kept := strings.Count(out, "\n")
	if kept != c.kept {
		t.Errorf("%d rows kept, want %d", kept, c.kept)
	}
	if c.rejected != nil {
		b, _ := os.ReadFile(filepath.Join(dir, "rejects.jsonl"))
		got := reasons(t, b)
		if fmt.Sprint(got) != fmt.Sprint(c.rejected) {
			t.Errorf("reject reasons %v, want %v", got, c.rejected)
		}
		n := countLines(input)
		for _, extra := range []string{"more.jsonl"} {
			if b, err := os.ReadFile(filepath.Join(dir, extra)); err == nil {
				n += countLines(b)
			}
		}
		if kept+strings.Count(string(b), "\n") != n {
			t.Errorf("%d kept + %d rejected != %d input lines", kept, strings.Count(string(b), "\n"), n)
		}
	}
	if fifo != nil {
		got := reasons(t, <-fifo)
		if fmt.Sprint(got) != fmt.Sprint(inReasons) {
			t.Errorf("FIFO reasons %v, want %v", got, inReasons)
		}
		if fi, err := os.Lstat(filepath.Join(dir, "rej.fifo")); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
			t.Error("the FIFO was replaced")
		}
	}
	if c.check != nil {
		c.check(t, dir, res)
	}
}

func mergeKeys(a, b map[string]string) map[string]bool {
	m := map[string]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}

// tempFiles lists the names of temporary output files in dir.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, ".*.tmp-*"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range m {
		m[i] = filepath.Base(m[i])
	}
	return m
}

// siftIPC converts in.jsonl to an Arrow IPC file with sift itself, as a
// first good run (its output, rejects and report are kept), and returns
// the file's bytes.
func siftIPC(t *testing.T, dir string) []byte {
	t.Helper()
	if res := runSift(t, dir, "", "run", "r.yaml", "--quiet", "--output", "good.arrow"); res.exit != 0 {
		t.Fatalf("making good.arrow: %+v", res)
	}
	b, err := os.ReadFile(filepath.Join(dir, "good.arrow"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ipcFieldVector returns the position of the schema's field vector in an
// IPC file's footer, by following the flatbuffer: the footer's root table,
// its schema (vtable slot 6), the schema's fields (slot 6).
func ipcFieldVector(t *testing.T, b []byte) int {
	t.Helper()
	le := binary.LittleEndian
	at := len(b) - 10 - int(le.Uint32(b[len(b)-10:]))
	pos := at + int(le.Uint32(b[at:]))
	for range 2 {
		vt := pos - int(int32(le.Uint32(b[pos:])))
		f := pos + int(le.Uint16(b[vt+6:]))
		pos = f + int(le.Uint32(b[f:]))
	}
	return pos
}

// ipcStream rewrites an IPC file as an IPC stream.
func ipcStream(t *testing.T, file []byte) []byte {
	t.Helper()
	fr, err := ipc.NewFileReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	defer fr.Close()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(fr.Schema()))
	for i := range fr.NumRecords() {
		rec, err := fr.RecordBatch(i)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// feedFIFO makes a FIFO at p and writes b to it once a reader opens it;
// if none does, the cleanup opens it to let the writer go.
func feedFIFO(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if f, err := os.OpenFile(p, os.O_WRONLY, 0); err == nil {
			f.Write(b)
			f.Close()
		}
	}()
	t.Cleanup(func() {
		if f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			<-done
			f.Close()
		}
	})
}

// TestSignals is the crash test: a run is stopped halfway through real text
// by a signal; nothing may be at the final paths, no spool may survive, and
// a rerun must give the complete result and leave no temporary file. The
// input is a FIFO fed in two halves, so "halfway" does not depend on timing.
func TestSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("starts several sift processes")
	}
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) { signalRun(t, sig) })
	}
}

func signalRun(t *testing.T, sig syscall.Signal) {
	dir := t.TempDir()
	tmp := filepath.Join(dir, "tmp")
	os.Mkdir(tmp, 0o755)
	corpusPath, n := fortuneCorpus(t, dir)
	corpus, err := os.ReadFile(corpusPath)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(corpusPath)
	in := filepath.Join(dir, "in.jsonl")
	if err := syscall.Mkfifo(in, 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "r.yaml"), []byte("input: in.jsonl\noutput: out.jsonl\nrejects: rejects.jsonl\nreport: report.json\n"+
		"stages:\n  - length_filter: {unit: words, min: 10, max: 60}\n  - exact_dedup\n"), 0o644)
	cmd := siftCmd(dir, "", "run", "r.yaml", "--quiet", "--batch-size", "64")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	fifo, err := os.OpenFile(in, os.O_WRONLY, 0) // waits for sift to open it
	if err != nil {
		t.Fatal(err)
	}
	half := bytes.IndexByte(corpus[len(corpus)/2:], '\n') + len(corpus)/2 + 1
	if _, err := fifo.Write(corpus[:half]); err != nil {
		t.Fatal(err)
	}
	// Halfway: the output's temporary file exists and the rejects are
	// spooled to a file that is already unlinked.
	spool := ""
	for i := 0; spool == "" || len(tempFiles(t, dir)) == 0; i++ {
		if i == 1000 {
			t.Fatalf("no temporary output or spool after 10 s; temps %q\n%s", tempFiles(t, dir), stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
		fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", cmd.Process.Pid))
		for _, fd := range fds {
			if to, _ := os.Readlink(fd); strings.Contains(to, "sift-rejects-") {
				spool = to
			}
		}
	}
	if !strings.HasPrefix(spool, tmp+"/") || !strings.HasSuffix(spool, " (deleted)") {
		t.Errorf("reject spool %q: want an unlinked file in %s", spool, tmp)
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	// The rest of the input, as a producer would go on writing; the write
	// fails once sift has gone.
	fifo.Write(corpus[half:])
	fifo.Close()
	err = cmd.Wait()
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	switch sig {
	case syscall.SIGKILL:
		if !ws.Signaled() || ws.Signal() != sig {
			t.Fatalf("sift ended with %v, want killed", err)
		}
		if len(tempFiles(t, dir)) == 0 {
			t.Error("no temporary file left by the killed run: the test proves nothing")
		}
	default:
		if ws.ExitStatus() != 128+int(sig) {
			t.Fatalf("exit %d, want %d\n%s", ws.ExitStatus(), 128+int(sig), stderr.String())
		}
		if left := tempFiles(t, dir); len(left) > 0 {
			t.Errorf("temporary files left after %v: %q", sig, left)
		}
		if r := readReport(t, filepath.Join(dir, "report.failed.json")); !strings.Contains(r.Error, "canceled") {
			t.Errorf("failed report error %q", r.Error)
		}
	}
	for _, f := range []string{"out.jsonl", "rejects.jsonl", "report.json"} {
		if _, err := os.Lstat(filepath.Join(dir, f)); !os.IsNotExist(err) {
			t.Errorf("%s exists after %v", f, sig)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("%d files left in TMPDIR after %v", len(left), sig)
	}

	// The rerun: complete, conserving, and tidy.
	os.Remove(in)
	os.WriteFile(in, corpus, 0o644)
	res := runSift(t, dir, "", "run", "r.yaml", "--quiet")
	if res.exit != 0 {
		t.Fatalf("rerun: exit %d\n%s", res.exit, res.stderr)
	}
	out, _ := os.ReadFile(filepath.Join(dir, "out.jsonl"))
	rej, _ := os.ReadFile(filepath.Join(dir, "rejects.jsonl"))
	if kept, rejected := countLines(out), countLines(rej); kept+rejected != n || kept == 0 || rejected == 0 {
		t.Errorf("rerun: %d kept + %d rejected, want %d input records", kept, rejected, n)
	}
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Errorf("temporary files left after the rerun: %q", left)
	}
	if _, err := os.Stat(filepath.Join(dir, "report.failed.json")); !os.IsNotExist(err) {
		t.Error("the rerun left the failed report")
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("%d files left in TMPDIR after the rerun", len(left))
	}
}

func TestStagesShowYAMLKeys(t *testing.T) {
	var out bytes.Buffer
	if err := cli(t.Context(), []string{"stages"}, nil, &out, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"{order, corpus}", "[{name, pattern, validator, context, action}]", "[string]"} {
		if !strings.Contains(s, want) {
			t.Errorf("stages lacks %q", want)
		}
	}
	for _, bad := range []string{"*mining.", "TrainSpec", "clean.", "[]string"} {
		if strings.Contains(s, bad) {
			t.Errorf("stages shows Go type %q", bad)
		}
	}
}

func TestValidateRefusesCollisions(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "in.jsonl"), faultInput("in", 2, 0, 0), 0o644)
	p := filepath.Join(dir, "r.yaml")
	os.WriteFile(p, []byte("input: in.jsonl\noutput: out.jsonl\nstages:\n  - simhash_dedup: {save: out.jsonl}\n"), 0o644)
	var out bytes.Buffer
	err := cli(t.Context(), []string{"validate", p}, nil, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "simhash_dedup save") {
		t.Errorf("validate: %v", err)
	}
}

// TestBrokenModel checks that a perplexity model that cannot be read
// fails validate and run by its name and line, though it loads in the
// background while the run reads, and that the run leaves no output.
func TestBrokenModel(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "in.jsonl"), faultInput("in", 20, 0, 0), 0o644)
	os.WriteFile(filepath.Join(dir, "broken.arpa"), []byte("\\data\\\nngram 1=3\n\n\\1-grams:\n-1\t<s>\n-1\tx\n"), 0o644)
	p := filepath.Join(dir, "r.yaml")
	os.WriteFile(p, []byte("input: in.jsonl\noutput: out.jsonl\nstages:\n  - length_filter: {}\n  - perplexity: {model: broken.arpa}\n"), 0o644)
	for _, cmd := range []string{"validate", "run"} {
		var out bytes.Buffer
		err := cli(t.Context(), []string{cmd, p}, nil, &out, &out)
		if err == nil || !strings.Contains(err.Error(), "broken.arpa: line 6") || !strings.Contains(err.Error(), "perplexity") {
			t.Errorf("%s: %v", cmd, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out.jsonl")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("output after a failed run: %v", err)
	}
	// A model that is not there is a configuration error, found at once.
	os.Remove(filepath.Join(dir, "broken.arpa"))
	var out bytes.Buffer
	if err := cli(t.Context(), []string{"validate", p}, nil, &out, &out); err == nil || !strings.Contains(err.Error(), "model: open") {
		t.Errorf("validate without the model: %v", err)
	}
}

// TestModelFromFIFO checks that a perplexity model given as a FIFO (a
// process substitution, say) is opened once: it loads while the stage is
// built, not in the background after a first open.
func TestModelFromFIFO(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "in.jsonl"), faultInput("in", 20, 0, 0), 0o644)
	fifo := filepath.Join(dir, "model.fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		f.WriteString("\\data\\\nngram 1=3\n\n\\1-grams:\n-1\t<s>\n-1\t</s>\n-1\tx\n\n\\end\\\n")
		f.Close()
	}()
	p := filepath.Join(dir, "r.yaml")
	os.WriteFile(p, []byte("input: in.jsonl\noutput: out.jsonl\nstages:\n  - perplexity: {model: model.fifo}\n"), 0o644)
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- cli(t.Context(), []string{"run", p}, nil, &out, &out) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run blocked on the FIFO")
	}
	if _, err := os.Stat(filepath.Join(dir, "out.jsonl")); err != nil {
		t.Error(err)
	}
}

func TestLMTrainRefusesItsCorpusAsOutput(t *testing.T) {
	dir := t.TempDir()
	corpus := filepath.Join(dir, "corpus.txt")
	text := []byte("the cat sat\nthe dog sat\n")
	os.WriteFile(corpus, text, 0o644)
	link := filepath.Join(dir, "model.arpa")
	os.Symlink("corpus.txt", link)
	var out bytes.Buffer
	err := cli(t.Context(), []string{"lm", "train", "--order", "2", "--output", link, corpus}, nil, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "is the corpus file") {
		t.Errorf("lm train: %v", err)
	}
	if b, _ := os.ReadFile(corpus); !bytes.Equal(b, text) {
		t.Errorf("corpus changed to %q", b)
	}
}

// TestSignalAfterIndexWritten stops a run whose simhash_dedup index is
// written in full but not yet in place: the rejects go to a FIFO nobody
// reads, so the run blocks writing them after every stage has flushed.
// After SIGTERM or SIGINT nothing may be at the index's path (or any
// other output's), and no temporary file may remain.
func TestSignalAfterIndexWritten(t *testing.T) {
	if testing.Short() {
		t.Skip("starts several sift processes")
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			os.Mkdir(filepath.Join(dir, "tmp"), 0o755)
			corpus, _ := fortuneCorpus(t, dir)
			os.Rename(corpus, filepath.Join(dir, "in.jsonl"))
			rej := filepath.Join(dir, "rej.fifo")
			if err := syscall.Mkfifo(rej, 0o644); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, "r.yaml"), []byte("input: in.jsonl\noutput: out.jsonl\nrejects: rej.fifo\n"+
				"stages:\n  - length_filter: {unit: words, min: 10, max: 60}\n  - simhash_dedup: {save: idx.bin}\n"), 0o644)
			// Opened before sift so that its open does not wait; not read
			// until the signal, so the rejects (far more than a pipe holds)
			// block the run after the flush.
			r, err := os.OpenFile(rej, os.O_RDONLY|syscall.O_NONBLOCK, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			cmd := siftCmd(dir, "", "run", "r.yaml", "--quiet")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			for i := 0; ; i++ {
				m, _ := filepath.Glob(filepath.Join(dir, ".idx.bin.tmp-*"))
				if len(m) > 0 {
					break
				}
				if _, err := os.Stat(filepath.Join(dir, "idx.bin")); err == nil {
					t.Fatal("the index is in place before the run has finished")
				}
				if i == 3000 {
					cmd.Process.Kill()
					t.Fatalf("no index written after 30 s\n%s", stderr.String())
				}
				time.Sleep(10 * time.Millisecond)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, r) // lets the blocked write return
			cmd.Wait()
			if got := cmd.ProcessState.ExitCode(); got != 128+int(sig) {
				t.Fatalf("exit %d, want %d\n%s", got, 128+int(sig), stderr.String())
			}
			for _, f := range []string{"idx.bin", "out.jsonl"} {
				if _, err := os.Lstat(filepath.Join(dir, f)); !os.IsNotExist(err) {
					t.Errorf("%s exists after %v", f, sig)
				}
			}
			if left := tempFiles(t, dir); len(left) > 0 {
				t.Errorf("temporary files left after %v: %q", sig, left)
			}
		})
	}
}

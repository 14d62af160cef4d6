package dataset_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siftdata/sift/dataset"
)

func TestFileAtomicAndTidy(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.jsonl")
	os.WriteFile(path, []byte("old\n"), 0o640)
	os.Chmod(path, 0o640)
	stale := filepath.Join(dir, ".out.jsonl.tmp-dead")
	os.WriteFile(stale, []byte("left by a killed run\n"), 0o600)

	a, err := dataset.CreateFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Error("stale temporary file not removed")
	}
	// A second writer of the same path must not take the live one's file.
	b, err := dataset.CreateFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".out.jsonl.tmp-*")); len(m) != 2 {
		t.Fatalf("temporary files %q, want two live ones", m)
	}
	b.Abort()
	a.Write([]byte("new\n"))
	if got, _ := os.ReadFile(path); string(got) != "old\n" {
		t.Errorf("before Close the path holds %q", got)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	fi, _ := os.Stat(path)
	if string(got) != "new\n" || fi.Mode().Perm() != 0o640 {
		t.Errorf("after Close: %q mode %v, want new data and the replaced file's mode", got, fi.Mode().Perm())
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".*")); len(m) != 0 {
		t.Errorf("left %q", m)
	}
}

func TestFileSymlinkAndDirectory(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "data"), 0o755)
	link := filepath.Join(dir, "link.jsonl")
	os.Symlink("data/target.jsonl", link) // dangling until the commit
	f, err := dataset.CreateFile(link)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("x\n"))
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Error("the link was replaced")
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "data", "target.jsonl")); string(got) != "x\n" {
		t.Errorf("target holds %q", got)
	}
	if _, err := dataset.CreateFile(filepath.Join(dir, "data")); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
	// The path becomes a directory during the run: the error names the
	// path, not the temporary file.
	p := filepath.Join(dir, "late.jsonl")
	f, err = dataset.CreateFile(p)
	if err != nil {
		t.Fatal(err)
	}
	os.Mkdir(p, 0o755)
	os.WriteFile(filepath.Join(p, "x"), nil, 0o644)
	if err := f.Close(); err == nil || !strings.Contains(err.Error(), p) || strings.Contains(err.Error(), ".tmp-") {
		t.Errorf("rename error %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".late*")); len(m) != 0 {
		t.Errorf("left %q", m)
	}
}

func TestFileStream(t *testing.T) {
	f, err := dataset.CreateFile("/dev/full")
	if err != nil {
		t.Skip(err)
	}
	f.Write([]byte("x\n"))
	if err := f.Finish(); err == nil || !strings.HasPrefix(err.Error(), "write /dev/full: ") {
		t.Errorf("Finish on /dev/full: %v", err)
	}
	f.Abort()
	if !dataset.IsStream("/dev/null") || !dataset.IsStream(dataset.Stdout) || dataset.IsStream(t.TempDir()) {
		t.Error("IsStream")
	}
}

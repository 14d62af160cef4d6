package recipe

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/siftdata/sift/dataset"
)

// FileUse is a file named by a stage spec.
type FileUse struct {
	Key   string // the spec key naming it, e.g. "save"
	Path  string // as written in the recipe
	Write bool   // the stage writes it (else it only reads it)
}

// FileSpec is implemented by stage specs that name files of their own:
// models, indexes, audit logs. [Run] refuses to start when a file one of
// them writes is also read or written by anything else in the run (input,
// output, rejects, report, another stage), so that no run can destroy its
// own input.
type FileSpec interface {
	Files() []FileUse
}

// fileRole is one file of a run, with what it is for.
type fileRole struct {
	role  string // for messages: "input", "rejects", "simhash_dedup save"
	path  string // as given
	canon string // absolute, symbolic links resolved
	info  os.FileInfo
	write bool
}

func newFileRole(role, path string, write bool) fileRole {
	f := fileRole{role: role, path: path, canon: canonical(path), write: write}
	if path != dataset.Stdout {
		f.info, _ = os.Stat(path)
	}
	return f
}

// same reports whether a and b are one file: the same canonical path, or
// the same device and inode (hard links, bind mounts).
func (a fileRole) same(b fileRole) bool {
	return a.canon == b.canon || a.info != nil && b.info != nil && os.SameFile(a.info, b.info)
}

// checkCollisions returns an error naming the first two roles that would
// use one file when at least one of them writes it. Several outputs may
// share a character device such as /dev/null: nothing is replaced there.
func checkCollisions(files []fileRole) error {
	for i, a := range files {
		for _, b := range files[:i] {
			if !a.write && !b.write || !a.same(b) {
				continue
			}
			if a.write && b.write && a.info != nil && a.info.Mode()&fs.ModeCharDevice != 0 {
				continue
			}
			same := ""
			if a.path != b.path {
				same = fmt.Sprintf(" (both %s)", a.canon)
			}
			return fmt.Errorf("%s %s and %s %s are the same file%s: refusing to run", b.role, b.path, a.role, a.path, same)
		}
	}
	return nil
}

// canonical returns path made absolute with every symbolic link resolved,
// including a last link whose target does not exist yet.
func canonical(path string) string {
	if path == dataset.Stdout {
		return path
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	for range 255 {
		if r, err := filepath.EvalSymlinks(abs); err == nil {
			return r
		}
		fi, err := os.Lstat(abs)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			break // it does not exist: resolve its directory
		}
		to, err := os.Readlink(abs)
		if err != nil {
			break
		}
		if !filepath.IsAbs(to) {
			to = filepath.Join(filepath.Dir(abs), to)
		}
		abs = to
	}
	if dir := filepath.Dir(abs); dir != abs {
		return filepath.Join(canonical(dir), filepath.Base(abs))
	}
	return abs
}

package dataset

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Stdout is the output path that names standard output.
const Stdout = "-"

// File is an output file that never replaces what is not its own:
//
//   - A regular file, new or existing, is written atomically: bytes go to a
//     temporary file ".NAME.tmp-*" beside it, which Close renames into
//     place; Abort (or a failed Close) removes it. The temporary file gets
//     the mode a plain create would (0666 less the umask), or the mode of
//     the file it replaces.
//   - A symbolic link is followed, and its target is replaced that way.
//   - A character device, FIFO or socket (for example /dev/null), and
//     [Stdout], are written in place as a stream. Abort cannot take back
//     what was already written to a stream.
//   - A directory is an error.
//
// CreateFile also removes the temporary files of its path left behind by a
// process that was killed; a temporary file whose writer is alive is locked
// and left alone. JSONL and CSV paths ending in .gz or .zst are compressed.
// Errors name the path as given, never the temporary file.
type File struct {
	path   string   // as given, for messages
	target string   // where a temporary file is renamed to; "" for a stream
	f      *os.File // the temporary file or the stream
	bw     *bufio.Writer
	cw     io.WriteCloser

	finished, done bool
	finishErr      error
}

// CreateFile starts writing path.
func CreateFile(path string) (*File, error) {
	_, c, err := formatOf(path)
	if errors.Is(err, ErrFormat) {
		c, err = plain, nil // any other name: written as given
	}
	if err != nil {
		return nil, err
	}
	f := &File{path: path}
	switch fi, err := os.Stat(path); {
	case path == Stdout:
		f.f = os.Stdout
	case err == nil && fi.IsDir():
		return nil, fmt.Errorf("%s: is a directory", path)
	case err == nil && !fi.Mode().IsRegular():
		// Opened by its own name: /dev/stdout and other links into /proc
		// resolve to things Readlink cannot name.
		if f.f, err = os.OpenFile(path, os.O_WRONLY, 0); err != nil {
			return nil, err
		}
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, err
	default:
		if f.target, err = resolveLinks(path); err != nil {
			return nil, err
		}
		if f.f, err = createTemp(f.target); err != nil {
			return nil, &os.PathError{Op: "create", Path: path, Err: unwrapPath(err)}
		}
	}
	f.bw = bufio.NewWriterSize(f.f, 1<<16)
	if f.cw, err = compressor(f.bw, c); err != nil {
		f.Abort()
		return nil, err
	}
	return f, nil
}

// IsStream reports whether path is written in place by [CreateFile]:
// [Stdout], or an existing file that is neither regular nor a directory.
func IsStream(path string) bool {
	if path == Stdout {
		return true
	}
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && !fi.Mode().IsRegular()
}

// Write writes p.
func (f *File) Write(p []byte) (int, error) {
	n, err := f.cw.Write(p)
	return n, f.err("write", err)
}

// Finish writes out everything buffered and, for a regular file, syncs it
// to disk, leaving only the rename to Close: a run with several outputs
// finishes them all before it commits any. Nothing may be written after.
func (f *File) Finish() error {
	if f.finished {
		return f.finishErr
	}
	f.finished = true
	err := f.cw.Close()
	if err == nil {
		err = f.bw.Flush()
	}
	if err == nil && f.target != "" {
		err = f.f.Sync()
	}
	f.finishErr = f.err("write", err)
	return f.finishErr
}

// Close finishes the file and, for a regular file, renames it into place.
// It does not close standard output. On error the file is discarded.
func (f *File) Close() error {
	if f.done {
		return nil
	}
	err := f.Finish()
	f.done = true
	if f.target == "" { // a stream
		if f.f != os.Stdout {
			if e := f.f.Close(); err == nil {
				err = e
			}
		}
		return f.err("close", err)
	}
	if e := f.f.Close(); err == nil {
		err = e
	}
	if err == nil {
		err = os.Rename(f.f.Name(), f.target)
	}
	if err != nil {
		os.Remove(f.f.Name())
		return f.err("close", err)
	}
	return nil
}

// Abort discards the file. It is safe after Close, and does nothing then.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	if f.target == "" {
		if f.f != os.Stdout {
			f.f.Close()
		}
		return
	}
	f.f.Close()
	os.Remove(f.f.Name())
}

// err makes err an [os.PathError] naming f's path instead of its
// temporary file.
func (f *File) err(op string, err error) error {
	if err == nil {
		return nil
	}
	var pe *os.PathError
	if errors.As(err, &pe) && pe.Path == f.path {
		return err
	}
	return &os.PathError{Op: op, Path: f.path, Err: unwrapPath(err)}
}

// unwrapPath strips the path or paths an os error names: the caller names
// the user's path instead.
func unwrapPath(err error) error {
	var pe *os.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	}
	return err
}

// resolveLinks follows path through symbolic links to the file they end
// at, which need not exist.
func resolveLinks(path string) (string, error) {
	for range 255 {
		fi, err := os.Lstat(path)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			return path, nil
		}
		to, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(to) {
			to = filepath.Join(filepath.Dir(path), to)
		}
		path = to
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", path)
}

const tmpInfix = ".tmp-"

// tempPrefix is the name prefix of target's temporary files.
func tempPrefix(target string) string {
	return filepath.Join(filepath.Dir(target), "."+filepath.Base(target)+tmpInfix)
}

// createTemp creates a locked temporary file beside target, with target's
// mode if it exists, after removing target's stale temporary files.
func createTemp(target string) (*os.File, error) {
	dir := filepath.Dir(target)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, err
	}
	removeStale(target)
	prefix := tempPrefix(target)
	var b [6]byte
	for range 100 {
		rand.Read(b[:])
		f, err := os.OpenFile(prefix+hex.EncodeToString(b[:]), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := lock(f, true); err != nil {
			f.Close()
			os.Remove(f.Name())
			return nil, err
		}
		if fi, err := os.Stat(target); err == nil {
			f.Chmod(fi.Mode().Perm())
		}
		return f, nil
	}
	return nil, fmt.Errorf("%s: no free temporary name", target)
}

// TryLock takes an exclusive lock on the open file or directory f, which
// the kernel drops when the process ends, however it ends, or fails at
// once if another open file holds it. Where locks are not supported the
// error wraps [errors.ErrUnsupported].
func TryLock(f *os.File) error { return lock(f, false) }

// removeStale removes target's temporary files that no live process holds:
// those of a run that was killed before it could clean up.
func removeStale(target string) {
	prefix := tempPrefix(target)
	names, _ := filepath.Glob(globEscape(prefix) + "*")
	for _, n := range names {
		if !strings.HasPrefix(n, prefix) {
			continue
		}
		f, err := os.OpenFile(n, os.O_RDONLY|noFollow, 0)
		if err != nil {
			continue
		}
		if TryLock(f) == nil {
			os.Remove(n)
		}
		f.Close()
	}
}

// globEscape quotes the metacharacters of filepath.Match in s.
func globEscape(s string) string {
	var sb strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			sb.WriteByte('\\')
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

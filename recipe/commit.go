package recipe

import (
	"io"
	"sync"

	"github.com/siftdata/sift/dataset"
)

// StageFile is a file a stage writes besides the run's output, such as a
// saved index: written, then committed by Close or discarded by Abort.
type StageFile interface {
	io.Writer
	Close() error
	Abort()
}

// commits holds the stage files of a run that are written in full but not
// yet in place: [Run] renames them with its other outputs at the end of a
// successful run, and removes them if the run fails or is cancelled.
type commits struct {
	mu    sync.Mutex
	files []*dataset.File
}

// Create opens path for a stage's file as [dataset.CreateFile] does. In a
// run of [Run], its Close only writes the file in full (and syncs it):
// the run puts it in place together with its output, rejects and report,
// or removes it if the run fails or is cancelled (a file on a device or
// FIFO is written in place as it goes, as every output is). Outside a run
// (an Env built by a caller), Close puts it in place at once.
func (e Env) Create(path string) (StageFile, error) {
	f, err := dataset.CreateFile(path)
	if err != nil || e.commits == nil {
		return f, err
	}
	return &deferredFile{File: f, c: e.commits}, nil
}

// deferredFile is a stage file whose commit waits for the end of the run.
type deferredFile struct {
	*dataset.File
	c *commits
}

func (f *deferredFile) Close() error {
	if err := f.Finish(); err != nil {
		f.File.Abort()
		return err
	}
	f.c.mu.Lock()
	f.c.files = append(f.c.files, f.File)
	f.c.mu.Unlock()
	return nil
}

// commit puts every finished stage file in place; abort removes them.
// Each runs once.
func (c *commits) commit() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var first error
	for _, f := range c.files {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	c.files = nil
	return first
}

func (c *commits) abort() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range c.files {
		f.Abort()
	}
	c.files = nil
}

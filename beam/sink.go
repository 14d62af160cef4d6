package siftbeam

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/dataset"
	"github.com/siftdata/sift/dedup"
	"github.com/siftdata/sift/recipe"
)

// ShardPath returns the path of shard i of n of output path:
// "out.jsonl.gz" becomes "out-00001-of-00004.jsonl.gz".
func ShardPath(path string, i, n int) string {
	dir, base := filepath.Split(path)
	stem, ext := base, ""
	for _, c := range []string{".gz", ".zst", ""} {
		s := strings.TrimSuffix(base, c)
		if e := filepath.Ext(s); e != "" && (c == "" || s != base) {
			stem, ext = strings.TrimSuffix(s, e), e+c
			break
		}
	}
	return filepath.Join(dir, fmt.Sprintf("%s-%05d-of-%05d%s", stem, i, n, ext))
}

// shardOf spreads batch keys over n shards.
func shardOf(key int64, n int) int {
	h := fnv.New32a()
	var b [8]byte
	for i := range b {
		b[i] = byte(key >> (8 * i))
	}
	h.Write(b[:])
	return int(h.Sum32() % uint32(n))
}

type shardPartFn struct{ N int }

func (f *shardPartFn) ProcessElement(p Stored) (int, Stored) { return shardOf(p.Key, f.N), p }

type shardRejFn struct{ N int }

func (f *shardRejFn) ProcessElement(r StoredRej) (int, StoredRej) { return shardOf(r.Key, f.N), r }

func shardKey(i int) (int, bool) { return i, true }

// stored reads what the passes left in scratch files, each file opened
// once and read a window at a time: the writers read in input order, so
// mostly forward through each file, and a read per reject line was most
// of writing the rejects.
type stored map[string]*window

// window is an open scratch file and the bytes of it last read, from at.
type window struct {
	f  *os.File
	at int64
	b  []byte
}

// windowBytes is how much of a scratch file is read at once, at least.
const windowBytes = 1 << 20

// read returns n bytes at off of file name, which the caller may keep
// (windows are not reused); a relative name is in the scratch directory
// dir (see [scratchFile.put]).
func (s stored) read(dir, name string, off, n int64) ([]byte, error) {
	path := name
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	w := s[name]
	if w == nil {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		w = &window{f: f}
		s[name] = w
	}
	if off < w.at || off+n > w.at+int64(len(w.b)) {
		b := make([]byte, max(n, windowBytes))
		m, err := w.f.ReadAt(b, off)
		if int64(m) < n {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		w.at, w.b = off, b[:m]
	}
	return w.b[off-w.at : off-w.at+n : off-w.at+n], nil
}

func (s stored) close() {
	for _, w := range s {
		w.f.Close()
	}
}

// writing counts the writers of this process that are between their
// check of the job's scratch directory and their last file operation. A
// runner may still run a bundle after it has reported the job failed; [Run]
// removes the scratch directory, waits for writing to reach zero and only
// then removes the outputs, so that no shard of a failed job stays behind.
var writing atomic.Int64

// startWriting counts a writer in, or fails if the job's scratch
// directory (empty for none) is gone: the job has ended.
func startWriting(scratch string) error {
	writing.Add(1)
	if scratch == "" {
		return nil
	}
	if _, err := os.Stat(scratch); err != nil {
		writing.Add(-1)
		return fmt.Errorf("the job has ended: %w", err)
	}
	return nil
}

// waitWriters waits until no writer of this process is writing, for at
// most d.
func waitWriters(d time.Duration) {
	for end := time.Now().Add(d); writing.Load() > 0 && time.Now().Before(end); {
		time.Sleep(5 * time.Millisecond)
	}
}

// writeFn writes one output shard, its batches in input order. An empty
// shard is still written, so that the output always has N files.
type writeFn struct {
	Ref     Ref
	Path    string
	Shard   int
	N       int
	Format  string
	Lines   bool   // the batches are stored as their JSON lines ([passFn])
	Scratch string // the job's scratch directory: no file is made once it is gone
}

func (f *writeFn) ProcessElement(ctx context.Context, shard int, _ func(*bool) bool, parts func(*Stored) bool, tal func(Tally)) (err error) {
	if err := startWriting(f.Scratch); err != nil {
		return err
	}
	defer writing.Add(-1)
	mem := memory.DefaultAllocator
	var ps []Stored
	var p Stored
	for parts(&p) {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b Stored) int { return cmp.Compare(a.Key, b.Key) })
	files := stored{}
	defer files.close()
	var opts []dataset.WriteOption
	if f.Format != "" {
		of, err := recipe.Format(f.Format)
		if err != nil {
			return err
		}
		opts = append(opts, dataset.WithEncoder(of.Encode))
	}
	path := ShardPath(f.Path, shard, f.N)
	w, err := dataset.Create(mem, path, opts...)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			w.Abort()
		}
	}()
	t := newTally(f.Ref.Slots)
	err = func() error {
		for _, p := range ps {
			// A slice nothing writes to: the decoded batch's buffers point into it.
			b, err := files.read(f.Scratch, p.Path, p.Off, p.Len)
			if err != nil {
				return err
			}
			if f.Lines {
				t.Written += p.Rows
				if err := w.WriteLines(b); err != nil {
					return err
				}
				continue
			}
			rec, err := decode(mem, b)
			if err != nil {
				return err
			}
			t.Written += rec.NumRows()
			err = w.Write(ctx, rec)
			rec.Release()
			if err != nil {
				return err
			}
		}
		return nil
	}()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err = w.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	tal(t)
	return nil
}

// writeRejFn writes one rejects shard, ordered as sift run orders its
// rejects: by step, then by input.
type writeRejFn struct {
	Path    string
	N       int
	Scratch string // as writeFn's
}

func (f *writeRejFn) ProcessElement(shard int, _ func(*bool) bool, lines func(*StoredRej) bool, tal func(Tally)) (err error) {
	if err := startWriting(f.Scratch); err != nil {
		return err
	}
	defer writing.Add(-1)
	var rs []StoredRej
	var r StoredRej
	for lines(&r) {
		rs = append(rs, r)
	}
	slices.SortFunc(rs, func(a, b StoredRej) int {
		return cmp.Or(cmp.Compare(a.Step, b.Step), cmp.Compare(a.Key, b.Key), cmp.Compare(a.N, b.N))
	})
	files := stored{}
	defer files.close()
	path := ShardPath(f.Path, shard, f.N)
	out, err := dataset.CreateFile(path)
	if err != nil {
		return err
	}
	var buf []byte
	err = func() error {
		for _, r := range rs {
			n := int64(0)
			for _, l := range r.Lens {
				if l < 0 {
					return fmt.Errorf("siftbeam: a reject line of %d bytes", l)
				}
				n += int64(l)
			}
			b, err := files.read(f.Scratch, r.Path, r.Off, n)
			if err != nil {
				return err
			}
			buf = buf[:0]
			for _, l := range r.Lens {
				buf = append(append(buf, b[:l]...), '\n')
				b = b[l:]
			}
			if _, err := out.Write(buf); err != nil {
				return err
			}
		}
		return nil
	}()
	if err != nil {
		out.Abort()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	tal(Tally{}) // the report waits for the rejects
	return nil
}

// reportFn turns the run's tally into sift run's report, checks that no
// row was lost, and writes the report.
type reportFn struct {
	Ref     Ref
	Names   []string
	Path    string
	Output  string
	Rejects string
	Workers int
	Batch   int
	Started time.Time
}

func (f *reportFn) ProcessElement(t Tally) error {
	r, err := f.Ref.parse()
	if err != nil {
		return err
	}
	st := StatsOf(t, f.Names)
	st.WallSeconds = time.Since(f.Started).Seconds()
	rep := &recipe.Report{Recipe: r, Inputs: f.Ref.Inputs, Output: f.Output, Rejects: f.Rejects, Workers: f.Workers,
		Batch: f.Batch, Started: f.Started, Versions: versions(), Stats: st}
	lost := Conserved(st, t.Written)
	if lost != nil {
		rep.Error = lost.Error()
	}
	if err := WriteReport(f.Path, rep); err != nil {
		return err
	}
	return lost
}

// StatsOf turns a tally into run statistics with the given step names
// (the first being the reader's).
func StatsOf(t Tally, names []string) *sift.Stats {
	st := &sift.Stats{Stages: make([]sift.StageStats, len(names))}
	for i, n := range names {
		s := sift.StageStats{Name: n, Workers: 1}
		if i < len(t.Steps) {
			x := t.Steps[i]
			s.RowsIn, s.RowsAdded, s.RowsOut, s.RowsRejected, s.BytesIn, s.BytesOut = x.RowsIn, x.RowsAdded, x.RowsOut, x.RowsRejected, x.BytesIn, x.BytesOut
			s.Rejected, s.Counters = x.Rejected, x.Counters
			if c := x.Clusters; c != nil {
				// The stage's own report, but for the index's memory,
				// which no one worker holds.
				r := dedup.Report{Kept: x.RowsOut, Duplicates: x.RowsRejected, Clusters: c.N, LargestCluster: c.Largest}
				if c.Largest > 0 {
					r.LargestKeeper = c.Keeper.ID
				}
				s.Report = r
			}
			if x.Report != nil {
				s.Report = x.Report
			}
		}
		st.Stages[i] = s
		st.RowsAdded += s.RowsAdded
		st.RowsRejected += s.RowsRejected
	}
	st.RowsIn, st.BytesIn = st.Stages[0].RowsIn, st.Stages[0].BytesOut
	last := st.Stages[len(st.Stages)-1]
	st.RowsOut, st.BytesOut = last.RowsOut, last.BytesOut
	return st
}

// Conserved checks that no rows were lost in any step, that each step saw
// what the one before passed on, and that the output holds what the last
// step passed on (written rows).
func Conserved(st *sift.Stats, written int64) error {
	var errs []error
	for i, s := range st.Stages {
		if s.RowsIn+s.RowsAdded != s.RowsOut+s.RowsRejected {
			errs = append(errs, fmt.Errorf("stage %s: %d in + %d added != %d out + %d rejected", s.Name, s.RowsIn, s.RowsAdded, s.RowsOut, s.RowsRejected))
		}
		if i > 0 && s.RowsIn != st.Stages[i-1].RowsOut {
			errs = append(errs, fmt.Errorf("stage %s: %d rows in, %d passed on by %s", s.Name, s.RowsIn, st.Stages[i-1].RowsOut, st.Stages[i-1].Name))
		}
	}
	if written != st.RowsOut {
		errs = append(errs, fmt.Errorf("output: %d rows written, %d passed on", written, st.RowsOut))
	}
	if st.RowsIn+st.RowsAdded != st.RowsOut+st.RowsRejected {
		errs = append(errs, fmt.Errorf("run: %d in + %d added != %d out + %d rejected", st.RowsIn, st.RowsAdded, st.RowsOut, st.RowsRejected))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", sift.ErrLost, errors.Join(errs...))
	}
	return nil
}

// WriteReport writes rep as indented JSON to path, atomically.
func WriteReport(path string, rep *recipe.Report) error {
	f, err := dataset.CreateFile(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		f.Abort()
		return err
	}
	return f.Close()
}

package sift

import (
	"encoding/json"
	"time"
)

// Stats describes a run: totals and one entry per step, the first being the
// source ("read").
type Stats struct {
	RowsIn       int64   `json:"rows_in"`
	RowsAdded    int64   `json:"rows_added"`
	RowsOut      int64   `json:"rows_out"`
	RowsRejected int64   `json:"rows_rejected"`
	BytesIn      int64   `json:"bytes_in"`
	BytesOut     int64   `json:"bytes_out"`
	WallSeconds  float64 `json:"wall_seconds"`
	// WriteCPU is the CPU time spent in the sink's Write calls. Work a sink
	// does on goroutines of its own is not in it: dataset.Writer.CPU gives
	// its encoding, which recipe runs add.
	WriteCPU time.Duration `json:"-"`
	Stages   []StageStats  `json:"stages"`
}

// MarshalJSON adds the write CPU time in seconds.
func (st Stats) MarshalJSON() ([]byte, error) {
	type plain Stats
	return json.Marshal(struct {
		plain
		WriteCPUSeconds float64 `json:"write_cpu_seconds"`
	}{plain(st), st.WriteCPU.Seconds()})
}

// StageStats describes one step of a run. Bytes count the UTF-8 text and
// message contents of the rows.
type StageStats struct {
	Name         string           `json:"name"`
	Workers      int              `json:"workers"`
	RowsIn       int64            `json:"rows_in"`
	RowsAdded    int64            `json:"rows_added"`
	RowsOut      int64            `json:"rows_out"`
	RowsRejected int64            `json:"rows_rejected"`
	Rejected     map[string]int64 `json:"rejected_by_reason,omitempty"`
	BytesIn      int64            `json:"bytes_in"`
	BytesOut     int64            `json:"bytes_out"`
	// Busy is the wall time the stage's workers spent in the stage, waiting
	// included (for example for a lock, or for CPU on a loaded machine).
	Busy time.Duration `json:"-"`
	// CPU is the CPU time (user + system) of the threads running the stage:
	// its cost without the waiting. The first calls and one in eight after
	// them are timed on the thread's CPU clock, the others charged at the
	// CPU time per byte of the timed call before them (see timed). It is 0
	// where threads' CPU clocks cannot be read (only Linux is supported).
	CPU      time.Duration    `json:"-"`
	Counters map[string]int64 `json:"counters,omitempty"`
	Report   any              `json:"report,omitempty"`
}

// MarshalJSON adds the busy and CPU times in seconds.
func (s StageStats) MarshalJSON() ([]byte, error) {
	type plain StageStats
	return json.Marshal(struct {
		plain
		BusySeconds float64 `json:"busy_seconds"`
		CPUSeconds  float64 `json:"cpu_seconds"`
	}{plain(s), s.Busy.Seconds(), s.CPU.Seconds()})
}

func (s *StageStats) addReject(r *Reject) {
	s.RowsRejected++
	if s.Rejected == nil {
		s.Rejected = map[string]int64{}
	}
	s.Rejected[r.Reason]++
}

func (st *Stats) total() {
	st.RowsIn = st.Stages[0].RowsIn
	st.BytesIn = st.Stages[0].BytesOut
	st.RowsAdded, st.RowsRejected = 0, 0
	for _, s := range st.Stages {
		st.RowsAdded += s.RowsAdded
		st.RowsRejected += s.RowsRejected
	}
}

// Progress is a snapshot of a running pipeline.
type Progress struct {
	RowsIn  int64 // rows read
	RowsOut int64 // rows written
	BytesIn int64 // text bytes read
	Elapsed time.Duration
	// InputDone and InputSize are the bytes of the input read so far and
	// in all, when the source knows them (it implements [Sized]); InputSize
	// is 0 when unknown.
	InputDone, InputSize int64
	// Stages are the counts of each step so far, in run order, the source
	// ([ReadStage]) first. The slice is the observer's to keep.
	Stages []StageProgress
}

// StageProgress is one step's part of a [Progress].
type StageProgress struct {
	Name                                     string
	RowsIn, RowsAdded, RowsOut, RowsRejected int64
	// Busy is the time the step's workers have spent in it, summed over
	// workers (see [StageStats]).
	Busy    time.Duration
	Workers int
}

// Sized is implemented by sources that know how much of their input they
// have read, in bytes (for example of the input files on disk): done so
// far and total, 0 when unknown. The pipeline calls it from the goroutine
// calling Next, after each call.
type Sized interface {
	InputProgress() (done, total int64)
}

// Observer is told of a pipeline's progress: after every batch read and
// every batch written. Observe is called from one goroutine at a time and
// should return quickly.
type Observer interface {
	Observe(Progress)
}

// ObserverFunc adapts a function to an [Observer].
type ObserverFunc func(Progress)

// Observe calls f(p).
func (f ObserverFunc) Observe(p Progress) { f(p) }

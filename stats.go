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
	// WriteCPU is the CPU time spent writing the output (in the sink).
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
	// CPU is the CPU time (user + system) of the threads running the stage,
	// measured per call (see cpuMeter): its cost without the waiting. It is
	// 0 where threads' CPU clocks cannot be read (only Linux is supported).
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
	RowsIn  int64
	RowsOut int64
	BytesIn int64
	Elapsed time.Duration
}

// Observer is told of a pipeline's progress. Observe is called from one
// goroutine at a time and should return quickly.
type Observer interface {
	Observe(Progress)
}

// ObserverFunc adapts a function to an [Observer].
type ObserverFunc func(Progress)

// Observe calls f(p).
func (f ObserverFunc) Observe(p Progress) { f(p) }

package siftbeam

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// bundle runs the work of a bundle's elements on several goroutines, and
// hands what each emits to the DoFn's emitters on the goroutine the SDK
// calls, in element order.
//
// Why: a runner hands a DoFn one bundle at a time, and prism puts all of
// a stage's pending elements (a pass's input splits, a dedup step's key
// groups) in one bundle, so without this a pass used one core however
// many the worker has. A DoFn that uses bundle starts each element's work
// with [bundle.start] from ProcessElement, after taking everything it
// needs from the element's iterators (they are only valid during the
// call), and calls [bundle.finish] from FinishBundle, which must declare
// the emitters ProcessElement does: the SDK calls both with the same
// emitters, which a job's output closures call.
//
// A bundle is not safe for use from several goroutines; the SDK calls
// ProcessElement and FinishBundle of one DoFn instance on one at a time.
type bundle struct {
	q []*job
}

// job is one element's work: what it emits, as closures to call in
// order on the SDK's goroutine, and its error.
type job struct {
	done chan struct{}
	out  []func()
	err  error
}

// cores bounds the jobs running at once in the process, over every
// bundle and DoFn: a worker runs several bundles at once on some runners.
var cores = make(chan struct{}, runtime.GOMAXPROCS(0))

// queued bounds a bundle's jobs started and not yet handed on (so what
// they hold in memory): more than cores, so that a long job at the head
// of the queue does not leave cores idle while the jobs after it are done
// (dedup benchmark on prism: 1.51 s wall with as many as cores, 1.46 with
// twice, 1.33 with four times as many; peak RSS 380, 455, 515 MB).
var queued = 4 * cap(cores)

// start runs work on a goroutine of its own. Work calls emit with a
// closure for each output, which is called later on the caller's
// goroutine, after the outputs of the jobs started before. Start first
// hands on the outputs of the jobs at the head of the queue that are
// done, waiting for the oldest while [queued] jobs are. It returns the
// first error of a job handed on; then every job has ended.
func (p *bundle) start(work func(emit func(func())) error) error {
	for len(p.q) >= queued {
		if err := p.next(); err != nil {
			return err
		}
	}
	j := &job{done: make(chan struct{})}
	p.q = append(p.q, j)
	go func() {
		defer close(j.done)
		cores <- struct{}{}
		defer func() { <-cores }()
		defer func() {
			if e := recover(); e != nil {
				j.err = fmt.Errorf("siftbeam: panic: %v\n%s", e, debug.Stack())
			}
		}()
		j.err = work(func(f func()) { j.out = append(j.out, f) })
	}()
	for len(p.q) > 0 {
		select {
		case <-p.q[0].done:
			if err := p.next(); err != nil {
				return err
			}
		default:
			return nil
		}
	}
	return nil
}

// finish waits for every job and hands on their outputs in order. It
// returns the first error; every job has ended then.
func (p *bundle) finish() error {
	for len(p.q) > 0 {
		if err := p.next(); err != nil {
			return err
		}
	}
	return nil
}

// next waits for the oldest job and hands on its outputs. On its error it
// waits for the others, drops what they emitted, and returns the error.
func (p *bundle) next() error {
	j := p.q[0]
	<-j.done
	p.q = p.q[1:]
	if j.err != nil {
		for _, o := range p.q {
			<-o.done
		}
		p.q = nil
		return j.err
	}
	for _, f := range j.out {
		f()
	}
	return nil
}

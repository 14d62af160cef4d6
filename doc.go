// Package sift is the stream engine of the sift data-cleaning toolkit.
//
// Data flows as Apache Arrow record batches from a [Source] through a chain
// of [Stage]s into a [Sink]. Every batch has the unified record columns of
// [Schema] (id, text, messages, source, meta) first, and stages may append
// columns of their own (for example a perplexity score).
//
// A stage sees one [Batch] at a time. It returns the rows it keeps, may
// rewrite columns or add rows, and drops rows only through [Batch.Reject],
// which sends them, with a reason, to the run's rejects output. The
// [Pipeline] checks that nothing is lost: for every stage and for the run,
// rows in + rows added = rows out + rows rejected.
//
// The pipeline runs stateless stages on several workers and keeps input
// order, so the output is byte-identical for any worker count and batch
// size.
//
// # Ownership
//
// Arrow memory is reference counted. Unless a doc comment says otherwise, a
// batch passed into a function is borrowed: the callee must not Release it,
// and must Retain it to keep it past the call. A batch returned from a
// function is owned by the caller, who must Release it.
//
// # Errors
//
// Constructors return configuration errors naming the offending field. A bad
// row is never an error: it becomes a reject and the stream goes on. An error
// returned from a stage stops the whole run. Programmer misuse (for example
// rejecting a row index out of range) panics.
package sift

// Package siftbeam runs sift recipes as Apache Beam pipelines, on the
// in-process prism runner or on a cluster (Flink, Spark, Dataflow) through
// Beam's portable runners.
//
// It reuses the core's code: the recipe is parsed by package recipe and
// every step is built from the same registry entry ([recipe.Def]) inside
// the DoFn that runs it, from the recipe text and the step's index carried
// by the DoFn. Elements are batches of rows, Arrow record batches encoded
// as Arrow IPC streams, keyed by (input file, batch number) so that every
// row has a stable global order key: (file, batch, position in batch).
//
// Steps are run as follows:
//
//   - Row-local stages (normalize, length_filter, pii_redact,
//     augment_synonyms, perplexity with select: annotate, output_format
//     checks and custom stateless stages) are one ParDo over batches; runs
//     of consecutive row-local steps share the ParDo, so a batch is encoded
//     once per run, not once per step.
//   - exact_dedup groups rows by the 128-bit hash of their normalized text
//     and keeps the row with the smallest order key; the others are
//     rejected naming it (duplicate_of), exactly as in a local run.
//   - simhash_dedup emits each row's band keys (its bucket in every band,
//     and the probed neighbour buckets), groups by key, verifies the
//     candidates met in a bucket with the stage's own test (band tag
//     distance and sketch Jaccard similarity) and drops a row when a
//     verified near-duplicate has a smaller order key. See [Options] for
//     the bound on memory per bucket.
//
// Stages that keep state across batches in other ways (perplexity with
// percentile selection, pii_redact with an audit file) are refused by
// [Plan] with an error naming the step.
//
// Statistics are a Beam combine of per-batch tallies; the report, with
// the same JSON as sift run's, is written by the pipeline once every batch
// is counted, and the run fails if rows were lost (rows in + added !=
// out + rejected) in any step or in total.
//
// Paths must be on a file system every worker sees (local for prism, a
// shared mount on a cluster).
package siftbeam

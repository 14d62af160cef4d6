// Package siftbeam runs sift recipes as Apache Beam pipelines, on the
// in-process prism runner or on a cluster (Flink, Spark, Dataflow) through
// Beam's portable runners.
//
// It reuses the core's code: the recipe is parsed by package recipe and
// every step is built from the same registry entry ([recipe.Def]) inside
// the DoFn that runs it, from the recipe text and the step's index carried
// by the DoFn. Rows are read in batches, Arrow record batches keyed by
// (input file, split, batch number) so that every row has a stable global
// order key: (file, split, batch, position in batch); batches stay in the
// worker and in scratch files (uncompressed Arrow IPC streams), and only
// the dedup steps' keys and decisions cross the runner. Large files are read in splits by several
// workers ([Options.SplitBytes]: uncompressed JSONL by byte range, Parquet
// by row groups; see [github.com/siftdata/sift/dataset.Split]); the splits
// are what spreads the work, a split's batches stay on its worker.
//
// Rows are never shuffled to apply a decision: every step that needs the
// whole input (a dedup step's keys, a percentile step's scores) is a pass
// over the input that runs the steps before it again (cheaper than moving
// the batches through the runner), with the decisions of the dedup and
// percentile steps before it grouped with each split. The first pass reads
// the splits and runs the row-local steps before the first such step once,
// leaving the batches they leave in files of a scratch directory that the
// passes after it read instead of the input. The last pass runs every step
// and its batches go to the output writers. Steps are run as follows:
//
//   - Row-local stages (normalize, length_filter, pii_redact,
//     augment_synonyms, perplexity with select: annotate, output_format
//     checks and custom stateless stages) run in the first pass when they
//     come before every dedup and percentile step, and otherwise in every
//     pass that reaches them, with no element between steps.
//   - exact_dedup sends each row's 128-bit hash of its normalized text,
//     as compact arrays, one element per batch and range of hashes; per
//     range the row with the smallest order key of each hash is kept and
//     the others rejected naming it (duplicate_of), exactly as in a local
//     run. The drops go to the batch's split as one element per batch.
//   - simhash_dedup sends each row's band keys (its own bucket in every
//     band, and the buckets a query of the stage probes) with its sketch,
//     one element per batch, band and range of buckets; per range each
//     row's candidates, the rows before it indexed in a bucket it owns or
//     probes (as the stage's index finds them), are verified with the
//     stage's own test
//     (band tag distance and sketch Jaccard similarity, and for pairs the
//     sketch leaves borderline the feature sets, as the stage checks
//     them), and a row is dropped when a verified near-duplicate has a
//     smaller order key. A borderline pair first goes to its earlier
//     row's split, where a pass writes that row's feature set once to a
//     scratch file and sends the pair on naming where it is. [Options]
//     bounds the memory a group of buckets takes in a worker (MaxGroup,
//     MaxBucket).
//   - perplexity selecting by percentiles (band, top, bucket cuts) scores
//     every row in its pass and merges t-digests across workers; the
//     values of its percentiles go to every split, and the passes after
//     it select with them.
//
// Stages that keep state across batches in other ways (pii_redact with an
// audit file, simhash_dedup with a reference index) and perplexity
// trained on the run's input are refused by [Plan] with an error naming
// the step.
//
// Statistics are a Beam combine of per-batch tallies; the report, with
// the same JSON as sift run's, is written by the pipeline once every batch
// is counted, and the run fails if rows were lost (rows in + added !=
// out + rejected) in any step or in total.
//
// Paths must be on a file system every worker sees (local for prism, a
// shared mount on a cluster).
package siftbeam

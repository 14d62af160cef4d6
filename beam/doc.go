// Package siftbeam runs sift recipes as Apache Beam pipelines, on the
// in-process prism runner or on a cluster (Flink, Spark, Dataflow) through
// Beam's portable runners.
//
// It reuses the core's code: the recipe is parsed by package recipe and
// every step is built from the same registry entry ([recipe.Def]) inside
// the DoFn that runs it, from the recipe text and the step's index carried
// by the DoFn. Elements are batches of rows, Arrow record batches encoded
// as LZ4-compressed Arrow IPC streams, keyed by (input file, split, batch
// number) so that every row has a stable global order key: (file, split,
// batch, position in batch). Large files are read in splits by several
// workers ([Options.SplitBytes]: uncompressed JSONL by byte range, Parquet
// by row groups; see [github.com/siftdata/sift/dataset.Split]); the splits
// are what spreads the work, a split's batches stay on its worker.
//
// Steps are run as follows:
//
//   - Row-local stages (normalize, length_filter, pii_redact,
//     augment_synonyms, perplexity with select: annotate, output_format
//     checks and custom stateless stages) are one ParDo over batches; runs
//     of consecutive row-local steps share the ParDo, so a batch is encoded
//     once per run, not once per step.
//   - exact_dedup sends each row's 128-bit hash of its normalized text,
//     as compact arrays, one element per batch and range of hashes; per
//     range the row with the smallest order key of each hash is kept and
//     the others rejected naming it (duplicate_of), exactly as in a local
//     run.
//   - simhash_dedup sends each row's band keys (its own bucket in every
//     band, and the buckets a query of the stage probes) with its sketch,
//     one element per batch, band and range of buckets; per range the
//     candidates met in a bucket are verified with the stage's own test
//     (band tag distance and sketch Jaccard similarity, and for pairs the
//     sketch leaves borderline the feature sets, as the stage checks
//     them), and a row is dropped when a verified near-duplicate has a
//     smaller order key. [Options] bounds the memory a group of buckets
//     takes in a worker (MaxGroup, MaxBucket).
//   - perplexity selecting by percentiles (band, top, bucket cuts) scores
//     every row in a first pass and merges t-digests across workers; the
//     second pass selects with thresholds at the merged digest's
//     percentiles, a side input.
//
// Each dedup step's decisions go back to their batches with a
// CoGroupByKey on the batch key; simhash_dedup first has a borderline
// pair's earlier row's batch add that row's feature set, with another.
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

// Package recipe builds and runs sift pipelines from YAML recipes.
//
// A recipe names the input, the outputs and a list of stages, each built by
// name from the registry (see [Register]) out of a typed spec:
//
//	input: data/*.jsonl.zst
//	output: out/clean.parquet
//	rejects: out/rejects.jsonl
//	report: out/report.json
//	workers: 0          # 0 = all cores
//	batch_size: 1024
//	stages:
//	  - length_filter: {unit: words, min: 50, max: 1024}
//
// Step packages register their stages in init functions; import them (the
// sift command imports them all) to make them available.
//
// [Inspect] profiles a dataset without a recipe (what `sift inspect`
// prints): it reads the files through stage normalize and reports formats,
// record shapes, length and script mix, an exact-duplicate estimate and a
// breakdown by source, optionally as the same HTML report a run writes.
package recipe

// Package annotate closes the loop after cleaning: it samples rows for
// human annotation on a rubric, hands them to Label Studio, brings the
// labels back, measures how well the annotators agree, and filters rows by
// their scores.
//
// A [Rubric] is a list of dimensions, each ordinal (the default), nominal,
// interval or ratio; [DefaultRubric] is the method's three-level scale
// (grammar 0–1, accuracy 0–3, completion 0–5). [Export] writes a stratified,
// seeded sample as a Label Studio import file, its labeling config and a
// spreadsheet template. [LoadLabels] reads a Label Studio JSON export or
// JSONL/CSV label rows into memory, with file and line in every error.
// [Labels.Agreement] computes Krippendorff's alpha per dimension with the
// metric of its kind, a seeded bootstrap interval, Cohen's kappa per
// annotator pair and each annotator's bias; [Alpha] is the one-call form.
//
// Importing the package registers two stages with the recipe registry:
// "annotations" ([Join]) adds the labels column and the raw labels in meta,
// and reports the agreement; "rubric_filter" ([Filter]) rejects rows below
// the rubric with reason below_rubric.
package annotate

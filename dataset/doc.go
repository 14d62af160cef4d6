// Package dataset reads and writes datasets as streams of unified-record
// batches (see sift.Schema).
//
// Readers take files, globs and directories in JSONL (.jsonl, .json,
// .ndjson, optionally .gz or .zst compressed), Parquet, Arrow IPC (file and
// stream) and CSV. A row that cannot be read (a malformed JSON line or CSV
// record, invalid UTF-8, a wrong field type, a mapped field given twice, an
// over-long line) becomes a reject with the file and line in its detail and
// the raw text as its record, and reading goes on with the next record. A
// file that cannot be read at all (a truncated compressed stream, a corrupt
// Parquet footer, a CSV quote left open at the end) fails with an error
// naming it. A UTF-8 byte-order mark at the start of a text file is skipped.
//
// Writers produce JSONL (optionally .gz/.zst), Parquet (zstd) and Arrow IPC,
// chosen by extension. Every write goes to a temporary file beside the
// target and is renamed into place only by Close: after Abort, or a crash,
// no file is left at the output path.
//
// # Mapping
//
// Input fields id, text, messages and source fill the unified columns; every
// other top-level field is kept verbatim, in order, in the meta column, and
// the JSONL writer splices it back, so JSONL → JSONL with no stages gives
// the same records. The one change is an integer id, which becomes a string.
// messages is mapped only when it already has the unified shape (objects of
// exactly a string role — system, user, assistant or tool — and a string
// content); otherwise it stays in meta for the normalize stage. A row
// without an id gets the stable id "<file>:<line>" (or "<file>:<row>").
package dataset

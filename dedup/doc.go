// Package dedup removes duplicate rows: stage "exact_dedup" drops rows
// whose normalized text hashes (XXH3-128) like an earlier kept row's, and
// stage "simhash_dedup" drops near-duplicates of earlier kept rows by
// SimHash.
//
// Both stages are sequential and streaming: a row is dropped iff it
// duplicates an earlier kept row (or a row of a reference index), so the
// result depends on the input order only, never on batch size or worker
// count. Every drop names its keeper in the reject's duplicate_of.
//
// Features come from package seg: the text is NFKC normalized and case
// folded, punctuation and spacing are ignored, spaced text gives word
// n-grams and Han/Kana runs give character n-grams ([Shingler]), one size
// for the SimHash (default: single words and characters, which stay close
// under edits) and one for a set sketch (default: 3-grams). Feature hashes
// (XXH3 mixing) are summed into a SimHash of up to 256 bits and kept in a 64-byte
// one-permutation MinHash [Sketch] of 128 4-bit bins ([Accumulator]);
// [SimhashBytes] is the bit-identical equivalent of github.com/mfonda/simhash
// for comparison. The [Index] finds candidates in banded bucket tables
// probed with the query's least certain SimHash bits flipped, and verifies
// them by the Jaccard similarity their sketches estimate, or, for pairs
// near the threshold, by their 3-gram sets kept on disk
// ([IndexConfig.Verify]). [Similarity] and [Compute] are the one-call forms.
//
// Importing the package registers both stages with the recipe registry.
package dedup

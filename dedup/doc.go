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
// n-grams and Han/Kana runs give character n-grams ([Shingler]). Feature
// hashes (XXH3) are summed into a SimHash of up to 256 bits
// ([Accumulator]); [SimhashBytes] is the bit-identical equivalent of
// github.com/mfonda/simhash for comparison. The [Index] finds candidates by
// banded tables probed with the query's least certain bits flipped and
// verifies them by Hamming distance over the whole signature.
//
// Importing the package registers both stages with the recipe registry.
package dedup

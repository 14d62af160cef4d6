// Package seg is sift's one definition of a "word".
//
// Every stage that counts, shingles, scores or rewrites words segments text
// through this package, so that a length filter's 50 words, a dedup shingle
// and a perplexity token mean the same thing.
//
// Segmentation follows Unicode UAX #29 word boundaries (via
// github.com/clipperhouse/uax29), with one refinement for unspaced scripts:
// every Han, Hiragana or Katakana character is a word of its own (UAX #29
// joins Katakana runs and leaves Han characters unsegmented at the word
// level). Pure-ASCII text takes a fast path that gives the same result.
package seg

// Package mining implements step 6 of the cleaning method, hard-example
// mining by perplexity: the "perplexity" stage scores every row with an
// n-gram language model (package lm, which matches KenLM) and annotates or
// selects rows by perplexity, as cc_net and data-juicer do.
//
// Percentiles (for band, top and bucket selection) are exact when the
// run's input files can be read twice: a first pass scores the whole input
// ([Population], [WithPopulation]). Otherwise the stage holds back a
// calibration prefix, estimates the percentiles with a t-digest
// (github.com/caio/go-tdigest/v4, which merges and serializes), and
// applies them to the prefix and everything after it. The report says
// which method was used and the thresholds.
package mining

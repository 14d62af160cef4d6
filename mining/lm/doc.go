// Package lm is a pure-Go back-off n-gram language model that reproduces
// KenLM: it reads ARPA files and KenLM binary files (probing, trie and
// quantized trie, mapped read-only), writes ARPA and probing binary files,
// scores text exactly like KenLM's query (float32 arithmetic, <s> as context
// only, </s> scored, unknown words as <unk>), and trains interpolated
// modified Kneser-Ney models exactly like lmplz.
//
// In memory a model uses KenLM's probing layout: hash tables keyed by 64-bit
// n-gram hashes, the same bytes build_binary writes. Scoring does not
// allocate per token. It looks words up a chunk ahead: the buckets of a
// chunk's words and of the n-grams ending at them are read before any word
// is scored, so that their cache misses overlap; loading an ARPA file stores
// its n-grams the same way, through a queue.
package lm

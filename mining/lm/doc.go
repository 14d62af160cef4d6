// Package lm is a pure-Go back-off n-gram language model that reproduces
// KenLM: it reads and writes ARPA files, scores text exactly like KenLM's
// query (float32 arithmetic, <s> as context only, </s> scored, unknown
// words as <unk>), and trains interpolated modified Kneser-Ney models
// exactly like lmplz.
//
// Scoring uses open-addressing hash tables keyed by 64-bit n-gram hashes,
// as KenLM's probing model does, and does not allocate per token.
package lm

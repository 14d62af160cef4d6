package dedup

// Compute returns the fingerprint of text with the default shingle sizes
// and signature width ([DefaultIndex]), for one-off use; a stream of texts
// is faster through one [Shingler] and [Accumulator].
func Compute(text string) *Fingerprint {
	sh, _ := NewShingler(DefaultWordN, DefaultCharN, DefaultSketchWordN, DefaultSketchCharN)
	var a Accumulator
	a.Reset(DefaultIndex.Lanes)
	sh.Add(text, &a)
	fp := new(Fingerprint)
	a.Fingerprint(fp)
	return fp
}

// Similarity returns the Jaccard similarity of the sketch feature sets
// (word 3-grams; character 3-grams in Han/Kana runs, after normalization)
// of a and b: exact up to [DefaultIndex].Verify distinct features each,
// estimated from that many smallest ones beyond. It is the measure
// simhash_dedup's min_similarity bounds. Texts without features have
// similarity 0.
func Similarity(a, b string) float64 {
	k := DefaultIndex.Verify
	return bottomKJaccard(Compute(a).features(k), Compute(b).features(k), k)
}

package lm

// Perplexity returns the perplexity of text under m, for one-off use: each
// line is a sentence tokenized with [Whitespace], as KenLM's query reads a
// file, and the perplexity is over all tokens, unknown words and </s>
// included. Empty lines are skipped; a text without words has perplexity 1.
// For many texts, or another tokenizer, use [Model.ScoreLines] with one
// [Scratch].
func (m *Model) Perplexity(text string) float64 {
	var sc Scratch
	total := m.ScoreLines(Whitespace, text, &sc)
	if total.Tokens == 0 {
		return 1
	}
	return total.Perplexity()
}

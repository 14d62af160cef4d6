package lm

import (
	"bufio"
	"bytes"
	"io"
	"math"
	"strconv"
)

// Query scores every line of r as a sentence and writes KenLM query's
// output to w: when perToken, "word=id order log10" for each token, tab
// separated; then "Total: <log10> OOV: <n>" per line; then the summary
// (perplexity including and excluding OOVs, OOVs, tokens). Unlike KenLM, a
// last line without a newline is scored like any other. It returns the
// corpus result.
func Query(m *Model, tok Tokenizer, r io.Reader, w io.Writer, perToken bool) (Result, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	bw := bufio.NewWriterSize(w, 1<<16)
	var sc Scratch
	var total Result
	var out []byte
	emit := func(t Token) {
		out = append(out, t.Word...)
		out = append(out, '=')
		out = strconv.AppendUint(out, uint64(t.ID), 10)
		out = append(out, ' ')
		out = strconv.AppendInt(out, int64(t.Order), 10)
		out = append(out, ' ')
		out = appendQueryFloat(out, t.Log10)
		out = append(out, '\t')
	}
	var line []byte
	for {
		l, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			line = append(line[:0], l...)
			for err == bufio.ErrBufferFull {
				l, err = br.ReadSlice('\n')
				line = append(line, l...)
			}
			l = line
		}
		if err != nil && err != io.EOF {
			return total, err
		}
		if len(l) == 0 && err == io.EOF {
			break
		}
		out = out[:0]
		toks := tok.Tokens(&sc, string(l))
		var res Result
		if perToken {
			res = m.Sentence(toks, emit)
		} else {
			res = m.Sentence(toks, nil)
		}
		total.Add(res)
		out = append(out, "Total: "...)
		out = appendQueryFloat(out, float32(res.Log10))
		out = append(out, " OOV: "...)
		out = strconv.AppendInt(out, int64(res.OOV), 10)
		out = append(out, '\n')
		if _, werr := bw.Write(out); werr != nil {
			return total, werr
		}
		if err == io.EOF {
			break
		}
	}
	out = append(out[:0], "Perplexity including OOVs:\t"...)
	out = strconv.AppendFloat(out, total.Perplexity(), 'g', -1, 64)
	out = append(out, "\nPerplexity excluding OOVs:\t"...)
	out = strconv.AppendFloat(out, total.PerplexityNoOOV(), 'g', -1, 64)
	out = append(out, "\nOOVs:\t"...)
	out = strconv.AppendInt(out, int64(total.OOV), 10)
	out = append(out, "\nTokens:\t"...)
	out = strconv.AppendInt(out, int64(total.Tokens), 10)
	out = append(out, '\n')
	bw.Write(out)
	return total, bw.Flush()
}

// appendQueryFloat formats f as KenLM's query prints floats (the
// double-conversion library's shortest form): the shortest digits that
// read back to f, in positional notation for decimal exponents from -6 to
// 20 and as "1.5e-7" otherwise.
func appendQueryFloat(b []byte, f float32) []byte {
	if f == 0 || math.IsInf(float64(f), 0) || f != f {
		return appendFloat(b, f)
	}
	e := strconv.AppendFloat(nil, float64(f), 'e', -1, 32)
	if e[0] == '-' {
		b = append(b, '-')
		e = e[1:]
	}
	mant, exps, _ := bytes.Cut(e, []byte{'e'})
	exp, _ := strconv.Atoi(string(exps))
	digits := append([]byte{mant[0]}, bytes.TrimPrefix(mant[1:], []byte{'.'})...)
	switch {
	case exp < -6 || exp >= 21:
		b = append(b, mant...)
		b = append(b, 'e')
		return strconv.AppendInt(b, int64(exp), 10)
	case exp < 0:
		b = append(b, "0."...)
		for range -exp - 1 {
			b = append(b, '0')
		}
		return append(b, digits...)
	case exp+1 >= len(digits):
		b = append(b, digits...)
		for range exp + 1 - len(digits) {
			b = append(b, '0')
		}
		return b
	}
	b = append(b, digits[:exp+1]...)
	b = append(b, '.')
	return append(b, digits[exp+1:]...)
}

package lm

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// ReadARPA reads a model in ARPA format, plain or gzip-compressed. Errors
// about the content wrap [ErrFormat] and name the line. Text before
// \data\ is ignored. A model without <unk> gets it with log10 probability
// -100, as in KenLM.
func ReadARPA(r io.Reader) (*Model, error) { return readARPA(r, false) }

// readARPA reads an ARPA model; keep keeps the n-grams for WriteARPA.
func readARPA(r io.Reader, keep bool) (*Model, error) {
	br, closer, err := gunzipped(r)
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	p := arpaParser{r: br, keep: keep}
	m, err := p.parse()
	if err != nil && p.line > 0 {
		return nil, fmt.Errorf("line %d: %w", p.line, err)
	}
	return m, err
}

type arpaParser struct {
	r    *bufio.Reader
	line int
	text []byte
	// keep asks for the n-grams' ids in m.grams, for WriteARPA.
	keep  bool
	grams [][]uint32
}

// next returns the next non-blank line, trimmed, or io.EOF.
func (p *arpaParser) next() ([]byte, error) {
	for {
		l, err := p.r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			p.text = append(p.text[:0], l...)
			for err == bufio.ErrBufferFull {
				l, err = p.r.ReadSlice('\n')
				p.text = append(p.text, l...)
			}
			l = p.text
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		if len(l) == 0 && err == io.EOF {
			return nil, io.EOF
		}
		p.line++
		// Only ASCII white space: words may end in U+00A0 and the like,
		// which lmplz keeps in tokens.
		if t := bytes.Trim(l, " \t\r\n"); len(t) > 0 {
			return t, nil
		}
		if err == io.EOF {
			return nil, io.EOF
		}
	}
}

func (p *arpaParser) expect() ([]byte, error) {
	l, err := p.next()
	if err == io.EOF {
		return nil, fmt.Errorf("%w: unexpected end of file", ErrFormat)
	}
	return l, err
}

func (p *arpaParser) parse() (*Model, error) {
	for {
		l, err := p.next()
		if err == io.EOF {
			return nil, fmt.Errorf("%w: no \\data\\ section", ErrFormat)
		}
		if err != nil {
			return nil, err
		}
		if string(l) == `\data\` {
			break
		}
	}
	var counts []int
	var l []byte
	var err error
	for {
		if l, err = p.expect(); err != nil {
			return nil, err
		}
		rest, ok := bytes.CutPrefix(l, []byte("ngram "))
		if !ok {
			break
		}
		ns, cs, ok := strings.Cut(string(rest), "=")
		n, err1 := strconv.Atoi(strings.TrimSpace(ns))
		c, err2 := strconv.Atoi(strings.TrimSpace(cs))
		switch {
		case !ok || err1 != nil || err2 != nil || c < 0:
			return nil, fmt.Errorf("%w: bad count line %q", ErrFormat, l)
		case n != len(counts)+1:
			return nil, fmt.Errorf("%w: count for order %d, want order %d", ErrFormat, n, len(counts)+1)
		case n > MaxOrder:
			return nil, fmt.Errorf("%w: order %d above the maximum %d", ErrFormat, n, MaxOrder)
		}
		counts = append(counts, c)
	}
	if len(counts) == 0 || counts[0] == 0 {
		return nil, fmt.Errorf("%w: no unigrams", ErrFormat)
	}
	order := len(counts)
	b := newBuilder(counts)
	if p.keep {
		p.grams = make([][]uint32, order)
	}
	b.word(Unk)
	b.unigram(0, unkDefault, 0)
	sawUnk := false
	var ids, prevIDs [MaxOrder]uint32
	var prev []byte                // the previous n-gram's words, concatenated
	var prevEnds [MaxOrder + 1]int // and where they end
	for n := 1; n <= order; n++ {
		if want := fmt.Sprintf(`\%d-grams:`, n); string(l) != want {
			return nil, fmt.Errorf("%w: got %q, want %q", ErrFormat, l, want)
		}
		var fields [MaxOrder + 2][]byte
		prev, prevEnds = prev[:0], [MaxOrder + 1]int{}
		for i := 0; i < counts[n-1]; i++ {
			if l, err = p.expect(); err != nil {
				return nil, err
			}
			f := splitFields(l, fields[:0])
			if len(f) != n+1 && len(f) != n+2 {
				return nil, fmt.Errorf("%w: %d fields in a %d-gram line", ErrFormat, len(f), n)
			}
			prob, err := parseFloat(f[0])
			if err != nil {
				return nil, err
			}
			if prob > 0 {
				return nil, fmt.Errorf("%w: positive log10 probability %q", ErrFormat, f[0])
			}
			var bo float32
			if len(f) == n+2 {
				if n == order {
					return nil, fmt.Errorf("%w: back-off on a highest-order n-gram", ErrFormat)
				}
				if bo, err = parseFloat(f[n+1]); err != nil {
					return nil, err
				}
			}
			if n == 1 {
				id := uint32(0)
				if string(f[1]) == Unk {
					if sawUnk {
						return nil, fmt.Errorf("%w: duplicate unigram %q", ErrFormat, f[1])
					}
					sawUnk = true
				} else if id, err = b.word(string(f[1])); err != nil {
					return nil, fmt.Errorf("%w: %v", ErrFormat, err)
				}
				b.unigram(id, prob, bo)
				continue
			}
			// lmplz sorts n-grams by their suffix, so most words are the
			// previous line's: reuse their ids rather than hash again.
			for j, w := range f[1 : n+1] {
				if string(w) == string(prev[prevEnds[j]:prevEnds[j+1]]) {
					ids[j] = prevIDs[j]
					continue
				}
				id, ok := b.find(w)
				if !ok {
					return nil, fmt.Errorf("%w: word %q is not a unigram", ErrFormat, w)
				}
				ids[j] = id
			}
			prev = prev[:0]
			for j, w := range f[1 : n+1] {
				prev = append(prev, w...)
				prevEnds[j+1] = len(prev)
				prevIDs[j] = ids[j]
			}
			if !b.add(ids[:n], prob, bo) {
				return nil, fmt.Errorf("%w: duplicate %d-gram %d", ErrFormat, n, i+1)
			}
			if p.keep {
				p.grams[n-1] = append(p.grams[n-1], ids[:n]...)
			}
		}
		if l, err = p.expect(); err != nil {
			return nil, err
		}
	}
	if string(l) != `\end\` {
		return nil, fmt.Errorf("%w: got %q, want \\end\\", ErrFormat, l)
	}
	m := b.model("ARPA")
	if p.keep {
		p.grams[0] = make([]uint32, len(m.vocab))
		for i := range p.grams[0] {
			p.grams[0][i] = uint32(i)
		}
		m.grams = p.grams
	}
	return m, nil
}

func splitFields(l []byte, dst [][]byte) [][]byte {
	start := -1
	for i, c := range l {
		if c == ' ' || c == '\t' {
			if start >= 0 {
				dst = append(dst, l[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		dst = append(dst, l[start:])
	}
	return dst
}

func parseFloat(b []byte) (float32, error) {
	f, err := strconv.ParseFloat(unsafeString(b), 32)
	if err != nil || math.IsNaN(f) || f > 0 && math.IsInf(f, 0) {
		return 0, fmt.Errorf("%w: bad number %q", ErrFormat, b)
	}
	return float32(f), nil
}

// WriteARPA writes a trained model in ARPA format, n-grams in the order
// they were estimated, numbers in the shortest form that reads back to the
// same float32. The highest order has no back-off column. Models read from
// files do not keep their n-grams' words (KenLM's probing layout stores
// only hashes) and return an error.
func (m *Model) WriteARPA(w io.Writer) error {
	if m.grams == nil {
		return fmt.Errorf("lm: WriteARPA: a model read from %s does not keep its n-grams", m.format)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	fmt.Fprintf(bw, "\\data\\\n")
	for i, c := range m.Counts() {
		fmt.Fprintf(bw, "ngram %d=%d\n", i+1, c)
	}
	var buf []byte
	for n := 1; n <= m.order; n++ {
		fmt.Fprintf(bw, "\n\\%d-grams:\n", n)
		g := m.grams[n-1]
		for i := 0; i+n <= len(g); i += n {
			e, _ := m.lookup(g[i : i+n])
			buf = appendFloat(buf[:0], e.prob)
			for j, id := range g[i : i+n] {
				if j == 0 {
					buf = append(buf, '\t')
				} else {
					buf = append(buf, ' ')
				}
				buf = append(buf, m.Word(id)...)
			}
			if n < m.order {
				buf = append(buf, '\t')
				buf = appendFloat(buf, e.backoff)
			}
			buf = append(buf, '\n')
			bw.Write(buf)
		}
	}
	fmt.Fprintf(bw, "\n\\end\\\n")
	return bw.Flush()
}

func appendFloat(b []byte, f float32) []byte {
	if f == 0 {
		return append(b, '0') // never "-0"
	}
	return strconv.AppendFloat(b, float64(f), 'g', -1, 32)
}

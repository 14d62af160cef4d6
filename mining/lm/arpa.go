package lm

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// Load reads an ARPA model from path; gzip-compressed files (.arpa.gz) are
// recognized by their magic bytes.
func Load(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := ReadARPA(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// ReadARPA reads a model in ARPA format, plain or gzip-compressed. Errors
// about the content wrap [ErrFormat] and name the line. Text before
// \data\ is ignored. A model without <unk> gets it with log10 probability
// -100, as in KenLM.
func ReadARPA(r io.Reader) (*Model, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 1<<16)
	}
	p := arpaParser{r: br}
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
		if t := bytes.TrimSpace(l); len(t) > 0 {
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
	vocab := []string{Unk}
	index := map[string]uint32{Unk: 0}
	ids := make([][]uint32, order)
	probs := make([][]float32, order)
	backoffs := make([][]float32, order)
	probs[0], backoffs[0] = []float32{unkDefault}, []float32{0}
	sawUnk := false
	for n := 1; n <= order; n++ {
		if want := fmt.Sprintf(`\%d-grams:`, n); string(l) != want {
			return nil, fmt.Errorf("%w: got %q, want %q", ErrFormat, l, want)
		}
		if n > 1 {
			ids[n-1] = make([]uint32, 0, counts[n-1]*n)
			probs[n-1] = make([]float32, 0, counts[n-1])
			if n < order {
				backoffs[n-1] = make([]float32, 0, counts[n-1])
			}
		}
		var fields [MaxOrder + 2][]byte
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
				w := string(f[1])
				id, seen := index[w]
				if seen && (id != 0 || sawUnk) {
					return nil, fmt.Errorf("%w: duplicate unigram %q", ErrFormat, w)
				}
				if !seen {
					id = uint32(len(vocab))
					index[w] = id
					vocab = append(vocab, w)
					probs[0], backoffs[0] = append(probs[0], 0), append(backoffs[0], 0)
				}
				sawUnk = sawUnk || id == 0
				probs[0][id], backoffs[0][id] = prob, bo
				continue
			}
			for _, w := range f[1 : n+1] {
				id, ok := index[string(w)]
				if !ok {
					return nil, fmt.Errorf("%w: word %q is not a unigram", ErrFormat, w)
				}
				ids[n-1] = append(ids[n-1], id)
			}
			probs[n-1] = append(probs[n-1], prob)
			if n < order {
				backoffs[n-1] = append(backoffs[n-1], bo)
			}
		}
		if l, err = p.expect(); err != nil {
			return nil, err
		}
	}
	ids[0] = make([]uint32, len(vocab))
	for i := range ids[0] {
		ids[0][i] = uint32(i)
	}
	if string(l) != `\end\` {
		return nil, fmt.Errorf("%w: got %q, want \\end\\", ErrFormat, l)
	}
	m, err := build(vocab, ids, probs, backoffs)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	return m, nil
}

func splitFields(l []byte, dst [][]byte) [][]byte {
	for len(l) > 0 {
		i := bytes.IndexAny(l, " \t")
		if i < 0 {
			return append(dst, l)
		}
		if i > 0 {
			dst = append(dst, l[:i])
		}
		l = l[i+1:]
	}
	return dst
}

func parseFloat(b []byte) (float32, error) {
	f, err := strconv.ParseFloat(string(b), 32)
	if err != nil || math.IsNaN(f) || f > 0 && math.IsInf(f, 0) {
		return 0, fmt.Errorf("%w: bad number %q", ErrFormat, b)
	}
	return float32(f), nil
}

// WriteARPA writes m in ARPA format, n-grams in the order they were read or
// estimated, numbers in the shortest form that reads back to the same
// float32. The highest order has no back-off column.
func (m *Model) WriteARPA(w io.Writer) error {
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
				buf = append(buf, m.vocab[id]...)
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

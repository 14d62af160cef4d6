package lm

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"math"
	"strconv"
	"strings"
)

// ReadARPA reads a model in ARPA format, plain or gzip-compressed. Errors
// about the content wrap [ErrFormat] and name the line. Text before
// \data\ is ignored. A model without <unk> gets it with log10 probability
// -100, as in KenLM. Counts in the header that the input cannot hold (when
// r tells its size, as files and in-memory readers do), or whose tables
// would not fit in the machine's memory, are refused before anything is
// sized from them.
func ReadARPA(r io.Reader) (*Model, error) { return readARPA(r, false) }

// readARPA reads an ARPA model; keep keeps the n-grams for WriteARPA.
func readARPA(r io.Reader, keep bool) (*Model, error) {
	size, sized := inputSize(r)
	br, closer, err := gunzipped(r)
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	return readARPAFrom(br, keep, newCountLimit(size, sized, closer))
}

// readARPAFrom reads an ARPA model from br, refusing counts above lim.
func readARPAFrom(br *bufio.Reader, keep bool, lim countLimit) (*Model, error) {
	p := arpaParser{r: br, keep: keep, lim: lim}
	m, err := p.parse()
	if err != nil && p.line > 0 {
		return nil, fmt.Errorf("line %d: %w", p.line, err)
	}
	return m, err
}

// countLimit bounds the n-gram counts an ARPA header may declare. The
// tables are sized from the header before any n-gram is read, so a corrupt
// or hostile header would otherwise allocate whatever it claims, and Go
// cannot recover from running out of memory.
type countLimit struct {
	input  uint64 // the most bytes the text can have, or 0 if unknown
	memory uint64 // the machine's memory, or 0 if unknown
}

// maxDeflateRatio is the most text one byte of deflate data can expand
// to (RFC 1951's longest match, 258 bytes, in under two bits; zlib's
// technical details put the limit at 1032:1).
const maxDeflateRatio = 1032

// newCountLimit is the limit for an input of size bytes, if sized, read
// through closer, which is a *gzip.Reader when the input is compressed.
func newCountLimit(size int64, sized bool, closer io.Closer) countLimit {
	lim := countLimit{memory: physicalMemory()}
	if sized {
		lim.input = uint64(max(size, 1))
		if _, gz := closer.(*gzip.Reader); gz {
			lim.input *= maxDeflateRatio
		}
	}
	return lim
}

// inputSize returns the bytes left in r when r can tell: a regular file,
// or an in-memory reader.
func inputSize(r io.Reader) (int64, bool) {
	switch r := r.(type) {
	case interface{ Len() int }:
		return int64(r.Len()), true
	case interface{ Stat() (fs.FileInfo, error) }:
		if st, err := r.Stat(); err == nil && st.Mode().IsRegular() {
			return st.Size(), true
		}
	}
	return 0, false
}

// check refuses counts that the input cannot hold (an n-gram line of order
// n has at least 2n+2 bytes: a digit, a tab, n one-byte words and their
// separators, a newline) or whose tables would not fit in memory.
func (lim countLimit) check(counts []int) error {
	var text, tables float64
	for i, c := range counts {
		n := float64(i + 1)
		text += float64(c) * (2*n + 2)
		var width float64
		switch {
		case i == 0:
			width = 8 + 16 + 1.5*12 // probabilities, the word, its vocabulary entry
		case i == len(counts)-1:
			width = 1.5 * 12
		default:
			width = 1.5 * 16
		}
		tables += float64(c) * width
	}
	if lim.input > 0 && text > float64(lim.input) {
		return fmt.Errorf("%w: the counts so far declare more n-grams than %d bytes of text can hold", ErrFormat, lim.input)
	}
	if lim.memory > 0 && tables > float64(lim.memory) {
		return fmt.Errorf("%w: the counts so far need %.0f MiB of tables, more than the machine's %d MiB", ErrFormat, tables/(1<<20), lim.memory>>20)
	}
	return nil
}

type arpaParser struct {
	r    *bufio.Reader
	line int
	text []byte
	// keep asks for the n-grams' ids in m.grams, for WriteARPA.
	keep  bool
	grams [][]uint32
	lim   countLimit

	fields   [MaxOrder + 2][]byte
	sawUnk   bool
	ids      [MaxOrder]uint32
	prevIDs  [MaxOrder]uint32
	prev     []byte              // the previous n-gram's words, concatenated
	prevEnds [MaxOrder + 1]int   // and where they end
	lq       [queueSize]lineGram // lines waiting for resolve
	nl       int
	qtext    []byte // the queued lines' words
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
		if t := trimLine(l); len(t) > 0 {
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
		if err := p.lim.check(counts); err != nil {
			return nil, err
		}
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
	for n := 1; n <= order; n++ {
		if want := fmt.Sprintf(`\%d-grams:`, n); string(l) != want {
			return nil, fmt.Errorf("%w: got %q, want %q", ErrFormat, l, want)
		}
		p.prev, p.prevEnds = p.prev[:0], [MaxOrder + 1]int{}
		for i := 0; i < counts[n-1]; i++ {
			if l, err = p.expect(); err == nil {
				err = p.gram(b, n, order, i, l)
			}
			if err != nil {
				return nil, p.flush(b, err)
			}
		}
		if err := p.flush(b, nil); err != nil {
			return nil, err
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

// gram reads line l, the i-th n-gram of order n, into b.
func (p *arpaParser) gram(b *builder, n, order, i int, l []byte) error {
	var err error
	f, prob, bo, ok := fastLine(l, n, &p.fields)
	if ok && prob > 0 || ok && len(f) == n+2 && n == order {
		ok = false // for the error
	}
	if !ok {
		f = splitFields(l, p.fields[:0])
		if len(f) != n+1 && len(f) != n+2 {
			return fmt.Errorf("%w: %d fields in a %d-gram line", ErrFormat, len(f), n)
		}
		if prob, err = parseFloat(f[0]); err != nil {
			return err
		}
		if prob > 0 {
			return fmt.Errorf("%w: positive log10 probability %q", ErrFormat, f[0])
		}
		bo = 0
		if len(f) == n+2 {
			if n == order {
				return fmt.Errorf("%w: back-off on a highest-order n-gram", ErrFormat)
			}
			if bo, err = parseFloat(f[n+1]); err != nil {
				return err
			}
		}
	}
	if n == 1 {
		id := uint32(0)
		if string(f[1]) == Unk {
			if p.sawUnk {
				return fmt.Errorf("%w: duplicate unigram %q", ErrFormat, f[1])
			}
			p.sawUnk = true
		} else if id, err = b.word(string(f[1])); err != nil {
			return fmt.Errorf("%w: %v", ErrFormat, err)
		}
		b.unigram(id, prob, bo)
		return nil
	}
	// lmplz sorts n-grams by their suffix, so most words are the
	// previous line's: reuse their ids rather than hash again. The others
	// are looked up a queue of lines at a time (see resolve).
	g := &p.lq[p.nl]
	g.n, g.prob, g.bo, g.index, g.line, g.same = n, prob, bo, i, p.line, 0
	for j, w := range f[1 : n+1] {
		if string(w) == string(p.prev[p.prevEnds[j]:p.prevEnds[j+1]]) {
			g.same |= 1 << j
		} else {
			g.hash[j] = murmurHash64A(unsafeString(w))
		}
		g.words[j][0] = len(p.qtext)
		p.qtext = append(p.qtext, w...)
		g.words[j][1] = len(p.qtext)
	}
	p.prev = p.prev[:0]
	for j, w := range f[1 : n+1] {
		p.prev = append(p.prev, w...)
		p.prevEnds[j+1] = len(p.prev)
	}
	if p.nl++; p.nl == len(p.lq) {
		return p.resolve(b)
	}
	return nil
}

// lineGram is a line of a higher order waiting in the parser's queue
// for its words' ids.
type lineGram struct {
	n           int
	prob, bo    float32
	index, line int
	same        uint8            // bit j: word j is the line before's
	hash        [MaxOrder]uint64 // the other words' hashes
	words       [MaxOrder][2]int // where the words are in the parser's qtext
	off, first  [MaxOrder]uint64 // their first vocabulary buckets and the keys there
}

// resolve finds the ids of the queued lines' words and queues their
// n-grams in b. It reads the first vocabulary bucket of every word before
// resolving any, so that the cache misses overlap, as builder.flush does
// for the n-gram tables. An unknown word's error comes after the errors of
// the n-grams before it.
func (p *arpaParser) resolve(b *builder) error {
	q := p.lq[:p.nl]
	p.nl = 0
	defer func() { p.qtext = p.qtext[:0] }()
	v := &b.m.words
	t := &v.probe
	for i := range q {
		g := &q[i]
		for j := range g.n {
			if g.same>>j&1 == 0 {
				g.off[j] = t.home(g.hash[j])
				g.first[j] = t.at(g.off[j])
			}
		}
	}
	for i := range q {
		g := &q[i]
		for j := range g.n {
			if g.same>>j&1 != 0 {
				p.ids[j] = p.prevIDs[j]
				continue
			}
			var id uint32
			switch g.first[j] {
			case g.hash[j]:
				id = t.u32(g.off[j] + 8)
			case 0:
			default:
				if off, ok := t.findFrom(g.hash[j], t.next(g.off[j])); ok {
					id = t.u32(off + 8)
				}
			}
			if id >= v.size {
				id = 0
			}
			if w := p.qtext[g.words[j][0]:g.words[j][1]]; id == 0 && string(w) != Unk {
				if d := b.flush(); d != nil {
					p.line = d.line
					return dupErr(d)
				}
				p.line = g.line
				return fmt.Errorf("%w: word %q is not a unigram", ErrFormat, w)
			}
			p.ids[j] = id
		}
		p.prevIDs = p.ids
		if d := b.queue(p.ids[:g.n], g.prob, g.bo, g.index, g.line); d != nil {
			p.line = d.line
			return dupErr(d)
		}
		if p.keep {
			p.grams[g.n-1] = append(p.grams[g.n-1], p.ids[:g.n]...)
		}
	}
	return nil
}

// flush resolves the queued lines, stores b's queued n-grams and returns
// the error of the first unknown word or duplicate, naming its line, or
// else err: a later line's error comes after an earlier line's.
func (p *arpaParser) flush(b *builder, err error) error {
	if e := p.resolve(b); e != nil {
		return e
	}
	if g := b.flush(); g != nil {
		p.line = g.line
		return dupErr(g)
	}
	return err
}

func dupErr(g *gram) error {
	return fmt.Errorf("%w: duplicate %d-gram %d", ErrFormat, g.n, g.index+1)
}

// fastLine reads the common form of an n-gram line of order n: a number
// the scan reads, the n words, an optional back-off number. It returns the
// fields, the numbers and true, or false for anything else, which
// splitFields and parseFloat then read (and report).
func fastLine(l []byte, n int, f *[MaxOrder + 2][]byte) ([][]byte, float32, float32, bool) {
	prob, i, ok := scanDecimal(l, 0)
	if !ok || i == len(l) || !isSep[l[i]] {
		return nil, 0, 0, false
	}
	f[0] = l[:i]
	s := unsafeString(l)
	for w := 1; w <= n; w++ {
		for i < len(l) && isSep[l[i]] {
			i++
		}
		if i == len(l) {
			return nil, 0, 0, false
		}
		j := fieldEnd(s, i, &isSep)
		f[w], i = l[i:j], j
	}
	for i < len(l) && isSep[l[i]] {
		i++
	}
	if i == len(l) {
		return f[:n+1], prob, 0, true
	}
	bo, j, ok := scanDecimal(l, i)
	if !ok || j != len(l) {
		return nil, 0, 0, false
	}
	f[n+1] = l[i:j]
	return f[:n+2], prob, bo, true
}

// trimLine removes ASCII spaces, tabs, CRs and LFs from both ends of l.
func trimLine(l []byte) []byte {
	for len(l) > 0 && isTrim(l[len(l)-1]) {
		l = l[:len(l)-1]
	}
	for len(l) > 0 && isTrim(l[0]) {
		l = l[1:]
	}
	return l
}

func isTrim(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// isSep marks the bytes that separate the fields of an ARPA line.
var isSep = [256]bool{' ': true, '\t': true}

// splitFields appends the fields of l, separated by runs of spaces and
// tabs, to dst.
func splitFields(l []byte, dst [][]byte) [][]byte {
	s := unsafeString(l)
	for i := 0; i < len(s); {
		if isSep[s[i]] {
			i++
			continue
		}
		j := fieldEnd(s, i, &isSep)
		dst = append(dst, l[i:j])
		i = j
	}
	return dst
}

// parseFloat parses an ARPA number as strconv.ParseFloat(b, 32) does, and
// refuses NaN and +Inf.
func parseFloat(b []byte) (float32, error) {
	if f, n, ok := scanDecimal(b, 0); ok && n == len(b) {
		return f, nil
	}
	f, err := strconv.ParseFloat(unsafeString(b), 32)
	if err != nil || math.IsNaN(f) || f > 0 && math.IsInf(f, 0) {
		return 0, fmt.Errorf("%w: bad number %q", ErrFormat, b)
	}
	return float32(f), nil
}

// pow10 holds the powers of ten a float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// scanDecimal is the fast path of parseFloat for the numbers ARPA files
// hold. It reads [-]digits[.digits][e[±]digits] from b[i:] and returns the
// value and where the number ends, or false if it cannot tell the value
// quickly: more than 19 digits, digits of 2⁵³ or more, or a decimal
// exponent beyond ±22. Within those, the digits and the power of ten are
// exact float64s, so one division or multiplication rounds the value
// correctly to float64. Rounding that again to float32 is correct unless
// the float64 lies exactly halfway between two float32s (the true value
// may lie just beside it); then it reports false too, and strconv
// decides.
func scanDecimal(b []byte, i int) (float32, int, bool) {
	neg := i < len(b) && b[i] == '-'
	if neg {
		i++
	}
	start := i
	var mant uint64
	for ; i < len(b); i++ {
		d := b[i] - '0'
		if d > 9 {
			break
		}
		mant = mant*10 + uint64(d)
	}
	digits := i - start
	exp := 0
	if i < len(b) && b[i] == '.' {
		i++
		frac := i
		for ; i < len(b); i++ {
			d := b[i] - '0'
			if d > 9 {
				break
			}
			mant = mant*10 + uint64(d)
		}
		exp = frac - i
		digits += i - frac
	}
	if digits == 0 || digits > 19 || mant >= 1<<53 {
		return 0, 0, false
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		eneg := i < len(b) && b[i] == '-'
		if eneg || i < len(b) && b[i] == '+' {
			i++
		}
		estart := i
		e := 0
		for ; i < len(b) && i-estart < 4; i++ {
			d := b[i] - '0'
			if d > 9 {
				break
			}
			e = e*10 + int(d)
		}
		if i == estart || i < len(b) && b[i]-'0' <= 9 {
			return 0, 0, false
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	f := float64(mant)
	switch {
	case mant == 0:
	case exp < -22 || exp > 22:
		return 0, 0, false
	case exp < 0:
		f /= pow10[-exp]
	default:
		f *= pow10[exp]
	}
	if neg {
		f = -f
	}
	// Halfway between two float32s: the 29 bits below a float32's
	// significand are exactly 1 followed by zeros. Below float32's normal
	// range the float32 significand is shorter; leave those to strconv.
	if mant != 0 && (math.Float64bits(f)&(1<<29-1) == 1<<28 || math.Abs(f) < 0x1p-126) {
		return 0, 0, false
	}
	return float32(f), i, true
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

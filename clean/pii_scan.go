package clean

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// errPIIMatch wraps a failed regexp match. regexp2's own error quotes the
// input, which may hold the very value being hidden, so it is not kept.
var errPIIMatch = errors.New("pii: match failed")

// match is one detected value: bytes [start, end) of the scanned string.
type match struct {
	start, end int
	rc         *recognizer
}

// scratch holds per-goroutine buffers of a scan.
type scratch struct {
	runes []rune
	offs  []int // offs[k] is the byte offset of runes[k] in the window; offs[len(runes)] its length
	lo    int   // byte offset of the loaded window in the scanned string
	ascii bool  // the window is all ASCII
	cands []match
	vetos []match // look-alikes that failed validation
	out   []match
	buf   []byte

	// The window loaded last, and the token run a literal trigger
	// scanned last: triggers inside one run share both, which keeps a
	// long run of repeated prefixes ("eyJ.eyJ.…") linear.
	loadLo, loadHi int
	tokLo, tokHi   int
}

// reset forgets the windows of the previous string.
func (sc *scratch) reset() {
	sc.loadLo, sc.loadHi, sc.tokLo, sc.tokHi = -1, -1, -1, -1
}

// load makes s[lo:hi] the current window.
func (sc *scratch) load(s string, lo, hi int) {
	if lo == sc.loadLo && hi == sc.loadHi {
		return
	}
	sc.loadLo, sc.loadHi = lo, hi
	sc.lo = lo
	sc.runes, sc.offs = sc.runes[:0], sc.offs[:0]
	sc.ascii = true
	w := s[lo:hi]
	for i := 0; i < len(w); {
		c, n := rune(w[i]), 1
		if c >= utf8.RuneSelf {
			c, n = utf8.DecodeRuneInString(w[i:])
			sc.ascii = false
		}
		sc.runes = append(sc.runes, c)
		sc.offs = append(sc.offs, i)
		i += n
	}
	sc.offs = append(sc.offs, len(w))
}

// runeAt returns the rune index of byte offset i of the scanned string
// within the loaded window.
func (sc *scratch) runeAt(i int) int {
	k, _ := slices.BinarySearch(sc.offs, i-sc.lo)
	return k
}

// run finds the matches of rc in the loaded window whose value lies within
// bytes [alo, ahi) of s and passes validation. With anchor ≥ 0 only a match
// starting at rune anchor is tried.
func (r *Redactor) run(rc *recognizer, s string, alo, ahi, anchor int, sc *scratch) error {
	re, pos := rc.anch, anchor
	if anchor < 0 {
		re, pos = rc.re, sc.runeAt(alo) // no value starts before alo
	}
	if sc.ascii {
		if re == rc.re {
			re = rc.reASCII
		} else {
			re = rc.anchASCII
		}
	}
	for pos <= len(sc.runes) {
		m, err := re.FindRunesMatchStartingAt(sc.runes, pos)
		if err != nil {
			return fmt.Errorf("%w: recognizer %s: time limit %v exceeded", errPIIMatch, rc.name, re.MatchTimeout)
		}
		if m == nil {
			return nil
		}
		g := &m.Group
		if rc.group > 0 {
			g = m.GroupByNumber(rc.group)
		}
		st, en := sc.lo+sc.offs[g.Index], sc.lo+sc.offs[g.Index+g.Length]
		ok := st >= alo && en <= ahi && en > st
		if ok && rc.trim != nil {
			if n := rc.trim(s[st:en]); n > 0 {
				en = st + n
			} else {
				ok = false
			}
		}
		ok = ok && !r.nextToTag(s, st, en)
		if ok && rc.notAfter != nil && rc.notAfter(s[back(s, st, 48):st], s[st:en]) {
			ok = false
		}
		if ok && rc.plausible != nil && !rc.plausible(s[st:en]) {
			ok = false
		} else if ok && rc.valid != nil && !rc.valid(s[st:en], r) {
			if rc.plausible != nil {
				sc.vetos = append(sc.vetos, match{st, en, rc})
			}
			ok = false
		}
		if ok {
			sc.cands = append(sc.cands, match{st, en, rc})
		}
		if anchor >= 0 {
			return nil
		}
		// Go on from the next character, not the match end: overlapping
		// candidates are all collected and resolve decides, so the result
		// does not depend on where a window starts.
		pos = m.Index + 1
		if pos < len(sc.offs) && sc.lo+sc.offs[pos] >= ahi {
			return nil // no room left for a match in range
		}
	}
	return nil
}

// window loads s[alo:ahi] plus two characters of real context on each side
// (every lookaround of the built-ins reads at most two), and runs rc.
func (r *Redactor) window(s string, alo, ahi int, rc *recognizer, sc *scratch) error {
	sc.load(s, back(s, alo, 2), fwd(s, ahi, 2))
	return r.run(rc, s, alo, ahi, -1, sc)
}

// anchored runs rc on s[i:hi] for a match starting exactly at i.
func (r *Redactor) anchored(rc *recognizer, s string, i, hi int, sc *scratch) error {
	sc.load(s, back(s, i, 2), fwd(s, hi, 2))
	return r.run(rc, s, i, hi, sc.runeAt(i), sc)
}

// nextToTag reports whether s[st:en] touches a replacement tag, perhaps
// across one separator. The value the tag replaced may have been what kept
// this one from matching (the digit before "::1", say; or, across a space,
// the number that made "+10000000 17000000000" one number too long to be
// valid), and redacting twice must change nothing.
func (r *Redactor) nextToTag(s string, st, en int) bool {
	if st > 0 && strings.IndexByte(".-: ", s[st-1]) >= 0 {
		st--
	}
	if en < len(s) && strings.IndexByte(".-: ", s[en]) >= 0 {
		en++
	}
	if st > 0 && s[st-1] == '>' {
		if k := strings.LastIndexByte(s[max(0, st-64):st-1], '<'); k >= 0 && r.isTag(s[max(0, st-64)+k+1:st-1]) {
			return true
		}
	}
	if en < len(s) && s[en] == '<' {
		if k := strings.IndexByte(s[en+1:min(len(s), en+64)], '>'); k >= 0 && r.isTag(s[en+1:en+1+k]) {
			return true
		}
	}
	return false
}

// isTag reports whether t is the inside of a tag: NAME or NAME:8 hex digits.
func (r *Redactor) isTag(t string) bool {
	name, h, ok := strings.Cut(t, ":")
	if ok && (len(h) != 8 || strings.Trim(h, "0123456789abcdef") != "") {
		return false
	}
	return r.tags[name]
}

func back(s string, i, n int) int {
	for ; n > 0 && i > 0; n-- {
		_, sz := utf8.DecodeLastRuneInString(s[:i])
		i -= sz
	}
	return i
}

func fwd(s string, i, n int) int {
	for ; n > 0 && i < len(s); n-- {
		_, sz := utf8.DecodeRuneInString(s[i:])
		i += sz
	}
	return i
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isUpper(c byte) bool  { return c >= 'A' && c <= 'Z' }
func isLetter(c byte) bool { return isUpper(c) || c >= 'a' && c <= 'z' }
func isAlnum(c byte) bool  { return isDigit(c) || isUpper(c) || c >= 'a' && c <= 'z' }
func isToken(c byte) bool  { return isAlnum(c) || c == '_' || c == '-' }
func isHex(c byte) bool    { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }
func isNumSep(c byte) bool {
	return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '+'
}
func isEmailLocal(c byte) bool {
	return isAlnum(c) || c >= 0x80 || strings.IndexByte("._%+-!#$*^{|}~", c) >= 0
}
func isDomain(c byte) bool { return isAlnum(c) || c >= 0x80 || c == '.' || c == '-' }

// isWordRune reports whether c is a letter, mark or digit.
func isWordRune(c rune) bool { return unicode.In(c, unicode.L, unicode.M, unicode.N) }

// Trigger classes of bytes in Redactor.trig.
const (
	tDigit = 1 + iota
	tAt
	tColon
	tLiteral
)

// longRun is the longest digit run any built-in match contains (a 19-digit
// card); a longer run is an order number or similar and is skipped whole.
const longRun = 19

// detect returns the matches in s after allowlist, context and overlap
// resolution, sorted by start. The result aliases sc.
func (r *Redactor) detect(s string, sc *scratch) (_ []match, err error) {
	defer func() {
		// A failure on one row (a regexp2 bug, say) rejects that row as
		// pii_error instead of ending the run. The panic value is not
		// quoted: it might hold text.
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: internal error (%T)", errPIIMatch, p)
		}
	}()
	sc.cands, sc.vetos = sc.cands[:0], sc.vetos[:0]
	sc.reset()
	if r.naive {
		err = r.scanNaive(s, sc)
	} else {
		err = r.prefilter(s, sc)
		if err == nil && len(r.whole) > 0 {
			sc.load(s, 0, len(s))
			for _, rc := range r.whole {
				if err = r.run(rc, s, 0, len(s), -1, sc); err != nil {
					break
				}
			}
		}
	}
	if err != nil {
		return nil, err
	}
	return r.resolve(s, sc), nil
}

// scanNaive runs every pattern over the whole text: the baseline the
// prefilter is measured against, and its oracle in tests.
func (r *Redactor) scanNaive(s string, sc *scratch) error {
	sc.load(s, 0, len(s))
	for _, rc := range r.recs {
		if err := r.run(rc, s, 0, len(s), -1, sc); err != nil {
			return err
		}
	}
	return nil
}

// prefilter walks s once and hands recognizers only the windows around
// their trigger bytes. Each trigger costs bounded work, so the scan is
// linear in len(s).
func (r *Redactor) prefilter(s string, sc *scratch) error {
	numEnd, v6End := 0, 0 // ends of the last numeric cluster and IPv6 run
	trig := &r.trig
	for i := 0; i < len(s); i++ {
		for i < len(s) && trig[s[i]] == 0 {
			i++
		}
		if i == len(s) {
			break
		}
		var err error
		switch trig[s[i]] {
		case tDigit:
			if r.iban != nil && i >= 2 && ibanLengths[s[i-2:i]] > 0 && (i == 2 || !isAlnum(s[i-3]) && s[i-3] != '_') {
				j := i
				for n := 0; j < len(s) && n < 42 && (isUpper(s[j]) || isDigit(s[j]) || s[j] == ' ' && j+1 < len(s) && s[j+1] != ' '); n++ {
					j++
				}
				if j-i >= 13 {
					if err = r.anchored(r.iban, s, i-2, j, sc); err != nil {
						return err
					}
				}
			}
			var end int
			end, err = r.numeric(s, i, numEnd, sc)
			numEnd = end
			i = end - 1
		case tAt:
			err = r.email(s, i, sc)
		case tColon:
			v6End, err = r.colon(s, i, v6End, sc)
		case tLiteral:
			err = r.literal(s, i, sc)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// digitRun returns the end of the digit run at i, taking a trailing X of a
// 17-digit run (the check character of a Chinese ID).
func digitRun(s string, i int) int {
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j-i == 17 && j < len(s) && (s[j] == 'X' || s[j] == 'x') {
		j++
	}
	return j
}

// numShape is a set of features of the digit runs of a numeric window.
// Each numeric pattern needs one of them, so a window without it is
// skipped. A run cut by the window edge counts as starting there, which
// only adds features.
type numShape uint8

const (
	shPlus   numShape = 1 << iota // a '+' (E.164)
	shMobile                      // a run starting 1[3-9], 86 or 0086 (CN mobile)
	shArea                        // a run starting 0[1-9] (CN area code)
	shRun3                        // a run of exactly 3 digits (NANP exchange)
	shCard                        // a run of 13–19 digits fitting a card brand, or two groups from 2-6 (4+4 or 4+6)
	shID                          // a run of 18 (or 17 and X)
)

func runShape(run string) numShape {
	var sh numShape
	n := len(run)
	switch {
	case n >= 2 && run[0] == '1' && run[1] >= '3':
		sh |= shMobile
	case strings.HasPrefix(run, "86"), strings.HasPrefix(run, "0086"):
		sh |= shMobile
	}
	if n >= 2 && run[0] == '0' && run[1] != '0' {
		sh |= shArea
	}
	if n == 3 {
		sh |= shRun3
	}
	if n >= 13 && cardBrand(run) {
		sh |= shCard
	}
	// An ID failing its checks needs no regexp: nothing can lie inside
	// a digit run, so it would veto nothing either.
	if n == 18 && cnIDDate(run) && mod11_2(run) {
		sh |= shID
	}
	return sh
}

// numeric handles the cluster of digit runs joined by at most two
// separators (three between bracketed groups) that starts at digit i, with
// a bracket closing its last run, and returns where the scan goes on:
// its end, or the digits of a CIDR prefix length, which may also start the
// next cluster ("0000/0.0.0.0" holds the address 0.0.0.0). Runs longer than
// longRun end a cluster and are skipped.
func (r *Redactor) numeric(s string, i, prevEnd int, sc *scratch) (int, error) {
	j := digitRun(s, i)
	if j-i > longRun {
		return j, nil
	}
	a := i
	for a > prevEnd && a > i-3 && (s[a-1] == '+' || s[a-1] == '(') {
		a--
	}
	for {
		k := j
		for k < len(s) && k-j <= 3 && isNumSep(s[k]) {
			k++
		}
		// Two separators at most, or three between bracketed groups,
		// "(0000) (0)", which e164 reads as one number.
		if n := k - j; n == 0 || n > 3 || n == 3 && (s[j] != ')' || s[k-1] != '(') || k == len(s) || !isDigit(s[k]) {
			break
		}
		e := digitRun(s, k)
		if e-k > longRun {
			break
		}
		j = e
	}
	next := -1
	switch {
	case j < len(s) && (s[j] == 'X' || s[j] == 'x'): // the check character of a grouped Chinese ID
		j++
	case j+1 < len(s) && s[j] == '/' && isDigit(s[j+1]): // a CIDR prefix length
		next = j + 1
		j = digitRun(s, j+1)
	case j < len(s) && s[j] == ')': // the bracket closing a last group, "+10000(000)"
		j++
	}
	if next < 0 {
		next = j
	}
	if len(r.numericRecs) == 0 {
		return next, nil
	}
	// Long clusters are cut into overlapping chunks: a match is shorter
	// than the overlap, so it lies whole in one chunk.
	for c := a; c < j; c += numericChunk - maxNumeric {
		e := min(c+numericChunk, j)
		if err := r.numericWindow(s, c, e, sc); err != nil {
			return next, err
		}
		if e == j {
			break
		}
	}
	return next, nil
}

func (r *Redactor) numericWindow(s string, lo, hi int, sc *scratch) error {
	digits, dots := 0, 0
	var sh numShape
	prev, prev2 := -1, -1 // starts of the previous two runs
	for k := lo; k < hi; {
		if !isDigit(s[k]) {
			switch s[k] {
			case '.':
				dots++
			case '+':
				sh |= shPlus
			}
			k++
			continue
		}
		e := min(digitRun(s, k), hi)
		digits += e - k
		sh |= runShape(s[k:e])
		// Grouped cards: 4 digits from 2-6, one separator, 4 or 6 digits.
		if prev >= 0 && k-prev == 5 && (s[k-1] == ' ' || s[k-1] == '-') && s[prev] >= '2' && s[prev] <= '6' && (e-k == 4 || e-k == 6) {
			sh |= shCard
		}
		// A Chinese ID in groups: 6, 8 and 3 digits (and the check
		// character) apart by single spaces.
		if prev2 >= 0 && prev-prev2 == 7 && k-prev == 9 && (e-k == 3 || e-k == 4) && s[prev-1] == ' ' && s[k-1] == ' ' {
			sh |= shID
		}
		prev2, prev = prev, k
		k = e
	}
	loaded := false
	for _, rc := range r.numericRecs {
		if digits < rc.minDigits || dots < rc.minDots || sh&rc.needs != rc.needs {
			continue
		}
		if !loaded {
			sc.load(s, back(s, lo, 2), numericContext(s, hi))
			loaded = true
		}
		if err := r.run(rc, s, lo, hi, -1, sc); err != nil {
			return err
		}
	}
	return nil
}

// numericContext returns the end of the text loaded after a numeric window
// ending at hi: two characters, as for every window, unless they stop
// inside a digit run. A cluster ends before a run too long to join it
// (over longRun digits), and cut there the loaded text would end in
// digits that go on: a pattern's optional groups could then run up to the
// cut and take it for the end of the number, and the match, reaching past
// hi, would be dropped where the whole text gives a shorter one ("+100
// 0000 0000 000…" is the number +100 0000 0000). So the run is loaded as
// far as a match from the window could reach.
func numericContext(s string, hi int) int {
	e := fwd(s, hi, 2)
	if e > hi && e < len(s) && isDigit(s[e]) && (isDigit(s[e-1]) || isNumSep(s[e-1])) {
		e = min(digitRun(s, e), e+maxNumeric)
	}
	return e
}

// email handles the '@' at i.
func (r *Redactor) email(s string, i int, sc *scratch) error {
	// The local part: at most 64 characters back (RFC 5321), over
	// letters, marks and digits of any script and the ASCII symbols of
	// the pattern; the domain: forward over the same without the
	// symbols. CJK punctuation ends both, so a window holds the address
	// and not the sentence around it.
	a := i
	for n := 0; a > 0 && n < 64; n++ {
		c, sz := utf8.DecodeLastRuneInString(s[:a])
		if c < utf8.RuneSelf && !isEmailLocal(byte(c)) || c >= utf8.RuneSelf && !isWordRune(c) {
			break
		}
		a -= sz
	}
	b := i + 1
	for b < len(s) && b-i < 1024 {
		c, sz := utf8.DecodeRuneInString(s[b:])
		if c < utf8.RuneSelf && !isDomain(byte(c)) || c >= utf8.RuneSelf && !isWordRune(c) {
			break
		}
		b += sz
	}
	if a == i || !hasTLD(s[i+1:b]) {
		return nil
	}
	return r.window(s, a, b, r.emailRec, sc)
}

// hasTLD reports whether a domain run has a label of two letters after a
// dot, which the email pattern needs.
func hasTLD(d string) bool {
	for k := strings.IndexByte(d, '.'); k >= 0 && k+2 < len(d); {
		if (isLetter(d[k+1]) || d[k+1] >= 0x80) && (isLetter(d[k+2]) || d[k+2] >= 0x80) {
			return true
		}
		n := strings.IndexByte(d[k+1:], '.')
		if n < 0 {
			break
		}
		k += 1 + n
	}
	return false
}

// colon handles ':' at i: credentials in a URL ("://") and IPv6. v6End is
// the end of the last IPv6 run scanned; colon returns the new one.
func (r *Redactor) colon(s string, i, v6End int, sc *scratch) (int, error) {
	if r.url != nil && strings.HasPrefix(s[i:], "://") {
		a := i
		for a > 0 && i-a < 21 && (isAlnum(s[a-1]) || s[a-1] == '+' || s[a-1] == '.' || s[a-1] == '-') {
			a--
		}
		b, colon := i+3, false
		for b < len(s) && b-i < 260 && !strings.ContainsRune(" \t\r\n/@?#", rune(s[b])) {
			colon = colon || s[b] == ':'
			b++
		}
		if a < i && colon && b < len(s) && s[b] == '@' {
			if err := r.window(s, a, b+1, r.url, sc); err != nil {
				return v6End, err
			}
		}
	}
	// IPv6: the run of hex digits, colons and dots around i, at most the
	// 45 bytes of the longest address on each side.
	if r.ipv6 == nil || i < v6End {
		return v6End, nil // a later colon of the run already scanned
	}
	a := i
	for a > 0 && i-a < 45 && (isHex(s[a-1]) || s[a-1] == '.') {
		a--
	}
	b, colons, digits := i, 0, 0
	for b < len(s) && b-i < 45 && (isHex(s[b]) || s[b] == ':' || s[b] == '.') {
		if s[b] == ':' {
			colons++
		}
		b++
	}
	if b < len(s) && s[b] == '%' { // a zone
		for b++; b < len(s) && b-i < 96 && (isToken(s[b]) || s[b] == '.'); b++ {
		}
	}
	if b < len(s) && s[b] == '/' { // a prefix length
		for b++; b < len(s) && isDigit(s[b]); b++ {
		}
	}
	for k := a; k < b; k++ {
		if isDigit(s[k]) {
			digits++
		}
	}
	// A valid address has eight groups (seven colons, or six and an IPv4
	// tail) or a "::".
	if colons < 2 || digits == 0 || colons < 6 && !strings.Contains(s[a:b], "::") {
		return v6End, nil
	}
	return b, r.window(s, a, b, r.ipv6, sc)
}

// literal handles a byte that may be the anchor of a literal prefix.
func (r *Redactor) literal(s string, i int, sc *scratch) error {
	for _, l := range r.lits[s[i]] {
		st := i - l.off
		if st < 0 || !strings.HasPrefix(s[st:], l.lit) {
			continue
		}
		rc := l.rc
		hi := len(s)
		switch {
		case rc.name == "private_key":
			// Only private keys (certificates and public keys are
			// skipped unread); the block ends at its END line or
			// before the next BEGIN.
			if !strings.Contains(s[st:min(hi, st+80)], "PRIVATE KEY") {
				continue
			}
			if e := strings.Index(s[i+1:], "-----BEGIN "); e >= 0 {
				hi = i + 1 + e
			}
			if e := strings.Index(s[st:hi], "-----END "); e >= 0 {
				hi = min(hi, st+e+64)
			}
		case rc.span > 0:
			hi = min(hi, st+len(l.lit)+rc.span)
		default:
			if st > 0 && isToken(s[st-1]) {
				continue // inside a longer token: the lookbehind fails anyway
			}
			// The window is the run of token characters and dots
			// from st; a later trigger in the same run reuses it.
			if st >= sc.tokHi {
				sc.tokLo, sc.tokHi = st, st
				for sc.tokHi < len(s) && (isToken(s[sc.tokHi]) || s[sc.tokHi] == '.') {
					sc.tokHi++
				}
			}
			sc.load(s, back(s, sc.tokLo, 2), fwd(s, sc.tokHi, 2))
			if err := r.run(rc, s, st, sc.tokHi, sc.runeAt(st), sc); err != nil {
				return err
			}
			continue
		}
		if err := r.anchored(rc, s, st, hi, sc); err != nil {
			return err
		}
	}
	return nil
}

// resolve filters sc.cands by allowlist, context words and vetoes, and
// resolves overlaps: a match containing another wins, else the more
// specific entity, else the longer, else the earlier.
func (r *Redactor) resolve(s string, sc *scratch) []match {
	c := sc.cands[:0]
	for _, m := range sc.cands {
		if r.allow[s[m.start:m.end]] || !r.inContext(s, m) || vetoed(m, sc.vetos) {
			continue
		}
		c = append(c, m)
	}
	slices.SortFunc(c, func(a, b match) int {
		if a.start != b.start {
			return a.start - b.start
		}
		if a.end != b.end {
			return b.end - a.end
		}
		return a.rc.rank - b.rc.rank
	})
	out := sc.out[:0]
next:
	for _, m := range c {
		k := len(out)
		for k > 0 && out[k-1].end > m.start {
			k--
		}
		for _, o := range out[k:] {
			if !beats(m, o) {
				continue next
			}
		}
		out = append(out[:k], m)
	}
	sc.out = out
	return out
}

// vetoed reports whether m lies inside a longer look-alike, such as a
// phone number inside an IBAN with a wrong check sum.
func vetoed(m match, vetos []match) bool {
	for _, v := range vetos {
		if v.start <= m.start && m.end <= v.end && v.end-v.start > m.end-m.start {
			return true
		}
	}
	return false
}

func beats(m, o match) bool {
	switch {
	case m.start <= o.start && m.end >= o.end:
		return m.end-m.start > o.end-o.start
	case o.start <= m.start && o.end >= m.end:
		return false
	case m.rc.rank != o.rc.rank:
		return m.rc.rank < o.rc.rank
	}
	return m.end-m.start > o.end-o.start
}

// contextWindow is how far around a match context words are looked for.
const contextWindow = 64

func (r *Redactor) inContext(s string, m match) bool {
	if len(m.rc.context) == 0 {
		return true
	}
	near := strings.ToLower(s[back(s, m.start, contextWindow):fwd(s, m.end, contextWindow)])
	for _, w := range m.rc.context {
		if strings.Contains(near, w) {
			return true
		}
	}
	return false
}

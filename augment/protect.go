package augment

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// span is a byte range [start, end) of a text.
type span struct{ start, end int }

// spanRE matches URLs, e-mail addresses and tags: PII placeholders such as
// <EMAIL> or <PHONE:3f2a>, and markup.
var spanRE = regexp.MustCompile(`(?i)\b(?:[a-z][a-z0-9+.-]*://|www\.)[^\s<>"'` + "`" + `]+` +
	`|[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+` +
	`|</?[a-z][^<>\n]{0,200}>`)

// protectedSpans returns the sorted, non-overlapping spans of s no edit may
// touch: fenced code blocks, inline code, URLs, e-mail addresses, tags,
// calls with their arguments, paths and file names, bracketed JSON and
// template placeholders, ANSI escape sequences and attribution lines.
// Word-level rules (numbers, acronyms, stopwords...) are applied per token.
// This one pass decides what every operation may edit.
func protectedSpans(s string, dst []span) []span {
	dst = dst[:0]
	if strings.ContainsAny(s, "`~") {
		dst = codeSpans(s, dst)
	}
	if strings.Contains(s, "://") || strings.Contains(s, "@") || strings.Contains(s, "<") ||
		strings.Contains(s, "www.") || strings.Contains(s, "WWW.") {
		for _, m := range spanMatches(s) {
			end := m[1]
			if s[m[0]] != '<' {
				// Prose punctuation right after a URL is not part of it.
				end = m[0] + len(strings.TrimRight(s[m[0]:end], ".,;:!?)]'\""))
			}
			dst = append(dst, span{m[0], end})
		}
	}
	dst = structSpans(s, dst)
	return mergeSpans(dst)
}

// structSpans appends, in one pass over s, the spans of code and markup
// that prose rarely holds: name(...) calls, {...} objects and placeholders
// (with a leading $, # or %), [...] without spaces or holding JSON, printf
// verbs, $VARS, ANSI escapes, attribution lines ("-- Name") and
// white-space-delimited chunks that are paths or file names (a/b, name.ext).
func structSpans(s string, dst []span) []span {
	chunked := 0 // chunks ending before this were looked at
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !structByte[c] {
			continue
		}
		switch c {
		case '/', '\\', '.':
			if i >= chunked {
				start := strings.LastIndexAny(s[:i], " \t\n\r\f\v") + 1
				end := len(s)
				if k := strings.IndexAny(s[i:], " \t\n\r\f\v"); k >= 0 {
					end = i + k
				}
				dst = chunkSpan(s, start, end, dst)
				chunked = end
			}
		case 0x1b:
			e := ansiEnd(s, i)
			dst = append(dst, span{i, e})
			i = e - 1
		case '(':
			if st := identStart(s, i); st < i {
				dst = append(dst, span{st, closing(s, i, '(', ')', i+1)})
			}
		case '{':
			st := i
			if i > 0 && (s[i-1] == '$' || s[i-1] == '#' || s[i-1] == '%') {
				st = i - 1
			}
			if e := closing(s, i, '{', '}', -1); e > 0 {
				dst = append(dst, span{st, e})
			}
		case '[':
			if e := closing(s, i, '[', ']', -1); e > 0 && codeBrackets(s[i+1:e-1]) {
				dst = append(dst, span{i, e})
			}
		case '%':
			if e := printfEnd(s, i); e > 0 {
				dst = append(dst, span{i, e})
			}
		case ':':
			if st := fieldName(s, i); st >= 0 {
				dst = append(dst, span{st, i + 1})
			}
		case '$':
			j := i + 1
			for j < len(s) && (isIdentByte(s[j])) {
				j++
			}
			if j > i+1 {
				dst = append(dst, span{i, j})
			}
		}
	}
	if strings.Contains(s, "--") || strings.Contains(s, "—") || strings.Contains(s, "―") {
		for line := 0; line < len(s); line = lineEnd(s, line) {
			if e := attribution(s, line); e > 0 {
				dst = append(dst, span{line, e})
			}
		}
	}
	return dst
}

// structByte marks the bytes structSpans acts on.
var structByte = func() (t [256]bool) {
	for _, c := range []byte("/\\.\x1b({[%$:") {
		t[c] = true
	}
	return t
}()

// maxBracket bounds how far a closing bracket is looked for.
const maxBracket = 4096

// closing returns the index after the bracket closing the one at i
// (nesting counted, quoted strings skipped), or fail if there is none
// within maxBracket bytes.
func closing(s string, i int, open, close byte, fail int) int {
	depth := 0
	quote := byte(0)
	for j := i; j < len(s) && j-i < maxBracket; j++ {
		c := s[j]
		switch {
		case quote != 0:
			if c == '\\' {
				j++
			} else if c == quote {
				quote = 0
			}
		case c == '"' && open != '(':
			quote = c
		case c == open:
			depth++
		case c == close:
			depth--
			if depth == 0 {
				return j + 1
			}
		case c == '\n' && j+1 < len(s) && s[j+1] == '\n':
			return fail // a blank line ends any bracket
		}
	}
	return fail
}

// identStart returns where the identifier (letters, digits, _ . :) ending
// at i starts; i if there is none. Only a call has one glued to its "(".
func identStart(s string, i int) int {
	j := i
	for j > 0 && (isIdentByte(s[j-1]) || s[j-1] == '.' || s[j-1] == ':') {
		j--
	}
	for j < i && (s[j] == '.' || s[j] == ':') {
		j++
	}
	return j
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'z'
}

// codeBrackets reports whether the text between [ and ] is code or data
// rather than prose: no spaces ([bufio.Writer], [1]) or JSON-like.
func codeBrackets(in string) bool {
	if !strings.ContainsAny(in, " \t\n") {
		return true
	}
	t := strings.TrimLeft(in, " \t\n")
	return t != "" && strings.IndexByte("\"'{[-0123456789", t[0]) >= 0
}

// printfEnd returns the index after a printf verb at i (%s, %-5.2f, %1$d,
// %(name)s, %%), or 0.
func printfEnd(s string, i int) int {
	j := i + 1
	if j < len(s) && s[j] == '(' {
		k := strings.IndexByte(s[j:], ')')
		if k < 0 || k > 64 {
			return 0
		}
		j += k + 1
	}
	for j < len(s) && strings.IndexByte("-+#0123456789.$*", s[j]) >= 0 {
		j++
	}
	for j < len(s) && (s[j] == 'l' || s[j] == 'h') && j+1 < len(s) && strings.IndexByte("dioux", s[j+1]) >= 0 {
		j++
	}
	if j >= len(s) || strings.IndexByte("sdfvqxXoeEgGcpbtTiuU%", s[j]) < 0 {
		return 0
	}
	j++
	if j < len(s) && isIdentByte(s[j]) {
		return 0 // "%of", "%so": a word, not a verb
	}
	return j
}

// ansiEnd returns the index after the escape sequence starting with ESC at
// i: CSI (ESC [ params final), OSC (ESC ] ... BEL or ESC \\), or ESC and one
// byte.
func ansiEnd(s string, i int) int {
	j := i + 1
	if j >= len(s) {
		return j
	}
	switch s[j] {
	case '[':
		j++
		for j < len(s) && s[j] >= 0x20 && s[j] <= 0x3f {
			j++
		}
		if j < len(s) && s[j] >= 0x40 && s[j] <= 0x7e {
			j++
		}
		return j
	case ']':
		for j++; j < len(s); j++ {
			if s[j] == 7 {
				return j + 1
			}
			if s[j] == 0x1b && j+1 < len(s) && s[j+1] == '\\' {
				return j + 2
			}
		}
		return j
	}
	return j + 1
}

// fieldName returns the start of the field name whose colon is at i: a
// word (letters, digits, '-', '_') alone between the start of its line
// (after indentation) and a colon followed by white space or the end, as in
// headers and key-value files ("Files: *", "License: MIT", "Subject:");
// -1 if there is none. Its words are names, not prose.
func fieldName(s string, i int) int {
	if i+1 < len(s) && s[i+1] != ' ' && s[i+1] != '\t' && s[i+1] != '\n' && s[i+1] != '\r' {
		return -1
	}
	j := i
	for j > 0 && (isIdentByte(s[j-1]) || s[j-1] == '-') {
		j--
	}
	if j == i || i-j > 40 {
		return -1
	}
	k := j
	for k > 0 && (s[k-1] == ' ' || s[k-1] == '\t') {
		k--
	}
	if k > 0 && s[k-1] != '\n' {
		return -1
	}
	return j
}

// attribution returns the end of the attribution starting the line at i
// ("-- Name", "— Name", optionally indented), with the more deeply
// indented lines that continue it; 0 if the line is not one.
func attribution(s string, i int) int {
	j := i
	for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
		j++
	}
	indent := j - i
	rest := s[j:]
	var dash int
	switch {
	case strings.HasPrefix(rest, "--") && !strings.HasPrefix(rest, "---"):
		dash = 2
	case strings.HasPrefix(rest, "—"), strings.HasPrefix(rest, "―"):
		dash = len("—")
	default:
		return 0
	}
	if !unicode.IsUpper(firstRune(strings.TrimLeft(rest[dash:], " "))) {
		return 0 // a name follows the dash
	}
	end := lineEnd(s, j)
	for end < len(s) {
		k := end
		for k < len(s) && (s[k] == ' ' || s[k] == '\t') {
			k++
		}
		if k-end <= indent && indent > 0 || k-end == 0 || k == len(s) || s[k] == '\n' {
			break
		}
		end = lineEnd(s, k)
	}
	return end
}

func firstRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

// chunkSpan appends the white-space-delimited chunk s[start:end] without
// its surrounding prose punctuation if it is a path (a/b, a\b) or a file
// or host name (name.ext, bzip2.jam): a dot between a letter or digit and
// a letter.
func chunkSpan(s string, start, end int, dst []span) []span {
	for start < end && strings.IndexByte("(\"'[", s[start]) >= 0 {
		start++
	}
	for end > start && strings.IndexByte(".,;:!?)]}\"'", s[end-1]) >= 0 {
		end--
	}
	if end-start < 3 {
		return dst
	}
	c := s[start:end]
	code := false
	for k := 1; k < len(c)-1 && !code; k++ {
		switch c[k] {
		case '/', '\\':
			code = isIdentByte(c[k-1]) || isIdentByte(c[k+1])
		case '.':
			code = isIdentByte(c[k-1]) && c[k+1]|0x20 >= 'a' && c[k+1]|0x20 <= 'z'
		}
	}
	if code {
		dst = append(dst, span{start, end})
	}
	return dst
}

// mergeSpans sorts spans and joins those that overlap.
func mergeSpans(ps []span) []span {
	if len(ps) < 2 {
		return ps
	}
	sortSpans(ps)
	out := ps[:1]
	for _, p := range ps[1:] {
		last := &out[len(out)-1]
		if p.start < last.end {
			last.end = max(last.end, p.end)
			continue
		}
		out = append(out, p)
	}
	return out
}

// spanMatches returns spanRE.FindAllStringIndex(s, -1), running the
// regular expression only where a match can be. Every match holds a
// trigger ("://", "www." in any case, "@" or "<") and no newline, and only
// a tag, which starts at its "<", holds white space. So the matches of s
// are those of its lines with a trigger, each searched from after the last
// white space before its first trigger: \b sees the same non-word byte
// before that point as at the start of a string.
func spanMatches(s string) [][]int {
	var out [][]int
	for line := 0; line < len(s); {
		end := lineEnd(s, line)
		l := s[line:end]
		if p := firstTrigger(l); p >= 0 {
			from := strings.LastIndexAny(l[:p], " \t\r\f") + 1
			for _, m := range spanRE.FindAllStringIndex(l[from:], -1) {
				out = append(out, []int{line + from + m[0], line + from + m[1]})
			}
		}
		line = end
	}
	return out
}

// firstTrigger returns the index of the first "://", "@", "<" or "www."
// (in any case) in l, or -1.
func firstTrigger(l string) int {
	p := strings.IndexAny(l, "@<")
	if p < 0 {
		p = len(l)
	}
	if i := strings.Index(l[:p], "://"); i >= 0 {
		p = i
	}
	for i := 0; i < p && i+4 <= len(l); i++ {
		if l[i]|0x20 == 'w' && l[i+1]|0x20 == 'w' && l[i+2]|0x20 == 'w' && l[i+3] == '.' {
			return i
		}
	}
	if p == len(l) {
		return -1
	}
	return p
}

// codeSpans appends Markdown code: fenced blocks (``` or ~~~ at a line start,
// to the closing fence or the end of s) and inline code (a backtick run to
// the next run of the same length).
func codeSpans(s string, dst []span) []span {
	for i := 0; i < len(s); {
		if fence := fenceAt(s, i); fence != "" {
			end := len(s)
			for j := lineEnd(s, i); j < len(s); j = lineEnd(s, j) {
				if f := fenceAt(s, j); f != "" && f[0] == fence[0] && len(f) >= len(fence) {
					end = lineEnd(s, j)
					break
				}
			}
			dst = append(dst, span{i, end})
			i = end
			continue
		}
		if s[i] != '`' {
			i++
			continue
		}
		n := runLen(s, i, '`')
		end := -1
		for j := i + n; j < len(s); {
			k := strings.IndexByte(s[j:], '`')
			if k < 0 {
				break
			}
			j += k
			m := runLen(s, j, '`')
			if m == n {
				end = j + m
				break
			}
			j += m
		}
		if end < 0 {
			i += n // an unmatched run is literal
			continue
		}
		dst = append(dst, span{i, end})
		i = end
	}
	return dst
}

// fenceAt returns the code fence (a run of 3 or more ` or ~) starting the
// line at i after up to 3 spaces, or "" if i does not start such a line.
func fenceAt(s string, i int) string {
	if i > 0 && s[i-1] != '\n' {
		return ""
	}
	j := i
	for j < len(s) && j-i < 3 && s[j] == ' ' {
		j++
	}
	if j >= len(s) || (s[j] != '`' && s[j] != '~') {
		return ""
	}
	n := runLen(s, j, s[j])
	if n < 3 {
		return ""
	}
	return s[j : j+n]
}

// lineEnd returns the index after the newline ending the line holding i.
func lineEnd(s string, i int) int {
	k := strings.IndexByte(s[i:], '\n')
	if k < 0 {
		return len(s)
	}
	return i + k + 1
}

func runLen(s string, i int, c byte) int {
	j := i
	for j < len(s) && s[j] == c {
		j++
	}
	return j - i
}

func overlaps(spans []span, start, end int) bool {
	for _, p := range spans {
		if start < p.end && p.start < end {
			return true
		}
	}
	return false
}

func sortSpans(ps []span) {
	slices.SortFunc(ps, func(a, b span) int { return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(a.end, b.end)) })
}

// glued reports whether the word s[start:end] touches code-like characters
// (identifiers, paths, hashtags, hyphenated compounds, calls like f(x)),
// which make it part of something that must stay as it is.
func glued(s string, start, end int) bool {
	if start > 0 {
		if c := s[start-1]; c < utf8.RuneSelf {
			if codeByte[c] {
				return true
			}
		} else if r, _ := utf8.DecodeLastRuneInString(s[:start]); isCodeRune(r) {
			return true
		}
	}
	if end < len(s) {
		if c := s[end]; c < utf8.RuneSelf {
			return codeByte[c] || c == '('
		}
		r, _ := utf8.DecodeRuneInString(s[end:])
		return isCodeRune(r)
	}
	return false
}

const codeRunes = "@#$%^&*_=+<>/\\|~`-"

// codeByte marks the ASCII code runes (isCodeRune).
var codeByte = func() (t [utf8.RuneSelf]bool) {
	for i := range t {
		t[i] = isCodeRune(rune(i))
	}
	return t
}()

func isCodeRune(r rune) bool {
	return strings.ContainsRune(codeRunes, r) || unicode.Is(unicode.Pd, r)
}

// shape is the letter case of a word.
type shape uint8

const (
	lower shape = iota // all lower case, or no case (ideographs)
	title              // first letter upper, the rest lower
	other              // ALL-CAPS, mixedCase, camelCase
)

func shapeOf(w string) shape {
	if w != "" && w[0] < utf8.RuneSelf {
		up := false // an upper-case ASCII letter after the first byte
		i := 1
		for ; i < len(w) && w[i] < utf8.RuneSelf; i++ {
			up = up || w[i]-'A' < 26
		}
		switch {
		case up:
			return other
		case i < len(w):
			// not ASCII: the general case below
		case w[0]-'A' >= 26:
			return lower
		case len(w) == 1:
			return other // a single capital: "I", "A"
		default:
			return title
		}
	}
	first, n := utf8.DecodeRuneInString(w)
	rest := w[n:]
	if strings.IndexFunc(rest, unicode.IsUpper) >= 0 {
		return other
	}
	if unicode.IsUpper(first) {
		if rest == "" {
			return other // a single capital: "I", "A"
		}
		return title
	}
	return lower
}

// withShape returns w (lower case) in shape sh.
func withShape(w string, sh shape) string {
	if sh != title || w == "" {
		return w
	}
	r, n := utf8.DecodeRuneInString(w)
	return string(unicode.ToTitle(r)) + w[n:]
}

// stopwords are never changed: function words, whose replacement or loss
// changes meaning or grammar rather than wording. Negations are here too.
var stopwords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`
a an the this that these those such what which who whom whose where when why how
i me my mine myself we us our ours ourselves you your yours yourself yourselves
he him his himself she her hers herself it its itself they them their theirs themselves
one ones someone something anyone anything everyone everything nobody nothing
am is are was were be been being have has had having do does did doing done
will would shall should can could may might must ought
and or but nor so yet if then else than because since while whereas although though unless until
as at by for from in into of off on onto out over to up upon with within without about above
across after against along among around before behind below beneath beside between beyond
down during except inside like near outside past per through throughout toward towards under
via
not no never none neither either both each every all any some few many much more most
less least other another own same only just very too also even still again ever
here there now then once always often sometimes
yes ok okay oh
我们 你们 他们 她们 它们 自己 这个 那个 这些 那些 这里 那里 什么 怎么 为什么 哪里 哪个
因为 所以 但是 可是 而且 并且 或者 如果 虽然 然后 还是 就是 不是 没有 已经 可以 应该 一个 一些 一样
`) {
		m[w] = true
	}
	return m
}()

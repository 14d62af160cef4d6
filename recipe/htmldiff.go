package recipe

import (
	"html/template"
	"regexp"
	"strings"
)

// diffTokens are the units two texts are compared in: runs of white space,
// single Han characters (Chinese has no spaces between words) and runs of
// anything else.
var diffTokens = regexp.MustCompile(`\s+|\p{Han}|[^\s\p{Han}]+`)

// diffHTML returns a and b as escaped HTML with the tokens that are not in
// their longest common subsequence in <mark>. Texts are example-sized (at
// most exampleLen runes), so the quadratic table is small.
func diffHTML(a, b string) (template.HTML, template.HTML) {
	ta, tb := diffTokens.FindAllString(a, -1), diffTokens.FindAllString(b, -1)
	// lcs[i][j] is the LCS length of ta[i:] and tb[j:].
	lcs := make([][]int, len(ta)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(tb)+1)
	}
	for i := len(ta) - 1; i >= 0; i-- {
		for j := len(tb) - 1; j >= 0; j-- {
			if ta[i] == tb[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var sa, sb marked
	i, j := 0, 0
	for i < len(ta) || j < len(tb) {
		switch {
		case i < len(ta) && j < len(tb) && ta[i] == tb[j]:
			sa.add(ta[i], false)
			sb.add(tb[j], false)
			i, j = i+1, j+1
		case j == len(tb) || i < len(ta) && lcs[i+1][j] >= lcs[i][j+1]:
			sa.add(ta[i], true)
			i++
		default:
			sb.add(tb[j], true)
			j++
		}
	}
	return sa.html(), sb.html()
}

// marked builds escaped HTML with runs of changed tokens in one <mark>;
// white space between two changed tokens joins their runs.
type marked struct {
	sb      strings.Builder
	open    bool
	pending string // white space after a changed token
}

func (m *marked) add(t string, changed bool) {
	switch {
	case strings.TrimSpace(t) == "" && m.open:
		m.pending += t
	case changed:
		if !m.open {
			m.sb.WriteString("<mark>")
			m.open = true
		}
		m.sb.WriteString(esc(m.pending) + esc(t))
		m.pending = ""
	default:
		m.close()
		m.sb.WriteString(esc(t))
	}
}

func (m *marked) close() {
	if m.open {
		m.sb.WriteString("</mark>")
		m.open = false
	}
	m.sb.WriteString(esc(m.pending))
	m.pending = ""
}

func (m *marked) html() template.HTML {
	m.close()
	return template.HTML(m.sb.String())
}

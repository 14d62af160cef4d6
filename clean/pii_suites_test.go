package clean

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
	"unicode"
)

// suiteCase is one case of clean/testdata/pii_suites/cases.tsv: a test
// fixture of another project (see the README there for sources and
// licences).
type suiteCase struct {
	source, entity, kind, text, value string
}

func readSuiteCases(t testing.TB) []suiteCase {
	t.Helper()
	f, err := os.Open("testdata/pii_suites/cases.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	unesc := strings.NewReplacer(`\\`, `\`, `\t`, "\t", `\n`, "\n", `\r`, "\r")
	var cs []suiteCase
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		p := strings.Split(line, "\t")
		if len(p) != 5 {
			t.Fatalf("bad line %q", line)
		}
		cs = append(cs, suiteCase{p[0], p[1], p[2], unesc.Replace(p[3]), unesc.Replace(p[4])})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cs
}

// suiteScope says why a case is outside sift's documented scope (docs/pii.md,
// "Scope"), or "" if it counts. The rules are about formats, never about
// single cases.
func suiteScope(c suiteCase) string {
	v := c.value
	if c.kind != "pos" {
		v = strings.TrimSpace(c.text)
	}
	if c.kind == "negwhole" && strings.TrimSpace(c.text) != c.text {
		return "a whole-string validator rejects the surrounding whitespace, not the value"
	}
	switch c.entity {
	case EntityCNID:
		if len(v) == 15 {
			return "first-generation 15-digit ID (withdrawn 2013, no check character)"
		}
	case EntityEmail:
		if strings.HasPrefix(v, `"`) {
			return "quoted local part"
		}
		at := strings.LastIndexByte(v, '@')
		if c.kind == "pos" && at >= 0 && !strings.Contains(v[at:], ".") {
			return "no top-level domain"
		}
		if c.kind == "pos" && at >= 0 {
			tld := v[strings.LastIndexByte(v, '.')+1:]
			if len([]rune(tld)) < 2 {
				return "one-letter top-level domain"
			}
		}
	case EntityIP:
		if c.kind == "pos" && strings.Trim(v, ":") == "" || strings.HasPrefix(v, "::/") {
			return "unspecified address :: (no host)"
		}
		if c.kind == "pos" && strings.Contains(c.text, v+".") && strings.IndexFunc(c.text[strings.Index(c.text, v)+len(v)+1:], unicode.IsDigit) == 0 {
			return "five or more dotted numbers (an OID or section number, not an address)"
		}
	case EntityPhone:
		digits := 0
		for _, r := range v {
			if unicode.IsDigit(r) {
				digits++
			}
		}
		if c.kind == "pos" && !strings.HasPrefix(v, "+") && !strings.HasPrefix(v, "(") && !strings.HasPrefix(v, "00") && !strings.HasPrefix(v, "0") && digits != 10 {
			return "bare digit run without country code or national prefix"
		}
		if c.kind == "pos" && strings.HasPrefix(v, "0") && !strings.HasPrefix(v, "00") && !strings.HasPrefix(v, "07") && !strings.HasPrefix(v, "01") && !strings.HasPrefix(v, "02") {
			return "national format of a country other than CN, NANP, UK"
		}
		if c.kind == "negwhole" && strings.HasPrefix(v, "+") && strings.ContainsAny(v, " -") {
			return "E.164 validator rejects only the separators"
		}
	case EntityCreditCard:
		if d := digitsOf(v); len(d) >= 12 && !cardBrand(v) && strings.Trim(v, "0123456789 -") == "" {
			return "no card issuer's prefix (the validator checks only Luhn and length)"
		}
		if c.kind == "negwhole" && strings.Contains(v, "  ") {
			return "validator rejects only the spacing"
		}
	case EntitySecret:
		if c.kind == "neg" && strings.HasSuffix(c.source, ":GCPAPIKey") && strings.HasPrefix(v, "AIza") && len(v) == 39 && !placeholder(v[4:]) {
			return "a real-format key that gitleaks allowlists by value (published in firebase-android-sdk)"
		}
		if c.kind == "pos" && strings.Count(v, ".") == 2 && !strings.HasPrefix(v, "ey") {
			return "JWT without a JSON header (any three dotted tokens)"
		}
	}
	return ""
}

// suiteFindings runs the redactor's detection on s.
func suiteFindings(t testing.TB, r *Redactor, s string) []match {
	t.Helper()
	ms, err := r.detect(s, &scratch{})
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return append([]match(nil), ms...)
}

// covered reports whether every letter and digit of s[a:b] lies in a
// finding of entity.
func covered(s string, a, b int, ms []match, entity string) bool {
	for i, r := range s[a:b] {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			continue
		}
		in := false
		for _, m := range ms {
			if m.rc.entity == entity && m.start <= a+i && a+i < m.end {
				in = true
				break
			}
		}
		if !in {
			return false
		}
	}
	return true
}

// TestPIISuites scores the redactor at defaults on other projects' public
// test fixtures (clean/testdata/pii_suites): recall per entity on the
// positive cases in scope (every letter and digit of the value inside a
// finding of that entity) and the share of negative cases flagged.
func TestPIISuites(t *testing.T) {
	st, err := NewRedactor()
	if err != nil {
		t.Fatal(err)
	}
	r := st.(*Redactor)
	type score struct{ pos, found, neg, flagged, out int }
	scores := map[string]*score{}
	for _, e := range PIIEntities {
		scores[e] = &score{}
	}
	for _, c := range readSuiteCases(t) {
		sc := scores[c.entity]
		if why := suiteScope(c); why != "" {
			sc.out++
			if testing.Verbose() {
				t.Logf("out of scope (%s): %s %s %q", why, c.entity, c.kind, c.text)
			}
			continue
		}
		ms := suiteFindings(t, r, c.text)
		switch c.kind {
		case "pos":
			sc.pos++
			ok := strings.Contains(c.text, c.value)
			for i := 0; ok; {
				k := strings.Index(c.text[i:], c.value)
				if k < 0 {
					break
				}
				ok = covered(c.text, i+k, i+k+len(c.value), ms, c.entity)
				i += k + 1
			}
			if ok {
				sc.found++
			} else {
				t.Logf("missed %s (%s): %q in %q; found %v", c.entity, c.source, c.value, c.text, spans(c.text, ms))
			}
		case "neg", "negwhole":
			sc.neg++
			bad := false
			v := strings.TrimSpace(c.text)
			lo := strings.Index(c.text, v)
			for _, m := range ms {
				if m.rc.entity != c.entity {
					continue
				}
				if c.kind == "neg" || m.start <= lo && m.end >= lo+len(v) {
					bad = true
				}
			}
			if bad {
				sc.flagged++
				t.Logf("flagged %s (%s): %q: %v", c.entity, c.source, c.text, spans(c.text, ms))
			}
		}
	}
	var md strings.Builder
	md.WriteString("| entity | positives | found | recall | negatives | flagged | out of scope |\n|---|---:|---:|---:|---:|---:|---:|\n")
	negs, flagged := 0, 0
	for _, e := range PIIEntities {
		s := scores[e]
		rec := 1.0
		if s.pos > 0 {
			rec = float64(s.found) / float64(s.pos)
		}
		fmt.Fprintf(&md, "| %s | %d | %d | %.1f %% | %d | %d | %d |\n", e, s.pos, s.found, 100*rec, s.neg, s.flagged, s.out)
		negs += s.neg
		flagged += s.flagged
		if rec < 0.99 {
			t.Errorf("%s: recall %.1f%% (%d of %d) < 99%%", e, 100*rec, s.found, s.pos)
		}
	}
	rate := float64(flagged) / float64(negs)
	fmt.Fprintf(&md, "\nNegative cases flagged: %d of %d (%.1f %%).\n", flagged, negs, 100*rate)
	if rate > 0.01 {
		t.Errorf("%d of %d negative cases flagged (%.1f%% > 1%%)", flagged, negs, 100*rate)
	}
	if *piiTable {
		fmt.Println(md.String())
	}
}

package lm

import (
	"bytes"
	"compress/gzip"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// confDir returns the KenLM conformance fixtures, or skips the test.
func confDir(t testing.TB) string {
	dir := filepath.Join("..", "..", "..", "shared", "lm-conformance")
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		t.Skipf("no KenLM conformance data at %s", dir)
	}
	return dir
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(confDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(name, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// loadFixture reads an ARPA fixture, keeping its n-grams for the tests
// that walk them.
func loadFixture(t testing.TB, name string) *Model {
	t.Helper()
	m, err := readARPA(bytes.NewReader(readFixture(t, name)), true)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestQueryConformance(t *testing.T) {
	test := readFixture(t, "test.txt")
	for _, tc := range []struct{ model, want string }{
		{"model.3.arpa.gz", "query.3.txt.gz"},
		{"model.4.arpa.gz", "query.4.txt.gz"},
		{"tiny.3.arpa", "tiny.query.txt"},
	} {
		t.Run(tc.model, func(t *testing.T) {
			m := loadFixture(t, tc.model)
			want := readFixture(t, tc.want)
			in := test
			if strings.HasPrefix(tc.model, "tiny") {
				in = firstLines(test, 5)
			}
			var got bytes.Buffer
			if _, err := Query(m, Whitespace, bytes.NewReader(in), &got, true); err != nil {
				t.Fatal(err)
			}
			compareLines(t, got.String(), string(want))
		})
	}
}

func firstLines(b []byte, n int) []byte {
	i := 0
	for ; n > 0; n-- {
		i += bytes.IndexByte(b[i:], '\n') + 1
	}
	return b[:i]
}

func compareLines(t *testing.T, got, want string) {
	t.Helper()
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	if len(g) != len(w) {
		t.Errorf("%d lines, want %d", len(g), len(w))
	}
	bad := 0
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] && !samePerplexity(g[i], w[i]) {
			if bad++; bad <= 5 {
				t.Errorf("line %d:\n got %q\nwant %q", i+1, g[i], w[i])
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d lines differ", bad)
	}
}

// samePerplexity accepts a last-digit difference in a perplexity line: Go's
// math.Pow and glibc's pow may differ by an ulp.
func samePerplexity(g, w string) bool {
	gk, gv, ok1 := strings.Cut(g, "\t")
	wk, wv, ok2 := strings.Cut(w, "\t")
	if !ok1 || !ok2 || gk != wk || !strings.HasPrefix(gk, "Perplexity") {
		return false
	}
	a, err1 := strconv.ParseFloat(gv, 64)
	b, err2 := strconv.ParseFloat(wv, 64)
	return err1 == nil && err2 == nil && math.Abs(a-b) <= 1e-12*math.Abs(b)
}

package lm

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadARPAHugeCounts checks that a header claiming more n-grams than
// the input can hold, or than memory can, fails by name before the tables
// are sized from it (a fuzz finding: "ngram 1=6666666666666" ran the
// process out of memory).
func TestReadARPAHugeCounts(t *testing.T) {
	const huge = "\\data\\\nngram 1=6666666666666\n\n\\1-grams:\n-1\t<unk>\n\\end\\\n"
	const many = "\\data\\\nngram 1=2\nngram 2=400000000\n\n\\1-grams:\n-1\t<unk>\n-1\ta\n\n\\2-grams:\n-1\ta a\n\\end\\\n"
	gz := func(s string) io.Reader {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		return &b
	}
	file := func(s string) io.Reader {
		p := filepath.Join(t.TempDir(), "m.arpa")
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	// pipe hides the size: only the memory bound applies.
	pipe := func(s string) io.Reader {
		r, w := io.Pipe()
		go func() { io.WriteString(w, s); w.Close() }()
		return r
	}
	for _, tc := range []struct {
		name       string
		r          io.Reader
		want, line string
	}{
		{"string", strings.NewReader(huge), "bytes of text can hold", "2"},
		{"file", file(huge), "bytes of text can hold", "2"},
		{"gzip", gz(many), "bytes of text can hold", "3"},
		{"pipe", pipe(huge), "more than the machine's", "2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadModel(tc.r)
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "line "+tc.line) {
				t.Fatalf("got %v, want ErrFormat at line %s with %q", err, tc.line, tc.want)
			}
		})
	}
	// The bound is a bound: a model whose counts are right still reads, from
	// a gzip stream and from a file.
	for _, r := range []io.Reader{gz(trigram), file(trigram)} {
		if _, err := ReadModel(r); err != nil {
			t.Fatal(err)
		}
	}
}

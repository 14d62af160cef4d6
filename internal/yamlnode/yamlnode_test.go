package yamlnode

import (
	"strings"
	"testing"

	"github.com/goccy/go-yaml/parser"
)

// TestDecodeBareTag: the input that made go-yaml panic (found by
// FuzzRubric) is an error naming its place; a good list decodes.
func TestDecodeBareTag(t *testing.T) {
	for _, tc := range []struct {
		src, err string
		want     []string
	}{
		{src: "values: ! 0", err: "[1:"},
		{src: "values: [a, b]", want: []string{"a", "b"}},
	} {
		f, err := parser.ParseBytes([]byte(tc.src), 0)
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			Values []string `yaml:"values"`
		}
		err = Decode(f.Docs[0].Body, &v)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want one at %s", tc.src, err, tc.err)
		case tc.err == "" && (err != nil || strings.Join(v.Values, ",") != strings.Join(tc.want, ",")):
			t.Errorf("%q: %v, %v; want %v", tc.src, v.Values, err, tc.want)
		}
	}
}

// Package yamlnode decodes parsed YAML nodes into Go values without
// letting go-yaml's own failures crash the caller.
package yamlnode

import (
	"fmt"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

// Decode is yaml.NodeToValue, except that a panic inside go-yaml comes
// back as an error at the node. go-yaml v1.19.2 dereferences nil when a
// bare tag stands where a list is wanted (`values: ! 0`), which took down
// `sift validate` and the rubric parser on such a file.
func Decode(n ast.Node, v any, opts ...yaml.DecodeOption) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: cannot decode this value (%v)", pos(n), r)
		}
	}()
	return yaml.NodeToValue(n, v, opts...)
}

func pos(n ast.Node) string {
	if n == nil || n.GetToken() == nil {
		return "[?]"
	}
	p := n.GetToken().Position
	return fmt.Sprintf("[%d:%d]", p.Line, p.Column)
}

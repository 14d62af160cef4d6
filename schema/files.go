package schema

import "github.com/siftdata/sift/recipe"

var _ recipe.FileSpec = NormalizeSpec{}

// Files names the user's JSON Schema, so a run refuses to start when an
// output would replace it.
func (s NormalizeSpec) Files() []recipe.FileUse {
	if s.Schema == "" {
		return nil
	}
	return []recipe.FileUse{{Key: "schema", Path: s.Schema}}
}

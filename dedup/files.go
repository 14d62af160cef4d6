package dedup

import "github.com/siftdata/sift/recipe"

var _ recipe.FileSpec = SimhashSpec{}

// Files names the saved indexes the stage reads and writes, so a run
// refuses to start when one is also an input or another output.
func (s SimhashSpec) Files() []recipe.FileUse {
	var u []recipe.FileUse
	if s.Reference != "" {
		u = append(u, recipe.FileUse{Key: "reference", Path: s.Reference})
	}
	if s.Save != "" {
		u = append(u, recipe.FileUse{Key: "save", Path: s.Save, Write: true})
	}
	return u
}

package clean

import "github.com/siftdata/sift/recipe"

var _ recipe.FileSpec = PIISpec{}

// Files names the findings file the stage writes, so a run refuses to
// start when it is also an input or another output.
func (s PIISpec) Files() []recipe.FileUse {
	if s.Findings == "" {
		return nil
	}
	return []recipe.FileUse{{Key: "findings", Path: s.Findings, Write: true}}
}

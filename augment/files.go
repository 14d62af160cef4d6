package augment

import "github.com/siftdata/sift/recipe"

var _ recipe.FileSpec = SynonymsSpec{}

// Files names the thesaurus files the stage reads, so a run refuses to
// start when an output would replace one.
func (s SynonymsSpec) Files() []recipe.FileUse {
	var u []recipe.FileUse
	for _, p := range s.Thesaurus {
		if p != EnglishName {
			u = append(u, recipe.FileUse{Key: "thesaurus", Path: p})
		}
	}
	return u
}

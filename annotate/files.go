package annotate

import "github.com/siftdata/sift/recipe"

var (
	_ recipe.FileSpec = Spec{}
	_ recipe.FileSpec = FilterSpec{}
)

// Files names the label and rubric files the stage reads and the
// disagreement file it writes, so a run refuses to start when one of them
// is also an input or another output.
func (s Spec) Files() []recipe.FileUse {
	var u []recipe.FileUse
	if s.File != "" {
		u = append(u, recipe.FileUse{Key: "file", Path: s.File})
	}
	if s.Rubric.Path != "" {
		u = append(u, recipe.FileUse{Key: "rubric", Path: s.Rubric.Path})
	}
	if s.Disagreements != "" {
		u = append(u, recipe.FileUse{Key: "disagreements", Path: s.Disagreements, Write: true})
	}
	return u
}

// Files names the rubric file the stage reads, if any.
func (s FilterSpec) Files() []recipe.FileUse {
	if s.Rubric.Path == "" {
		return nil
	}
	return []recipe.FileUse{{Key: "rubric", Path: s.Rubric.Path}}
}

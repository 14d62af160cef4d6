package mining

import "github.com/siftdata/sift/recipe"

var _ recipe.FileSpec = Spec{}

// Files names the model, SentencePiece model or training corpus the stage
// reads, so a run refuses to start when an output would replace it.
func (s Spec) Files() []recipe.FileUse {
	var u []recipe.FileUse
	if s.Model != "" {
		u = append(u, recipe.FileUse{Key: "model", Path: s.Model})
	}
	if s.SentencePiece != "" {
		u = append(u, recipe.FileUse{Key: "sentencepiece", Path: s.SentencePiece})
	}
	if s.Train != nil && s.Train.Corpus != "" && s.Train.Corpus != "input" {
		u = append(u, recipe.FileUse{Key: "train.corpus", Path: s.Train.Corpus})
	}
	return u
}

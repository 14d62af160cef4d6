package augment

import (
	"bytes"
	_ "embed"
	"sync"
)

//go:generate go run ./internal/genthesaurus -wordnet /usr/share/wordnet -o data/english.txt

// englishData is derived from WordNet 3.0; see data/LICENSE-WordNet.
//
//go:embed data/english.txt
var englishData []byte

// English returns the embedded English thesaurus, derived from WordNet 3.0
// by [ReadWordNet] (licence: data/LICENSE-WordNet in this package). It is
// decoded on first use (about 25 ms) and shared: do not modify it.
var English = sync.OnceValue(func() *Thesaurus {
	t, err := ReadThesaurus(bytes.NewReader(englishData))
	if err != nil {
		panic("augment: embedded thesaurus is corrupt: " + err.Error())
	}
	return t
})

package augment

import (
	"slices"
	"strings"
	"testing"
)

func TestInflect(t *testing.T) {
	th := NewThesaurus()
	for _, e := range [][3]string{{"mice", "n", "mouse"}, {"has", "v", "have"}, {"stopped", "v", "stop"},
		{"stopping", "v", "stop"}, {"went", "v", "go"}, {"gone", "v", "go"}, {"taught", "v", "teach"}, {"bigger", "a", "big"}} {
		th.AddIrregular(e[0], POS(strings.Index(posLetters, e[1])), e[2])
	}
	for _, c := range []struct {
		w    string
		pos  POS
		kind inflection
		want string // "" when it must be skipped
	}{
		{"dog", Noun, plural, "dogs"}, {"box", Noun, plural, "boxes"}, {"city", Noun, plural, "cities"},
		{"day", Noun, plural, "days"}, {"radio", Noun, plural, "radios"}, {"glass", Noun, plural, "glasses"},
		{"mouse", Noun, plural, "mice"}, {"woman", Noun, plural, ""}, {"leaf", Noun, plural, ""},
		{"hero", Noun, plural, ""}, {"cactus", Noun, plural, ""}, {"crisis", Noun, plural, ""}, {"words", Noun, plural, ""},
		{"ft", Noun, plural, ""}, {"mi", Noun, plural, ""}, {"Dog", Noun, plural, ""}, {"hot dog", Noun, plural, ""}, {"mice", Noun, plural, ""},
		{"go", Verb, third, "goes"}, {"try", Verb, third, "tries"}, {"wash", Verb, third, "washes"}, {"have", Verb, third, "has"},
		{"walk", Verb, past, "walked"}, {"like", Verb, past, "liked"}, {"try", Verb, past, "tried"}, {"play", Verb, past, "played"},
		{"visit", Verb, past, "visited"}, {"stop", Verb, past, "stopped"}, {"grab", Verb, past, ""}, {"cut", Verb, past, "cut"},
		{"go", Verb, past, ""}, {"teach", Verb, past, "taught"},
		{"make", Verb, gerund, "making"}, {"die", Verb, gerund, "dying"}, {"agree", Verb, gerund, "agreeing"},
		{"stop", Verb, gerund, "stopping"}, {"grab", Verb, gerund, ""}, {"walk", Verb, gerund, "walking"},
		{"large", Adj, comparative, "larger"}, {"dry", Adj, comparative, "drier"}, {"fast", Adj, superlative, "fastest"},
		{"large", Adj, superlative, "largest"}, {"big", Adj, comparative, "bigger"}, {"thin", Adj, comparative, ""},
		{"beautiful", Adj, comparative, ""},
	} {
		t.Run(c.w+"/"+c.pos.String(), func(t *testing.T) {
			got, ok := th.inflect(c.w, c.pos, c.kind)
			if got != c.want || ok != (c.want != "") {
				t.Errorf("got %q, %v; want %q", got, ok, c.want)
			}
		})
	}
}

// An inflected word gets its lemma's synonyms inflected the same way,
// for the parts of speech its context allows.
func TestInflected(t *testing.T) {
	th := NewThesaurus()
	th.Add("dog", Noun, "hound", "canis familiaris")
	th.Add("dog", Verb, "chase")
	th.addGroup("cat", Noun, nil) // mostly a noun, without synonyms
	th.Add("cat", Verb, "vomit")
	th.Add("walk", Verb, "stroll")
	th.Add("go", Verb, "travel", "set out")
	th.AddIrregular("went", Verb, "go")
	th.Add("run", AnyPOS, "sprint") // TSV-like: no part of speech to inflect by
	for _, c := range []struct {
		w       string
		allowed uint8
		want    []string
	}{
		{"dogs", anyPOS, []string{"hounds"}},
		{"dogs", verbOnly, []string{"chases"}},
		{"cats", anyPOS, nil},
		{"cats", verbOnly, []string{"vomits"}},
		{"walked", anyPOS, []string{"strolled"}},
		{"walked", nounOrAdj, nil},
		{"walks", anyPOS, []string{"strolls"}},
		{"went", anyPOS, []string{"traveled"}}, // phrases are not inflected
		{"runs", anyPOS, nil},
		{"xyzzys", anyPOS, nil},
	} {
		if got := th.inflected(c.w, c.allowed); !slices.Equal(got, c.want) {
			t.Errorf("%s/%b: got %q, want %q", c.w, c.allowed, got, c.want)
		}
	}
	st := newStage(t, WithThesaurus(th), WithRatio(1), WithMinFit(-1), WithNouns(true))
	if got := augmentText(t, st, "id", "Dogs walked home; the dogs went."); len(got) != 1 || got[0] != "Hounds strolled home; the hounds traveled." {
		t.Errorf("stage: %q", got)
	}
}

package augment

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// triggerText returns random text dense in what spanRE matches: schemes,
// www., e-mail addresses, tags, white space of every kind and newlines.
func triggerText(rng *rand.Rand) string {
	pieces := []string{"http", "://", "www.", "WwW.", "w", ".", "@", "<", ">", "</a", "<b>", "a", "Z", "9", "-", "_",
		" ", "\t", "\r", "\n", "\f", "\v", "\"", "'", "`", ")", ",", "ſ", "K", "é", "x.org", "mail", "%", "+", "/"}
	var b strings.Builder
	for range rng.IntN(60) {
		b.WriteString(pieces[rng.IntN(len(pieces))])
	}
	return b.String()
}

func TestSpanMatchesIsTheRegexp(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 50000 {
		s := triggerText(rng)
		if got, want := spanMatches(s), spanRE.FindAllStringIndex(s, -1); !slices.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("%q: spanMatches %v, regexp %v", s, got, want)
		}
	}
}

func FuzzSpanMatches(f *testing.F) {
	for _, s := range []string{"see http://x.org/a, or <b>me</b>", "Www.a.b\nx@y.z <i\nj>", "a\tb@c.d\fwww.e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := spanMatches(s), spanRE.FindAllStringIndex(s, -1); !slices.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("%q: spanMatches %v, regexp %v", s, got, want)
		}
	})
}

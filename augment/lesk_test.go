package augment

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/siftdata/sift/seg"
)

func TestSensesRoundTrip(t *testing.T) {
	s, err := ReadWordNetSenses("testdata/wordnet", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.words["run"]) != 2 || len(s.sets) == 0 {
		t.Fatalf("run has %d senses, %d synsets in all; want 2 and more than 0", len(s.words["run"]), len(s.sets))
	}
	var buf bytes.Buffer
	if _, err := s.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := ReadSenses(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, back) {
		t.Errorf("senses do not read back as written")
	}
}

func TestReadSensesErrors(t *testing.T) {
	for _, in := range []string{
		"",
		"run 0:1\n",
		"# sift senses v1\n=run\n",
		"# sift senses v1\n=run\tmove\nrun 1:1\n",
		"# sift senses v1\n=run\tmove\nrun x\n",
		"# sift senses v1\nrun 0:1\n=run\tmove\n",
	} {
		if _, err := ReadSenses(strings.NewReader(in)); err == nil {
			t.Errorf("ReadSenses(%q): no error", in)
		}
	}
}

// TestSenseCheck checks the embedded senses on slots of the judged samples
// and their like: a synonym is refused where the words around the slot
// match the gloss of a sense it does not share.
func TestSenseCheck(t *testing.T) {
	th := English()
	s := englishSenses()
	for _, c := range []struct {
		text, word, syn string
		want            bool
	}{
		{"When you use GCC to compile a program, GCC may combine the runtime library", "compile", "collect", false},
		{"We compile the answers of every survey into one list.", "compile", "collect", false}, // compose
		{"She compiled evidence and money for years.", "compiled", "collected", true},
		{"The compiler compiles the source code of the program.", "compiles", "collects", false},
		{"The decision was reported on the radio news.", "reported", "described", true},
		{"He was granted permission to copy the software.", "granted", "given", true},
		{"Quickly, before the bus leaves!", "Quickly", "rapidly", true},
		{"an unknown zzyzx word", "zzyzx", "qqq", true},
	} {
		toks := (&scanner{th: th}).scan(0, c.text, seg.AppendWords(nil, c.text), nil)
		i := 0
		for i < len(toks) && c.text[toks[i].start:toks[i].end] != c.word {
			i++
		}
		if i == len(toks) {
			t.Fatalf("%q not in %q", c.word, c.text)
		}
		ctx := (&worker{}).leskContext([]string{c.text}, toks, i, nil)
		ss, _ := s.slotSenses(th, strings.ToLower(c.word), ctx, nil, nil)
		if got, _ := s.agree(th, ss, c.syn, nil); got != c.want {
			t.Errorf("%q: %s -> %s agrees %v, want %v (context %v)", c.text, c.word, c.syn, got, c.want, ctx)
		}
	}
}

// FuzzReadSenses: ReadSenses returns senses or an error, never panics, and
// what it returns writes and reads back the same.
func FuzzReadSenses(f *testing.F) {
	f.Add([]byte("# sift senses v1\n=run go\tgo move run\n=run operate\toper run work\nrun 0:3 1:1\n"))
	f.Add([]byte("# sift senses v1\n=\t\nx 0:0\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := ReadSenses(bytes.NewReader(in))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if _, err := s.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		back, err := ReadSenses(&buf)
		if err != nil {
			t.Fatalf("written senses do not read back: %v", err)
		}
		if len(back.sets) != len(s.sets) || len(back.words) != len(s.words) {
			t.Fatalf("read back %d synsets, %d lemmas; wrote %d, %d", len(back.sets), len(back.words), len(s.sets), len(s.words))
		}
	})
}

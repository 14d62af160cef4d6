package augment

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/internal/take"
	"github.com/siftdata/sift/seg"
)

// Op is an EDA operation (Wei & Zou, 2019).
type Op string

// The operations. Each copy applies one of them, chosen at random, to n =
// ratio × words words.
const (
	Replace Op = "synonym" // replace n words by a synonym
	Insert  Op = "insert"  // insert a synonym of a word of the text at n random places
	Swap    Op = "swap"    // swap n pairs of words
	Delete  Op = "delete"  // delete n words
)

// MetaAugmentedFrom is the meta key holding the source row id of a copy.
const MetaAugmentedFrom = "augmented_from"

// Synonyms adds EDA-style augmented copies of rows: synonym replacement
// and, opt-in, random insertion, swap and deletion. Copy k of a row has id
// "<id>#aug<k>" and meta augmented_from; it follows its source row (or
// replaces it, without keep_original). A copy identical to its source or
// to an earlier copy is not emitted.
//
// Protected spans are never changed and nothing is inserted inside them:
// fenced and inline code, URLs, e-mail addresses, tags and PII placeholders
// (<EMAIL>, <PHONE:…>), numbers and words with digits or other non-letters,
// ALL-CAPS and mixed-case words, capitalised words inside a sentence
// (names), stopwords, single ideographs, and words glued to code-like
// characters (snake_case, paths, f(x), hyphenated compounds). Everything
// but the edited words stays byte-identical; replacements keep the case of
// the word they replace. A word that is not a headword but an inflection
// of one ("dogs", "went") gets its lemma's synonyms in the same form
// ("hounds", "travelled"); synonyms that cannot be inflected confidently
// are skipped. Nouns are not replaced unless [WithNouns] allows it, and a
// slot whose synonyms fit its neighbours worse than the word, or below an
// absolute floor, is skipped ([WithFitGain], [WithMinFit], [WithFitFloor]),
// and so is a synonym of a sense the words around the slot do not point to
// ([WithSenseCheck]),
// so the share of changed words may fall far below ratio and many rows get
// no copy (issue 15: a slot is skipped rather than given a poor synonym).
//
// The randomness of a copy derives only from (seed, row id, copy index,
// attempt),
// so output does not depend on workers, batch size or row position.
type Synonyms struct {
	th      *Thesaurus
	ratio   float64
	copies  int
	keep    bool
	ops     []Op
	seed    uint64
	roles   sift.Roles
	phrases bool
	minFit  float64
	gain    float64
	floor   float64
	nouns   bool
	lesk    bool
	senses  *Senses
	fit     *fitModel
	// loaded is closed when th, senses and fit are set: NewSynonyms loads
	// them (a few tenths of a second of parsing embedded data) in the
	// background, so that a run reads and deduplicates its first batches
	// meanwhile. Process and Text wait for it.
	loaded chan struct{}
	// idle keeps workers between batches, with their memos: one per
	// concurrent Process call at most. Unlike a sync.Pool it survives
	// garbage collection, which would empty the memos every few batches.
	idle *idleWorkers
}

var _ sift.Stage = (*Synonyms)(nil)

// Option configures a [Synonyms] stage.
type Option func(*Synonyms)

// WithThesaurus sets the thesaurus (default [English]).
func WithThesaurus(t *Thesaurus) Option { return func(s *Synonyms) { s.th = t } }

// WithRatio sets α, the share of a row's words each copy changes
// (default 0.1).
func WithRatio(r float64) Option { return func(s *Synonyms) { s.ratio = r } }

// WithCopies sets the number of augmented copies per row (default 1).
func WithCopies(n int) Option { return func(s *Synonyms) { s.copies = n } }

// WithKeepOriginal sets whether source rows stay in the output (default
// true). Without, a row with at least one copy is rejected with reason
// "augmented"; a row without copies is kept.
func WithKeepOriginal(b bool) Option { return func(s *Synonyms) { s.keep = b } }

// WithOps sets the operations copies draw from (default Replace).
func WithOps(ops ...Op) Option { return func(s *Synonyms) { s.ops = ops } }

// WithSeed sets the seed (default 0).
func WithSeed(seed uint64) Option { return func(s *Synonyms) { s.seed = seed } }

// WithRoles sets which conversation turns are augmented (default user and
// system). Text rows are always augmented.
func WithRoles(r sift.Roles) Option { return func(s *Synonyms) { s.roles = r } }

// WithPhrases allows multi-word synonyms ("look into") (default false).
func WithPhrases(b bool) Option { return func(s *Synonyms) { s.phrases = b } }

// WithNouns allows replacing nouns (default false). WordNet's noun
// synonyms are nearly always another sense or a narrower word in running
// text ("files" → "registers", "purpose" → "intention", "technology" →
// "engineering"): in the judged samples only 26 of 134 noun substitutions
// were fine. By default the noun entries of a thesaurus with parts of
// speech (WordNet) give no synonyms, and the changed share falls short of
// the ratio accordingly. Entries without a part of speech are not affected.
func WithNouns(b bool) Option { return func(s *Synonyms) { s.nouns = b } }

// WithMinFit sets how much worse, in log10 probability of the words around
// it, a synonym may fit its slot than the word it replaces, before
// [WithFitGain] is asked (default 0; negative switches the check off). A
// slot whose best synonym falls short is skipped (counter skip_low_fit) and
// another slot is tried, so a copy may change fewer words than ratio asks.
// The check uses an English bigram model embedded in the package;
// ideographic words are not checked.
func WithMinFit(d float64) Option { return func(s *Synonyms) { s.minFit = d } }

// WithFitGain sets how much better, in log10 probability of the words
// around it, a synonym must fit its slot than the word it replaces, less
// [WithMinFit] (default 0): the bar is the word's fit + gain − minFit.
// Replaying the judged samples, asking 0.5 more raised the fine share of
// the substitutions kept from 74 % to 79 % at the cost of 37 % of them,
// but on fresh samples the same rules were 68 % fine with 0.5 and 72 %
// with 0: the gain is not shown to help, and 0.5 cuts the changed share
// by a third (docs/augment.md).
func WithFitGain(g float64) Option { return func(s *Synonyms) { s.gain = g } }

// WithFitFloor sets the least log10 probability of the words around it,
// log10 p(synonym | previous word) + log10 p(next word | synonym), with
// which a synonym fits its slot (default -5.5), whatever the word itself
// scores. A synonym the context model finds unlikely there is most often
// another sense of the word or a rare word ("plainly marking" →
// "obviously", "youthful" → "vernal"); a slot without one that fits is
// skipped (skip_low_fit). With -6, a fresh judged sample was 76 % fine
// against 72 % without a floor, at the cost of three quarters of the
// copies: 961 instead of 3,758 on the fortunes at ratio 0.1; with -5.5 and
// [WithSenseCheck], 82 % and 598 copies (docs/augment.md). A very low
// floor (-100) switches it off; a negative [WithMinFit] switches off the
// whole check.
func WithFitFloor(f float64) Option { return func(s *Synonyms) { s.floor = f } }

// WithSenseCheck sets whether a synonym must agree with the sense the
// words around the slot point to (default true): a synonym is not drawn if
// a sense of the word it does not share overlaps the ten words either side
// of the slot, by the stems of its WordNet gloss, example sentences and
// members, more than the senses it shares (simplified Lesk). It applies to
// English words WordNet knows, whatever the thesaurus. On the judged slots
// of earlier samples it raised the fine share from 83 % to 85 % at the
// floor -6 (88 % to 89 % at -5.5); a fresh sample with it and -5.5 was
// 82 % fine (docs/augment.md).
func WithSenseCheck(b bool) Option { return func(s *Synonyms) { s.lesk = b } }

// NewSynonyms returns the stage, or an error naming a bad option.
func NewSynonyms(opts ...Option) (*Synonyms, error) {
	s := &Synonyms{ratio: 0.1, copies: 1, keep: true, ops: []Op{Replace}, roles: sift.RoleUser | sift.RoleSystem, minFit: 0, gain: defaultFitGain, floor: defaultFitFloor, lesk: true}
	for _, o := range opts {
		o(s)
	}
	switch {
	case !(s.ratio > 0 && s.ratio <= 1):
		return nil, fmt.Errorf("ratio: %v is not in (0, 1]", s.ratio)
	case s.copies < 1 || s.copies > 1000:
		return nil, fmt.Errorf("copies: %d is not in [1, 1000]", s.copies)
	case len(s.ops) == 0:
		return nil, fmt.Errorf("ops: empty")
	case s.roles == 0:
		return nil, fmt.Errorf("roles: empty")
	}
	for _, op := range s.ops {
		if op != Replace && op != Insert && op != Swap && op != Delete {
			return nil, fmt.Errorf("ops: %q is not one of synonym, insert, swap, delete", op)
		}
	}
	s.idle = &idleWorkers{}
	s.loaded = make(chan struct{})
	go func() {
		defer close(s.loaded)
		if s.th == nil {
			s.th = English()
		}
		s.th = s.th.stageView(s.nouns)
		if s.minFit >= 0 {
			s.fit = englishFit()
		}
		if s.lesk {
			s.senses = englishSenses()
		}
	}()
	return s, nil
}

// defaultFitGain is the default of [WithFitGain].
const defaultFitGain = 0.0

// defaultFitFloor is the default of [WithFitFloor].
const defaultFitFloor = -5.5

// tries is how many draws a copy gets before it counts as no_change or
// duplicate_copy.
const tries = 4

// outRow is one output row: input row src, as is (k 0) or as copy k with
// new texts for the parts msgs (-1 for a text row).
type outRow struct {
	src, k int
	msgs   []int
	texts  []string
}

// Process emits each row followed by its augmented copies. b.Rec is
// borrowed; the result is owned by the caller. Counters: copies,
// no_change, duplicate_copy, and over the emitted copies words,
// words_changed, skip_protected (words no operation may replace, move or
// delete), skip_no_synonym (words that could be replaced but have no
// synonym) and skip_low_fit (slots tried and skipped because no synonym
// fits the words around them; see [WithMinFit]).
func (s *Synonyms) Process(ctx context.Context, b *sift.Batch) (arrow.RecordBatch, error) {
	<-s.loaded
	v := b.TextView(s.roles)
	ids := v.Cols().ID
	w := s.idle.get(s)
	defer s.idle.put(w)
	clear(w.ids) // its keys may alias the last batch's memory
	var out []outRow
	var msgs []int
	var parts []string
	var toks []token
	nCopies := 0
	for row := range int(b.Rec.NumRows()) {
		msgs, parts, toks = msgs[:0], parts[:0], toks[:0]
		v.PartWords(row, func(msg int, text string, words []seg.Segment) {
			toks = w.sc.scan(len(parts), text, words, toks)
			msgs = append(msgs, msg)
			parts = append(parts, text)
		})
		w.newRow(len(toks))
		first := len(out)
		if s.keep {
			out = append(out, outRow{src: row})
		}
		id := ids.Value(row)
		for k := 1; k <= s.copies; k++ {
			var texts []string
			changed, dup := 0, false
			// A draw that changes nothing or repeats an earlier copy is
			// retried with the next attempt number, a few times.
			for try := 0; try < tries; try++ {
				texts, changed = w.augment(id, k, try, parts, toks)
				dup = texts != nil && slices.ContainsFunc(out[first:], func(o outRow) bool { return slices.Equal(o.texts, texts) })
				if texts != nil && !dup {
					break
				}
			}
			switch {
			case texts == nil:
				b.Count("no_change", 1)
				continue
			case dup:
				b.Count("duplicate_copy", 1)
				continue
			}
			out = append(out, outRow{src: row, k: k, msgs: slices.Clone(msgs), texts: texts})
			b.Count("words", int64(len(toks)))
			b.Count("words_changed", int64(changed))
			protected, noSyn := skips(toks)
			b.Count("skip_protected", protected)
			b.Count("skip_no_synonym", noSyn)
			b.Count("skip_low_fit", int64(w.lowFit))
		}
		made := len(out) - first
		if s.keep {
			made--
		}
		switch {
		case made == 0 && !s.keep:
			out = append(out, outRow{src: row})
		case made > 0 && !s.keep:
			b.Reject(row, "augmented", fmt.Sprintf("replaced by %d augmented copies", made))
		}
		nCopies += made
	}
	if nCopies == 0 {
		return b.Pass(), nil
	}
	b.Add(nCopies)
	b.Count("copies", int64(nCopies))
	return s.build(ctx, b, out)
}

// skips returns how many of toks no replacement may touch (protected
// spans, names, stopwords, number words, negations, short words) and how
// many could be replaced but have no synonym.
func skips(toks []token) (protected, noSyn int64) {
	for i := range toks {
		switch {
		case toks[i].role != free:
			protected++
		case len(toks[i].syns) == 0:
			noSyn++
		}
	}
	return protected, noSyn
}

// Text returns one augmented copy of text for one-off use, made as the
// stage makes copy 1 of a row with an empty id, but with seed in place of
// the stage's seed; text itself if no draw changes it. It is safe for
// concurrent use.
func (s *Synonyms) Text(text string, seed uint64) string {
	<-s.loaded
	c := *s
	c.seed = seed
	w := &worker{s: &c, sc: scanner{th: s.th, phrases: s.phrases}}
	parts := []string{text}
	toks := w.sc.scan(0, text, seg.AppendWords(nil, text), nil)
	w.newRow(len(toks))
	for try := range tries {
		if texts, _ := w.augment("", 1, try, parts, toks); texts != nil {
			return texts[0]
		}
	}
	return text
}

// build returns the output rows: the input rows in order (every column,
// including any stages added), then the copies' ids, meta and texts
// rewritten. The unified columns are written once, straight from the
// input; only the others are taken.
func (s *Synonyms) build(ctx context.Context, b *sift.Batch, out []outRow) (arrow.RecordBatch, error) {
	c := sift.ColsOf(b.Rec)
	n := len(out)
	cols := make([]arrow.Array, b.Rec.NumCols())
	defer func() {
		for _, a := range cols {
			if a != nil {
				a.Release()
			}
		}
	}()

	// Every copy has new text: in its text for a text row, in its
	// turns' contents for a conversation.
	tb := array.NewStringBuilder(b.Mem)
	defer tb.Release()
	tb.Reserve(n)
	size, convCopies := 0, false
	for _, o := range out {
		size += c.Text.ValueLen(o.src)
		convCopies = convCopies || o.k > 0 && c.Messages.IsValid(o.src)
	}
	tb.ReserveData(size)
	for _, o := range out {
		switch i := slices.Index(o.msgs, -1); {
		case !c.Text.IsValid(o.src):
			tb.AppendNull()
		case o.k > 0 && i >= 0 && !c.Messages.IsValid(o.src):
			tb.Append(o.texts[i])
		default:
			tb.Append(c.Text.Value(o.src))
		}
	}
	cols[colIndex(sift.ColText)] = tb.NewArray()

	rows := make([]int, len(out))
	for i, o := range out {
		rows[i] = o.src
	}
	takeCol := func(i int) error {
		a, err := take.Array(ctx, b.Mem, b.Rec.Column(i), rows)
		if err != nil {
			return fmt.Errorf("augment: take %s: %w", b.Rec.ColumnName(i), err)
		}
		cols[i] = a
		return nil
	}
	mi := colIndex(sift.ColMessages)
	if convCopies {
		cols[mi] = buildMessages(b, c, out)
	} else if err := takeCol(mi); err != nil {
		return nil, err
	}

	idb, mb := array.NewStringBuilder(b.Mem), array.NewStringBuilder(b.Mem)
	defer idb.Release()
	defer mb.Release()
	var buf []byte
	for _, o := range out {
		id := c.ID.Value(o.src)
		if o.k == 0 {
			idb.Append(id)
			if c.Meta.IsValid(o.src) {
				mb.Append(c.Meta.Value(o.src))
			} else {
				mb.AppendNull()
			}
			continue
		}
		idb.Append(id + "#aug" + strconv.Itoa(o.k))
		meta := ""
		if c.Meta.IsValid(o.src) {
			meta = c.Meta.Value(o.src)
		}
		buf = withAugmentedFrom(buf[:0], meta, id)
		mb.BinaryBuilder.Append(buf)
	}
	cols[colIndex(sift.ColID)] = idb.NewArray()
	cols[colIndex(sift.ColMeta)] = mb.NewArray()
	for i := range cols {
		if cols[i] == nil {
			if err := takeCol(i); err != nil {
				return nil, err
			}
		}
	}
	return array.NewRecordBatch(b.Rec.Schema(), cols, int64(n)), nil
}

// buildMessages returns the messages column of the output rows, the
// contents of copies' turns replaced, every turn a valid struct (as
// [sift.RewriteText] writes them).
func buildMessages(b *sift.Batch, c sift.Cols, out []outRow) arrow.Array {
	lb := array.NewListBuilderWithField(b.Mem, arrow.Field{Name: "item", Type: sift.MessageType, Nullable: true})
	defer lb.Release()
	sb := lb.ValueBuilder().(*array.StructBuilder)
	rb, cb := sb.FieldBuilder(0).(*array.StringBuilder), sb.FieldBuilder(1).(*array.StringBuilder)
	for _, o := range out {
		if !c.Messages.IsValid(o.src) {
			lb.AppendNull()
			continue
		}
		lb.Append(true)
		start, end := c.Messages.ValueOffsets(o.src)
		for j := int(start); j < int(end); j++ {
			sb.Append(true)
			if c.Role.IsValid(j) {
				rb.Append(c.Role.Value(j))
			} else {
				rb.AppendNull()
			}
			content := c.Content.Value(j)
			if i := slices.Index(o.msgs, j-int(start)); o.k > 0 && i >= 0 {
				content = o.texts[i]
			}
			cb.Append(content)
		}
	}
	return lb.NewArray()
}

func colIndex(name string) int { return sift.Schema.FieldIndices(name)[0] }

// withAugmentedFrom appends meta, a JSON object text ("" for none), with
// key augmented_from set to id (replacing an earlier value: copies of
// copies point at their direct source).
func withAugmentedFrom(dst []byte, meta, id string) []byte {
	meta = strings.TrimSpace(meta)
	if strings.Contains(meta, `"`+MetaAugmentedFrom+`"`) {
		meta = withoutKey(meta, MetaAugmentedFrom)
	}
	body := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(meta, "{"), "}"))
	dst = append(dst, '{')
	if body != "" {
		dst = append(dst, body...)
		dst = append(dst, ',')
	}
	dst = append(dst, `"`+MetaAugmentedFrom+`":`...)
	dst = sift.AppendJSONString(dst, id)
	return append(dst, '}')
}

// withoutKey returns the JSON object text obj without top-level key, the
// other members in order. Text that is not an object comes back as is.
func withoutKey(obj, key string) string {
	dec := json.NewDecoder(strings.NewReader(obj))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return obj
	}
	var out bytes.Buffer
	out.WriteByte('{')
	for dec.More() {
		t, err := dec.Token()
		var raw json.RawMessage
		if err != nil || dec.Decode(&raw) != nil {
			return obj
		}
		k, _ := t.(string)
		if k == key {
			continue
		}
		if out.Len() > 1 {
			out.WriteByte(',')
		}
		kj, _ := json.Marshal(k)
		out.Write(kj)
		out.WriteByte(':')
		out.Write(raw)
	}
	out.WriteByte('}')
	return out.String()
}

// idleWorkers are the workers of a stage not in use.
type idleWorkers struct {
	mu sync.Mutex
	ws []*worker
}

func (p *idleWorkers) get(s *Synonyms) *worker {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.ws); n > 0 {
		w := p.ws[n-1]
		p.ws = p.ws[:n-1]
		return w
	}
	return &worker{s: s, sc: scanner{th: s.th, phrases: s.phrases}}
}

func (p *idleWorkers) put(w *worker) {
	p.mu.Lock()
	p.ws = append(p.ws, w)
	p.mu.Unlock()
}

// worker holds the per-call buffers and random source.
type worker struct {
	s     *Synonyms
	sc    scanner
	pcg   rand.PCG
	pick  []int
	slots []int
	cur   []string
	edits []edit
	// lowFit counts the slots the last augment call skipped for fit.
	lowFit int
	scores []float32
	// fits caches, per token of the current row, which synonyms fit
	// (indexes into syns, in good[off:off+n]): the copies and attempts of
	// a row score each slot once.
	fits []slotFit
	good []int32
	// ids memoises the fit model's ids of the batch's words that the
	// scanner has no wordInfo of: a look-up in the model's vocabulary
	// costs more than one in a map.
	ids  map[string]wordID
	memo fitMemo
	// ctx, lemmas and senses are buffers of the sense check, ctx and
	// senses for the slot being scored (ctxDone); stems memoises leskStem.
	ctx, lemmas []string
	senses      []senseOverlap
	ctxDone     bool
	stems       map[string]string
}

// wordID is a word's id in the fit model and its rare-word penalty.
type wordID struct {
	id  uint32
	pen float32
}

// maxIDs bounds w.ids.
const maxIDs = 1 << 16

// wordID returns the fit model's id of the word (any case).
func (w *worker) wordID(word string) wordID {
	if e, ok := w.ids[word]; ok {
		return e
	}
	id, pen := w.s.fit.id(strings.ToLower(word))
	if w.ids == nil || len(w.ids) >= maxIDs {
		w.ids = make(map[string]wordID, 1024)
	}
	w.ids[word] = wordID{id, pen}
	return wordID{id, pen}
}

// wordFit returns the fit model's ids of e and its synonyms.
func (w *worker) wordFit(e *wordInfo) *wordFit {
	if e.fit == nil {
		id, pen := w.s.fit.id(e.lower)
		e.fit = &wordFit{id: wordID{id, pen}}
	}
	return e.fit
}

// tokenID returns the fit model's id of the word of t in part s.
func (w *worker) tokenID(s string, t *token) uint32 {
	if t.word != nil {
		return w.wordFit(t.word).id.id
	}
	return w.wordID(s[t.start:t.end]).id
}

// synonymIDs returns the fit model's ids of the synonyms of t, a free
// token.
func (w *worker) synonymIDs(t *token) []wordID {
	f := w.wordFit(t.word)
	if f.have&(1<<t.slot) == 0 {
		ids := make([]wordID, len(t.syns))
		for k, s := range t.syns {
			ids[k].id, ids[k].pen = w.s.fit.id(strings.ToLower(s))
		}
		f.syns[t.slot] = ids
		f.have |= 1 << t.slot
	}
	return f.syns[t.slot]
}

// slotFit is the cached fit of a slot: not yet scored, or the synonyms
// that fit (none: skip the slot).
type slotFit struct {
	scored bool
	// good[off:off+n] fit within fitMargin of the best, good[off+n:off+all]
	// within minFit of the word itself.
	off, n, all int32
}

// newRow resets the fit cache for a row of n tokens.
func (w *worker) newRow(n int) {
	w.fits = slices.Grow(w.fits[:0], n)[:n]
	clear(w.fits)
	w.good = w.good[:0]
}

// edit replaces text[start:end] of part with repl.
type edit struct {
	part, start, end int
	repl             string
}

// seedCopy seeds the random source from (seed, id, k, try) alone, with
// FNV-1a.
func (w *worker) seedCopy(id string, k, try int) {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	for i := range 8 {
		h = (h ^ (w.s.seed >> (8 * i) & 0xff)) * prime
	}
	for i := range len(id) {
		h = (h ^ uint64(id[i])) * prime
	}
	h = (h ^ 0xff) * prime // separator: id bytes are never 0xff in UTF-8
	for i := range 4 {
		h = (h ^ uint64(k>>(8*i)&0xff)) * prime
	}
	h = (h ^ uint64(try)) * prime
	w.pcg.Seed(h, h*0x9e3779b97f4a7c15+1)
}

// intn returns a uniform int in [0, n) (Lemire's multiply-shift; the bias,
// below n/2^64, does not matter here).
func (w *worker) intn(n int) int {
	hi, _ := bits.Mul64(w.pcg.Uint64(), uint64(n))
	return int(hi)
}

// augment returns attempt try at copy k of the row with the given parts
// and tokens, and how many words it changed; nil if it changed nothing.
// w.newRow must have been called for the row's tokens.
func (w *worker) augment(id string, k, try int, parts []string, toks []token) ([]string, int) {
	if len(toks) == 0 {
		return nil, 0
	}
	w.seedCopy(id, k, try)
	op := w.s.ops[w.intn(len(w.s.ops))]
	x := w.s.ratio * float64(len(toks))
	n := int(x)
	if float64(w.pcg.Uint64()>>11)/(1<<53) < x-float64(n) {
		n++ // stochastic rounding keeps the expected count at ratio × words
	}
	n = max(n, 1)
	w.edits = w.edits[:0]
	w.lowFit = 0
	changed := 0
	switch op {
	case Replace:
		// Slots are tried in random order until n are replaced; a slot
		// whose synonyms all fit badly is skipped.
		c := w.collect(toks, func(t *token) bool { return len(t.syns) > 0 })
		for i := 0; i < len(c) && changed < n; i++ {
			j := i + w.intn(len(c)-i)
			c[i], c[j] = c[j], c[i]
			t := &toks[c[i]]
			syn, ok := w.pickSynonym(parts, toks, c[i], try > 0)
			if !ok {
				w.lowFit++
				continue
			}
			w.edits = append(w.edits, w.replacement(parts, toks, c[i], withShape(syn, t.shape)))
			changed++
		}
	case Insert:
		cand := w.collect(toks, func(t *token) bool { return len(t.syns) > 0 })
		w.slots = w.slots[:0]
		for i := range toks {
			if toks[i].role != fixed {
				w.slots = append(w.slots, i)
			}
		}
		for range n {
			if len(cand) == 0 {
				break
			}
			src := &toks[cand[w.intn(len(cand))]]
			syn := src.syns[w.intn(len(src.syns))]
			same := w.partRange(toks, w.slots, src.part)
			at := &toks[same[w.intn(len(same))]]
			sep := " "
			if at.ideo && isIdeoWord(syn) {
				sep = ""
			}
			w.edits = append(w.edits, edit{at.part, at.end, at.end, sep + syn})
			changed++
		}
	case Swap:
		free := w.collect(toks, func(t *token) bool { return t.role == free })
		w.cur = w.cur[:0]
		for i := range toks {
			w.cur = append(w.cur, strings.ToLower(parts[toks[i].part][toks[i].start:toks[i].end]))
		}
		for range n {
			if len(free) < 2 {
				break
			}
			i := free[w.intn(len(free))]
			same := w.partRange(toks, free, toks[i].part)
			j := same[w.intn(len(same))]
			w.cur[i], w.cur[j] = w.cur[j], w.cur[i]
		}
		for _, i := range free {
			t := &toks[i]
			if old := parts[t.part][t.start:t.end]; !strings.EqualFold(w.cur[i], old) {
				w.edits = append(w.edits, edit{t.part, t.start, t.end, withShape(w.cur[i], t.shape)})
				changed++
			}
		}
	case Delete:
		cand := w.choose(toks, min(n, len(toks)-1), func(t *token) bool { return t.role == free })
		for _, i := range cand {
			t := &toks[i]
			start, end := deletionRange(parts[t.part], t.start, t.end)
			w.edits = append(w.edits, edit{t.part, start, end, ""})
		}
		changed = len(cand)
	}
	if changed == 0 {
		return nil, 0
	}
	return w.apply(parts), changed
}

// replacement returns the edit replacing token i by repl, with the article
// before it ("a", "an") made to agree with repl's first sound: "a
// nonsexual" → "an asexual", not "a asexual".
func (w *worker) replacement(parts []string, toks []token, i int, repl string) edit {
	t := &toks[i]
	if i == 0 || toks[i-1].part != t.part || toks[i-1].word == nil {
		return edit{t.part, t.start, t.end, repl}
	}
	a := &toks[i-1]
	s := parts[t.part]
	art := a.word.lower
	if art != "a" && art != "an" || !blanks(s[a.end:t.start]) || (art == "an") == anSound(repl) {
		return edit{t.part, t.start, t.end, repl}
	}
	art = "a"
	if anSound(repl) {
		art = "an"
	}
	if s[a.start] == 'A' { // "A", whose shape says nothing of "An" or "AN"
		art = "A" + art[1:]
	}
	return edit{t.part, a.start, t.end, art + s[a.end:t.start] + repl}
}

// anSound reports whether "an" goes before w: w starts with a vowel sound,
// by its first letter, except for the common words whose first letter
// sounds otherwise ("an hour", "a university", "a one").
func anSound(w string) bool {
	w = strings.ToLower(w)
	for _, p := range [...]string{"hour", "honest", "honor", "honour", "heir"} {
		if strings.HasPrefix(w, p) {
			return true
		}
	}
	for _, p := range [...]string{"uni", "use", "usu", "uti", "ura", "ure", "eu", "ewe", "one", "once", "ubiq", "uk"} {
		if strings.HasPrefix(w, p) {
			return false
		}
	}
	return w != "" && strings.IndexByte("aeiou", w[0]) >= 0
}

// fitMargin is how far below the best-fitting synonym of a slot, in log10
// probability, another may fit and still be drawn: a little variety
// between copies without taking poor fits.
const fitMargin = 0.5

// pickSynonym returns a synonym for token i: without a fit model one drawn
// at random; with one, one drawn from those fitting the neighbouring words
// nearly as well as the best, if the best fits at most minFit worse than
// the word itself.
//
// A retry (wide) draws from every synonym within minFit of the word: a
// row with few slots that fit would otherwise repeat its first copy.
func (w *worker) pickSynonym(parts []string, toks []token, i int, wide bool) (string, bool) {
	t := &toks[i]
	if w.s.fit == nil || t.ideo {
		return t.syns[w.intn(len(t.syns))], true
	}
	if !w.fits[i].scored {
		w.scoreSlot(parts, toks, i)
	}
	sf := w.fits[i]
	if sf.n == 0 {
		return "", false
	}
	n := sf.n
	if wide {
		n = sf.all
	}
	return t.syns[w.good[int(sf.off)+w.intn(int(n))]], true
}

// scoreSlot fills w.fits[i]: the synonyms of token i that fit the words
// around it within fitMargin of the best, none if the best fits more than
// minFit worse than the word itself.
func (w *worker) scoreSlot(parts []string, toks []token, i int) {
	t := &toks[i]
	f := w.s.fit
	prev, next := noWord, noWord
	if i > 0 && toks[i-1].part == t.part {
		prev = w.tokenID(parts[t.part], &toks[i-1])
	}
	if i+1 < len(toks) && toks[i+1].part == t.part {
		next = w.tokenID(parts[t.part], &toks[i+1])
	}
	word := parts[t.part][t.start:t.end]
	orig := w.memo.score(f, prev, w.wordFit(t.word).id, next)
	best := float32(-1e9)
	scores := w.scores[:0]
	ly := strings.HasSuffix(word, "ly")
	w.ctxDone = false
	floor := max(float32(float64(orig)+w.s.gain-w.s.minFit), float32(w.s.floor))
	for k, id := range w.synonymIDs(t) {
		sc := float32(-1e9)
		if !ly || strings.HasSuffix(t.syns[k], "ly") { // "slowly" → "slow", "quickly" → "quick": colloquial adverbs
			sc = w.memo.score(f, prev, id, next)
		}
		if sc >= floor && sc > -1e8 && w.s.senses != nil && !w.agrees(parts, toks, i, t.syns[k]) {
			sc = -1e9
		}
		scores = append(scores, sc)
		best = max(best, sc)
	}
	w.scores = scores
	sf := slotFit{scored: true, off: int32(len(w.good))}
	if best >= floor && best > -1e8 {
		near := max(best-fitMargin, floor) // drawn synonyms all fit within minFit
		for k, sc := range scores {
			if sc >= near {
				w.good = append(w.good, int32(k))
			}
		}
		sf.n = int32(len(w.good)) - sf.off
		for k, sc := range scores {
			if sc < near && sc >= floor {
				w.good = append(w.good, int32(k))
			}
		}
	}
	sf.all = int32(len(w.good)) - sf.off
	w.fits[i] = sf
}

// agrees reports whether syn agrees with the sense of token i that the
// words around it point to (Senses.agree).
func (w *worker) agrees(parts []string, toks []token, i int, syn string) bool {
	if !w.ctxDone {
		w.ctxDone = true
		w.ctx = w.leskContext(parts, toks, i, w.ctx[:0])
		w.senses = w.senses[:0]
		if len(w.ctx) > 0 {
			w.senses, w.lemmas = w.s.senses.slotSenses(w.s.th, toks[i].word.lower, w.ctx, w.lemmas, w.senses)
		}
	}
	if len(w.senses) == 0 {
		return true
	}
	ok, buf := w.s.senses.agree(w.s.th, w.senses, strings.ToLower(syn), w.lemmas)
	w.lemmas = buf
	return ok
}

// collect returns the indexes of the tokens ok accepts, in w.pick.
func (w *worker) collect(toks []token, ok func(*token) bool) []int {
	w.pick = w.pick[:0]
	for i := range toks {
		if ok(&toks[i]) {
			w.pick = append(w.pick, i)
		}
	}
	return w.pick
}

// choose returns up to n distinct random tokens ok accepts, in text order.
func (w *worker) choose(toks []token, n int, ok func(*token) bool) []int {
	c := w.collect(toks, ok)
	n = min(n, len(c))
	for i := range n { // partial Fisher-Yates
		j := i + w.intn(len(c)-i)
		c[i], c[j] = c[j], c[i]
	}
	c = c[:n]
	slices.Sort(c)
	return c
}

// partRange returns the sub-slice of idx (token indexes in text order) in
// part p.
func (w *worker) partRange(toks []token, idx []int, p int) []int {
	lo := sort.Search(len(idx), func(i int) bool { return toks[idx[i]].part >= p })
	hi := sort.Search(len(idx), func(i int) bool { return toks[idx[i]].part > p })
	return idx[lo:hi]
}

// deletionRange widens the word s[start:end] to take one side's spaces or
// tabs with it, the ones before it unless they start the line.
func deletionRange(s string, start, end int) (int, int) {
	i := start
	for i > 0 && (s[i-1] == ' ' || s[i-1] == '\t') {
		i--
	}
	if i < start && i > 0 && s[i-1] != '\n' {
		return i, end
	}
	j := end
	for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
		j++
	}
	return start, j
}

// apply returns the parts with w.edits made, or nil if they are all
// unchanged. Edits are applied in text order; an edit overlapping an
// earlier one (two deletions wanting the same space) is clipped.
func (w *worker) apply(parts []string) []string {
	slices.SortStableFunc(w.edits, func(a, b edit) int {
		return cmp.Or(cmp.Compare(a.part, b.part), cmp.Compare(a.start, b.start), cmp.Compare(a.end, b.end))
	})
	out := slices.Clone(parts)
	var sb strings.Builder
	same := true
	for e := 0; e < len(w.edits); {
		p := w.edits[e].part
		s := parts[p]
		sb.Reset()
		sb.Grow(len(s) + 16)
		pos := 0
		for ; e < len(w.edits) && w.edits[e].part == p; e++ {
			ed := w.edits[e]
			start := max(ed.start, pos)
			sb.WriteString(s[pos:start])
			sb.WriteString(ed.repl)
			pos = max(ed.end, pos)
		}
		sb.WriteString(s[pos:])
		if sb.String() != s {
			out[p] = sb.String()
			same = false
		}
	}
	if same {
		return nil
	}
	return out
}

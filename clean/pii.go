package clean

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/dataset"
	"github.com/siftdata/sift/recipe"
)

// Operator is what the PII redactor does with a detected value.
type Operator string

// Operators.
const (
	OpReplace Operator = "replace"  // a tag such as <EMAIL>
	OpMask    Operator = "mask"     // letters and digits become '*', except the last 4 (none of a secret)
	OpHash    Operator = "hash"     // a keyed pseudonym such as <EMAIL:1a2b3c4d> (HMAC-SHA256)
	OpRemove  Operator = "remove"   // deleted
	OpDropRow Operator = "drop_row" // the row is rejected with reason "pii_<entity>"
)

func (o Operator) valid() bool {
	switch o {
	case OpReplace, OpMask, OpHash, OpRemove, OpDropRow:
		return true
	}
	return false
}

// PIIKeyEnv is the environment variable the recipe stage reads the HMAC key
// from when the recipe gives none.
const PIIKeyEnv = "SIFT_PII_KEY"

// DefaultPIITimeout bounds one regular-expression match.
const DefaultPIITimeout = time.Second

// PIIRecognizer is a user-defined recognizer. Its pattern uses the syntax
// of github.com/dlclark/regexp2 (.NET: lookarounds, lazy quantifiers) and
// is run over the whole text, so it costs more than a built-in one.
type PIIRecognizer struct {
	Entity    string   // name: stats key, tag (<ENTITY>) and reject reason pii_<entity>
	Pattern   string   // regexp2 pattern; the whole match is the value
	Validator string   // "", "luhn", "mod97" or "mod11_2"
	Context   []string // if set, one of these words must occur within 64 characters of the match (case-insensitive)
	Operator  Operator // "" for the redactor's default
}

// Redactor finds personal data and secrets in text and replaces, masks,
// pseudonymises or removes them, or rejects the row. It is stateless.
// Build one with [NewRedactor].
type Redactor struct {
	recs        []*recognizer // every enabled recognizer, in precedence order
	whole       []*recognizer // recognizers without a prefilter
	numericRecs []*recognizer
	emailRec    *recognizer
	iban, ipv6  *recognizer
	url         *recognizer
	lits        [256][]litRef // literal prefixes by anchor byte
	trig        [256]uint8    // trigger class of each byte

	ops      map[string]Operator
	defOp    Operator
	key      []byte
	allow    map[string]bool
	publicIP bool
	roles    sift.Roles
	tags     map[string]bool // NAME of every <NAME> tag the operators may write
	naive    bool            // every pattern over the whole text; the benchmark baseline
}

var _ sift.Stage = (*Redactor)(nil)

// PIIOption configures [NewRedactor].
type PIIOption func(*piiConfig)

type piiConfig struct {
	entities []string
	ops      map[string]Operator
	defOp    Operator
	key      []byte
	custom   []PIIRecognizer
	allow    []string
	publicIP bool
	roles    sift.Roles
	findings io.Writer
	timeout  time.Duration
}

// WithPIIEntities selects the built-in entities to detect (default all of
// [PIIEntities]).
func WithPIIEntities(names ...string) PIIOption {
	return func(c *piiConfig) { c.entities = names }
}

// WithPIIOperator sets the operator of one entity. Entity "" sets the
// default for every entity not set otherwise (OpReplace if unset).
func WithPIIOperator(entity string, op Operator) PIIOption {
	return func(c *piiConfig) {
		if entity == "" {
			c.defOp = op
		} else {
			c.ops[entity] = op
		}
	}
}

// WithPIIKey sets the HMAC-SHA256 key of OpHash pseudonyms and of the hashes
// in the findings. It is required if either is used.
func WithPIIKey(key []byte) PIIOption { return func(c *piiConfig) { c.key = key } }

// WithPIIRecognizer adds a custom recognizer.
func WithPIIRecognizer(r PIIRecognizer) PIIOption {
	return func(c *piiConfig) { c.custom = append(c.custom, r) }
}

// WithPIIAllowlist adds exact values that are never redacted, on top of
// [DefaultPIIAllowlist].
func WithPIIAllowlist(values ...string) PIIOption {
	return func(c *piiConfig) { c.allow = append(c.allow, values...) }
}

// WithPIIPublicIPOnly restricts entity "ip" to public (global unicast,
// non-private) addresses.
func WithPIIPublicIPOnly(on bool) PIIOption { return func(c *piiConfig) { c.publicIP = on } }

// WithPIIRoles sets which conversation turns are redacted (default all).
func WithPIIRoles(r sift.Roles) PIIOption { return func(c *piiConfig) { c.roles = r } }

// WithPIIFindings makes the stage write one JSON line per finding to w: row
// id, turn, entity, recognizer, byte offsets and the keyed hash of the
// value, never the value itself. Lines come in input order, so the stage
// then runs sequentially (on one worker).
func WithPIIFindings(w io.Writer) PIIOption { return func(c *piiConfig) { c.findings = w } }

// WithPIITimeout bounds a single regular-expression match (default
// [DefaultPIITimeout]; regexp2 checks it about every 100ms). A row whose
// match times out is rejected with reason "pii_error".
func WithPIITimeout(d time.Duration) PIIOption { return func(c *piiConfig) { c.timeout = d } }

// NewRedactor returns the PII redaction stage. It is a *Redactor, or, with
// [WithPIIFindings], a sequential stage wrapping one that also writes the
// findings and implements io.Closer (Close is a no-op for a caller's
// writer).
//
// Overlapping matches resolve to the one that contains the other, else to
// the more specific entity (in [PIIEntities] order, custom ones last).
// Configuration errors name the field: entities, operators, key,
// recognizers, roles, timeout.
func NewRedactor(opts ...PIIOption) (sift.Stage, error) {
	c := piiConfig{entities: PIIEntities, ops: map[string]Operator{}, defOp: OpReplace, roles: sift.AllRoles, timeout: DefaultPIITimeout}
	for _, o := range opts {
		o(&c)
	}
	r, err := newRedactor(c)
	if err != nil {
		return nil, err
	}
	if c.findings == nil {
		return r, nil
	}
	return &auditRedactor{Redactor: r, w: c.findings}, nil
}

func newRedactor(c piiConfig) (*Redactor, error) {
	if c.roles == 0 {
		return nil, errors.New("roles: empty")
	}
	if c.timeout <= 0 {
		return nil, fmt.Errorf("timeout: %v is not positive", c.timeout)
	}
	if !c.defOp.valid() {
		return nil, fmt.Errorf("operator: %q is not one of replace, mask, hash, remove, drop_row", c.defOp)
	}
	r := &Redactor{ops: map[string]Operator{}, defOp: c.defOp, key: c.key, publicIP: c.publicIP, roles: c.roles, allow: map[string]bool{}}
	for _, v := range slices.Concat(DefaultPIIAllowlist, c.allow) {
		r.allow[v] = true
	}
	known := map[string]bool{}
	for _, e := range c.entities {
		if !slices.Contains(PIIEntities, e) {
			return nil, fmt.Errorf("entities: %q is not one of %s", e, strings.Join(PIIEntities, ", "))
		}
		known[e] = true
	}
	var defs []builtin
	for _, b := range builtins {
		if known[b.entity] {
			defs = append(defs, b)
		}
	}
	names := slices.Clone(PIIEntities)
	for i, u := range c.custom {
		if u.Entity == "" || strings.ContainsAny(u.Entity, "<>: ") {
			return nil, fmt.Errorf("recognizers[%d].name: %q must be non-empty without <>: or spaces", i, u.Entity)
		}
		if slices.Contains(names, u.Entity) {
			return nil, fmt.Errorf("recognizers[%d].name: %q is taken", i, u.Entity)
		}
		b, err := customBuiltin(u)
		if err != nil {
			return nil, fmt.Errorf("recognizers[%d].%w", i, err)
		}
		for _, w := range u.Context {
			b.context = append(b.context, strings.ToLower(w))
		}
		if u.Operator != "" {
			c.ops[u.Entity] = u.Operator
		}
		known[u.Entity] = true
		names = append(names, u.Entity)
		defs = append(defs, b)
	}
	r.tags = map[string]bool{}
	for _, n := range names {
		r.tags[strings.ToUpper(n)] = true
	}
	for _, b := range defs {
		rc, err := compile(b, c.timeout)
		if err != nil {
			panic(fmt.Sprintf("clean: pattern %s: %v", b.name, err)) // built-ins are tested, custom ones checked above
		}
		r.add(rc)
	}
	for _, e := range slices.Sorted(maps.Keys(c.ops)) {
		op := c.ops[e]
		if !known[e] {
			return nil, fmt.Errorf("operators: entity %q is not enabled", e)
		}
		if !op.valid() {
			return nil, fmt.Errorf("operators: %s: %q is not one of replace, mask, hash, remove, drop_row", e, op)
		}
		r.ops[e] = op
	}
	if len(r.key) == 0 && (r.defOp == OpHash || slices.Contains(slices.Collect(maps.Values(r.ops)), OpHash) || c.findings != nil) {
		return nil, errors.New("key: the hash operator and the findings output need an HMAC key")
	}
	return r, nil
}

// Finding is one value a [Redactor] found: bytes [Start, End) of the text.
type Finding struct {
	Entity     string // e.g. "email"; "pii_error" if the text could not be scanned
	Recognizer string // e.g. "cn_mobile"
	Start, End int
}

// NewTextRedactor returns a redactor for strings ([Redactor.Redact]) with
// the options of [NewRedactor]. [WithPIIRoles] does not apply to strings,
// and [WithPIIFindings] is an error: the findings are Redact's second
// result.
func NewTextRedactor(opts ...PIIOption) (*Redactor, error) {
	c := piiConfig{entities: PIIEntities, ops: map[string]Operator{}, defOp: OpReplace, roles: sift.AllRoles, timeout: DefaultPIITimeout}
	for _, o := range opts {
		o(&c)
	}
	if c.findings != nil {
		return nil, errors.New("findings: a text redactor returns its findings; drop WithPIIFindings")
	}
	return newRedactor(c)
}

// RedactText is [Redactor.Redact] without the findings. Run reports pass
// every example text through the recipe's redactor with it.
func (r *Redactor) RedactText(text string) string {
	s, _ := r.Redact(text)
	return s
}

// Redact returns text with every value found replaced, masked,
// pseudonymised or removed by its entity's operator, and the findings in
// text order. An entity whose operator is OpDropRow keeps its value: the
// caller is to drop the whole text when a finding has such an entity. If
// the text cannot be scanned (a match exceeds the time limit), nothing of
// it is returned: the result is "" with one finding of entity "pii_error"
// covering the text. Redact is safe for concurrent use.
func (r *Redactor) Redact(text string) (string, []Finding) {
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	ms, err := r.detect(text, sc)
	if err != nil {
		return "", []Finding{{Entity: "pii_error", Recognizer: "pii_error", End: len(text)}}
	}
	if len(ms) == 0 {
		return text, nil
	}
	fs := make([]Finding, len(ms))
	for i, m := range ms {
		fs[i] = Finding{Entity: m.rc.entity, Recognizer: m.rc.name, Start: m.start, End: m.end}
	}
	var mac hash.Hash
	if len(r.key) > 0 {
		mac = hmac.New(sha256.New, r.key)
	}
	return r.apply(text, ms, mac, sc), fs
}

var scratchPool = sync.Pool{New: func() any { return &scratch{} }}

var defaultTextRedactor = sync.OnceValue(func() *Redactor {
	r, err := NewTextRedactor()
	if err != nil {
		panic(err) // the defaults are valid
	}
	return r
})

// Redact redacts one string: [Redactor.Redact] of a redactor with opts.
// Without options it uses one shared redactor with the defaults (every
// entity replaced by its tag); with options it builds a redactor on each
// call, which compiles the patterns, so build one with [NewTextRedactor]
// to redact many strings. It panics if the options are invalid.
func Redact(text string, opts ...PIIOption) (string, []Finding) {
	r := defaultTextRedactor()
	if len(opts) > 0 {
		var err error
		if r, err = NewTextRedactor(opts...); err != nil {
			panic("clean.Redact: " + err.Error())
		}
	}
	return r.Redact(text)
}

// add registers rc with its prefilter.
func (r *Redactor) add(rc *recognizer) {
	rc.rank = slices.Index(PIIEntities, rc.entity)
	if rc.rank < 0 {
		rc.rank = len(PIIEntities)
	}
	r.recs = append(r.recs, rc)
	switch rc.trig {
	case trigAll:
		r.whole = append(r.whole, rc)
	case trigNumeric:
		r.numericRecs = append(r.numericRecs, rc)
	case trigIBAN:
		r.iban = rc
	case trigEmail:
		r.emailRec = rc
		r.trig['@'] = tAt
	case trigIPv6:
		r.ipv6 = rc
		r.trig[':'] = tColon
	case trigURL:
		r.url = rc
		r.trig[':'] = tColon
	case trigLiteral:
		for _, l := range rc.literals {
			r.lits[rc.anchor] = append(r.lits[rc.anchor], litRef{l, strings.IndexByte(l, rc.anchor), rc})
		}
		r.trig[rc.anchor] = tLiteral
	}
	if rc.trig == trigNumeric || rc.trig == trigIBAN {
		for c := '0'; c <= '9'; c++ {
			r.trig[c] = tDigit
		}
	}
}

func (r *Redactor) op(entity string) Operator {
	if op, ok := r.ops[entity]; ok {
		return op
	}
	return r.defOp
}

// litRef is a literal prefix whose anchor byte is at offset off.
type litRef struct {
	lit string
	off int
	rc  *recognizer
}

// hit is one finding in a batch.
type hit struct {
	row, msg, start, end int
	rc                   *recognizer
	hash                 string // keyed hash, only when findings are written
}

// Process redacts every selected text of b.Rec. b.Rec is borrowed; the
// result is owned by the caller.
func (r *Redactor) Process(ctx context.Context, b *sift.Batch) (arrow.RecordBatch, error) {
	return r.process(ctx, b, nil)
}

// process redacts b and, if audit is not nil, appends the findings lines to
// it. Detection runs first; the text columns are rebuilt only if something
// was found.
func (r *Redactor) process(ctx context.Context, b *sift.Batch, audit *[]byte) (arrow.RecordBatch, error) {
	v := sift.NewTextView(b.Rec, r.roles)
	sc := &scratch{}
	var mac hash.Hash
	if len(r.key) > 0 {
		mac = hmac.New(sha256.New, r.key)
	}
	type part struct{ row, msg int }
	repl := map[part]string{}
	var hits []hit
	for row := range int(b.Rec.NumRows()) {
		var err error
		first := len(hits)
		v.Parts(row, func(msg int, s string) {
			if err != nil {
				return
			}
			var ms []match
			if ms, err = r.detect(s, sc); err != nil || len(ms) == 0 {
				return
			}
			for _, m := range ms {
				h := hit{row: row, msg: msg, start: m.start, end: m.end, rc: m.rc}
				if audit != nil {
					h.hash = r.sum(mac, m.rc.entity, s[m.start:m.end])[:16]
				}
				hits = append(hits, h)
			}
			repl[part{row, msg}] = r.apply(s, ms, mac, sc)
		})
		if err != nil {
			hits = hits[:first]
			b.Reject(row, "pii_error", err.Error())
			continue
		}
		dropped := false
		for _, h := range hits[first:] {
			b.Count(h.rc.entity, 1)
			if audit != nil {
				*audit = appendFinding(*audit, b.Rec, h)
			}
			if !dropped && r.op(h.rc.entity) == OpDropRow {
				dropped = true
				b.Reject(row, "pii_"+h.rc.entity, fmt.Sprintf("%s (%s) at bytes %d-%d of %s", h.rc.entity, h.rc.name, h.start, h.end, where(h.msg)))
			}
		}
	}
	if len(repl) == 0 {
		return b.Keep(ctx, b.Rec)
	}
	rec := sift.RewriteText(b.Mem, b.Rec, r.roles, func(row, msg int, s string) string {
		if t, ok := repl[part{row, msg}]; ok {
			return t
		}
		return s
	})
	defer rec.Release()
	return b.Keep(ctx, rec)
}

func where(msg int) string {
	if msg < 0 {
		return "text"
	}
	return "turn " + strconv.Itoa(msg)
}

func appendFinding(dst []byte, rec arrow.RecordBatch, h hit) []byte {
	dst = append(dst, `{"id":`...)
	dst = sift.AppendJSONString(dst, sift.ColsOf(rec).ID.Value(h.row))
	if h.msg >= 0 {
		dst = append(dst, `,"msg":`...)
		dst = strconv.AppendInt(dst, int64(h.msg), 10)
	}
	dst = append(dst, `,"entity":`...)
	dst = sift.AppendJSONString(dst, h.rc.entity)
	dst = append(dst, `,"recognizer":`...)
	dst = sift.AppendJSONString(dst, h.rc.name)
	dst = append(dst, `,"start":`...)
	dst = strconv.AppendInt(dst, int64(h.start), 10)
	dst = append(dst, `,"end":`...)
	dst = strconv.AppendInt(dst, int64(h.end), 10)
	dst = append(dst, `,"hash":"`...)
	dst = append(dst, h.hash...)
	return append(dst, "\"}\n"...)
}

// apply rewrites s with the operators of ms (sorted, disjoint).
func (r *Redactor) apply(s string, ms []match, mac hash.Hash, sc *scratch) string {
	if len(ms) == 0 {
		return s
	}
	out := sc.buf[:0]
	prev := 0
	for _, m := range ms {
		out = append(out, s[prev:m.start]...)
		v := s[m.start:m.end]
		switch r.op(m.rc.entity) {
		case OpReplace:
			out = append(out, '<')
			out = append(out, strings.ToUpper(m.rc.entity)...)
			out = append(out, '>')
		case OpHash:
			out = append(out, '<')
			out = append(out, strings.ToUpper(m.rc.entity)...)
			out = append(out, ':')
			out = append(out, r.sum(mac, m.rc.entity, v)[:8]...)
			out = append(out, '>')
		case OpMask:
			keep := 4
			if m.rc.entity == EntitySecret {
				keep = 0 // a secret's tail is still part of the secret
			}
			out = appendMask(out, v, keep)
		case OpRemove:
		case OpDropRow:
			out = append(out, v...) // the row is rejected; its text is not output
		}
		prev = m.end
	}
	out = append(out, s[prev:]...)
	sc.buf = out
	return string(out)
}

// appendMask appends v with every letter and digit but the last keep
// replaced by '*'; separators stay, so the shape remains readable.
func appendMask(dst []byte, v string, keep int) []byte {
	cut := len(v)
	for cut > 0 && keep > 0 {
		c, n := utf8.DecodeLastRuneInString(v[:cut])
		cut -= n
		if unicode.IsLetter(c) || unicode.IsDigit(c) {
			keep--
		}
	}
	for _, c := range v[:cut] {
		if unicode.IsLetter(c) || unicode.IsDigit(c) {
			c = '*'
		}
		dst = utf8.AppendRune(dst, c)
	}
	return append(dst, v[cut:]...)
}

// sum returns the hex HMAC-SHA256 of the entity and normalized value, so
// that "138 1234 5678" and "+86 13812345678" get one pseudonym.
func (r *Redactor) sum(mac hash.Hash, entity, v string) string {
	mac.Reset()
	mac.Write([]byte(entity))
	mac.Write([]byte{0})
	mac.Write([]byte(normalize(entity, v)))
	return hex.EncodeToString(mac.Sum(nil))
}

func normalize(entity, v string) string {
	switch entity {
	case EntityEmail:
		return strings.ToLower(v)
	case EntityIP:
		if a, err := netip.ParseAddr(v); err == nil {
			return a.String()
		}
	case EntityPhone:
		d := alnumUpper(v)
		for _, cc := range []string{"0086", "86"} {
			if rest, ok := strings.CutPrefix(d, cc); ok && len(rest) == 11 && rest[0] == '1' {
				return rest
			}
		}
		return d
	case EntityCNID, EntityCreditCard, EntityIBAN:
		return alnumUpper(v)
	}
	return v
}

// auditRedactor is a Redactor that also writes findings, in input order.
type auditRedactor struct {
	*Redactor
	mu   sync.Mutex
	w    io.Writer
	file *dataset.File // the findings file of a recipe stage, or nil
}

var (
	_ sift.Sequential = (*auditRedactor)(nil)
	_ io.Closer       = (*auditRedactor)(nil)
)

func (a *auditRedactor) Sequential() {}

func (a *auditRedactor) Process(ctx context.Context, b *sift.Batch) (arrow.RecordBatch, error) {
	var lines []byte
	out, err := a.process(ctx, b, &lines)
	if err != nil || len(lines) == 0 {
		return out, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.w.Write(lines); err != nil {
		if out != nil {
			out.Release()
		}
		return nil, fmt.Errorf("pii_redact: writing findings: %w", err)
	}
	return out, nil
}

// Close commits the findings file of a recipe stage (see
// [dataset.File]). It does nothing for a caller's writer, and on later
// calls.
func (a *auditRedactor) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.file == nil {
		return nil
	}
	f := a.file
	a.file = nil
	if err := f.Close(); err != nil {
		return fmt.Errorf("pii_redact: findings: %w", err)
	}
	return nil
}

// Abort discards the findings file of a failed run.
func (a *auditRedactor) Abort() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.file != nil {
		a.file.Abort()
		a.file = nil
	}
}

// PIISpec is the recipe spec of stage "pii_redact".
type PIISpec struct {
	Entities     []string          `yaml:"entities" doc:"built-in entities to detect: email, phone, cn_id, credit_card, iban, ip, secret; empty for all"`
	Operator     string            `yaml:"operator" doc:"operator of every entity not in operators: replace, mask, hash, remove or drop_row"`
	Operators    map[string]string `yaml:"operators" doc:"operator per entity, e.g. {secret: drop_row, email: hash}"`
	Key          string            `yaml:"key" doc:"HMAC-SHA256 key for hash and findings; prefer key_env to keep it out of recipes"`
	KeyEnv       string            `yaml:"key_env" doc:"environment variable holding the key when key is empty"`
	PublicIPOnly bool              `yaml:"public_ip_only" doc:"redact only public IP addresses"`
	Allowlist    []string          `yaml:"allowlist" doc:"values never redacted, added to documented example keys such as AKIAIOSFODNN7EXAMPLE"`
	Recognizers  []CustomPIISpec   `yaml:"recognizers" doc:"custom recognizers, run over the whole text"`
	Roles        []string          `yaml:"roles" doc:"conversation roles redacted; empty for all"`
	Findings     string            `yaml:"findings" doc:"JSONL audit file (row id, entity, byte offsets, keyed hash; never the value); needs a key and runs the stage on one worker"`
	Timeout      string            `yaml:"timeout" doc:"time limit of one regular-expression match; a row exceeding it is rejected as pii_error"`
}

// CustomPIISpec is one custom recognizer of a [PIISpec].
type CustomPIISpec struct {
	Name      string   `yaml:"name" doc:"entity name: stats key, tag <NAME>, reject reason pii_<name>"`
	Pattern   string   `yaml:"pattern" doc:"regexp2 (.NET syntax) pattern; the whole match is the value"`
	Validator string   `yaml:"validator" doc:"optional check of the match: luhn, mod97 or mod11_2"`
	Context   []string `yaml:"context" doc:"if set, one of these words must occur within 64 characters of the match"`
	Action    string   `yaml:"action" doc:"operator for this entity; empty for the stage's operator"`
}

func init() {
	recipe.Register("pii_redact", "Replaces, masks, pseudonymises or removes personal data and secrets (English and Chinese), or drops the row.",
		PIISpec{Operator: string(OpReplace), KeyEnv: PIIKeyEnv, Timeout: DefaultPIITimeout.String()},
		buildPII)
}

func buildPII(s PIISpec, env recipe.Env) (sift.Stage, error) {
	roles, err := sift.ParseRoles(s.Roles, sift.AllRoles)
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	timeout, err := time.ParseDuration(s.Timeout)
	if err != nil {
		return nil, fmt.Errorf("timeout: %w", err)
	}
	key := s.Key
	if key == "" && s.KeyEnv != "" {
		key = os.Getenv(s.KeyEnv)
	}
	opts := []PIIOption{WithPIIRoles(roles), WithPIITimeout(timeout), WithPIIAllowlist(s.Allowlist...),
		WithPIIPublicIPOnly(s.PublicIPOnly), WithPIIOperator("", Operator(s.Operator))}
	if len(s.Entities) > 0 {
		opts = append(opts, WithPIIEntities(s.Entities...))
	}
	if key != "" {
		opts = append(opts, WithPIIKey([]byte(key)))
	}
	for e, op := range s.Operators {
		opts = append(opts, WithPIIOperator(e, Operator(op)))
	}
	for _, c := range s.Recognizers {
		opts = append(opts, WithPIIRecognizer(PIIRecognizer{Entity: c.Name, Pattern: c.Pattern, Validator: c.Validator, Context: c.Context, Operator: Operator(c.Action)}))
	}
	if s.Findings == "" {
		return NewRedactor(opts...)
	}
	f, err := dataset.CreateFile(env.Path(s.Findings))
	if err != nil {
		return nil, fmt.Errorf("findings: %w", err)
	}
	st, err := NewRedactor(append(opts, WithPIIFindings(f))...)
	if err != nil {
		f.Abort()
		return nil, err
	}
	a := st.(*auditRedactor)
	a.file = f
	return a, nil
}

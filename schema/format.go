package schema

import (
	"fmt"
	"sort"
	"strings"

	"github.com/siftdata/sift"
)

// Format names a record format.
type Format string

// Input formats. Auto detects one per record; Custom follows a [Mapping].
const (
	Auto     Format = "auto"
	Text     Format = "text"     // {"text"} or {"content"}: a plain document
	Alpaca   Format = "alpaca"   // {"instruction","input","output","system","history"}
	ShareGPT Format = "sharegpt" // {"conversations":[{"from","value"}],"system"}
	OpenAI   Format = "openai"   // {"messages":[{"role","content"}]}, content a string or text parts
	Pair     Format = "pair"     // prompt/completion, query/response or question/answer
	Custom   Format = "custom"   // dotted paths of a Mapping
)

// Unified is the output format that writes the unified record as it is,
// with meta as a nested object. The other output formats are OpenAI,
// ShareGPT and Alpaca.
const Unified Format = "unified"

// inputFormats are the formats Auto tries, most specific first.
var inputFormats = []Format{OpenAI, ShareGPT, Alpaca, Pair, Text}

// pairKeys are the (user, assistant) key pairs of the pair format.
var pairKeys = [][2]string{{"prompt", "completion"}, {"query", "response"}, {"question", "answer"}}

// roleAlias maps the role names of every supported chat format to the
// unified roles: ShareGPT's human/gpt/function_call/observation and
// OpenAI's developer/function besides the unified names themselves.
var roleAlias = map[string]string{
	"system": "system", "user": "user", "assistant": "assistant", "tool": "tool",
	"human": "user", "gpt": "assistant", "function_call": "assistant", "observation": "tool",
	"developer": "system", "function": "tool",
}

// MessageMetaKey is the meta key that keeps the turn fields a chat format
// had besides role and content (such as OpenAI's "name" or "weight"): an
// array with one object per turn. The OpenAI and ShareGPT exporters put
// them back into the turns.
const MessageMetaKey = "message_meta"

// Mapping maps a custom format onto the unified record with dotted paths
// into the input object ("a.b" is member b of object a). Set Text for
// plain documents, Messages for conversations, or Prompt and Response for
// single exchanges. Mapped members are removed from the record; everything
// else goes to meta.
type Mapping struct {
	ID     string `yaml:"id" doc:"path of the record id (a string or number); default: keep the reader's id"`
	Source string `yaml:"source" doc:"path of the source name; default: keep the reader's source"`
	Text   string `yaml:"text" doc:"path of the document text"`

	Messages string            `yaml:"messages" doc:"path of the list of turns"`
	Role     string            `yaml:"role" doc:"path of the role within a turn (default role)"`
	Content  string            `yaml:"content" doc:"path of the content within a turn (default content)"`
	Roles    map[string]string `yaml:"roles" doc:"input role name -> system, user, assistant or tool, on top of the built-in aliases"`

	System   string `yaml:"system" doc:"path of a system prompt, put first in the conversation"`
	Prompt   string `yaml:"prompt" doc:"path of the user turn of a single exchange"`
	Response string `yaml:"response" doc:"path of the assistant turn of a single exchange"`
}

// check validates the mapping and fills defaults.
func (m *Mapping) check() error {
	kinds := 0
	for _, s := range []string{m.Text, m.Messages, m.Prompt + m.Response} {
		if s != "" {
			kinds++
		}
	}
	switch {
	case kinds != 1:
		return fmt.Errorf("mapping: set exactly one of text, messages, or prompt and response")
	case (m.Prompt == "") != (m.Response == ""):
		return fmt.Errorf("mapping.prompt: prompt and response go together")
	case m.Text != "" && m.System != "":
		return fmt.Errorf("mapping.system: a text record has no system prompt")
	case m.Messages == "" && (m.Role != "" || m.Content != "" || len(m.Roles) > 0):
		return fmt.Errorf("mapping.role: role, content and roles apply to messages only")
	}
	for k, v := range m.Roles {
		if sift.RoleOf(v) == 0 {
			return fmt.Errorf("mapping.roles.%s: %q is not one of system, user, assistant, tool", k, v)
		}
	}
	if m.Role == "" {
		m.Role = "role"
	}
	if m.Content == "" {
		m.Content = "content"
	}
	return nil
}

// rowError is a row the normalizer or exporter cannot convert.
type rowError struct{ reason, detail string }

func (e *rowError) Error() string { return e.reason + ": " + e.detail }

func rejectf(reason, format string, args ...any) *rowError {
	return &rowError{reason, fmt.Sprintf(format, args...)}
}

// Reject reasons of stage normalize.
const (
	ReasonUnknownFormat    = "unknown_format"     // no format matches the record's keys
	ReasonBadJSON          = "bad_json"           // meta is not a JSON object
	ReasonDuplicateKey     = "duplicate_key"      // the same key twice in one object
	ReasonMetaConflict     = "meta_conflict"      // an unmapped key is also in the input's meta object
	ReasonMessagesNotList  = "messages_not_list"  // messages/conversations is not an array
	ReasonMessageNotObject = "message_not_object" // a turn is not an object
	ReasonMissingRole      = "missing_role"       // a turn has no role
	ReasonUnknownRole      = "unknown_role"       // a turn's role is not a known role name
	ReasonNullContent      = "null_content"       // content (or a required text field) is null or missing
	ReasonNonStringContent = "non_string_content" // content (or a text field) is not a string
	ReasonNonTextPart      = "non_text_part"      // an OpenAI content part is not {"type":"text","text":...}
	ReasonEmptyConv        = "empty_conversation" // a conversation with no turns
	ReasonBadHistory       = "bad_history"        // Alpaca history is not a list of [user, assistant] pairs
	ReasonInvalidUTF8      = "invalid_utf8"       // text or content is not valid UTF-8
	ReasonSchemaInvalid    = "schema_invalid"     // the record fails the unified or the user schema
)

// record is a normalized record before it goes to Arrow.
type record struct {
	text    *string
	msgs    []sift.Message
	msgMeta []byte // MessageMetaKey's array, or nil
}

// mapper turns the members of one input object into a record, removing the
// members it used.
type mapper func(fs []field) (record, []field, *rowError)

// detect returns the first input format whose keys fs has.
func detect(fs []field) (Format, bool) {
	for _, f := range inputFormats {
		if matches(f, fs) {
			return f, true
		}
	}
	return "", false
}

func matches(f Format, fs []field) bool {
	has := func(k string) bool { return index(fs, k) >= 0 }
	switch f {
	case OpenAI:
		return has("messages")
	case ShareGPT:
		return has("conversations")
	case Alpaca:
		return has("instruction") && has("output")
	case Pair:
		for _, p := range pairKeys {
			if has(p[0]) && has(p[1]) {
				return true
			}
		}
	case Text:
		return has("text") || has("content")
	}
	return false
}

// unknown is the reject of a record that matches no format; what says
// which, and the detail lists the keys the record had.
func unknown(what string, fs []field) *rowError {
	keys := []string{"id"}
	for _, x := range fs {
		keys = append(keys, x.key)
	}
	sort.Strings(keys[1:])
	return rejectf(ReasonUnknownFormat, "%s; keys: %s", what, strings.Join(keys, ", "))
}

func mapperFor(f Format) mapper {
	switch f {
	case OpenAI:
		return chatMapper("messages", "role", "content")
	case ShareGPT:
		return withSystem(chatMapper("conversations", "from", "value"))
	case Alpaca:
		return withSystem(mapAlpaca)
	case Pair:
		return withSystem(mapPair)
	}
	return mapText
}

// str takes the string at key from fs. A missing or null value is a
// null_content reject when required, else "".
func str(fs []field, key string, required bool) (string, []field, *rowError) {
	v, fs, ok := take(fs, key)
	if !ok || v.kind() == "null" {
		if required {
			return "", fs, rejectf(ReasonNullContent, "%s is %s", key, missingOrNull(ok))
		}
		return "", fs, nil
	}
	s, isStr := v.string()
	if !isStr {
		return "", fs, rejectf(ReasonNonStringContent, "%s is %s, want string", key, v.kind())
	}
	return s, fs, nil
}

func missingOrNull(present bool) string {
	if present {
		return "null"
	}
	return "missing"
}

func mapText(fs []field) (record, []field, *rowError) {
	key := "text"
	if index(fs, key) < 0 {
		key = "content"
	}
	s, fs, err := str(fs, key, true)
	return record{text: &s}, fs, err
}

func mapPair(fs []field) (record, []field, *rowError) {
	for _, p := range pairKeys {
		if index(fs, p[0]) < 0 || index(fs, p[1]) < 0 {
			continue
		}
		return exchange(fs, p[0], p[1])
	}
	return record{}, fs, unknown("not pair", fs)
}

// exchange maps one user turn and one assistant turn.
func exchange(fs []field, user, assistant string) (record, []field, *rowError) {
	u, fs, err := str(fs, user, true)
	if err != nil {
		return record{}, fs, err
	}
	a, fs, err := str(fs, assistant, true)
	if err != nil {
		return record{}, fs, err
	}
	return record{msgs: []sift.Message{{Role: "user", Content: u}, {Role: "assistant", Content: a}}}, fs, nil
}

// withSystem puts an optional top-level "system" string first.
func withSystem(m mapper) mapper { return systemAt("system", m) }

func systemAt(path string, m mapper) mapper {
	return func(fs []field) (record, []field, *rowError) {
		sys, fs, err := str(fs, path, false)
		if err != nil {
			return record{}, fs, err
		}
		r, fs, err := m(fs)
		if err == nil && sys != "" {
			r.msgs = append([]sift.Message{{Role: "system", Content: sys}}, r.msgs...)
			if r.msgMeta != nil {
				r.msgMeta = append([]byte("[{},"), r.msgMeta[1:]...)
			}
		}
		return r, fs, err
	}
}

// mapAlpaca joins instruction and input with "\n" into the user turn, as
// LLaMA-Factory does, after the history's exchanges.
func mapAlpaca(fs []field) (record, []field, *rowError) {
	var msgs []sift.Message
	h, fs, ok := take(fs, "history")
	if ok && h.kind() != "null" {
		if h.kind() != "array" {
			return record{}, fs, rejectf(ReasonBadHistory, "history is %s, want array of [user, assistant] pairs", h.kind())
		}
		for i, p := range scanArray(h.raw) {
			var pair [][]byte
			if p[0] == '[' {
				pair = scanArray(p)
			}
			if len(pair) != 2 || pair[0][0] != '"' || pair[1][0] != '"' {
				return record{}, fs, rejectf(ReasonBadHistory, "history[%d] is %s, want a [user, assistant] pair of strings", i, clip(p))
			}
			msgs = append(msgs, sift.Message{Role: "user", Content: decodeString(pair[0])}, sift.Message{Role: "assistant", Content: decodeString(pair[1])})
		}
	}
	ins, fs, err := str(fs, "instruction", true)
	if err != nil {
		return record{}, fs, err
	}
	in, fs, err := str(fs, "input", false)
	if err != nil {
		return record{}, fs, err
	}
	if in != "" {
		ins += "\n" + in
	}
	out, fs, err := str(fs, "output", true)
	if err != nil {
		return record{}, fs, err
	}
	msgs = append(msgs, sift.Message{Role: "user", Content: ins}, sift.Message{Role: "assistant", Content: out})
	return record{msgs: msgs}, fs, nil
}

// chatMapper maps a list of turns at listPath. Each turn's role is at
// rolePath and content at contentPath; a turn without them is read with
// the other convention (role/content or from/value), so ShareGPT files
// written with role/content work too. Other turn members go to
// MessageMetaKey.
func chatMapper(listPath, rolePath, contentPath string) mapper {
	return customChat(listPath, rolePath, contentPath, nil)
}

var otherConvention = map[string]string{"role": "from", "from": "role", "content": "value", "value": "content"}

func customChat(listPath, rolePath, contentPath string, roles map[string]string) mapper {
	return func(fs []field) (record, []field, *rowError) {
		v, fs, ok := take(fs, listPath)
		switch {
		case !ok:
			return record{}, fs, unknown(fmt.Sprintf("mapping.messages %q not found", listPath), fs)
		case len(v.msgs) > 0:
			return record{msgs: v.msgs}, fs, nil
		case v.kind() != "array":
			return record{}, fs, rejectf(ReasonMessagesNotList, "%s is %s, want array", listPath, v.kind())
		}
		var turns [][]byte
		if v.msgs == nil {
			turns = scanArray(v.raw)
		}
		if len(turns) == 0 {
			return record{}, fs, rejectf(ReasonEmptyConv, "%s is empty", listPath)
		}
		r := record{msgs: make([]sift.Message, len(turns))}
		var meta []byte
		extras := false
		for i, t := range turns {
			at := turnAt{listPath, i}
			if t[0] != '{' {
				return record{}, fs, rejectf(ReasonMessageNotObject, "%s is %s, want object", at, rawValue(t).kind())
			}
			tf, _ := scanObject(t)
			if dup := duplicate(tf); dup != "" {
				return record{}, fs, rejectf(ReasonDuplicateKey, "%s has key %q twice", at, dup)
			}
			m, tf, err := turn(tf, at, rolePath, contentPath, roles)
			if err != nil {
				return record{}, fs, err
			}
			r.msgs[i] = m
			meta = append(meta, ',')
			meta = appendObject(meta, tf)
			extras = extras || len(tf) > 0
		}
		if extras {
			meta[0] = '['
			r.msgMeta = append(meta, ']')
		}
		return r, fs, nil
	}
}

// turnAt names a turn in reject details.
type turnAt struct {
	list string
	i    int
}

func (a turnAt) String() string { return fmt.Sprintf("%s[%d]", a.list, a.i) }

func turn(tf []field, at turnAt, rolePath, contentPath string, roles map[string]string) (sift.Message, []field, *rowError) {
	if index(tf, rolePath) < 0 && index(tf, otherConvention[rolePath]) >= 0 {
		rolePath = otherConvention[rolePath]
	}
	if index(tf, contentPath) < 0 && index(tf, otherConvention[contentPath]) >= 0 {
		contentPath = otherConvention[contentPath]
	}
	rv, tf, ok := take(tf, rolePath)
	if !ok || rv.kind() == "null" {
		return sift.Message{}, tf, rejectf(ReasonMissingRole, "%s has no %s", at, rolePath)
	}
	name, isStr := rv.string()
	role := roles[name]
	if role == "" {
		role = roleAlias[name]
	}
	if !isStr || role == "" {
		return sift.Message{}, tf, rejectf(ReasonUnknownRole, "%s.%s is %s, not a known role", at, rolePath, rv.raw)
	}
	cv, tf, ok := take(tf, contentPath)
	switch {
	case !ok || cv.kind() == "null":
		return sift.Message{}, tf, rejectf(ReasonNullContent, "%s.%s is %s", at, contentPath, missingOrNull(ok))
	case cv.kind() == "array":
		s, err := textParts(cv.raw, at.String()+"."+contentPath)
		return sift.Message{Role: role, Content: s}, tf, err
	case cv.kind() != "string":
		return sift.Message{}, tf, rejectf(ReasonNonStringContent, "%s.%s is %s, want string", at, contentPath, cv.kind())
	}
	s, _ := cv.string()
	return sift.Message{Role: role, Content: s}, tf, nil
}

// textParts concatenates OpenAI content parts, which must all be
// {"type":"text","text":string}: an image cannot be kept in a text record.
func textParts(raw []byte, at string) (string, *rowError) {
	var b strings.Builder
	for i, p := range scanArray(raw) {
		var pf []field
		if p[0] == '{' {
			pf, _ = scanObject(p)
		}
		ti, xi := index(pf, "type"), index(pf, "text")
		ok := len(pf) == 2 && ti >= 0 && xi >= 0 && string(pf[ti].v.raw) == `"text"` && pf[xi].v.kind() == "string"
		if !ok {
			return "", rejectf(ReasonNonTextPart, "%s[%d] is %s, want {\"type\":\"text\",\"text\":string}", at, i, clip(p))
		}
		s, _ := pf[xi].v.string()
		b.WriteString(s)
	}
	return b.String(), nil
}

// clip shortens raw JSON for a reject detail.
func clip(raw []byte) string {
	const max = 80
	if len(raw) <= max {
		return string(raw)
	}
	return string(raw[:max]) + "…"
}

// duplicate returns a key that occurs twice in fs, or "".
func duplicate(fs []field) string {
	for i := range fs {
		for j := i + 1; j < len(fs); j++ {
			if fs[i].key == fs[j].key {
				return fs[i].key
			}
		}
	}
	return ""
}

// customMapper follows m, which has been checked.
func customMapper(m Mapping) mapper {
	var body mapper
	switch {
	case m.Text != "":
		body = func(fs []field) (record, []field, *rowError) {
			if _, _, ok := take(fs, m.Text); !ok {
				return record{}, fs, unknown(fmt.Sprintf("mapping.text %q not found", m.Text), fs)
			}
			s, fs, err := str(fs, m.Text, true)
			return record{text: &s}, fs, err
		}
	case m.Messages != "":
		body = customChat(m.Messages, m.Role, m.Content, m.Roles)
	default:
		body = func(fs []field) (record, []field, *rowError) {
			for _, p := range []string{m.Prompt, m.Response} {
				if _, _, ok := take(fs, p); !ok {
					return record{}, fs, unknown(fmt.Sprintf("mapping path %q not found", p), fs)
				}
			}
			return exchange(fs, m.Prompt, m.Response)
		}
	}
	if m.System != "" {
		body = systemAt(m.System, body)
	}
	return body
}

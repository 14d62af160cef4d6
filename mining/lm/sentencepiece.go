package lm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// spLE reads the precompiled character map, which SentencePiece writes in
// little-endian order.
var spLE = binary.LittleEndian

// ErrSentencePiece is wrapped by every error about a SentencePiece model
// file that sift cannot use.
var ErrSentencePiece = errors.New("lm: bad SentencePiece model")

// SentencePiece is a [Tokenizer] that splits text into the pieces of a
// SentencePiece unigram model exactly as spm_encode does: the model's
// normalization (its precompiled character map, such as nmt_nfkc's, and its
// whitespace rules), the "▁" word prefix, Viterbi segmentation with the
// pieces' scores, unknown characters merged into one <unk> piece or split
// into byte pieces when the model has byte fallback, and user-defined
// symbols kept whole.
//
// A SentencePiece is immutable and safe for concurrent use; the buffers of
// each call live in the [Scratch].
type SentencePiece struct {
	pieces   []spPiece
	unk      int32
	minScore float32
	maxScore float32
	byteFB   bool
	bytes    [256]int32 // id of piece <0xXX>, for byte fallback
	vocab    pieceTrie  // NORMAL, USER_DEFINED and UNUSED pieces
	user     pieceTrie  // USER_DEFINED pieces, matched before normalization
	norm     normalizer
}

type spPiece struct {
	text  string
	score float32
	typ   int32
}

// Piece types of sentencepiece_model.proto.
const (
	spNormal      = 1
	spUnknown     = 2
	spControl     = 3
	spUserDefined = 4
	spUnused      = 5
	spByte        = 6
)

// unkPenalty is subtracted from the lowest piece score to score an unknown
// character, as in SentencePiece.
const unkPenalty float32 = 10

// LoadSentencePiece reads a SentencePiece model file (spm_train's
// .model).
func LoadSentencePiece(path string) (*SentencePiece, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sp, err := ReadSentencePiece(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return sp, nil
}

func spErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrSentencePiece, fmt.Sprintf(format, args...))
}

// ReadSentencePiece parses a serialized SentencePiece ModelProto. It
// supports unigram models; other model types are refused. Errors wrap
// [ErrSentencePiece].
func ReadSentencePiece(data []byte) (*SentencePiece, error) {
	sp := &SentencePiece{unk: -1}
	modelType := uint64(1)
	sp.norm = normalizer{dummyPrefix: true, removeExtra: true, escape: true}
	err := protoFields(data, func(num protowire.Number, v []byte, x uint64) error {
		switch num {
		case 1:
			p := spPiece{typ: spNormal}
			err := protoFields(v, func(num protowire.Number, v []byte, x uint64) error {
				switch num {
				case 1:
					p.text = string(v)
				case 2:
					p.score = math.Float32frombits(uint32(x))
				case 3:
					p.typ = int32(x)
				}
				return nil
			})
			if err != nil {
				return err
			}
			sp.pieces = append(sp.pieces, p)
		case 2: // TrainerSpec
			return protoFields(v, func(num protowire.Number, v []byte, x uint64) error {
				switch num {
				case 3:
					modelType = x
				case 24:
					sp.norm.suffix = x != 0
				case 35:
					sp.byteFB = x != 0
				}
				return nil
			})
		case 3: // NormalizerSpec
			return protoFields(v, func(num protowire.Number, v []byte, x uint64) error {
				switch num {
				case 2:
					sp.norm.charsmap = v
				case 3:
					sp.norm.dummyPrefix = x != 0
				case 4:
					sp.norm.removeExtra = x != 0
				case 5:
					sp.norm.escape = x != 0
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if modelType != 1 {
		return nil, spErr("model type %d; sift encodes unigram models (type 1) only", modelType)
	}
	if len(sp.pieces) == 0 || len(sp.pieces) >= math.MaxInt32 {
		return nil, spErr("%d pieces", len(sp.pieces))
	}
	if err := sp.norm.init(); err != nil {
		return nil, err
	}
	sp.minScore, sp.maxScore = math.MaxFloat32, 0x1p-126 // FLT_MAX, FLT_MIN: SentencePiece's start values
	seen := make(map[string]bool, len(sp.pieces))
	var vocab, user []string
	var vocabIDs, userIDs []int32
	for i := range sp.bytes {
		sp.bytes[i] = -1
	}
	for i, p := range sp.pieces {
		if p.text == "" {
			return nil, spErr("piece %d is empty", i)
		}
		if seen[p.text] {
			return nil, spErr("piece %q appears twice", p.text)
		}
		seen[p.text] = true
		switch p.typ {
		case spNormal:
			sp.minScore, sp.maxScore = min(sp.minScore, p.score), max(sp.maxScore, p.score)
		case spUnknown:
			if sp.unk >= 0 {
				return nil, spErr("two unknown pieces")
			}
			sp.unk = int32(i)
		case spUserDefined:
			user, userIDs = append(user, p.text), append(userIDs, int32(i))
		case spByte:
			var b byte
			if _, err := fmt.Sscanf(p.text, "<0x%02X>", &b); err != nil || len(p.text) != 6 {
				return nil, spErr("byte piece %q", p.text)
			}
			sp.bytes[b] = int32(i)
			continue
		case spControl:
			continue
		case spUnused:
		default:
			return nil, spErr("piece %q has type %d", p.text, p.typ)
		}
		if p.typ != spUnknown {
			vocab, vocabIDs = append(vocab, p.text), append(vocabIDs, int32(i))
		}
	}
	if sp.unk < 0 {
		return nil, spErr("no unknown piece")
	}
	if sp.byteFB && slices.Contains(sp.bytes[:], -1) {
		return nil, spErr("byte fallback without all 256 byte pieces")
	}
	sp.vocab = newPieceTrie(vocab, vocabIDs)
	sp.user = newPieceTrie(user, userIDs)
	sp.norm.user = &sp.user
	return sp, nil
}

// protoFields calls fn for every field of a protobuf message: v holds the
// bytes of a length-delimited field, x the value of a varint or fixed one.
func protoFields(b []byte, fn func(num protowire.Number, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return spErr("%v", protowire.ParseError(n))
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var x32 uint32
			x32, n = protowire.ConsumeFixed32(b)
			x = uint64(x32)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return spErr("field %d: %v", num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(num, v, x); err != nil {
			return err
		}
	}
	return nil
}

// Name returns "sentencepiece".
func (*SentencePiece) Name() string { return "sentencepiece" }

// VocabSize returns the number of pieces.
func (sp *SentencePiece) VocabSize() int { return len(sp.pieces) }

// Tokens returns the pieces of s, as spm_encode --output_format=piece
// prints them.
func (sp *SentencePiece) Tokens(sc *Scratch, s string) []string {
	toks := sc.toks[:0]
	sp.encode(sc, s, func(piece string, _ int32) { toks = append(toks, piece) })
	sc.toks = toks
	return toks
}

// IDs appends the ids of s's pieces to dst, as spm_encode
// --output_format=id prints them.
func (sp *SentencePiece) IDs(dst []int32, sc *Scratch, s string) []int32 {
	sp.encode(sc, s, func(_ string, id int32) { dst = append(dst, id) })
	return dst
}

// Pieces returns the text of the piece with id, or "" if there is none.
func (sp *SentencePiece) Piece(id int32) string {
	if id < 0 || int(id) >= len(sp.pieces) {
		return ""
	}
	return sp.pieces[id].text
}

// bestPath is a node of the Viterbi lattice: the best segmentation of the
// text up to a position ends with piece id, which starts at start.
type bestPath struct {
	score float32
	id    int32
	start int32
}

// encode normalizes s and calls emit for every piece of its best
// segmentation. Piece strings alias sc.buf.
func (sp *SentencePiece) encode(sc *Scratch, s string, emit func(piece string, id int32)) {
	sc.buf = sp.norm.normalize(sc.buf[:0], s)
	text := unsafeString(sc.buf)
	n := len(text)
	if cap(sc.lattice) < n+1 {
		sc.lattice = make([]bestPath, n+1)
	}
	best := sc.lattice[:n+1]
	for i := range best {
		best[i] = bestPath{start: -1}
	}
	unkScore := sp.minScore - unkPenalty
	for start := 0; start < n; {
		here := best[start].score
		mblen := min(oneCharLen(text[start]), n-start)
		single := false
		// Walk the piece trie along the text: every node with a piece is a
		// lattice edge from start.
		t := &sp.vocab
		at := int32(0)
		for i := start; i < n && len(t.nodes) > 0; i++ {
			nd := t.nodes[at]
			edges := t.edges[nd.first : nd.first+nd.n]
			c := text[i]
			lo, hi := 0, len(edges)
			for lo < hi {
				m := int(uint(lo+hi) >> 1)
				if edges[m].label < c {
					lo = m + 1
				} else {
					hi = m
				}
			}
			if lo == len(edges) || edges[lo].label != c {
				break
			}
			at = edges[lo].to
			id := t.nodes[at].id
			if id < 0 {
				continue
			}
			p := &sp.pieces[id]
			if p.typ == spUnused {
				continue
			}
			length := i + 1 - start
			// SentencePiece adds in double precision (a user-defined symbol
			// gets a bonus that always selects it) and stores floats.
			score := float64(p.score)
			if p.typ == spUserDefined {
				score = float64(float32(length)*sp.maxScore) - 0.1
			}
			score += float64(here)
			tn := &best[i+1]
			if tn.start < 0 || score > float64(tn.score) {
				*tn = bestPath{float32(score), id, int32(start)}
			}
			if length == mblen {
				single = true
			}
		}
		if !single {
			t := &best[start+mblen]
			if score := unkScore + here; t.start < 0 || score > t.score {
				*t = bestPath{score, sp.unk, int32(start)}
			}
		}
		start += mblen
	}
	// Backtrack into ends (piece end offsets, reversed), then emit in order,
	// merging runs of unknown pieces as SentencePiece does.
	ends := sc.ends[:0]
	for end := n; end > 0; end = int(best[end].start) {
		ends = append(ends, end)
	}
	sc.ends = ends
	for i := len(ends) - 1; i >= 0; {
		end := ends[i]
		start := int(best[end].start)
		id := best[end].id
		if id == sp.unk {
			if sp.byteFB {
				for j := start; j < end; j++ {
					b := sp.bytes[text[j]]
					emit(sp.pieces[b].text, b)
				}
				i--
				continue
			}
			for i > 0 && best[ends[i-1]].id == sp.unk {
				i--
				end = ends[i]
			}
		}
		emit(text[start:end], id)
		i--
	}
}

// oneCharLen is SentencePiece's length of a UTF-8 sequence from its first
// byte.
func oneCharLen(b byte) int {
	return int("\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x02\x02\x03\x04"[b>>4])
}

// pieceTrie finds the pieces that are prefixes of a string: a byte trie
// whose nodes list their children sorted by label.
type pieceTrie struct {
	nodes []trieNode
	edges []trieEdge
}

type trieNode struct {
	first, n int32 // children edges[first : first+n]
	id       int32 // piece ending here, or -1
}

type trieEdge struct {
	label byte
	to    int32
}

func newPieceTrie(pieces []string, ids []int32) pieceTrie {
	// Build with maps, then lay the nodes out breadth first.
	type tmp struct {
		kids map[byte]int
		id   int32
	}
	nodes := []tmp{{id: -1}}
	for i, p := range pieces {
		at := 0
		for j := 0; j < len(p); j++ {
			next, ok := nodes[at].kids[p[j]]
			if !ok {
				if nodes[at].kids == nil {
					nodes[at].kids = map[byte]int{}
				}
				next = len(nodes)
				nodes[at].kids[p[j]] = next
				nodes = append(nodes, tmp{id: -1})
			}
			at = next
		}
		nodes[at].id = ids[i]
	}
	t := pieceTrie{nodes: make([]trieNode, len(nodes))}
	for i, nd := range nodes {
		labels := make([]byte, 0, len(nd.kids))
		for l := range nd.kids {
			labels = append(labels, l)
		}
		slices.Sort(labels)
		t.nodes[i] = trieNode{first: int32(len(t.edges)), n: int32(len(labels)), id: nd.id}
		for _, l := range labels {
			t.edges = append(t.edges, trieEdge{l, int32(nd.kids[l])})
		}
	}
	return t
}

// prefixes calls fn with the length and id of every piece that is a
// prefix of s, shortest first.
func (t *pieceTrie) prefixes(s string, fn func(length int, id int32)) {
	if len(t.nodes) == 0 {
		return
	}
	at := int32(0)
	for i := 0; i < len(s); i++ {
		nd := t.nodes[at]
		edges := t.edges[nd.first : nd.first+nd.n]
		lo, hi := 0, len(edges)
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if edges[m].label < s[i] {
				lo = m + 1
			} else {
				hi = m
			}
		}
		if lo == len(edges) || edges[lo].label != s[i] {
			return
		}
		at = edges[lo].to
		if id := t.nodes[at].id; id >= 0 {
			fn(i+1, id)
		}
	}
}

// longest returns the length of the longest piece that is a prefix of s,
// or 0.
func (t *pieceTrie) longest(s string) int {
	n := 0
	t.prefixes(s, func(length int, _ int32) { n = length })
	return n
}

// normalizer is SentencePiece's normalizer: the precompiled character map
// (a Darts double-array trie from UTF-8 sequences to replacement strings),
// then whitespace rules.
type normalizer struct {
	charsmap    []byte
	units       []uint32 // the double array
	replace     []byte   // NUL-terminated replacements, indexed by trie values
	user        *pieceTrie
	dummyPrefix bool // add "▁" before the text (after it with suffix)
	removeExtra bool // drop leading, trailing and repeated spaces
	escape      bool // write spaces as "▁"
	suffix      bool // treat_whitespace_as_suffix
}

func (nm *normalizer) init() error {
	b := nm.charsmap
	if len(b) == 0 {
		return nil
	}
	if len(b) < 4 {
		return spErr("precompiled character map of %d bytes", len(b))
	}
	size := uint64(spLE.Uint32(b))
	if size%4 != 0 || size > uint64(len(b)-4) {
		return spErr("precompiled character map: trie of %d bytes in %d", size, len(b)-4)
	}
	nm.units = make([]uint32, size/4)
	for i := range nm.units {
		nm.units[i] = spLE.Uint32(b[4+4*i:])
	}
	nm.replace = b[4+size:]
	return nil
}

// match returns the replacement of the longest character-map entry that
// is a prefix of s, and its length, or length 0.
func (nm *normalizer) match(s string) (string, int) {
	u := nm.units
	if len(u) == 0 {
		return "", 0
	}
	longest, value := 0, uint32(0)
	pos := dartsOffset(u[0])
	for i := 0; i < len(s); i++ {
		pos ^= uint32(s[i])
		if int(pos) >= len(u) {
			break
		}
		unit := u[pos]
		if unit&(1<<31|0xff) != uint32(s[i]) { // label
			break
		}
		pos ^= dartsOffset(unit)
		if unit>>8&1 == 1 { // has leaf
			if int(pos) >= len(u) {
				break
			}
			longest, value = i+1, u[pos]&(1<<31-1)
		}
	}
	if longest == 0 || int(value) >= len(nm.replace) {
		return "", 0
	}
	r := nm.replace[value:]
	end := 0
	for end < len(r) && r[end] != 0 {
		end++
	}
	return unsafeString(r[:end]), longest
}

func dartsOffset(unit uint32) uint32 { return unit >> 10 << ((unit & (1 << 9)) >> 6) }

const spaceSymbol = "\u2581"

// prefix returns the normalized form of the first character (or
// user-defined symbol) of s and the bytes it consumes.
func (nm *normalizer) prefix(s string) (string, int) {
	if n := nm.user.longest(s); n > 0 {
		return s[:n], n
	}
	if r, n := nm.match(s); n > 0 {
		return r, n
	}
	if r, n := utf8.DecodeRuneInString(s); r == utf8.RuneError && n <= 1 {
		return "\uFFFD", 1 // one byte of malformed UTF-8
	} else {
		return s[:n], n
	}
}

// normalize appends the normalized form of s to dst.
func (nm *normalizer) normalize(dst []byte, s string) []byte {
	if nm.removeExtra {
		for len(s) > 0 {
			r, n := nm.prefix(s)
			if r != " " {
				break
			}
			s = s[n:]
		}
	}
	if len(s) == 0 {
		return dst
	}
	space := " "
	if nm.escape {
		space = spaceSymbol
	}
	start := len(dst)
	if nm.dummyPrefix && !nm.suffix {
		dst = append(dst, space...)
	}
	prevSpace := nm.removeExtra
	for len(s) > 0 {
		r, n := nm.prefix(s)
		s = s[n:]
		for prevSpace && len(r) > 0 && r[0] == ' ' {
			r = r[1:]
		}
		if len(r) > 0 {
			for i := 0; i < len(r); i++ {
				if nm.escape && r[i] == ' ' {
					dst = append(dst, spaceSymbol...)
				} else {
					dst = append(dst, r[i])
				}
			}
			prevSpace = r[len(r)-1] == ' '
		}
		if !nm.removeExtra {
			prevSpace = false
		}
	}
	if nm.removeExtra {
		for len(dst)-start >= len(space) && string(dst[len(dst)-len(space):]) == space {
			dst = dst[:len(dst)-len(space)]
		}
	}
	if nm.dummyPrefix && nm.suffix {
		dst = append(dst, space...)
	}
	return dst
}

// String describes the model, for messages.
func (sp *SentencePiece) String() string {
	return "SentencePiece unigram model of " + strconv.Itoa(len(sp.pieces)) + " pieces"
}

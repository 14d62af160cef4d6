package augment

import (
	"fmt"
	"strings"
	"testing"

	"github.com/siftdata/sift/seg"
)

// adversarial holds texts with what no operation may change in them: the
// issue 15 cases, each a substring of its text.
var adversarial = []struct {
	text    string
	protect []string
}{
	{"Convert it with int32(s) and open(file) before os.path.join(root, name) returns the joined path.",
		[]string{"int32(s)", "open(file)", "os.path.join(root, name)"}},
	{"Count len(words) then greet {name} with ${HOME} and {{customer}} or %s and %-5d and <user> today please.",
		[]string{"len(words)", "{name}", "${HOME}", "{{customer}}", "%s", "%-5d", "<user>"}},
	{"See [bufio.Writer]'s buffer, the 1990's music and `Flush`'s documentation for details.",
		[]string{"[bufio.Writer]'s", "1990's", "`Flush`'s"}},
	{"Mr. Bill Gates met Dr. Jane Goodall and Mrs. Smith yesterday at the big house.",
		[]string{"Mr. Bill", "Dr. Jane", "Mrs. Smith"}},
	{"The long report was written by\nJohn Smith and his team at the old office in town.",
		[]string{"John", "Smith"}},
	{"We must never give up on the truth we seek.\n\t\t-- John Locke, Essay Concerning\n\t\t   Human Understanding\n",
		[]string{"never", "-- John Locke, Essay Concerning\n\t\t   Human Understanding\n"}},
	{"Reset the terminal with \x1b[m and paint it \x1b[31mred\x1b[0m before the prompt shows.",
		[]string{"\x1b[m", "\x1b[31mred\x1b[0m"}},
	{"Build tools/bzip2.jam and read notes.txt before main.go runs on the old server.",
		[]string{"tools/bzip2.jam", "notes.txt", "main.go"}},
	{"I have two cats, a hundred dogs, a thousand birds, a dozen fish and the third horse.",
		[]string{"two", "hundred", "thousand", "dozen", "third"}},
	{`Send {"user": "alice", "role": "admin"} and ["red", "green"] to the remote server.`,
		[]string{`{"user": "alice", "role": "admin"}`, `["red", "green"]`}},
	{"We cannot accept the offer. Nobody goes nowhere, and we will not sell the house.",
		[]string{"cannot", "Nobody", "nowhere", "not"}},
	{"The m and s variables hold an ok value for the big program.",
		[]string{"m", "s", "ok"}},
	{"Tell me the truth: the man page shows how printf(\"%d items\", n) prints the count.",
		[]string{`printf("%d items", n)`}},
	{"Files: debian/copyright tools/build.jam\nLicense: the permission notice below\n  Subject: great news about our release",
		[]string{"Files:", "License:", "Subject:"}},
}

// TestAdversarialProtection runs every operation at ratio 1 over the
// adversarial texts and checks, by aligning the segments of source and
// copy, that every protected substring comes through whole, and that
// nothing was inserted at its boundaries.
func TestAdversarialProtection(t *testing.T) {
	for _, op := range []Op{Replace, Insert, Swap, Delete} {
		t.Run(string(op), func(t *testing.T) {
			changed := 0
			for seed := range uint64(4) {
				st := newStage(t, WithOps(op), WithRatio(1), WithCopies(5), WithSeed(seed), WithNouns(true), WithMinFit(-1))
				for i, tc := range adversarial {
					for _, c := range augmentText(t, st, fmt.Sprint("a", i), tc.text) {
						changed++
						for _, p := range tc.protect {
							if msg := checkProtected(tc.text, c, p, !isWord(p)); msg != "" {
								t.Errorf("%s seed %d: %q\n -> %q\n%s", op, seed, tc.text, c, msg)
							}
						}
					}
				}
			}
			if changed < len(adversarial)*4 {
				t.Errorf("only %d changed copies", changed)
			}
		})
	}
}

// checkProtected returns why copy damaged the first occurrence of p in
// src, or "". A span must also keep its boundaries; a protected word may
// get a word inserted after it.
func checkProtected(src, copy, p string, span bool) string {
	off := indexWord(src, p)
	if off < 0 {
		panic("no " + p + " in " + src)
	}
	a, b := segList(src), segList(copy)
	match := alignSegs(src, a, copy, b)
	first, last := -1, -1
	for i, g := range a {
		if int(g.Start) >= off && int(g.End) <= off+len(p) {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	for i := first; i <= last; i++ {
		if match[i] < 0 {
			return fmt.Sprintf("%q: segment %q lost", p, src[a[i].Start:a[i].End])
		}
		if i > first && match[i] != match[i-1]+1 {
			return fmt.Sprintf("%q: something inserted before %q", p, src[a[i].Start:a[i].End])
		}
	}
	if !span {
		return ""
	}
	// Boundaries: what touched the span in the source touches it in the
	// copy, and no word is glued to it (a deletion may leave punctuation
	// next to it: "<user> today." → "<user>.").
	if first > 0 && a[first-1].Kind != seg.Space && match[first-1] != match[first]-1 {
		return fmt.Sprintf("%q: its left neighbour changed", p)
	}
	if m := match[first]; m > 0 && b[m-1].Kind.WordLike() && (first == 0 || a[first-1].Kind == seg.Space) {
		return fmt.Sprintf("%q: %q glued before it", p, copy[b[m-1].Start:b[m-1].End])
	}
	if last+1 < len(a) && a[last+1].Kind != seg.Space && match[last+1] != match[last]+1 {
		return fmt.Sprintf("%q: its right neighbour changed", p)
	}
	if m := match[last]; m+1 < len(b) && b[m+1].Kind.WordLike() && (last+1 == len(a) || a[last+1].Kind == seg.Space) {
		return fmt.Sprintf("%q: %q glued after it", p, copy[b[m+1].Start:b[m+1].End])
	}
	return ""
}

// isWord reports whether p is a single word: protected from replacement,
// deletion and moves, not from a word inserted next to it.
func isWord(p string) bool { return letters(p) }

// indexWord returns the offset of p in s where it is not inside a longer
// word, or -1.
func indexWord(s, p string) int {
	for from := 0; ; {
		i := strings.Index(s[from:], p)
		if i < 0 {
			return -1
		}
		i += from
		e := i + len(p)
		if (i == 0 || !isIdentByte(s[i-1]) || !isIdentByte(p[0])) && (e == len(s) || !isIdentByte(s[e]) || !isIdentByte(p[len(p)-1])) {
			return i
		}
		from = i + 1
	}
}

func segList(s string) []seg.Segment {
	var out []seg.Segment
	for g := range seg.Segments(s) {
		out = append(out, g)
	}
	return out
}

// alignSegs returns for each segment of a the index of the segment of b it
// is matched to by a longest common subsequence of segment texts, or -1.
func alignSegs(sa string, a []seg.Segment, sb string, b []seg.Segment) []int {
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	eq := func(i, j int) bool { return sa[a[i].Start:a[i].End] == sb[b[j].Start:b[j].End] }
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if eq(i, j) {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	match := make([]int, n)
	for i, j := 0, 0; i < n; {
		switch {
		case j < m && eq(i, j) && lcs[i][j] == lcs[i+1][j+1]+1:
			match[i] = j
			i++
			j++
		case j < m && lcs[i][j+1] >= lcs[i+1][j]:
			j++
		default:
			match[i] = -1
			i++
		}
	}
	return match
}

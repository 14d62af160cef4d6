package augment

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/siftdata/sift/seg"
)

// TestJudgedRules replays the labelled substitutions of the judged samples
// against the current rules (SIFT_JUDGE_RULES=1): each is found in its
// source text, and it is kept if the stage would still draw that
// replacement at that slot. It reports the fine share of what is kept, an
// estimate for tuning only: a fresh sample is what counts.
func TestJudgedRules(t *testing.T) {
	if os.Getenv("SIFT_JUDGE_RULES") == "" {
		t.Skip("set SIFT_JUDGE_RULES to replay the judged samples")
	}
	texts := judgeTexts(t)
	type norm struct {
		s   string
		off []int // byte offset in the text of each byte of s
		raw string
	}
	ns := map[string][]norm{}
	for src, ts := range texts {
		for _, x := range ts {
			var b strings.Builder
			var off []int
			space := false
			for i, r := range x {
				if unicode.IsSpace(r) {
					space = true
					continue
				}
				if space && b.Len() > 0 {
					b.WriteByte(' ')
					off = append(off, i)
				}
				space = false
				n := b.Len()
				b.WriteRune(r)
				for range b.Len() - n {
					off = append(off, i)
				}
			}
			ns[src] = append(ns[src], norm{b.String(), off, x})
		}
	}
	gain := defaultFitGain
	if v := os.Getenv("SIFT_JUDGE_GAIN"); v != "" {
		gain, _ = strconv.ParseFloat(v, 64)
	}
	st := newStage(t, WithRatio(0.1), WithFitGain(gain))
	names := strings.Fields(os.Getenv("SIFT_JUDGE_FILES"))
	if len(names) == 0 {
		names = []string{"seed6.tsv", "seed7.tsv", "seed8.tsv", "fresh.tsv", "seed10.tsv"}
	}
	total := map[string][2]int{}
	for _, name := range names {
		f, err := os.Open(filepath.Join("testdata/judged", name))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		kept, all := map[string]int{}, map[string]int{}
		missing := 0
		for sc.Scan() {
			line := sc.Text()
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			fs := strings.Split(line, "\t")
			all[fs[5]]++
			left := strings.TrimSpace(strings.Join(strings.Fields(fs[1]), " "))
			var text string
			pos := -1
			for _, n := range ns[fs[0]] {
				for _, cand := range []string{left + " " + fs[2], left + fs[2]} {
					if left == "" {
						cand = fs[2]
					}
					k := strings.Index(n.s, cand)
					for k >= 0 {
						wp := k + len(cand) - len(fs[2])
						rest := n.s[wp+len(fs[2]):]
						rn := strings.Join(strings.Fields(fs[4]), " ")
						if strings.HasPrefix(strings.TrimLeft(rest, " "), rn) {
							text, pos = n.raw, n.off[wp]
							break
						}
						j := strings.Index(n.s[k+1:], cand)
						if j < 0 {
							break
						}
						k += 1 + j
					}
					if pos >= 0 {
						break
					}
				}
				if pos >= 0 {
					break
				}
			}
			if pos < 0 {
				missing++
				continue
			}
			w := &worker{s: st, sc: scanner{th: st.th}}
			toks := w.sc.scan(0, text, seg.AppendWords(nil, text), nil)
			w.newRow(len(toks))
			ok := false
			for i := range toks {
				if toks[i].start != pos || len(toks[i].syns) == 0 {
					continue
				}
				w.scoreSlot([]string{text}, toks, i)
				sf := w.fits[i]
				for _, g := range w.good[sf.off : sf.off+sf.n] {
					if strings.EqualFold(toks[i].syns[g], fs[3]) {
						ok = true
					}
				}
				if !ok {
					t.Logf("%s: dropped %s %q -> %q (%s)", name, fs[0], fs[2], fs[3], fs[5])
				}
			}
			if ok {
				kept[fs[5]]++
			} else if slices.ContainsFunc(toks, func(x token) bool { return x.start == pos && len(x.syns) == 0 }) {
				t.Logf("%s: dropped %s %q -> %q (%s) no synonyms", name, fs[0], fs[2], fs[3], fs[5])
			}
		}
		f.Close()
		n := kept["fine"] + kept["wrong-sense"] + kept["ungrammatical"]
		t.Logf("%s: %d missing; kept %d of %d: fine %d of %d (%.0f%%), wrong-sense %d of %d, ungrammatical %d of %d", name, missing,
			n, all["fine"]+all["wrong-sense"]+all["ungrammatical"], kept["fine"], all["fine"], 100*float64(kept["fine"])/float64(max(n, 1)),
			kept["wrong-sense"], all["wrong-sense"], kept["ungrammatical"], all["ungrammatical"])
		tt := total[""]
		total[""] = [2]int{tt[0] + kept["fine"], tt[1] + n}
	}
	t.Logf("all: fine %d of %d kept (%.0f%%)", total[""][0], total[""][1], 100*float64(total[""][0])/float64(max(total[""][1], 1)))
}

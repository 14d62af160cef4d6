package realtext

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"testing"
)

func TestWrite(t *testing.T) {
	var buf bytes.Buffer
	st, err := Write(&buf, 4e6)
	if errors.Is(err, ErrMissing) && os.Getenv("CI") == "" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if st.Bytes < 4e6 || st.Bytes != int64(buf.Len()) {
		t.Errorf("wrote %d bytes, says %d; want ≥ 4e6", buf.Len(), st.Bytes)
	}
	first := bytes.Clone(buf.Bytes())
	shapes := map[string]int{}
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 1<<24)
	rows := 0
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("row %d: %v", rows, err)
		}
		for _, k := range []string{"text", "instruction", "conversations", "messages"} {
			if _, ok := m[k]; ok {
				shapes[k]++
			}
		}
		rows++
	}
	if rows != st.Rows {
		t.Errorf("%d rows, says %d", rows, st.Rows)
	}
	chat := shapes["instruction"] + shapes["conversations"] + shapes["messages"]
	if chat != st.ChatRows || shapes["text"]+chat != rows || min(shapes["instruction"], shapes["conversations"], shapes["messages"]) == 0 {
		t.Errorf("shapes %v of %d rows, %d chats said", shapes, rows, st.ChatRows)
	}
	if share := float64(chat) / float64(rows); share < 0.14 || share > 0.16 {
		t.Errorf("chat share %.3f, want 0.15", share)
	}
	var again bytes.Buffer
	if _, err := Write(&again, 4e6); err != nil || !bytes.Equal(again.Bytes(), first) {
		t.Errorf("a second write differs (err %v)", err)
	}
}

// TestWriteSentences reads every man page and document installed (about
// 25 CPU-s), so it runs only with SIFT_REALTEXT=1.
func TestWriteSentences(t *testing.T) {
	if os.Getenv("SIFT_REALTEXT") == "" {
		t.Skip("set SIFT_REALTEXT=1 to build the sentence corpus")
	}
	var buf bytes.Buffer
	st, err := WriteSentences(&buf, 200_000)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var tokens int64
	lines := bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n"))
	for _, l := range lines {
		f := bytes.Fields(l)
		if len(f) < 3 || seen[string(l)] || string(bytes.Join(f, []byte(" "))) != string(l) {
			t.Fatalf("line %q: short, repeated or not normalized", l)
		}
		seen[string(l)] = true
		tokens += int64(len(f))
	}
	if len(lines) != st.Lines || tokens != st.Tokens || tokens < 200_000 || st.Distinct < st.Lines {
		t.Errorf("%d lines, %d tokens; says %+v", len(lines), tokens, st)
	}
}

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSFTMix runs the example and checks the training file, the rejects and
// that no row is lost, counting rows from the files themselves.
func TestSFTMix(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	rep, dir, err := run(io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	in := 0
	for _, f := range []string{"alpaca.jsonl", "sharegpt.jsonl", "openai.jsonl"} {
		in += len(lines(t, filepath.Join(dir, "data", f)))
	}
	out := lines(t, rep.Output)
	rejects := lines(t, rep.Rejects)
	st := rep.Stats
	if int64(in) != st.RowsIn || int64(len(out)) != st.RowsOut || int64(len(rejects)) != st.RowsRejected {
		t.Fatalf("files hold %d in, %d out, %d rejected; stats say %+v", in, len(out), len(rejects), st)
	}
	if in != len(out)+len(rejects) {
		t.Fatalf("%d rows in, %d out + %d rejected", in, len(out), len(rejects))
	}

	// Every line is an OpenAI chat record a trainer takes.
	for _, l := range out {
		var rec struct {
			Messages []struct{ Role, Content string } `json:"messages"`
		}
		if err := json.Unmarshal(l, &rec); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		if len(rec.Messages) < 2 || rec.Messages[len(rec.Messages)-1].Role != "assistant" {
			t.Errorf("not a chat ending with the assistant: %s", l)
		}
		for _, m := range rec.Messages {
			if m.Role != "system" && m.Role != "user" && m.Role != "assistant" || m.Content == "" {
				t.Errorf("bad turn %+v in %s", m, l)
			}
		}
	}

	// Personal data and the secret are gone from both outputs.
	all := append(bytes.Join(out, nil), bytes.Join(rejects, nil)...)
	for _, raw := range []string{"helpdesk.team@example.org", "415 555 0134", "sk_live_", "7946 0958", "maintenance@example.com"} {
		if bytes.Contains(all, []byte(raw)) {
			t.Errorf("%q survived redaction", raw)
		}
	}

	// Each planted fault is rejected by the stage meant for it.
	got := map[string]string{}
	reasons := map[string]int{}
	for _, l := range rejects {
		var r struct {
			ID, Stage, Reason string
			DuplicateOf       string `json:"duplicate_of"`
		}
		if err := json.Unmarshal(l, &r); err != nil {
			t.Fatal(err)
		}
		id := r.ID
		if r.Stage == "read" {
			id = filepath.Base(id)
		}
		got[id] = r.Reason + " " + r.DuplicateOf
		reasons[r.Reason]++
	}
	for id, want := range map[string]string{
		"alpaca.jsonl:15": "parse_error ",
		"oa-01":           "duplicate alp-01",
		"sg-01":           "near_duplicate alp-04",
		"alp-03":          "too_short ",
		"sg-03":           "too_short ",
	} {
		if got[id] != want {
			t.Errorf("%s: rejected as %q, want %q", id, got[id], want)
		}
	}
	if reasons["ppl_below_band"] == 0 || reasons["ppl_above_band"] == 0 {
		t.Errorf("perplexity band cut nothing at one end: %v", reasons)
	}
}

func lines(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			out = append(out, bytes.Clone(sc.Bytes()))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

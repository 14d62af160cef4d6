package main

import (
	"io"
	"strings"
	"testing"
)

// TestLibrary runs the example and checks what each one-call API gave.
func TestLibrary(t *testing.T) {
	res, err := run(io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{"jane.doe@example.com", "7946 0958", "ghp_"} {
		if strings.Contains(res.redacted, raw) {
			t.Errorf("%q survived: %s", raw, res.redacted)
		}
	}
	got := map[string]bool{}
	for _, f := range res.findings {
		got[f.Entity] = true
	}
	for _, e := range []string{"email", "phone", "secret"} {
		if !got[e] {
			t.Errorf("no %s found: %+v", e, res.findings)
		}
	}
	if res.similarity < 0.5 || res.similarity >= 1 || res.distance > 16 {
		t.Errorf("one-word edit: Jaccard %.2f, %d SimHash bits apart", res.similarity, res.distance)
	}
	if !(res.perplexity[0] > 1 && res.perplexity[0] < res.perplexity[1]) {
		t.Errorf("perplexity fluent %.2f, scrambled %.2f", res.perplexity[0], res.perplexity[1])
	}
	const s = "Three years later, the old man walked slowly to the small house and opened the heavy door."
	if res.copies[0] == s || res.copies[0] != res.copies[1] {
		t.Errorf("synonym copies %q, %q of %q: want a change, the same for the same seed", res.copies[0], res.copies[1], s)
	}
}

package clean

import (
	"strings"
	"testing"
	"time"
)

// redactString is the stage's text rewrite of one string.
func redactString(t *testing.T, r *Redactor, s string) (string, []match) {
	t.Helper()
	sc := &scratch{}
	ms, err := r.detect(s, sc)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	ms = append([]match(nil), ms...)
	return r.apply(s, ms, nil, sc), ms
}

// FuzzPIIRedact checks the rewriter: no panic; offsets in range and
// disjoint; redacting twice equals redacting once; the output holds no
// value that was detected at every place it occurs; and the prefilter
// finds exactly what running every pattern over the whole text finds.
func FuzzPIIRedact(f *testing.F) {
	for _, s := range []string{
		"手机13812345678。", "身份证号是110105199001011232，", "mail Zhang.San+tag@Mail.Example.COM today",
		"call (415) 555-2671 or +44 20 7946 0958", "card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00",
		"ip 192.168.1.10 and 2001:db8::8a2e:370:7334 and ::1", "AKIA4QWERTYUIOPASDFG ghp_qsR6RZ24lPoQj3oPUlieI2nVsbBi1RMar1jf",
		"postgres://admin:s3cret@db.example.com:5432/app", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----",
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2ln", "v1.2.3 2024-01-15 $19.99 12:30:45 std::vector logo@2x.png",
		"FR12 3025 0644 2504 2553 9107 333", "13812345678@qq.com", "a@b.c@d.ef", "\xff\xfe13812345678\xc3",
		"0@0.AA@0.AA", "00 100.100.0.0::0", "0000/0.0.0.0", "10.0.0.0/24 and 0000/13812345678, 1/192.168.1.10/16",
		"+100 0000 0000 0000000000000000000000000", "call +44 20 7946 0958 -123456789012345678901234",
		"+10000(000)", "dial +49 (0) 30 (1234) x", "+10000000 17000000000 ", "+1(0)00(0000) (0)",
	} {
		f.Add(s)
	}
	// A generous time limit: the limit is tested elsewhere, and a fuzz
	// worker on a loaded machine can stall for a second.
	st, err := NewRedactor(WithPIITimeout(time.Minute))
	if err != nil {
		f.Fatal(err)
	}
	r := st.(*Redactor)
	naive := *r
	naive.naive = true
	f.Fuzz(func(t *testing.T, s string) {
		out, ms := redactString(t, r, s)
		prev := 0
		for _, m := range ms {
			if m.start < prev || m.end <= m.start || m.end > len(s) {
				t.Fatalf("%q: bad span [%d,%d) after %d", s, m.start, m.end, prev)
			}
			prev = m.end
		}
		again, ms2 := redactString(t, r, out)
		if again != out {
			t.Fatalf("not idempotent:\n in: %q\n 1x: %q\n 2x: %q (%v)", s, out, again, spans(out, ms2))
		}
		for _, m := range ms {
			v := s[m.start:m.end]
			n := 0
			for _, o := range ms {
				if s[o.start:o.end] == v {
					n++
				}
			}
			if strings.Count(s, v) == n && strings.Contains(out, v) {
				t.Fatalf("%q: output %q still holds detected %q", s, out, v)
			}
		}
		_, want := redactString(t, &naive, s)
		if len(ms) != len(want) {
			t.Fatalf("%q: prefilter %v, naive %v", s, spans(s, ms), spans(s, want))
		}
		for i := range ms {
			if ms[i].start != want[i].start || ms[i].end != want[i].end || ms[i].rc != want[i].rc {
				t.Fatalf("%q: prefilter %v, naive %v", s, spans(s, ms), spans(s, want))
			}
		}
	})
}

package clean

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/goccy/go-yaml/parser"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/recipe"
)

var update = flag.Bool("update", false, "rewrite golden files")

// redactRows runs st over one batch of text rows and returns the texts of
// the kept rows (rejected ones are ""), the rejects and the counters.
func redactRows(t testing.TB, st sift.Stage, texts ...string) ([]string, []sift.Reject, map[string]int64) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	bld := sift.NewBuilder(mem)
	defer bld.Release()
	for i, s := range texts {
		bld.Append(sift.Row{ID: fmt.Sprintf("row%d", i), Text: &s})
	}
	rec := bld.NewBatch()
	defer rec.Release()
	b := sift.NewBatch(mem, "pii_redact", rec)
	got, err := st.Process(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Release()
	out := make([]string, len(texts))
	c := sift.ColsOf(got)
	k := 0
	for i := range texts {
		if !b.Rejected(i) {
			out[i] = strings.Clone(c.Text.Value(k))
			k++
		}
	}
	return out, b.Rejects(), b.Counts()
}

func mustRedactor(t testing.TB, opts ...PIIOption) sift.Stage {
	t.Helper()
	st, err := NewRedactor(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestPIIRecognizers(t *testing.T) {
	pem := "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgwMbRvI0MBZhpI\nKwIDAQAB\n-----END RSA PRIVATE KEY-----"
	pub := "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA0Z3VS5JJcds3xfn/ygWy\n-----END PUBLIC KEY-----"
	jwt := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkxpIExlaSJ9.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
	for _, tc := range []struct{ name, in, want string }{
		// email: upper-case domains, plus-tags, subdomains; CJK neighbours.
		{"email/upper-domain-plus-tag", "mail Zhang.San+tag@Mail.Example.COM today", "mail <EMAIL> today"},
		{"email/cjk", "邮箱：li.lei@dept.cs.univ.edu.cn。请发邮件至wang@163.com，谢谢", "邮箱：<EMAIL>。请发邮件至<EMAIL>，谢谢"},
		{"email/full-stop", "Write to bob@example.org. Thanks", "Write to <EMAIL>. Thanks"},
		{"email/mailto", "(mailto:Bob_99@Example.ORG)", "(mailto:<EMAIL>)"},
		{"email/decoys", "logo@2x.png @alice lodash@4.17.21 a @ b root@localhost", "logo@2x.png @alice lodash@4.17.21 a @ b root@localhost"},

		// phone: CN mobile, CN landline, NANP, E.164.
		{"phone/cn-mobile-cjk", "手机13812345678。", "手机<PHONE>。"},
		{"phone/cn-mobile-forms", "+86 138 1234 5678, 0086-139-8765-4321, +86-13912345678, 139 8765 4321", "<PHONE>, <PHONE>, <PHONE>, <PHONE>"},
		{"phone/cn-landline", "电话：010-62345678，或(0755) 8765 4321。", "电话：<PHONE>，或<PHONE>。"},
		{"phone/nanp", "call (415) 555-2671 or +1 415.555.2671 or 415-555-2671.", "call <PHONE> or <PHONE> or <PHONE>."},
		{"phone/e164", "London +44 20 7946 0958, Berlin +49 30 12345678", "London <PHONE>, Berlin <PHONE>"},
		{"phone/in-order-number", "订单号138123456789012345已发货", "订单号138123456789012345已发货"},
		{"phone/decoys", "2024-01-15 10086 1381234567 13812345678901 A13812345678 v13.8.1234", "2024-01-15 10086 1381234567 13812345678901 A13812345678 v13.8.1234"},

		// cn_id: date and MOD 11-2.
		{"cn_id/cjk", "身份证号是110105199001011232，请核对", "身份证号是<CN_ID>，请核对"},
		{"cn_id/check-x", "ID 44030619851230006X ok", "ID <CN_ID> ok"},
		{"cn_id/decoys", "110105199001011233 110105199013011232 1101051990010112321", "110105199001011233 110105199013011232 1101051990010112321"},

		// credit_card: Luhn and issuer length.
		{"credit_card/forms", "card 4111 1111 1111 1111, 5555-5555-5555-4444, 378282246310005, 3782 822463 10005", "card <CREDIT_CARD>, <CREDIT_CARD>, <CREDIT_CARD>, <CREDIT_CARD>"},
		{"credit_card/unionpay-cjk", "银行卡：6222021234567890128。", "银行卡：<CREDIT_CARD>。"},
		{"credit_card/decoys", "4111 1111 1111 1112 and 5304 0693 8390 8328 and 7777777777777777", "4111 1111 1111 1112 and 5304 0693 8390 8328 and 7777777777777777"},

		// iban: country length and mod-97; a phone inside a bad IBAN stays.
		{"iban/forms", "IBAN DE89 3704 0044 0532 0130 00. GB82WEST12345698765432 NL91ABNA0417164300", "IBAN <IBAN>. <IBAN> <IBAN>"},
		{"iban/cjk", "收款账户FR591420410100050500013M026。", "收款账户<IBAN>。"},
		{"iban/decoys", "DE88 3704 0044 0532 0130 00 XX89370400440532013000 FR12 3025 0644 2504 2553 9107 333", "DE88 3704 0044 0532 0130 00 XX89370400440532013000 FR12 3025 0644 2504 2553 9107 333"},

		// ip: IPv4 and IPv6 with :: forms, net/netip validated.
		{"ip/v4", "from 192.168.1.10 and 8.8.8.8.", "from <IP> and <IP>."},
		{"ip/v6", "2001:db8::8a2e:370:7334, ::1, fe80::1, ::ffff:192.0.2.1, 2001:0db8:0000:0000:0000:ff00:0042:8329", "<IP>, <IP>, <IP>, <IP>, <IP>"},
		{"ip/cjk", "服务器地址10.0.0.5无法访问", "服务器地址<IP>无法访问"},
		{"ip/decoys", "1.2.3.4.5 256.1.1.1 v1.2.3.4 12:30:45 std::vector A::B 00:1A:2B:3C:4D:5E 10.0.19045.2965", "1.2.3.4.5 256.1.1.1 v1.2.3.4 12:30:45 std::vector A::B 00:1A:2B:3C:4D:5E 10.0.19045.2965"},

		// secret: cloud keys, tokens, PEM blocks, JWTs, URL credentials.
		{"secret/aws", "AWS_ACCESS_KEY_ID=AKIA4QWERTYUIOPASDFG but not AKIAIOSFODNN7EXAMPLE", "AWS_ACCESS_KEY_ID=<SECRET> but not AKIAIOSFODNN7EXAMPLE"},
		{"secret/github", "ghp_qsR6RZ24lPoQj3oPUlieI2nVsbBi1RMar1jf 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", "<SECRET> <SECRET>"},
		{"secret/openai-slack", "key sk-proj-Abc123Def456Ghi789Jkl012Mno and xoxb-123456789012-1234567890123-AbCdEfGh", "key <SECRET> and <SECRET>"},
		{"secret/pem", "key:\n" + pem + "\nend", "key:\n<SECRET>\nend"},
		{"secret/pem-truncated", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDQ2X3kP9vB7mYt\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn\n\nafter", "<SECRET>\n\nafter"},
		{"secret/jwt-cjk", "令牌" + jwt + "已过期", "令牌<SECRET>已过期"},
		{"secret/url", "DATABASE_URL=postgres://admin:s3cret@db.example.com:5432/app", "DATABASE_URL=postgres://<SECRET>@db.example.com:5432/app"},
		{"secret/decoys", pub + " sk-learn-style-pipelines-for-everyone eyJhbGciOg.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig https://example.com:8080/x", pub + " sk-learn-style-pipelines-for-everyone eyJhbGciOg.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig https://example.com:8080/x"},

		// Issue 13's classes, each with its look-alikes.
		{"long/jwt-rs256", "Authorization: Bearer eyJhbGciOiAiUlMyNTYiLCAidHlwIjogIkpXVCIsICJraWQiOiAidThqelBkZTBJZ3hMZDZHbmNmQkEifQ.eyJzdWIiOiAiZXBmSkJkMEtoOG9PIiwgImlzcyI6ICJodHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwgImF1ZCI6ICJhcGkiLCAiaWF0IjogMTcwMDAwMDAwMCwgImV4cCI6IDE3MDAwMDM2MDAsICJzY29wZSI6ICJyZWFkIHdyaXRlIn0.hYgCfrL1spNxnyVmihA_2O76UMFxFkM_R5Kjp1vRt-1fjORS_6ilI8ihN5KXSc7Tvo_hBKqFYY_kv5ZJr3J1TWDtkwtDDb-xHKas1VOqg6YYZYn9ZhyiA4uoRgnatmUdjAWtGSU8po-799NksnRH9ucAUsdMlHUvTCQCyEZDz_TddJ8HyS5SUkCnD8zRA9a9SkpXz9w3QlY7Zkuvqdt7s8Stqcbnr3yBdGBLEPH1qhT61qtc4xatws8phP9nhFyJfm5di4PzJ59FHz5r1pY4OjE2jBMptUsGr7CmY-uCu3ZR1zTOlUcR64cXQLioDnkHIfxIq2HZt_PlJhx2jIclHk", "Authorization: Bearer <SECRET>"},
		{"long/openai-project-key", "OPENAI_API_KEY=sk-proj-2dZAkg05rK-gqv81RKMGHZEM9YpvujA_C5Q52ryFlwRlOEVHzc0X0AWIRh_JUqBlIFXZ53Ncqe28-ajY75FnCttn6kfaqDeMqG3omjMyXHCabM6JOF8EFd0Nhcy_1kGD2VD_eR1UYzaLiA_zNyD7CHLn_xC-", "OPENAI_API_KEY=<SECRET>"},
		{"slack/families", "xapp-1-A052FGTS2DL-5171572773297-d14c1604d115cea325a65e19cbae530282bd36cb9d21f6be6abf0d7c1c1e2186 xoxe-1-Ve5Mvxrv99NcqVTSu7rtaUWM6ZO88eb0ogET9D9XyYq6B0Fi7FlaZ7Vt0SXjMpu3uDxYYMfGmzWkpAePcEJIukB4geqNfngAFTCloiADN5RpVI2XQWhX1ssrKrxqVqmCplppjs46LmuezqpGHo xoxe.xoxp-1-PZgPDcgaE40o1C6xc4sohdmM0Lm7exG3lCMqXXQ8agOMTNwncxvjcnqcMUP6n0a0uARxlNtencYFJEeAgYzQJjOIfPkzSrAsQtA9dtVK4wAAb3XZxPmzUzn8aB5kBh0fzK4xDXkiadJjPZ6zfKN7xVGkjwskHk7egyF", "<SECRET> <SECRET> <SECRET>"},
		{"slack/webhook", "POST https://hooks.slack.com/services/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 now", "POST <SECRET> now"},
		{"slack/placeholders", "xoxp-1234567890 xoxb-xxxxxxxxx-xxxxxxxxxx-xxxxxxxxxxxx xoxe.xoxp-1-RANDOMSTRINGHERE xoxp-1234-1234-1234-4ddbc191d40ee098cbaae6f3523ada2d", "xoxp-1234567890 xoxb-xxxxxxxxx-xxxxxxxxxx-xxxxxxxxxxxx xoxe.xoxp-1-RANDOMSTRINGHERE xoxp-1234-1234-1234-4ddbc191d40ee098cbaae6f3523ada2d"},
		{"aws/secret-key", "aws_secret_access_key = CiHp6bR1IqfEouHgxzNNAL5wIScGebcy8F5n3+YN\nAWS_SECRET_ACCESS_KEY: \"PpX6N1NF2XV54wca/7E56w8ZniqT3Ul4ffqkOkgW\"", "aws_secret_access_key = <SECRET>\nAWS_SECRET_ACCESS_KEY: \"<SECRET>\""},
		{"aws/placeholders", "AKIAXXXXXXXXXXXXXXXX aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AKIAXXXXXXXXXXXXXXXX aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
		{"stripe", "sk_live_P8Yib2eNUS0hmi4Fs9Z6YkRY 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 but not sk_live_xxxxxxxxxxxxxxxxxxxxxxxx", "<SECRET> <SECRET> but not sk_live_xxxxxxxxxxxxxxxxxxxxxxxx"},
		{"google", "key=AIzaOaeCtL31Ugq-DfcgaTMnTC0MrAU8urbFt5m&q=1 AIzaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "key=<SECRET>&q=1 AIzaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
		{"pgp", "-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\n\nBDRzrZSgqbjG3uhkWKFLf6xuI5aHUQPFeNBTxaQWk8JzFalHlsZfYcMMDktXP/tK\nsf2rcDkdfrUnW5gcF+Ha6ili8GjHEAD6/Wj9KfzjsQGMrb9h+ImB+LK777pzNk8c\nL6j5IXAAjlsHUqJoUD/+Ydua+5ZMs1SWOpQaPRYpzbLGViYXjU2JgJngKtFI3OyV\n=8xQN\n-----END PGP PRIVATE KEY BLOCK-----\nok", "<SECRET>\nok"},
		{"pem/placeholders", "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx -----BEGIN OPENSSH PRIVATE KEY----------END OPENSSH PRIVATE KEY----- -----BEGIN PRIVATE KEY-----\nanything\n-----END PRIVATE KEY-----", "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx -----BEGIN OPENSSH PRIVATE KEY----------END OPENSSH PRIVATE KEY----- -----BEGIN PRIVATE KEY-----\nanything\n-----END PRIVATE KEY-----"},
		{"iban/short-word-after", "BE68539007547034 EUR, PL61109010140000071219812874 PLN, IBAN BE68 5390 0754 7034 BIC GEBABEBB, VG96 VPVG 0000 0123 4567 8901 X", "<IBAN> EUR, <IBAN> PLN, IBAN <IBAN> BIC GEBABEBB, <IBAN> X"},
		{"cn-landline/area-codes", "0120 6900 0000, ref 0123 4567 8901 here, but 010-62345678 and 0755 8765 4321", "0120 6900 0000, ref 0123 4567 8901 here, but <PHONE> and <PHONE>"},
		{"ipv4/section-and-version", "Section 4.2.1.10, version 1.2.3.4, §5.1.2.4, RFC 3.1.2.4, sections 1.2.3.4 and 1.2.3.5, v 1.2.3.4", "Section 4.2.1.10, version 1.2.3.4, §5.1.2.4, RFC 3.1.2.4, sections 1.2.3.4 and 1.2.3.5, v 1.2.3.4"},
		{"ipv4/cookie-domain-and-cidr", "domain=.127.0.0.1; route 10.0.0.0/8 via 192.168.1.1", "domain=.<IP>; route <IP> via <IP>"},
		{"ipv6/seven-groups-and-zone", "1:2:3:4:5:6:7:: and fe80::1%eth0 and 2001:db8::/32", "<IP> and <IP> and <IP>"},
		{"phone/trunk-uk-brackets", "+44 (0) 20 7946 0958, 07700 900123, 020 7946 0958, +49 (30) 1234 5678", "<PHONE>, <PHONE>, <PHONE>, <PHONE>"},
		{"phone/look-alikes", "DFARS 252.227-7013 and ID 51 824 753 5564", "DFARS 252.227-7013 and ID 51 824 753 5564"},
		{"email/non-ascii", "hans.m端ller@test.com, info@bücher.de, 用户@例子.广告, 请发邮件至wang@163.com谢谢", "<EMAIL>, <EMAIL>, <EMAIL>, 请发邮件至<EMAIL>谢谢"},
		{"cn-id/spaced", "身份证 110105 19491231 002X 已登记", "身份证 <CN_ID> 已登记"},

		// decoys of every kind in one line.
		{"decoys/mixed", "v2.3.1 发布于2024年3月15日, $1,299.99 ¥12,800 commit 9fceb02d0ae598e95dc970b74767f19372d61af8 id 550e8400-e29b-41d4-a716-446655440000 ISBN 978-7-111-54742-6", "v2.3.1 发布于2024年3月15日, $1,299.99 ¥12,800 commit 9fceb02d0ae598e95dc970b74767f19372d61af8 id 550e8400-e29b-41d4-a716-446655440000 ISBN 978-7-111-54742-6"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, _ := redactRows(t, mustRedactor(t), tc.in)
			if got[0] != tc.want {
				t.Errorf("\n in: %q\ngot: %q\nwant %q", tc.in, got[0], tc.want)
			}
		})
	}
}

func TestPIIOptions(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     []PIIOption
		in, want string
	}{
		{"public-ip-only", []PIIOption{WithPIIPublicIPOnly(true)}, "10.0.0.1 192.168.1.1 ::1 fe80::1 8.8.8.8 2606:4700::1111", "10.0.0.1 192.168.1.1 ::1 fe80::1 <IP> <IP>"},
		{"entities", []PIIOption{WithPIIEntities(EntityEmail)}, "a@b.com 13812345678", "<EMAIL> 13812345678"},
		{"allowlist", []PIIOption{WithPIIAllowlist("support@example.com")}, "support@example.com bob@example.com", "support@example.com <EMAIL>"},
		{"mask", []PIIOption{WithPIIOperator("", OpMask)}, "4111 1111 1111 1111 bob@example.com 手机13812345678", "**** **** **** 1111 ***@******e.com 手机*******5678"},
		{"remove", []PIIOption{WithPIIOperator(EntityPhone, OpRemove)}, "call 13812345678 or bob@example.com", "call  or <EMAIL>"},
		{"custom-context", []PIIOption{WithPIIRecognizer(PIIRecognizer{Entity: "employee_id", Pattern: `(?<![0-9A-Za-z])E[0-9]{6}(?![0-9])`, Context: []string{"工号", "Employee"}})},
			"工号E123456，E654321 alone; employee E111111", "工号<EMPLOYEE_ID>，<EMPLOYEE_ID> alone; employee <EMPLOYEE_ID>"},
		{"custom-no-context", []PIIOption{WithPIIRecognizer(PIIRecognizer{Entity: "employee_id", Pattern: `E[0-9]{6}`, Context: []string{"工号"}})},
			"E123456 alone", "E123456 alone"},
		{"custom-validator", []PIIOption{WithPIIRecognizer(PIIRecognizer{Entity: "account", Pattern: `ACCT-[0-9]{8}`, Validator: "luhn", Operator: OpHash}), WithPIIKey([]byte("k"))},
			"ACCT-12345674 ACCT-12345675", "<ACCOUNT:f44bf54d> ACCT-12345675"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, _ := redactRows(t, mustRedactor(t, tc.opts...), tc.in)
			if got[0] != tc.want {
				t.Errorf("\n in: %q\ngot: %q\nwant %q", tc.in, got[0], tc.want)
			}
		})
	}
}

// TestPIIHash checks pseudonyms: keyed, stable across formats of one value.
func TestPIIHash(t *testing.T) {
	in := []string{"手机13812345678", "call +86 138 1234 5678", "Bob@Example.com", "bob@example.COM"}
	a, _, _ := redactRows(t, mustRedactor(t, WithPIIOperator("", OpHash), WithPIIKey([]byte("key one"))), in...)
	b, _, _ := redactRows(t, mustRedactor(t, WithPIIOperator("", OpHash), WithPIIKey([]byte("key two"))), in...)
	tag := func(s string) string { return s[strings.IndexByte(s, '<'):] }
	if tag(a[0]) != tag(a[1]) || tag(a[2]) != tag(a[3]) {
		t.Errorf("one value, two pseudonyms: %q", a)
	}
	if tag(a[0]) == tag(b[0]) {
		t.Errorf("pseudonym does not depend on the key: %q %q", a[0], b[0])
	}
	if !strings.HasPrefix(tag(a[0]), "<PHONE:") || len(tag(a[0])) != len("<PHONE:12345678>") {
		t.Errorf("pseudonym %q, want <PHONE:xxxxxxxx>", a[0])
	}
}

// TestPIIGoldenOperators runs every operator over testdata/pii_input.txt
// (one row per line; \n in a line is a newline) and compares output,
// rejects and findings with testdata/pii_golden/<operator>.txt.
func TestPIIGoldenOperators(t *testing.T) {
	data, err := os.ReadFile("testdata/pii_input.txt")
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		rows = append(rows, strings.ReplaceAll(l, `\n`, "\n"))
	}
	for _, op := range []Operator{OpReplace, OpMask, OpHash, OpRemove, OpDropRow} {
		t.Run(string(op), func(t *testing.T) {
			var findings bytes.Buffer
			st := mustRedactor(t, WithPIIOperator("", op), WithPIIKey([]byte("golden key")), WithPIIFindings(&findings))
			out, rejects, _ := redactRows(t, st, rows...)
			var got bytes.Buffer
			for i, s := range out {
				fmt.Fprintf(&got, "%d: %q\n", i, s)
			}
			for _, r := range rejects {
				fmt.Fprintf(&got, "reject %s %s: %s\n", r.ID, r.Reason, r.Detail)
			}
			got.WriteString("findings:\n")
			got.Write(findings.Bytes())
			path := filepath.Join("testdata", "pii_golden", string(op)+".txt")
			if *update {
				os.MkdirAll(filepath.Dir(path), 0o755)
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err, "(run with -update)")
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%s differs from golden:\n%s", path, got.String())
			}
			for _, v := range []string{"13812345678", "AKIA4QWERTYUIOPASDFG", "zhang.san@example.com"} {
				if bytes.Contains(findings.Bytes(), []byte(v)) || strings.Contains(fmt.Sprint(rejects), v) {
					t.Errorf("findings or rejects leak %q", v)
				}
			}
		})
	}
}

func TestPIIRejects(t *testing.T) {
	t.Run("drop_row", func(t *testing.T) {
		st := mustRedactor(t, WithPIIOperator(EntitySecret, OpDropRow))
		out, rejects, counts := redactRows(t, st, "fine 13812345678", "key AKIA4QWERTYUIOPASDFG and 13812345678", "nothing here")
		if out[0] != "fine <PHONE>" || out[2] != "nothing here" {
			t.Errorf("kept rows %q", out)
		}
		if len(rejects) != 1 || rejects[0].ID != "row1" || rejects[0].Reason != "pii_secret" {
			t.Fatalf("rejects %+v", rejects)
		}
		if strings.Contains(rejects[0].Detail, "AKIA") || !strings.Contains(rejects[0].Detail, "aws_key_id") {
			t.Errorf("detail %q", rejects[0].Detail)
		}
		if counts[EntityPhone] != 2 || counts[EntitySecret] != 1 {
			t.Errorf("counts %v", counts)
		}
	})
	t.Run("panic", func(t *testing.T) {
		r := mustRedactor(t).(*Redactor)
		r.emailRec.valid = func(string, *Redactor) bool { panic("bug") }
		out, rejects, _ := redactRows(t, r, "call 13812345678", "mail bob@example.com")
		if out[0] != "call <PHONE>" || len(rejects) != 1 || rejects[0].Reason != "pii_error" || rejects[0].ID != "row1" {
			t.Fatalf("out %q rejects %+v", out, rejects)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		// A catastrophic custom pattern times out on one row only.
		st := mustRedactor(t, WithPIITimeout(20*time.Millisecond),
			WithPIIRecognizer(PIIRecognizer{Entity: "slow", Pattern: `(x+x+)+y`}))
		evil := strings.Repeat("x", 40)
		out, rejects, _ := redactRows(t, st, "call 13812345678", evil)
		if out[0] != "call <PHONE>" {
			t.Errorf("good row: %q", out[0])
		}
		if len(rejects) != 1 || rejects[0].Reason != "pii_error" || rejects[0].ID != "row1" {
			t.Fatalf("rejects %+v", rejects)
		}
		if strings.Contains(rejects[0].Detail, evil) || !strings.Contains(rejects[0].Detail, "slow") {
			t.Errorf("detail %q", rejects[0].Detail)
		}
	})
}

// TestPIIPathological feeds inputs built to defeat a prefilter or a
// backtracking engine. Each must finish well within the bound (they take
// milliseconds; the bound only catches super-linear blow-ups on a loaded
// machine) and end as redacted text or a pii_error reject, never a crash.
func TestPIIPathological(t *testing.T) {
	const mb = 1 << 20
	for _, tc := range []struct{ name, in string }{
		{"digits", strings.Repeat("7", mb)},
		{"at-signs", strings.Repeat("@", 100_000)},
		{"emails-chained", strings.Repeat("a@b.c", mb/5)},
		{"dashed-digits", strings.Repeat("1-", mb/2)},
		{"spaced-digits", strings.Repeat("12 ", mb/3)},
		{"dotted-digits", strings.Repeat("1.", mb/2)},
		{"colons", strings.Repeat(":", mb)},
		{"hex-colons", strings.Repeat("a1:", mb/3)},
		{"jwt-heads", strings.Repeat("eyJ", mb/3)},
		{"jwt-spaced", strings.Repeat("eyJ ", mb/4)},
		{"jwt-dotted", strings.Repeat("eyJ.", mb/4)},
		{"aws-dotted", strings.Repeat("AKIA.", mb/5)},
		{"slack-long", "xoxb-123456789-" + strings.Repeat("x", mb)},
		{"stripe-long", "sk_live_" + strings.Repeat("a1", mb/2)},
		{"aws-secret-names", strings.Repeat("aws_secret_access_key=", mb/22)},
		{"webhooks", strings.Repeat("https://hooks.slack.com/services/", mb/33)},
		{"email-unicode-local", strings.Repeat("端", mb/3) + "@example.com"},
		{"separators", strings.Repeat("- ", mb/2)},
		{"pem-no-end", "-----BEGIN PRIVATE KEY-----\n" + strings.Repeat("QUJD", mb/4)},
		{"pem-heads", strings.Repeat("-----BEGIN ", mb/11)},
		{"pem-private-heads", strings.Repeat("-----BEGIN PRIVATE KEY-----\n", mb/28)},
		{"url-heads", strings.Repeat("a://b:c", mb/7)},
		{"iban-heads", strings.Repeat("DE12 ", mb/5)},
		{"cjk-digits", strings.Repeat("号1", mb/4)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			out, rejects, _ := redactRows(t, mustRedactor(t), tc.in)
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("took %v", d)
			}
			if len(rejects) == 0 && out[0] == "" {
				t.Error("row vanished")
			}
		})
	}
}

func TestPIIConversation(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	bld := sift.NewBuilder(mem)
	defer bld.Release()
	bld.Append(sift.Row{ID: "chat", Messages: []sift.Message{
		{Role: "system", Content: "reach ops@example.com"},
		{Role: "user", Content: "我的手机13812345678"},
		{Role: "assistant", Content: "Noted: 13812345678."},
	}})
	rec := bld.NewBatch()
	defer rec.Release()
	for _, tc := range []struct {
		name     string
		roles    sift.Roles
		want     string
		findings string
	}{
		{"all", sift.AllRoles, `[{"role":"system","content":"reach <EMAIL>"},{"role":"user","content":"我的手机<PHONE>"},{"role":"assistant","content":"Noted: <PHONE>."}]`, `"msg":0,"msg":1,"msg":2`},
		{"user", sift.RoleUser, `[{"role":"system","content":"reach ops@example.com"},{"role":"user","content":"我的手机<PHONE>"},{"role":"assistant","content":"Noted: 13812345678."}]`, `"msg":1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f bytes.Buffer
			st := mustRedactor(t, WithPIIRoles(tc.roles), WithPIIKey([]byte("k")), WithPIIFindings(&f))
			b := sift.NewBatch(mem, "pii_redact", rec)
			out, err := st.Process(context.Background(), b)
			if err != nil {
				t.Fatal(err)
			}
			defer out.Release()
			if got := string(sift.AppendMessagesJSON(nil, sift.ColsOf(out), 0)); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			var msgs []string
			for _, l := range strings.Split(strings.TrimSpace(f.String()), "\n") {
				var x struct{ Msg int }
				json.Unmarshal([]byte(l), &x)
				msgs = append(msgs, fmt.Sprintf(`"msg":%d`, x.Msg))
			}
			if got := strings.Join(msgs, ","); got != tc.findings {
				t.Errorf("findings turns %s, want %s\n%s", got, tc.findings, f.String())
			}
		})
	}
}

// TestPIIDeterministic runs the stage with findings and drop_row over the
// corpus with different worker counts and batch sizes: output, rejects and
// findings must be byte-identical.
func TestPIIDeterministic(t *testing.T) {
	g := newPIIGen(4)
	rows := make([]genRow, 600)
	for i := range rows {
		rows[i] = g.denseRow()
	}
	var ref [3]string
	for i, c := range []struct{ workers, batch int }{{1, 600}, {4, 7}, {2, 1}, {3, 64}} {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		var f bytes.Buffer
		st := mustRedactor(t, WithPIIKey([]byte("k")), WithPIIFindings(&f), WithPIIOperator(EntityIBAN, OpDropRow), WithPIIOperator(EntityEmail, OpHash))
		out, stats, rej := runStage(t, mem, st, genBatches(t, mem, rows, c.batch), c.workers)
		mem.AssertSize(t, 0)
		var o strings.Builder
		for j := range rows {
			fmt.Fprintf(&o, "%q\n", out[fmt.Sprintf("r%d", j)])
		}
		got := [3]string{o.String(), rej, f.String()}
		if stats.Stages[1].RowsRejected == 0 || f.Len() == 0 {
			t.Fatal("corpus exercises no rejects or findings")
		}
		if i == 0 {
			ref = got
			continue
		}
		for k, name := range []string{"output", "rejects", "findings"} {
			if got[k] != ref[k] {
				t.Errorf("workers %d batch %d: %s differ", c.workers, c.batch, name)
			}
		}
	}
}

func TestPIIConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  []PIIOption
		field string
	}{
		{"hash-without-key", []PIIOption{WithPIIOperator(EntityEmail, OpHash)}, "key:"},
		{"findings-without-key", []PIIOption{WithPIIFindings(&bytes.Buffer{})}, "key:"},
		{"bad-operator", []PIIOption{WithPIIOperator(EntityEmail, "scramble")}, "operators:"},
		{"bad-default-operator", []PIIOption{WithPIIOperator("", "scramble")}, "operator:"},
		{"operator-of-disabled-entity", []PIIOption{WithPIIEntities(EntityEmail), WithPIIOperator(EntityPhone, OpMask)}, "operators:"},
		{"unknown-entity", []PIIOption{WithPIIEntities("passport")}, "entities:"},
		{"bad-pattern", []PIIOption{WithPIIRecognizer(PIIRecognizer{Entity: "x", Pattern: "(unclosed"})}, "recognizers[0].pattern"},
		{"bad-validator", []PIIOption{WithPIIRecognizer(PIIRecognizer{Entity: "x", Pattern: "x", Validator: "crc32"})}, "recognizers[0].validator"},
		{"bad-name", []PIIOption{WithPIIRecognizer(PIIRecognizer{Entity: "a b", Pattern: "x"})}, "recognizers[0].name"},
		{"builtin-name", []PIIOption{WithPIIRecognizer(PIIRecognizer{Entity: "email", Pattern: "x"})}, "recognizers[0].name"},
		{"no-roles", []PIIOption{WithPIIRoles(0)}, "roles:"},
		{"timeout", []PIIOption{WithPIITimeout(-1)}, "timeout:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewRedactor(tc.opts...)
			if err == nil || !strings.HasPrefix(err.Error(), tc.field) {
				t.Errorf("error %v, want one naming %s", err, tc.field)
			}
		})
	}
}

// buildSpec builds pii_redact from a YAML spec, as a recipe does.
func buildSpec(t *testing.T, spec, dir string) (sift.Stage, error) {
	t.Helper()
	f, err := parser.ParseBytes([]byte(spec), 0)
	if err != nil {
		t.Fatal(err)
	}
	def, _ := recipe.Lookup("pii_redact")
	return def.Build(f.Docs[0].Body, recipe.Env{Dir: dir})
}

func TestPIIRecipe(t *testing.T) {
	dir := t.TempDir()
	t.Run("key-from-env", func(t *testing.T) {
		t.Setenv(PIIKeyEnv, "")
		if _, err := buildSpec(t, "operator: hash", dir); err == nil || !strings.Contains(err.Error(), "key:") {
			t.Fatalf("no key: %v", err)
		}
		t.Setenv(PIIKeyEnv, "from env")
		st, err := buildSpec(t, "operator: hash", dir)
		if err != nil {
			t.Fatal(err)
		}
		a, _, _ := redactRows(t, st, "13812345678")
		b, _, _ := redactRows(t, mustRedactor(t, WithPIIOperator("", OpHash), WithPIIKey([]byte("from env"))), "13812345678")
		if a[0] != b[0] {
			t.Errorf("%q != %q", a[0], b[0])
		}
	})
	t.Run("custom-and-errors", func(t *testing.T) {
		st, err := buildSpec(t, "operators: {secret: drop_row}\nallowlist: [bob@example.com]\nrecognizers:\n  - {name: ticket, pattern: 'TCK-[0-9]{4}', action: remove}\n", dir)
		if err != nil {
			t.Fatal(err)
		}
		out, _, _ := redactRows(t, st, "TCK-1234 bob@example.com amy@example.com")
		if out[0] != " bob@example.com <EMAIL>" {
			t.Errorf("got %q", out[0])
		}
		os.WriteFile(filepath.Join(dir, "plain-file"), nil, 0o644) // a directory that cannot be created
		for spec, field := range map[string]string{"timeout: soon": "timeout:", "roles: [robot]": "roles:",
			"recognizers: [{name: x, pattern: '('}]": "recognizers[0].pattern", "findings: plain-file/f.jsonl\nkey: k": "findings:"} {
			if _, err := buildSpec(t, spec, dir); err == nil || !strings.Contains(err.Error(), field) {
				t.Errorf("%s: error %v, want one naming %s", spec, err, field)
			}
		}
	})
	t.Run("findings-file", func(t *testing.T) {
		path := filepath.Join(dir, "findings.jsonl")
		st, err := buildSpec(t, "findings: findings.jsonl\nkey: k", dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := st.(sift.Sequential); !ok {
			t.Error("a stage writing findings must be sequential")
		}
		redactRows(t, st, "mail bob@example.com", "手机13812345678")
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("findings file exists before Close: %v", err)
		}
		if err := st.(interface{ Close() error }).Close(); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want := `{"id":"row0","entity":"email","recognizer":"email","start":5,"end":20,"hash":`
		if !strings.HasPrefix(string(data), want) || bytes.Count(data, []byte("\n")) != 2 || bytes.Contains(data, []byte("bob@")) {
			t.Errorf("findings:\n%s", data)
		}
		st, _ = buildSpec(t, "findings: aborted.jsonl\nkey: k", dir)
		st.(interface{ Abort() }).Abort()
		if left, _ := filepath.Glob(filepath.Join(dir, ".aborted*")); len(left) > 0 {
			t.Errorf("Abort left %v", left)
		}
	})
}

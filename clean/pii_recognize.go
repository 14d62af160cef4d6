package clean

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dlclark/regexp2"
)

// Built-in entities of the PII redactor.
const (
	EntityEmail      = "email"
	EntityPhone      = "phone"
	EntityCNID       = "cn_id"
	EntityCreditCard = "credit_card"
	EntityIBAN       = "iban"
	EntityIP         = "ip"
	EntitySecret     = "secret"
)

// PIIEntities lists the built-in entities, most specific first: when two
// matches overlap and neither contains the other, the earlier entity wins.
var PIIEntities = []string{EntitySecret, EntityIBAN, EntityCNID, EntityCreditCard, EntityEmail, EntityPhone, EntityIP}

// DefaultPIIAllowlist holds documented example values that are never
// redacted. [WithPIIAllowlist] extends it.
var DefaultPIIAllowlist = []string{
	"AKIAIOSFODNN7EXAMPLE",                     // AWS documentation access key id
	"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", // AWS documentation secret key
}

// trigger says which cheap prefilter hands text windows to a recognizer.
type trigger uint8

const (
	trigAll     trigger = iota // no prefilter: the pattern scans the whole text (custom recognizers)
	trigNumeric                // runs of digits and phone/card separators
	trigIBAN                   // two capital letters before a digit run
	trigEmail                  // '@'
	trigIPv6                   // ':' among hex digits
	trigLiteral                // a fixed prefix such as "AKIA" or "-----BEGIN"
	trigURL                    // "://"
)

// Shared boundary fragments. .NET's \w and \d are Unicode-aware (a Han
// character is \w), so the boundaries spell out ASCII classes: that is what
// makes "手机13812345678。" match while "A13812345678" and the middle of an
// 18-digit order number do not.
const (
	numBefore = `(?<![0-9A-Za-z_@+]|[0-9A-Za-z][.\-])`
	numAfter  = `(?![0-9A-Za-z_@]|[.\-][0-9])`
)

// builtin describes one built-in recognizer before compilation.
type builtin struct {
	name, entity string
	pattern      string
	// ascii, if set, is pattern specialised to ASCII text (the same
	// matches there); it runs on windows without other characters,
	// because regexp2's Unicode classes are slow.
	ascii    string
	group    int // capture group that is the value; 0 for the whole match
	valid    func(v string, r *Redactor) bool
	trig     trigger
	context  []string // lower-cased words, one of which must occur near a match
	literals []string // for trigLiteral: the prefixes the value starts with
	anchor   byte     // the literals' byte the prefilter looks for (the rarest in prose)
	// plausible, if set, tells a look-alike from noise before valid checks
	// the checksum: a plausible value failing valid is a decoy such as an
	// IBAN with a wrong check sum, and no shorter match inside it counts.
	plausible func(v string) bool
	// trim, if set, cuts a match to the length of the value it holds, or
	// returns -1 if it holds none.
	trim func(v string) int
	// notAfter, if set, reports whether the text before a match makes it
	// something else (a section or version number before an IPv4).
	notAfter func(before, v string) bool
	// span, for trigLiteral, is the window length after the literal (the
	// value follows a name, as in aws_secret_access_key = …); 0 for a
	// window that grows to the end of the token.
	span int

	// Gates of trigNumeric: what a numeric window must have for the
	// pattern to possibly match in it (see numShape).
	minDigits, minDots int
	needs              numShape
}

var builtins = []builtin{
	// Local parts and domains may hold letters of any script
	// ("hans.m端ller@test.com", "info@bücher.de", "用户@例子.广告"), but a
	// local part starting with CJK text followed by ASCII is prose before
	// an address ("请发邮件至wang@163.com"): the address starts after it.
	{name: "email", entity: EntityEmail, trig: trigEmail, valid: validEmail,
		ascii: `(?<![A-Za-z0-9._%+!#$*^{|}~\-])(?!\.)[A-Za-z0-9._%+!#$*^{|}~\-]{1,64}(?<!\.)` +
			`@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9\-])(?!\.[A-Za-z0-9])`,
		pattern: `(?:(?<![` + emailLocal + `])[` + cjk + `]{1,64}|(?<![` + emailLocal + `-[` + cjk + `]])(?![` + cjk + `.])[` + emailLocal + `]{1,64}(?<!\.))` +
			`@(?:[A-Za-z0-9\p{L}\p{N}](?:[A-Za-z0-9\p{L}\p{M}\p{N}\-]{0,61}[A-Za-z0-9\p{L}\p{M}\p{N}])?\.)+(?:[A-Za-z]{2,24}(?![A-Za-z0-9\-])|[\p{L}\p{M}]{2,24}(?![A-Za-z0-9\p{L}\p{M}\p{N}\-]))(?!\.[A-Za-z0-9\p{L}\p{N}])`},

	{name: "cn_mobile", entity: EntityPhone, trig: trigNumeric, minDigits: 11, needs: shMobile,
		pattern: numBefore + `(?:(?:\+|00)86[ \-]?)?1[3-9][0-9](?:[ \-]?[0-9]{4}){2}` + numAfter},
	// Area codes follow the numbering plan: 010, 02x, or 0 and three
	// digits from 3; "0120 6900 0000" is no landline.
	{name: "cn_landline", entity: EntityPhone, trig: trigNumeric, minDigits: 10, needs: shArea,
		pattern: numBefore + `(?:\((?:010|02[0-9]|0[3-9][0-9]{2})\) ?|(?:010|02[0-9]|0[3-9][0-9]{2})[ \-])[2-8][0-9]{2,3}[ \-]?[0-9]{4}` + numAfter},
	// A UK national number as it is written, with a space after the area
	// code: mobile 07xxx, London 020, other geographic 01xx(x) and 03xx,
	// freephone 0800.
	{name: "uk_national", entity: EntityPhone, trig: trigNumeric, minDigits: 10, needs: shArea,
		pattern: numBefore + `0(?:7[1-9][0-9]{2} [0-9]{3} ?[0-9]{3}|1[1-9][0-9]{1,2} [0-9]{3} ?[0-9]{3,4}|2[0-9] [0-9]{4} ?[0-9]{4}|3[0-9]{2} [0-9]{3} ?[0-9]{4}|800 [0-9]{3} ?[0-9]{3,4})` + numAfter},
	// The separators must agree ("252.227-7013" is a clause number), and a
	// digit group just before means a longer number ("51 824 753 5564").
	{name: "nanp", entity: EntityPhone, trig: trigNumeric, minDigits: 10, needs: shRun3,
		pattern: numBefore + `(?<![0-9] )(?:\+?1[ \-.]?)?(?:\([2-9][0-9]{2}\) ?[2-9][0-9]{2}[\-. ]|[2-9][0-9]{2}([\-. ])[2-9][0-9]{2}\1)[0-9]{4}` + numAfter},
	// E.164 with separators, a trunk "(0)" or a bracketed area code.
	{name: "e164", entity: EntityPhone, trig: trigNumeric, minDigits: 8, needs: shPlus, valid: validE164,
		pattern: numBefore + `\+[1-9][0-9]{0,2}(?: ?\(0\))?(?:[ \-]?(?:[0-9]{1,4}|\([0-9]{1,4}\))){2,6}` + numAfter},

	{name: "cn_id", entity: EntityCNID, trig: trigNumeric, minDigits: 17, needs: shID, plausible: cnIDDate, valid: mod11_2R,
		pattern: numBefore + `[1-9][0-9]{5} ?(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01]) ?[0-9]{3}[0-9Xx]` + numAfter},

	{name: "credit_card", entity: EntityCreditCard, trig: trigNumeric, minDigits: 13, needs: shCard, plausible: cardBrand, valid: luhnR,
		pattern: numBefore + `(?:[1-6][0-9]{12,18}|[2-6][0-9]{3}([ \-])[0-9]{4}\1[0-9]{4}\1[0-9]{1,4}(?:\1[0-9]{1,3})?|3[47][0-9]{2}([ \-])[0-9]{6}\2[0-9]{5})` + numAfter},

	// An IBAN followed by a short upper-case word ("… 7034 EUR", "… BIC
	// GEBABEBB") is cut to its country's length (trimIBAN) before the
	// checks.
	{name: "iban", entity: EntityIBAN, trig: trigIBAN, trim: trimIBAN, plausible: ibanShape, valid: mod97R,
		pattern: `(?<![0-9A-Za-z_])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![0-9A-Za-z_])`},

	// A dotted quad, with a CIDR prefix length if one follows; a dot
	// before it is fine (".127.0.0.1" in a cookie domain) unless a digit
	// precedes the dot (a longer dotted number). Section and version
	// numbers are told apart by the word before (notAfter).
	{name: "ipv4", entity: EntityIP, trig: trigNumeric, minDigits: 4, minDots: 3, valid: validIP, notAfter: sectionNumber,
		pattern: `(?<![0-9A-Za-z_\-]|[0-9]\.)(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?:/(?:3[0-2]|[12]?[0-9])(?![0-9]))?(?![0-9A-Za-z_]|\.[0-9])`},
	{name: "ipv6", entity: EntityIP, trig: trigIPv6, valid: validIP,
		pattern: `(?<![0-9A-Za-z_:.])(?:[0-9A-Fa-f]{0,4}:){2,8}(?:(?:[0-9]{1,3}\.){3}[0-9]{1,3}|[0-9A-Fa-f]{1,4})?(?:%[0-9A-Za-z_.\-]+)?(?:/(?:12[0-8]|1[01][0-9]|[1-9]?[0-9])(?![0-9]))?(?![0-9A-Za-z_:%]|\.[0-9])`},

	{name: "aws_key_id", entity: EntitySecret, trig: trigLiteral, literals: []string{"AKIA", "ASIA", "ABIA", "ACCA"}, anchor: 'A', valid: realKey(4),
		pattern: `(?<![A-Za-z0-9_\-])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])`},
	// The secret access key has no prefix of its own: it is found by the
	// name it is assigned to.
	{name: "aws_secret_key", entity: EntitySecret, trig: trigLiteral, literals: []string{"aws_secret_access_key", "AWS_SECRET_ACCESS_KEY", "aws_secret_key", "AWS_SECRET_KEY"}, anchor: '_', span: 96, group: 1, valid: realKey(0),
		pattern: `(?:aws_secret_access_key|AWS_SECRET_ACCESS_KEY|aws_secret_key|AWS_SECRET_KEY)["']?[ \t]*[:=][ \t]*["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])`},
	{name: "aws_secret_key", entity: EntitySecret, trig: trigLiteral, literals: []string{"SecretAccessKey", "secretAccessKey"}, anchor: 'K', span: 96, group: 1, valid: realKey(0),
		pattern: `(?:SecretAccessKey|secretAccessKey)["']?[ \t]*[:=][ \t]*["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])`},
	{name: "github_token", entity: EntitySecret, trig: trigLiteral, literals: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"}, anchor: '_', valid: realKeyAfter('_'),
		pattern: `(?<![A-Za-z0-9_\-])(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,244})(?![A-Za-z0-9_])`},
	{name: "stripe_key", entity: EntitySecret, trig: trigLiteral, literals: []string{"sk_live_", "rk_live_", "sk_test_", "rk_test_", "sk_prod_", "rk_prod_"}, anchor: '_', valid: realKey(8),
		pattern: `(?<![A-Za-z0-9_\-])[sr]k_(?:live|test|prod)_[A-Za-z0-9]{10,}(?![A-Za-z0-9_])`},
	{name: "google_api_key", entity: EntitySecret, trig: trigLiteral, literals: []string{"AIza"}, anchor: 'A', valid: realKey(4),
		pattern: `(?<![A-Za-z0-9_\-])AIza[A-Za-z0-9_\-]{35}(?![A-Za-z0-9_\-])`},
	{name: "openai_key", entity: EntitySecret, trig: trigLiteral, literals: []string{"sk-"}, anchor: '-', valid: mixedClasses,
		pattern: `(?<![A-Za-z0-9_\-])sk-[A-Za-z0-9_\-]{20,}(?![A-Za-z0-9_\-])`},
	{name: "slack_token", entity: EntitySecret, trig: trigLiteral, literals: []string{"xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxs-", "xoxr-", "xoxe-", "xoxe.", "xapp-"}, anchor: 'x', valid: validSlack,
		pattern: `(?<![A-Za-z0-9_\-])(?:xox[abposre]|xoxe\.xox[bp]|xapp)-[A-Za-z0-9\-]{8,}(?![A-Za-z0-9_\-])`},
	{name: "slack_webhook", entity: EntitySecret, trig: trigLiteral, literals: []string{"https://hooks.slack.com/", "http://hooks.slack.com/", "hooks.slack.com/"}, anchor: '/', span: 512,
		pattern: `(?<![A-Za-z0-9.\-])(?:https?://)?hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,}(?![A-Za-z0-9+/])`},
	// PEM and OpenPGP armor; the body must hold at least 64 base64
	// characters, so an empty block or "anything" between the lines stays.
	{name: "private_key", entity: EntitySecret, trig: trigLiteral, literals: []string{"-----BEGIN "}, anchor: '-', valid: keyBody,
		pattern: `-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:(?:(?!-----BEGIN )[A-Za-z0-9+/=\s:,.\-])*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|(?:[ \t]*\r?\n[A-Za-z0-9+/=]{16,})*)`},
	{name: "jwt", entity: EntitySecret, trig: trigLiteral, literals: []string{"eyJ"}, anchor: 'J', valid: validJWT,
		pattern: `(?<![A-Za-z0-9_\-.])eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{2,}\.[A-Za-z0-9_\-]*(?![A-Za-z0-9_\-])`},
	{name: "url_credentials", entity: EntitySecret, trig: trigURL, group: 1,
		pattern: `(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]{0,20}://([^\s:/@?#<>"']{1,128}:[^\s/@?#<>"']{1,128})@`},
}

// Character classes of the e-mail pattern: what a local part may hold
// (letters and marks of any script, digits, and the RFC 5322 atext
// symbols that do not separate words or query parameters; ASCII spelled
// out first, which regexp2 checks fastest), and the CJK ideographs, kana
// and Hangul syllables.
const (
	emailLocal = `A-Za-z0-9\p{L}\p{M}\p{N}._%+!#$*^{|}~\-`
	cjk        = `\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af`
)

// Window limits of the prefilters, in bytes. Every built-in match is
// shorter than maxNumeric; longer numeric runs are scanned in overlapping
// chunks so no window is large.
// Token and key-block windows have no limit: they grow to the end of the
// token or block.
const (
	maxNumeric   = 64  // longest numeric match (phone, card, id, IPv4)
	numericChunk = 256 // numeric windows are cut into chunks this long
)

// recognizer is a compiled recognizer.
type recognizer struct {
	builtin
	re   *regexp2.Regexp
	anch *regexp2.Regexp // re anchored at the start position (\G), for triggers that know it
	// reASCII and anchASCII are compiled from ascii, or are re and anch.
	reASCII, anchASCII *regexp2.Regexp
	rank               int // position of the entity in precedence order
}

func compile(b builtin, timeout time.Duration) (*recognizer, error) {
	rc := &recognizer{builtin: b}
	for _, p := range []struct {
		re, anch **regexp2.Regexp
		pattern  string
	}{{&rc.re, &rc.anch, b.pattern}, {&rc.reASCII, &rc.anchASCII, b.ascii}} {
		if p.pattern == "" {
			rc.reASCII, rc.anchASCII = rc.re, rc.anch
			break
		}
		re, err := regexp2.Compile(p.pattern, regexp2.None)
		if err != nil {
			return nil, err
		}
		anch, err := regexp2.Compile(`\G(?:`+p.pattern+`)`, regexp2.None)
		if err != nil {
			return nil, err
		}
		re.MatchTimeout, anch.MatchTimeout = timeout, timeout
		*p.re, *p.anch = re, anch
	}
	return rc, nil
}

// Validators. Each gets the matched value.

func digitsOf(v string) []byte {
	d := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if c := v[i]; c >= '0' && c <= '9' {
			d = append(d, c-'0')
		}
	}
	return d
}

// luhn reports whether the digits of v pass the Luhn check.
func luhn(v string) bool {
	d := digitsOf(v)
	if len(d) < 2 {
		return false
	}
	sum := 0
	for i := range d {
		x := int(d[len(d)-1-i])
		if i%2 == 1 {
			if x *= 2; x > 9 {
				x -= 9
			}
		}
		sum += x
	}
	return sum%10 == 0
}

// mod97 reports whether the letters and digits of v, read as an IBAN
// (first four characters moved to the end, A=10 … Z=35), are 1 mod 97.
func mod97(v string) bool {
	s := alnumUpper(v)
	if len(s) < 5 {
		return false
	}
	s = s[4:] + s[:4]
	r := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			r = (r*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			r = (r*100 + int(c-'A') + 10) % 97
		}
	}
	return r == 1
}

// mod11_2 reports whether v's digits end in a valid ISO 7064 MOD 11-2
// check character (X stands for 10), as on Chinese resident ID cards.
func mod11_2(v string) bool {
	s := alnumUpper(v)
	if len(s) < 2 {
		return false
	}
	p := 0
	for i := 0; i < len(s)-1; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		p = (p + int(c-'0')) * 2 % 11
	}
	want := (12 - p) % 11
	c := s[len(s)-1]
	switch {
	case c == 'X':
		return want == 10
	case c >= '0' && c <= '9':
		return int(c-'0') == want
	}
	return false
}

func alnumUpper(v string) string {
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= 'a' && c <= 'z':
			b = append(b, c-'a'+'A')
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			b = append(b, c)
		}
	}
	return string(b)
}

// validators maps the validator names a recipe may give a custom recognizer.
var validators = map[string]func(string) bool{"luhn": luhn, "mod97": mod97, "mod11_2": mod11_2}

// fileExts are file extensions that look like top-level domains in names
// such as "logo@2x.png"; none is a real TLD.
var fileExts = map[string]bool{"png": true, "jpg": true, "jpeg": true, "gif": true, "svg": true, "webp": true,
	"bmp": true, "ico": true, "css": true, "js": true, "jsx": true, "tsx": true, "json": true, "yaml": true,
	"yml": true, "txt": true, "html": true, "htm": true, "xml": true, "pdf": true}

func validEmail(v string, _ *Redactor) bool {
	tld := strings.ToLower(v[strings.LastIndexByte(v, '.')+1:])
	return !fileExts[tld]
}

func validE164(v string, _ *Redactor) bool {
	n := len(digitsOf(strings.Replace(v, "(0)", "", 1))) // a trunk 0 is dialled only nationally
	return n >= 8 && n <= 15
}

// cnIDDate checks the birth date of an 18-character Chinese ID (spaces
// between its groups allowed).
func cnIDDate(v string) bool {
	v = alnumUpper(v)
	if len(v) < 14 {
		return false
	}
	t, err := time.Parse("20060102", v[6:14])
	return err == nil && t.Year() >= 1900
}

// cardBrand checks that the issuer prefix fits the length, which keeps most
// 18-digit IDs and order numbers from looking like cards.
func cardBrand(v string) bool {
	d := digitsOf(v)
	n := len(d)
	p := func(k int) int {
		x := 0
		for _, c := range d[:k] {
			x = x*10 + int(c)
		}
		return x
	}
	switch {
	case n < 13 || n > 19:
		return false
	case n == 18 && cnIDDate(string(v)): // the shape of a Chinese ID, not a card
		return false
	case d[0] == 1: // UATP
		return n == 15
	case d[0] == 4: // Visa
		return n == 13 || n == 16 || n == 19
	case p(2) >= 51 && p(2) <= 55, p(4) >= 2221 && p(4) <= 2720: // Mastercard
		return n == 16
	case p(2) == 34 || p(2) == 37: // American Express
		return n == 15
	case p(2) == 36 || p(2) == 38 || p(2) == 39 || p(3) >= 300 && p(3) <= 305: // Diners
		return n >= 14
	case p(2) == 62 || p(2) == 65 || p(4) == 6011 || p(3) >= 644 && p(3) <= 649 || p(4) >= 3528 && p(4) <= 3589: // UnionPay, Discover, JCB
		return n >= 16
	case p(4) >= 2200 && p(4) <= 2204: // Mir
		return n == 16
	case slices.Contains([]int{5018, 5019, 5020, 5038, 5893, 6304, 6759, 6761, 6762, 6763}, p(4)): // Maestro, Dankort
		return n >= 12
	}
	return false
}

// ibanLengths maps the IBAN countries to their IBAN lengths (SWIFT IBAN
// registry).
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27, "BR": 29,
	"BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
	"ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
	"HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
	"LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
	"MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29,
	"PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24,
	"SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}

// trimIBAN returns the length of the prefix of v that holds as many
// letters and digits as its country's IBAN, if that prefix ends at a
// group boundary; else -1.
func trimIBAN(v string) int {
	want := ibanLengths[v[:2]]
	n := 0
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' {
			continue
		}
		if n++; n == want {
			if i+1 == len(v) || v[i+1] == ' ' {
				return i + 1
			}
			return -1
		}
	}
	return -1
}

// ibanShape checks the country code and the length it prescribes.
func ibanShape(v string) bool {
	a := alnumUpper(v)
	return ibanLengths[a[:2]] == len(a)
}

func luhnR(v string, _ *Redactor) bool    { return luhn(v) }
func mod97R(v string, _ *Redactor) bool   { return mod97(v) }
func mod11_2R(v string, _ *Redactor) bool { return mod11_2(v) }

// validIP parses the address of v (without a CIDR prefix length) with
// net/netip. IPv6 needs a digit somewhere, so that
// C++ scopes like "A::B" and a bare "::" stay text.
func validIP(v string, r *Redactor) bool {
	if k := strings.IndexByte(v, '/'); k >= 0 {
		v = v[:k] // the pattern admits only valid prefix lengths
	}
	a, err := netip.ParseAddr(v)
	if err != nil || (a.Is6() && !strings.ContainsAny(v, "0123456789")) {
		return false
	}
	return !r.publicIP || (a.IsGlobalUnicast() && !a.IsPrivate())
}

func hasDigit(v string, _ *Redactor) bool { return strings.ContainsAny(v, "0123456789") }

// placeholder reports whether the random part of a key is a stand-in of
// documentation: few distinct characters ("XXXX…", "aaaa…"), a run of one
// character, or a run of consecutive ones ("abcdefgh", "12345678").
func placeholder(body string) bool {
	var seen [256]bool
	distinct, same, asc, bestSame, bestAsc := 0, 0, 0, 0, 0
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !seen[c] {
			seen[c] = true
			distinct++
		}
		switch {
		case i > 0 && body[i-1] == c:
			same++
		default:
			same = 1
		}
		switch {
		case i > 0 && body[i-1]+1 == c:
			asc++
		default:
			asc = 1
		}
		bestSame, bestAsc = max(bestSame, same), max(bestAsc, asc)
	}
	return distinct <= 4 || bestSame >= 6 || bestAsc >= 8
}

// realKey checks the part of a key after a fixed prefix of n bytes for
// placeholders.
func realKey(n int) func(string, *Redactor) bool {
	return func(v string, _ *Redactor) bool { return len(v) > n && !placeholder(v[n:]) }
}

// realKeyAfter is realKey for a prefix ending at the last sep.
func realKeyAfter(sep byte) func(string, *Redactor) bool {
	return func(v string, _ *Redactor) bool { return !placeholder(v[strings.LastIndexByte(v, sep)+1:]) }
}

// validSlack checks the segment shape of a Slack token: after the prefix
// either a numeric id of at least 6 digits (bot, user, legacy, app tokens)
// or a one-digit version and a body of 100 or more characters
// (configuration and refresh tokens), and a final segment of at least 8
// characters that is not a placeholder. "xoxp-1234567890",
// "xoxb-12345-abcd234" and "xoxe.xoxp-1-RANDOMSTRINGHERE" fail.
func validSlack(v string, _ *Redactor) bool {
	parts := strings.Split(v, "-")[1:]
	last := parts[len(parts)-1]
	if len(last) < 8 || placeholder(last) {
		return false
	}
	if len(parts) == 2 && len(parts[0]) == 1 && isDigit(parts[0][0]) {
		return len(last) >= 100
	}
	for _, p := range parts[:len(parts)-1] {
		if len(p) >= 6 && strings.Trim(p, "0123456789") == "" {
			return true
		}
	}
	return false
}

// keyBody requires 64 base64 characters between the armor lines, not
// counting armor headers ("Version: …").
func keyBody(v string, _ *Redactor) bool {
	body := v[strings.Index(v, "-----\n")+1:]
	if e := strings.Index(body, "-----END "); e >= 0 {
		body = body[:e]
	}
	n := 0
	for _, line := range strings.Split(body, "\n") {
		if strings.Contains(line, ": ") {
			continue
		}
		for i := 0; i < len(line); i++ {
			if c := line[i]; isAlnum(c) || c == '+' || c == '/' {
				n++
			}
		}
	}
	return n >= 64
}

// sectionNumber reports whether the dotted quad v is a section or
// version number: after a word that introduces one (numberWords), or as
// the heading of a comment line ("// 2.2.1.2", "// 31.7.8.1. Vector …")
// when its first part is below 64 and is not 10 or 127 (private and
// loopback addresses, which are written that way).
func sectionNumber(before, v string) bool {
	if numberWords(before) {
		return true
	}
	line := strings.TrimSpace(before[strings.LastIndexByte(before, '\n')+1:])
	if line == "" || strings.Trim(line, "/#*;-") != "" {
		return false
	}
	first, _, _ := strings.Cut(v, ".")
	n, err := strconv.Atoi(first)
	return err == nil && n < 64 && n != 10 && n != 127
}

// numberWords reports whether before ends in a word that introduces a
// section, version or other dotted number rather than an address, also
// across a list ("sections 1.2.3.4 and 1.2.3.5").
func numberWords(before string) bool {
	b := strings.ToLower(strings.TrimRight(before, " \t(\u00a0"))
	if strings.HasSuffix(b, "§") || strings.HasSuffix(b, "¶") {
		return true
	}
	if l, ok := strings.CutSuffix(b, ","); ok {
		return afterNumber(l)
	}
	k := len(b)
	for k > 0 && (isLetter(b[k-1]) || b[k-1] == '.') {
		k--
	}
	switch w := strings.TrimSuffix(b[k:], "."); w {
	case "and", "or", "to", "through":
		return afterNumber(b[:k])
	case "section", "sections", "sec", "secs", "clause", "clauses", "chapter", "chap", "paragraph", "para", "part",
		"article", "art", "appendix", "annex", "table", "figure", "fig", "item", "step", "rule", "rfc", "oid",
		"version", "versions", "ver", "v", "release", "build", "revision", "rev", "firmware", "kernel", "patch",
		"update":
		return true
	}
	return false
}

// afterNumber reports whether before ends in a dotted number that
// numberWords accepts (the previous item of a list).
func afterNumber(before string) bool {
	b := strings.TrimRight(before, " \t")
	k := len(b)
	for k > 0 && (isDigit(b[k-1]) || b[k-1] == '.') {
		k--
	}
	return k < len(b) && numberWords(b[:k])
}

// mixedClasses requires a digit, an upper- and a lower-case letter, which
// every real API key has and hyphenated prose ("sk-learn-…") lacks.
func mixedClasses(v string, _ *Redactor) bool {
	return hasDigit(v, nil) && strings.ContainsAny(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") && strings.ContainsAny(v, "abcdefghijklmnopqrstuvwxyz")
}

// validJWT requires the header and payload to decode (base64url) to
// what starts a JSON object: '{' and, in the header, a quoted name. A
// corrupted header byte later on does not make a token harmless.
func validJWT(v string, _ *Redactor) bool {
	parts := strings.SplitN(v, ".", 3)
	for i, p := range parts[:2] {
		p = strings.TrimRight(p, "=")
		b, err := base64.RawURLEncoding.DecodeString(p)
		if err != nil {
			b, _ = base64.RawURLEncoding.DecodeString(p[:len(p)/4*4])
		}
		if len(b) < 2 || b[0] != '{' || i == 0 && b[1] != '"' {
			return false
		}
	}
	return true
}

// customBuiltin turns a user recognizer into a builtin scanning whole texts.
func customBuiltin(c PIIRecognizer) (builtin, error) {
	b := builtin{name: c.Entity, entity: c.Entity, pattern: c.Pattern, trig: trigAll}
	if _, err := regexp2.Compile(c.Pattern, regexp2.None); err != nil {
		return b, fmt.Errorf("pattern: %w", err)
	}
	if c.Validator != "" {
		f, ok := validators[c.Validator]
		if !ok {
			return b, fmt.Errorf("validator: %q is not one of luhn, mod97, mod11_2", c.Validator)
		}
		b.valid = func(v string, _ *Redactor) bool { return f(v) }
	}
	return b, nil
}

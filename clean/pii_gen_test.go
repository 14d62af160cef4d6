package clean

// A seeded generator of mixed English/Chinese text with planted personal
// data of every built-in entity and look-alike decoys. All sentences, names
// and values are made up here. The corpus test, the prefilter-vs-naive test
// and the benchmarks use it.

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
)

// genSeg is one piece of a generated row: filler text, a planted value of
// an entity, or a decoy that must survive.
type genSeg struct {
	kind   byte   // 'f' filler, 'p' planted, 'd' decoy
	entity string // planted: the entity; decoy: its kind
	text   string
}

type genRow []genSeg

func (r genRow) text() string {
	var b strings.Builder
	for _, s := range r {
		b.WriteString(s.text)
	}
	return b.String()
}

type piiGen struct{ rnd *rand.Rand }

func newPIIGen(seed uint64) *piiGen { return &piiGen{rand.New(rand.NewPCG(seed, 0x5eed))} }

var (
	fillEN = []string{
		"The team shipped the new search feature after two weeks of careful testing.",
		"Most readers skip the introduction and jump straight to the examples.",
		"We measured latency on a cold cache and again after the warm-up run.",
		"The river rose three feet overnight, so the morning ferry was cancelled.",
		"Her notes on soil chemistry were clearer than the textbook chapter.",
		"The committee will review every proposal before the end of the quarter.",
		"A small change in the loss function made training far more stable.",
		"Tickets for the autumn concert sold out within an hour.",
		"He prefers green tea in the afternoon and coffee only before nine.",
		"The museum added a wing for maps drawn by early sailors.",
		"Our parser now handles nested quotes without falling back to the slow path.",
		"Rain is expected across the valley for most of the weekend.",
		"The library lends laptops to students during exam season.",
		"Please keep the meeting short and send the slides afterwards.",
		"The recipe calls for two eggs, a cup of flour and a pinch of salt.",
		"In 2021 the plant produced 40 percent more than in the year before.",
		"Note: the build takes about 12 minutes on a laptop.",
	}
	fillZH = []string{
		"今天下午的会议改到三楼的小会议室举行。",
		"这本书的第二章讲的是城市交通的发展历史。",
		"我们在测试环境里重新跑了一遍所有的用例。",
		"周末天气晴朗，很多家庭去公园野餐。",
		"新版本修复了导出表格时中文乱码的问题。",
		"老师建议大家每天花半小时练习写作。",
		"这家餐厅的招牌菜是红烧肉和清蒸鱼。",
		"项目组决定下个月开始第二阶段的开发工作。",
		"图书馆在考试周延长了开放时间。",
		"他把旅行照片整理成了一本小相册。",
		"数据清洗是训练语言模型之前非常重要的一步。",
		"请在周五之前把修改意见发给我。",
		"地铁新线路预计明年春天正式通车。",
		"这款手机的电池续航比上一代提升了不少。",
		"市场部正在准备下季度的推广方案，预算约30万元。",
		"第3期培训共有45名学员参加。",
	}
	// frames put a value into a sentence: prefix, suffix.
	plantFrames = map[string][][2]string{
		EntityEmail:      {{"Email me at ", " if anything breaks."}, {"联系邮箱：", "。"}, {"请发邮件至", "，谢谢。"}, {"Send the report to ", " by Friday."}, {"邮箱是", "，有问题随时联系。"}, {"(mailto:", ")"}},
		EntityPhone:      {{"Call ", " after 6 pm."}, {"手机", "。"}, {"联系电话：", "，工作日可拨打。"}, {"Her number is ", "."}, {"电话", "（仅限工作时间）。"}, {"tel:", " "}},
		EntityCNID:       {{"身份证号是", "，请核对。"}, {"身份证号码：", "。"}, {"ID card no. ", " was verified."}, {"证件号", "已登记。"}},
		EntityCreditCard: {{"Pay with card ", " please."}, {"信用卡号", "，有效期至明年。"}, {"银行卡：", "。"}, {"Card number: ", ", expires soon."}},
		EntityIBAN:       {{"Wire the deposit to IBAN ", " before Monday."}, {"收款账户 IBAN：", "。"}, {"IBAN: ", "."}},
		EntityIP:         {{"The server at ", " is down."}, {"服务器地址", "无法访问。"}, {"Blocked requests from ", " again."}, {"登录 IP：", "，请确认是否本人操作。"}},
		EntitySecret:     {{"export SERVICE_KEY=", "\n"}, {"token: ", "\n"}, {"密钥是", "，不要外传。"}, {"The key ", " leaked in the logs."}},
	}
	decoyFrames = [][2]string{{"Upgrade to ", " before the release."}, {"版本", "已发布。"}, {"The value was ", "."},
		{"日期：", "。"}, {"Reference ", " is fine."}, {"编号", "无需处理。"}}
)

func (g *piiGen) pick(xs []string) string { return xs[g.rnd.IntN(len(xs))] }
func (g *piiGen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.rnd.IntN(10))
	}
	return string(b)
}
func (g *piiGen) chars(n int, set string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = set[g.rnd.IntN(len(set))]
	}
	return string(b)
}

const (
	alnum  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	upnum  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	hexLow = "0123456789abcdef"
)

// group inserts sep every n characters.
func group(s string, n int, sep string) string {
	var b strings.Builder
	for i := 0; i < len(s); i += n {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(s[i:min(i+n, len(s))])
	}
	return b.String()
}

// Check-digit completion, the inverse of the validators.

func luhnComplete(body string) string {
	for c := '0'; c <= '9'; c++ {
		if luhn(body + string(c)) {
			return body + string(c)
		}
	}
	panic("unreachable")
}

func mod11Complete(body string) string {
	for _, c := range "0123456789X" {
		if mod11_2(body + string(c)) {
			return body + string(c)
		}
	}
	panic("unreachable")
}

func ibanComplete(country, bban string) string {
	for k := 2; k < 99; k++ {
		v := fmt.Sprintf("%s%02d%s", country, k, bban)
		if mod97(v) {
			return v
		}
	}
	panic("unreachable")
}

// planted returns a random value of entity.
func (g *piiGen) planted(entity string) string {
	r := g.rnd
	switch entity {
	case EntityEmail:
		local := g.pick([]string{"li", "wang", "zhang.wei", "anna", "james.o", "maria", "chen", "liu_yang", "kumar", "sofia"}) + g.digits(r.IntN(4))
		if r.IntN(3) == 0 {
			local += "+" + g.pick([]string{"news", "work", "2024", "shop"})
		}
		dom := g.pick([]string{"example", "mail", "corp-mail", "qq", "163", "univ", "acme"}) + "." + g.pick([]string{"com", "cn", "com.cn", "org", "io", "net", "edu.cn"})
		if r.IntN(3) == 0 {
			dom = g.pick([]string{"mx.", "eu.", "dept.cs."}) + dom
		}
		switch r.IntN(4) {
		case 0:
			dom = strings.ToUpper(dom)
		case 1:
			local = strings.ToUpper(local[:1]) + local[1:]
		}
		return local + "@" + dom
	case EntityPhone:
		switch r.IntN(4) {
		case 0: // CN mobile
			m := "1" + string(byte('3'+r.IntN(7))) + g.digits(9)
			return g.pick([]string{m, "+86 " + m, "+86-" + m, "0086 " + m, group3444(m, " "), group3444(m, "-"), "+86 " + group3444(m, " ")})
		case 1: // CN landline
			area := g.pick([]string{"010", "021", "020", "0755", "0571", "028"})
			local := string(byte('2'+r.IntN(7))) + g.digits(6+r.IntN(2))
			if len(area) == 4 && len(local) == 8 && r.IntN(2) == 0 {
				return "(" + area + ") " + local[:4] + " " + local[4:]
			}
			return area + "-" + local
		case 2: // NANP
			a, e, l := string(byte('2'+r.IntN(8)))+g.digits(2), string(byte('2'+r.IntN(8)))+g.digits(2), g.digits(4)
			return g.pick([]string{"(" + a + ") " + e + "-" + l, a + "-" + e + "-" + l, a + "." + e + "." + l, "+1 " + a + "-" + e + "-" + l, "+1 (" + a + ") " + e + "-" + l})
		}
		return g.pick([]string{"+44 20 " + g.digits(4) + " " + g.digits(4), "+49 30 " + g.digits(8), "+81 3-" + g.digits(4) + "-" + g.digits(4),
			"+33 1 " + group(g.digits(8), 2, " "), "+65 6" + g.digits(3) + " " + g.digits(4), "+61 2 " + g.digits(4) + " " + g.digits(4), "+49" + g.digits(10)})
	case EntityCNID:
		return g.cnID(true)
	case EntityCreditCard:
		return g.card(true)
	case EntityIBAN:
		return g.iban(true)
	case EntityIP:
		switch r.IntN(5) {
		case 0, 1:
			return fmt.Sprintf("%d.%d.%d.%d", 1+r.IntN(223), r.IntN(256), r.IntN(256), 1+r.IntN(254))
		case 2:
			return fmt.Sprintf("2001:db8:%x:%x:%x:%x:%x:%x", r.IntN(65536), r.IntN(65536), r.IntN(65536), r.IntN(65536), r.IntN(65536), 1+r.IntN(65535))
		case 3:
			return fmt.Sprintf("2001:db8:%x::%x:%x", r.IntN(65536), r.IntN(65536), 1+r.IntN(65535))
		}
		return g.pick([]string{"::1", fmt.Sprintf("fe80::%x:%x", r.IntN(65536), 1+r.IntN(65535)), fmt.Sprintf("::ffff:10.%d.%d.%d", r.IntN(256), r.IntN(256), 1+r.IntN(254)), fmt.Sprintf("2409:8a00::%x", 1+r.IntN(65535))})
	case EntitySecret:
		switch r.IntN(8) {
		case 0:
			return g.pick([]string{"AKIA", "ASIA"}) + g.chars(16, upnum)
		case 1:
			return g.pick([]string{"ghp_", "gho_", "ghs_"}) + g.chars(36, alnum)
		case 2:
			return "github_pat_" + g.chars(22, alnum) + "_" + g.chars(59, alnum)
		case 3:
			return g.pick([]string{"sk-", "sk-proj-"}) + "Ab1" + g.chars(45, alnum)
		case 4:
			return "xoxb-" + g.digits(12) + "-" + g.digits(13) + "-" + g.chars(24, alnum)
		case 5:
			return g.jwt()
		case 6:
			return g.pem("RSA PRIVATE KEY")
		}
		return "URL" // expanded by sentence: credentials inside a URL
	}
	panic(entity)
}

func group3444(m, sep string) string { return m[:3] + sep + m[3:7] + sep + m[7:] }

var cnRegions = []string{"110105", "310104", "440306", "510107", "320583", "330106", "420111", "620102"}

func (g *piiGen) cnID(valid bool) string {
	r := g.rnd
	body := g.pick(cnRegions[:7]) + fmt.Sprintf("%04d%02d%02d", 1950+r.IntN(60), 1+r.IntN(12), 1+r.IntN(28)) + g.digits(3)
	if valid {
		if r.IntN(8) == 0 {
			body = cnRegions[7] + body[6:]
		}
		return mod11Complete(body)
	}
	good := mod11Complete(body)
	return body + string("0123456789"[(strings.IndexByte("0123456789X", good[17])+1+r.IntN(9))%10])
}

func (g *piiGen) card(valid bool) string {
	r := g.rnd
	var body string
	switch r.IntN(5) {
	case 0:
		body = "4" + g.digits(14)
	case 1:
		body = "5" + string(byte('1'+r.IntN(5))) + g.digits(13)
	case 2:
		body = g.pick([]string{"34", "37"}) + g.digits(12)
	case 3:
		body = "62" + g.digits(14+r.IntN(3))
	default:
		body = "6011" + g.digits(11)
	}
	n := luhnComplete(body)
	if !valid {
		n = body + string(byte('0'+(int(n[len(n)-1]-'0')+1+r.IntN(9))%10))
	}
	if n[:2] == "34" || n[:2] == "37" {
		return g.pick([]string{n, n[:4] + " " + n[4:10] + " " + n[10:]})
	}
	return g.pick([]string{n, group(n, 4, " "), group(n, 4, "-")})
}

func (g *piiGen) iban(valid bool) string {
	var v string
	switch g.rnd.IntN(4) {
	case 0:
		v = ibanComplete("DE", g.digits(18))
	case 1:
		v = ibanComplete("GB", g.chars(4, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")+g.digits(14))
	case 2:
		v = ibanComplete("FR", g.digits(20)+g.chars(1, upnum)+g.digits(2))
	default:
		v = ibanComplete("NL", g.chars(4, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")+g.digits(10))
	}
	if !valid {
		v = v[:2] + fmt.Sprintf("%02d", (int(v[2]-'0')*10+int(v[3]-'0')+1+g.rnd.IntN(90))%97+2) + v[4:]
		if mod97(v) {
			v = v[:3] + string(byte('0'+(int(v[3]-'0')+1)%10)) + v[4:]
		}
	}
	if g.rnd.IntN(2) == 0 {
		return group(v, 4, " ")
	}
	return v
}

func (g *piiGen) jwt() string {
	enc := base64.RawURLEncoding.EncodeToString
	h := enc([]byte(`{"alg":"HS256","typ":"JWT"}`))
	p := enc(fmt.Appendf(nil, `{"sub":"%s","iat":%d}`, g.digits(6), 1700000000+g.rnd.IntN(1e7)))
	return h + "." + p + "." + g.chars(43, alnum+"-_")
}

func (g *piiGen) pem(kind string) string {
	var b strings.Builder
	b.WriteString("-----BEGIN " + kind + "-----\n")
	for range 3 + g.rnd.IntN(4) {
		b.WriteString(g.chars(64, alnum+"+/") + "\n")
	}
	b.WriteString(g.chars(20, alnum) + "==\n-----END " + kind + "-----")
	return b.String()
}

// decoyKinds are look-alikes that must stay untouched.
var decoyKinds = []string{"version", "date", "price", "git_sha", "uuid", "bad_card", "bad_cn_id", "bad_iban",
	"example_key", "mac", "time", "file@2x", "handle", "npm", "order_no", "isbn", "cpp_scope", "public_key", "number", "bad_ip", "sk_prose"}

func (g *piiGen) decoy(kind string) string {
	r := g.rnd
	switch kind {
	case "version":
		return g.pick([]string{fmt.Sprintf("v%d.%d.%d", r.IntN(5), r.IntN(30), r.IntN(20)), fmt.Sprintf("%d.%d.%d", 1+r.IntN(4), r.IntN(30), r.IntN(20)),
			fmt.Sprintf("%d.%d.%d-rc%d", 1+r.IntN(4), r.IntN(30), r.IntN(20), 1+r.IntN(3)), fmt.Sprintf("10.0.%d.%d", 19041+r.IntN(4000), r.IntN(5000))})
	case "date":
		y, m, d := 2000+r.IntN(30), 1+r.IntN(12), 1+r.IntN(28)
		return g.pick([]string{fmt.Sprintf("%d-%02d-%02d", y, m, d), fmt.Sprintf("%d/%02d/%02d", y, m, d), fmt.Sprintf("%02d.%02d.%d", d, m, y),
			fmt.Sprintf("%d年%d月%d日", y, m, d), fmt.Sprintf("%d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, r.IntN(24), r.IntN(60), r.IntN(60)), fmt.Sprintf("%02d/%02d/%d", m, d, y)})
	case "price":
		return g.pick([]string{fmt.Sprintf("$%d,%03d.%02d", 1+r.IntN(99), r.IntN(1000), r.IntN(100)), fmt.Sprintf("¥%d,%03d", 1+r.IntN(99), r.IntN(1000)),
			fmt.Sprintf("€%d.%02d", r.IntN(500), r.IntN(100)), fmt.Sprintf("US$ %d,%03d.00", 1+r.IntN(9), r.IntN(1000)), fmt.Sprintf("￥%d元", 100+r.IntN(9900))})
	case "git_sha":
		return g.pick([]string{g.chars(40, hexLow), g.chars(7, hexLow)})
	case "uuid":
		h := g.chars(32, hexLow)
		return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:]
	case "bad_card":
		return g.card(false)
	case "bad_cn_id":
		return g.cnID(false)
	case "bad_iban":
		return g.iban(false)
	case "example_key":
		return "AKIAIOSFODNN7EXAMPLE"
	case "mac":
		return strings.ToUpper(group(g.chars(12, hexLow), 2, ":"))
	case "time":
		return fmt.Sprintf("%02d:%02d:%02d", r.IntN(24), r.IntN(60), r.IntN(60))
	case "file@2x":
		return g.pick([]string{"logo", "icon", "banner"}) + "@2x." + g.pick([]string{"png", "jpg", "webp"})
	case "handle":
		return "@" + g.pick([]string{"alice_w", "dev-ops", "小明", "bob"})
	case "npm":
		return g.pick([]string{"lodash", "react", "left-pad"}) + fmt.Sprintf("@%d.%d.%d", r.IntN(20), r.IntN(20), r.IntN(20))
	case "order_no":
		return fmt.Sprintf("20%02d%02d%02d", 20+r.IntN(6), 1+r.IntN(12), 1+r.IntN(28)) + g.digits(12+r.IntN(3))
	case "isbn":
		return "978-7-" + g.digits(3) + "-" + g.digits(5) + "-" + g.digits(1)
	case "cpp_scope":
		return g.pick([]string{"std::vector", "Add::Bad", "A::B", "foo :: bar"})
	case "public_key":
		return "\n" + g.pem("PUBLIC KEY") + "\n"
	case "number":
		return g.pick([]string{fmt.Sprintf("%d,%03d,%03d", 1+r.IntN(999), r.IntN(1000), r.IntN(1000)), fmt.Sprintf("3.%d", r.IntN(1e6)), "10086", g.digits(6)})
	case "bad_ip":
		return g.pick([]string{fmt.Sprintf("%d.%d.%d.%d", 256+r.IntN(700), r.IntN(256), r.IntN(256), r.IntN(256)), fmt.Sprintf("1.%d.%d.%d.%d", r.IntN(10), r.IntN(10), r.IntN(10), r.IntN(10)), fmt.Sprintf("192.168.%d", r.IntN(256))})
	case "sk_prose":
		return g.pick([]string{"sk-learn-style-pipelines-for-everyone", "task-runner-for-large-builds", "xoxo-hugs-and-kisses"})
	}
	panic(kind)
}

func (g *piiGen) filler() string {
	if g.rnd.IntN(2) == 0 {
		return g.pick(fillEN) + " "
	}
	return g.pick(fillZH)
}

// endSentence puts a space after an English full stop, as prose has.
func endSentence(f [2]string) [2]string {
	if strings.HasSuffix(f[1], ".") {
		f[1] += " "
	}
	return f
}

// plantSentence appends a sentence planting a value of entity.
func (g *piiGen) plantSentence(row genRow, entity string) genRow {
	v := g.planted(entity)
	if v == "URL" {
		scheme := g.pick([]string{"postgres", "mysql", "https", "redis"})
		cred := g.pick([]string{"admin", "svc_app", "deploy"}) + ":" + g.chars(12, alnum+"!$*")
		return append(row, genSeg{'f', "", "DATABASE_URL=" + scheme + "://"}, genSeg{'p', entity, cred},
			genSeg{'f', "", "@" + g.pick([]string{"db.internal.example.com:5432/app", "cache.example.org/0", "mq.example.net"}) + "\n"})
	}
	fr := plantFrames[entity]
	f := endSentence(fr[g.rnd.IntN(len(fr))])
	if strings.HasPrefix(v, "-----") {
		f = [2]string{"Key file:\n", "\n"}
	}
	return append(row, genSeg{'f', "", f[0]}, genSeg{'p', entity, v}, genSeg{'f', "", f[1]})
}

func (g *piiGen) decoySentence(row genRow, kind string) genRow {
	f := endSentence(decoyFrames[g.rnd.IntN(len(decoyFrames))])
	return append(row, genSeg{'f', "", f[0]}, genSeg{'d', kind, g.decoy(kind)}, genSeg{'f', "", f[1]})
}

// denseRow plants one value of each of a few entities and a few decoys.
func (g *piiGen) denseRow() genRow {
	var row genRow
	for range 2 + g.rnd.IntN(3) {
		row = append(row, genSeg{'f', "", g.filler()})
		if g.rnd.IntN(2) == 0 {
			row = g.plantSentence(row, PIIEntities[g.rnd.IntN(len(PIIEntities))])
		} else {
			row = g.decoySentence(row, decoyKinds[g.rnd.IntN(len(decoyKinds))])
		}
	}
	return append(row, genSeg{'f', "", g.filler()})
}

// typicalRow is about 1.5 KB of prose with one planted value and two
// decoys: the text the speed target is about.
func (g *piiGen) typicalRow() genRow {
	var row genRow
	for i := range 20 {
		row = append(row, genSeg{'f', "", g.filler()})
		switch i {
		case 5:
			row = g.plantSentence(row, PIIEntities[g.rnd.IntN(len(PIIEntities))])
		case 11, 17:
			row = g.decoySentence(row, decoyKinds[g.rnd.IntN(len(decoyKinds))])
		}
	}
	return row
}

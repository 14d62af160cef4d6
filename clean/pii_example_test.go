package clean_test

import (
	"bytes"
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/clean"
)

func ExampleNewRedactor() {
	mem := memory.NewGoAllocator()
	var findings bytes.Buffer
	st, err := clean.NewRedactor(
		clean.WithPIIKey([]byte("example key")), // in recipes: key_env, default SIFT_PII_KEY
		clean.WithPIIOperator(clean.EntityEmail, clean.OpHash),
		clean.WithPIIOperator(clean.EntitySecret, clean.OpDropRow),
		clean.WithPIIFindings(&findings),
	)
	if err != nil {
		panic(err)
	}
	b := sift.NewBuilder(mem)
	for _, r := range [][2]string{
		{"zh", "请联系张伟，手机13812345678，邮箱zhang.wei@Example.COM。"},
		{"en", "Call (415) 555-2671; build v2.3.1 shipped on 2024-03-15 for $19.99."},
		{"key", "export AWS_ACCESS_KEY_ID=AKIA4QWERTYUIOPASDFG"},
	} {
		b.Append(sift.Row{ID: r[0], Text: &r[1]})
	}
	rec := b.NewBatch()
	b.Release()
	defer rec.Release()

	batch := sift.NewBatch(mem, "pii_redact", rec)
	out, err := st.Process(context.Background(), batch)
	if err != nil {
		panic(err)
	}
	defer out.Release()
	c := sift.ColsOf(out)
	for i := range int(out.NumRows()) {
		fmt.Println(c.ID.Value(i), c.Text.Value(i))
	}
	for _, r := range batch.Rejects() {
		fmt.Println("rejected", r.ID, r.Reason)
	}
	fmt.Print(findings.String())
	// Output:
	// zh 请联系张伟，手机<PHONE>，邮箱<EMAIL:ba5c03fb>。
	// en Call <PHONE>; build v2.3.1 shipped on 2024-03-15 for $19.99.
	// rejected key pii_secret
	// {"id":"zh","entity":"phone","recognizer":"cn_mobile","start":24,"end":35,"hash":"2273065e08fa8fbb"}
	// {"id":"zh","entity":"email","recognizer":"email","start":44,"end":65,"hash":"ba5c03fb456076f6"}
	// {"id":"en","entity":"phone","recognizer":"nanp","start":5,"end":19,"hash":"017f07ba6d06d08c"}
	// {"id":"key","entity":"secret","recognizer":"aws_key_id","start":25,"end":45,"hash":"f8e029292b0667d6"}
}

func ExampleRedact() {
	text, findings := clean.Redact("邮箱 hans.müller@example.de, phone +44 (0) 20 7946 0958, see RFC 1918 section 3.1.2.4.")
	fmt.Println(text)
	for _, f := range findings {
		fmt.Println(f.Entity, f.Recognizer, f.Start, f.End)
	}
	// Output:
	// 邮箱 <EMAIL>, phone <PHONE>, see RFC 1918 section 3.1.2.4.
	// email email 7 30
	// phone e164 38 58
}

func ExampleRedactor_Redact() {
	r, err := clean.NewTextRedactor(
		clean.WithPIIEntities(clean.EntitySecret, clean.EntityIP),
		clean.WithPIIOperator(clean.EntityIP, clean.OpMask),
	)
	if err != nil {
		panic(err)
	}
	for _, s := range []string{
		"aws_secret_access_key = q8Rz3LmV0pT7wXyB2nK5sD9fH1jG4cE6aU8iO0lM",
		"ping 192.168.10.20 from build 10.0.19045.2965",
		"docs: AKIAXXXXXXXXXXXXXXXX, xoxp-1234567890",
	} {
		out, _ := r.Redact(s)
		fmt.Println(out)
	}
	// Output:
	// aws_secret_access_key = <SECRET>
	// ping ***.***.10.20 from build 10.0.19045.2965
	// docs: AKIAXXXXXXXXXXXXXXXX, xoxp-1234567890
}

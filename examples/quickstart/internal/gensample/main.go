// Command gensample writes the quickstart's sample dataset, sample.jsonl,
// from the sentences below with a fixed seed. Every sentence was written
// for sift. Run it with go generate in examples/quickstart.
package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
)

var english = []string{
	"The river rose overnight and the ferry stayed tied to the dock until noon.",
	"Our team rewrote the scheduler so that long jobs no longer starve short ones.",
	"A good dataset is boring to read because every surprise has been cleaned out of it.",
	"She kept a notebook of every bug she fixed, and the notebook became a book.",
	"The library opens at nine, but the reading room fills up by a quarter past.",
	"Fresh bread cools on the rack while the kitchen fills with the smell of rye.",
	"When the power failed, the servers switched to batteries without dropping a request.",
	"He planted tomatoes along the fence and forgot about them until August.",
	"The museum moved its oldest maps into a room with dim light and dry air.",
	"Most of the work in machine learning happens before the first model is trained.",
	"The bridge was closed for repairs, so the buses took the long road around the lake.",
	"Children in the village learn to swim before they learn to ride a bicycle.",
	"A compiler turns careful thoughts into fast instructions, and careless ones into bugs.",
	"The orchestra tuned for a full minute while the audience settled into silence.",
	"Rain in the mountains feeds the springs that the town has drunk from for centuries.",
	"Good documentation answers the question the reader did not know how to ask.",
	"The old lighthouse still turns every night, although no ships need it anymore.",
	"Our benchmark measures throughput on one core so that results compare across machines.",
	"The market sells apples from the valley and honey from the hills above it.",
	"After the storm, volunteers cleared the trail and rebuilt the footbridge in a week.",
}

var chinese = []string{
	"清晨的市场里，摊主们把新鲜的蔬菜摆得整整齐齐。",
	"这座城市的地铁线路越来越多，出行也变得更加方便。",
	"训练语言模型之前，最重要的工作是把数据清洗干净。",
	"他每天晚上都会读半个小时的书，已经坚持了十年。",
	"山脚下的小村庄以种茶闻名，春天满山都是茶香。",
	"图书馆新开了一个阅览室，周末的时候座位总是很紧张。",
	"工程师们重新设计了调度器，长任务不再阻塞短任务。",
	"下雨的时候，老街上的青石板路显得格外安静。",
	"好的文档能回答读者还不知道该怎么提出的问题。",
	"她把每一个修复过的错误都记在本子上，后来写成了一本书。",
	"暴风雨过后，志愿者们花了一周时间修好了山路上的木桥。",
	"孩子们在河边学会了游泳，也学会了辨认各种各样的鱼。",
}

type rec map[string]any

func main() {
	rng := rand.New(rand.NewPCG(2024, 7))
	para := func(pool []string, n int, sep string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = pool[rng.IntN(len(pool))]
		}
		return strings.Join(parts, sep)
	}
	var rows []any
	add := func(r any) { rows = append(rows, r) }
	for i := range 24 {
		add(rec{"id": fmt.Sprintf("en-%02d", i), "text": para(english, 3+rng.IntN(5), " "), "lang": "en"})
		if i%2 == 0 {
			add(rec{"id": fmt.Sprintf("zh-%02d", i), "text": para(chinese, 2+rng.IntN(4), ""), "lang": "zh"})
		}
	}
	// Too short and too long.
	add(rec{"id": "short-en", "text": "Too short.", "lang": "en"})
	add(rec{"id": "short-zh", "text": "太短了。", "lang": "zh"})
	add(rec{"id": "long-en", "text": para(english, 60, " "), "lang": "en"})
	// Planted duplicates: an exact copy and a near copy with two words changed.
	dup := para(english, 5, " ")
	add(rec{"id": "dup-a", "text": dup, "lang": "en"})
	add(rec{"id": "dup-b", "text": dup, "lang": "en"})
	near := strings.Replace(strings.Replace(dup, " the ", " a ", 1), ".", "!", 1)
	add(rec{"id": "dup-c", "text": near, "lang": "en"})
	zdup := para(chinese, 4, "")
	add(rec{"id": "dup-zh-a", "text": zdup, "lang": "zh"})
	add(rec{"id": "dup-zh-b", "text": strings.Replace(zdup, "。", "！", 1), "lang": "zh"})
	// Planted personal data and secrets (all fictitious, checksums valid).
	add(rec{"id": "pii-en", "text": "Write to Dana.Reyes+lists@Mail.Example.COM or call (415) 555-2671 before Friday. " +
		"The card on file is 4539 1488 0343 6467 and the server answered from 203.0.113.77. " + para(english, 2, " "), "lang": "en"})
	add(rec{"id": "pii-zh", "text": "请联系王先生，手机13812345678，身份证号是110105198506154322，" +
		"邮箱wang.wei@example.cn。" + para(chinese, 2, ""), "lang": "zh"})
	add(rec{"id": "pii-key", "text": "Rotate the key AKIAZ7QW4RTY5UIO3PLM before the audit; the example key AKIAIOSFODNN7EXAMPLE is fine to keep in docs. " +
		para(english, 2, " "), "lang": "en"})
	// Other formats, mapped by the normalize stage.
	add(rec{"id": "alpaca-1", "instruction": "Summarize the paragraph in one sentence.", "input": para(english, 3, " "),
		"output": "The paragraph describes a quiet town and the people who keep it running."})
	add(rec{"id": "sharegpt-1", "conversations": []rec{
		{"from": "human", "value": "How should I clean a web crawl before training a model on it?"},
		{"from": "gpt", "value": "Remove duplicates, filter very short and very long pages, redact personal data, and check the language of every page."}}})
	add(rec{"id": "openai-1", "messages": []rec{
		{"role": "system", "content": "You are a concise assistant."},
		{"role": "user", "content": []rec{{"type": "text", "text": "Why does deduplication help language models?"}}},
		{"role": "assistant", "content": "Repeated text is memorized instead of generalized, and it wastes training compute that new text would use better."}}})
	add(rec{"id": "pair-1", "prompt": "Name three things a data-cleaning pipeline should report.", "completion": "Rows kept, rows dropped with their reasons, and how long each stage took."})
	// Records no format can express: rejected by normalize with their reason.
	add(rec{"id": "bad-messages", "messages": "hello"})
	add(rec{"id": "bad-role", "conversations": []rec{{"from": "robot", "value": "beep"}}})
	add(rec{"id": "bad-format", "title": "a record with no body", "tags": []string{"a", "b"}})
	add(rec{"id": "qa-1", "question": "什么是数据清洗？", "answer": "数据清洗是去除重复、错误和不完整数据的过程，让模型从干净的数据中学习。"})

	out, err := os.Create("sample.jsonl")
	if err != nil {
		panic(err)
	}
	defer out.Close()
	order := rng.Perm(len(rows))
	for k, i := range order {
		b, err := json.Marshal(rows[i])
		if err != nil {
			panic(err)
		}
		fmt.Fprintf(out, "%s\n", b)
		switch k {
		case 10: // malformed lines, as real dumps have them
			fmt.Fprintln(out, `{"id":"broken-1","text":"an unterminated string}`)
		case 25:
			fmt.Fprintln(out, `{"id":"broken-2","text":12345}`)
		case 40:
			fmt.Fprintf(out, "{\"id\":\"broken-3\",\"text\":\"bad bytes \xff\xfe here\"}\n")
		}
	}
}

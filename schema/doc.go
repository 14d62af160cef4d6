// Package schema turns the common SFT and pretraining formats into the one
// unified record every sift stage understands, and writes it back out in
// the format a trainer expects.
//
// The unified record ([JSONSchema], and [ArrowSchema] for Parquet and IPC)
// is an id, exactly one of text (a plain document) or messages (turns of
// role system, user, assistant or tool, and string content), a source, and
// a meta object holding every input field that was not mapped, so nothing
// is lost.
//
// Stage "normalize" ([Normalizer]) detects the format of each record, or is
// told it, maps it, applies [TextOptions] and validates the result with
// github.com/xeipuuv/gojsonschema against the unified schema and an
// optional user schema. Input formats:
//
//   - text: {"text": ...} or {"content": ...};
//   - alpaca: instruction, input (joined to the instruction with "\n"),
//     output, optional system and history;
//   - sharegpt: conversations of {from, value}, roles human, gpt, system,
//     function_call (an assistant turn) and observation (a tool turn),
//     optional system;
//   - openai: messages of {role, content}, content a string or a list of
//     {"type":"text","text":...} parts (concatenated);
//   - pair: prompt/completion, query/response or question/answer, optional
//     system;
//   - custom: any layout, through a [Mapping] of dotted paths.
//
// With format auto, the first of openai, sharegpt, alpaca, pair and text
// whose keys a record has is used. A record that cannot be mapped is
// rejected with one of the Reason constants and a detail naming the field.
//
// [Export] and [Encoder] write the unified record as unified, openai,
// sharegpt or alpaca JSON; Export rejects the rows a format cannot express
// instead of truncating them.
package schema

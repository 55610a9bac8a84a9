// Unit tests for src/wire/line-facts.ts and the scanned path of classifyLine: the byte scan accepts exactly what JSON.parse accepts and reads the same id, method and keys (corpus and seeded mutations).

import { describe, expect, test } from "bun:test";
import { FACT, MAX_FACT_LINE_BYTES, scanLineFacts, type LineFacts } from "../src/wire/line-facts.ts";
import { classifyLine, classifyText, decodeUtf8, scannedFacts, type Classified } from "../src/wire/jsonrpc.ts";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Lines of every shape the scan must get right or leave to the parser. */
const CORPUS: readonly string[] = [
  `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`,
  `{"jsonrpc":"2.0","id":"a-1","method":"tools/call","params":{"name":"echo","arguments":{},"_meta":{"progressToken":7}}}`,
  `{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"ok"}]}}`,
  `{"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"bad"}],"isError":true}}`,
  `{"jsonrpc":"2.0","id":3,"result":{"content":[],"isError":false}}`,
  `{"jsonrpc":"2.0","id":4,"error":{"code":-32601,"message":"nope","data":{"x":[1,2.5e-3,-0,true,false,null]}}}`,
  `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}`,
  `{"jsonrpc":"2.0","method":"notifications/initialized"}`,
  `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1,"reason":"user"}}`,
  `{"id":5,"method":"tools/call","params":{"name":"n\\u0061me","arguments":{}}}`,
  `{"id":6,"method":"tools/call","params":{"name":"échо","arguments":{}}}`,
  `{"id":7,"method":"tools/call","params":{"name":"x","requestState":"s","inputResponses":{}}}`,
  `{"id":8,"result":{"resultType":"input_required","requestState":"s"}}`,
  `{"id":9,"result":{"task":{"taskId":"t","ttl":5}}}`,
  `{"id":10,"result":{"_meta":{"io.modelcontextprotocol/serverInfo":{"name":"s"}},"content":[]}}`,
  `{"id":11,"result":{"is\\u0045rror":true}}`,
  `{"id":12,"result":{"isError":true,"isError":false}}`,
  `{"id":13,"method":"m","params":[1,2]}`,
  `{"id":14,"method":"m","params":"x"}`,
  `{"id":1.5,"method":"m"}`,
  `{"id":1e3,"method":"m"}`,
  `{"id":-0,"method":"m"}`,
  `{"id":-12,"method":"m"}`,
  `{"id":1234567890123456789,"method":"m"}`,
  `{"id":true,"method":"m"}`,
  `{"id":{"a":1},"result":{}}`,
  `{"id":"x\\"y","method":"m"}`,
  `{"id":"é","method":"m"}`,
  `{"id":1,"method":"a\\/b"}`,
  `{"id":1,"method":5}`,
  `{"id":1,"method":"m","id":2}`,
  `{"i\\u0064":1,"method":"m"}`,
  `{"method":"m","params":{"name":"a","name":"b"}}`,
  `{"id":1}`,
  `{"result":{}}`,
  `{}`,
  `[]`,
  `[{"id":1,"method":"ping"}]`,
  `  {"id":1,"method":"ping"}\t\r`,
  `{ "id" : 1 , "method" : "ping" , "params" : { } }`,
  `{"id":1,"method":"ping"} x`,
  `{"id":1,"method":"ping"}{"id":2,"method":"ping"}`,
  `{"id":1,"method":"ping",}`,
  `{"id":1,"method":"ping","params":{"a":[1,]}}`,
  `{"id":1,"method":"ping","params":{"a":01}}`,
  `{"id":1,"method":"ping","params":{"a":1.}}`,
  `{"id":1,"method":"ping","params":{"a":.5}}`,
  `{"id":1,"method":"ping","params":{"a":-}}`,
  `{"id":1,"method":"ping","params":{"a":1e}}`,
  `{"id":1,"method":"ping","params":{"a":1E+2}}`,
  `{"id":1,"method":"ping","params":{"a":tru}}`,
  `{"id":1,"method":"ping","params":{"a":nul}}`,
  `{"id":1,"method":"ping","params":{"a":"\\x"}}`,
  `{"id":1,"method":"ping","params":{"a":"\\u12"}}`,
  `{"id":1,"method":"ping","params":{"a":"\\uD800"}}`,
  `{"id":1,"method":"ping","params":{"a":"tab\there"}}`,
  `{"id":1,"method":"ping","params":{"a":"del\u007f"}}`,
  `{"id":1,"method":"ping","params":{'a':1}}`,
  `{"id":1,"method":"ping","params":{"a" 1}}`,
  `{"id":1,"method":"ping","params":{"a":[1}}`,
  `{"id":1,"method":"ping","params":{"a":${"[".repeat(70)}${"]".repeat(70)}}}`,
  `{"id":1,"method":"ping","params":{"a":${"[".repeat(30)}${"]".repeat(30)}}}`,
  `\uFEFF{"id":1,"method":"ping"}`,
  `{"id":1,"method":"ping"}\u00a0`,
  `{"id":1,"method":"ping","params":{"__proto__":{"x":1}}}`,
  `{"id":1,"method":"tools/call","params":{"arguments":{},"name":"e"}}`,
  `{"id":1,"method":"tools/call","params":{"name":"e","_meta":{"progressToken":1,"x":{"y":[2]}},"arguments":{"a":[]}}}`,
  `{"id":1,"method":"tools/call","params":{"name":"e","_meta":{},"arguments":{}}}`,
  `{"id":1,"method":"tools/call","params":{"name":"e","_meta":"x"}}`,
  `{"id":1,"method":"tools/call","params":{"name":"e","_meta":[{"a":1}],"arguments":[]}}`,
  `{"id":1,"method":"tools/call","params":{"_meta":{"a":{}},"name":"e"}}`,
  `{"id":1,"result":{"content":[],"resultType":"complete","_meta":{"io.modelcontextprotocol/serverInfo":{"name":"s"}}}}`,
  `{"id":1,"method":"tools/call","params":{"_meta":{"a":[1]},"arguments":{"a":{"b":[1,{"c":2}]}},"x":{"y":1}}}`,
  `{"id":1,"method":"tools/call","params":{"name":"e","arguments":"text"}}`,
  `{"id":1,"method":"tools/call","params":{"name":"e","arguments":[1,2]}}`,
  `{"id":1,"method":"tools/call","params":{"name":"e","arguments":null}}`,
  `{"id":1,"method":"tools/call","params":{"name":"e","arguments":{"a":1},"arguments":{"b":2}}}`,
  `{"id":1,"result":{}}`,
  `{"id":1,"result":{"content":[]}}`,
  `{"id":1,"result":{"structuredContent":{"a":[1]},"content":[{"type":"text","text":"x"}],"isError":true}}`,
  `{"id":1,"result":{"content":"not an array"}}`,
  `{"id":1,"result":{"content":{"text":"an object"}}}`,
  `{"id":1,"result":{"content":[1],"content":[2]}}`,
  `{"id":1,"result":[1,2]}`,
  `{"id":1,"result":"ok"}`,
  `{"id":1,"error":{"code":1,"message":"m","data":{"content":[1]}},"result":{"content":[3]}}`,
  // An empty recorded container, then a container closing two levels down outside params/result: its range stays put.
  `{"id":1,"method":"tools/call","params":{"name":"e","arguments":{}},"x":{"y":{"z":1}}}`,
  `{"id":1,"method":"m","params":{"_meta":{}},"x":[[1]]}`,
  `{"id":1,"result":{"content":[]},"error":{"code":1,"message":"m","data":{"a":1}}}`,
  `not json`,
  ``,
  `   `,
  `"just a string"`,
  `42`,
  `null`,
];

/** The classification as plain data, `value` read (so the lazy parse runs and is compared too). */
function plain(classified: Classified): unknown {
  if (classified.kind !== "message") return classified;
  const { message } = classified;
  return {
    kind: message.kind,
    id: "id" in message ? message.id : undefined,
    method: "method" in message ? message.method : undefined,
    value: message.value,
  };
}

function agree(body: Uint8Array): void {
  const text = decodeUtf8(body);
  expect({ text, classified: plain(classifyLine(body)) }).toEqual({ text, classified: plain(classifyText(text)) });
  const facts = scanLineFacts(body);
  // With a key twice the fast path does not use the ranges (UNSURE): JSON.parse keeps the last.
  if (facts !== undefined && (facts.flags & FACT.UNSURE) === 0)
    expect({ text, ranges: rangesOf(body, facts) }).toEqual({ text, ranges: parsedRanges(text) });
}

/** The values at the ranges the scan recorded, parsed on their own. */
function rangesOf(body: Uint8Array, facts: LineFacts): unknown {
  const at = (start: number, end: number): unknown =>
    start < 0 ? "absent" : JSON.parse(decodeUtf8(body.subarray(start, end)));
  return {
    arguments: at(facts.argumentsAt, facts.argumentsEnd),
    argumentsIsObject: facts.argumentsIsObject,
    result: at(facts.resultAt, facts.resultEnd),
    content: at(facts.contentAt, facts.contentEnd),
    contentIsArray: facts.contentIsArray,
    meta: at(facts.metaAt, facts.metaEnd),
    metaIsObject: facts.metaIsObject,
  };
}

/** The same values from a full parse (params.arguments; result when an object, and its content). */
function parsedRanges(text: string): unknown {
  const value = JSON.parse(text) as Record<string, any>;
  const isObject = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);
  const params = isObject(value.params) ? value.params : {};
  const result = isObject(value.result) ? value.result : undefined;
  return {
    arguments: "arguments" in params ? params.arguments : "absent",
    argumentsIsObject: isObject(params.arguments),
    result: result ?? "absent",
    content: result !== undefined && "content" in result ? result.content : "absent",
    contentIsArray: Array.isArray(result?.content),
    meta: "_meta" in params ? params._meta : "absent",
    metaIsObject: isObject(params._meta),
  };
}

/** Deterministic mutations: a byte dropped, one of the JSON-significant bytes inserted or swapped in, a cut. */
function* mutations(body: Uint8Array, seed: number): Generator<Uint8Array> {
  const interesting = bytes(`{}[]",:\\ 0-.eE+tfnu\u0001\u00e9x`);
  let state = seed;
  const next = (n: number): number => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state % n;
  };
  for (let k = 0; k < 40; k++) {
    const at = next(body.length + 1);
    const pick = interesting[next(interesting.length)] as number;
    switch (next(4)) {
      case 0:
        yield new Uint8Array([...body.subarray(0, at), ...body.subarray(at + 1)]);
        break;
      case 1:
        yield new Uint8Array([...body.subarray(0, at), pick, ...body.subarray(at)]);
        break;
      case 2:
        yield new Uint8Array([...body.subarray(0, at), pick, ...body.subarray(at + 1)]);
        break;
      default:
        yield body.subarray(0, at);
    }
  }
}

describe("classifyLine through the byte scan", () => {
  test.each(CORPUS.map((text) => [text]))("%s", (text) => agree(bytes(text)));

  test("seeded mutations of the corpus classify as a full parse does", () => {
    let scanned = 0;
    CORPUS.forEach((text, i) => {
      for (const body of mutations(bytes(text), i + 1)) {
        if (scanLineFacts(body) !== undefined) scanned++;
        agree(body);
      }
    });
    expect(scanned).toBeGreaterThan(200); // the scan read many of them itself, not only gave up
  });

  test("invalid UTF-8 inside a string is a string for both (decoded to U+FFFD)", () => {
    agree(new Uint8Array([...bytes(`{"id":1,"method":"m","params":{"a":"`), 0xff, 0xc3, ...bytes(`"}}`)]));
    agree(new Uint8Array([...bytes(`{"id":1,"method":"m","params":{"a":`), 0xff, ...bytes(`}}`)]));
  });
});

describe("scanLineFacts", () => {
  test("reads the id, method, tool name and the keys the hot path must not guess about", () => {
    expect(
      scanLineFacts(bytes(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{}}}`)),
    ).toEqual({
      id: 7,
      method: "tools/call",
      hasResult: false,
      hasError: false,
      resultIsObject: false,
      name: "echo",
      flags: 0,
      argumentsAt: 82,
      argumentsEnd: 84,
      argumentsIsObject: true,
      resultAt: -1,
      resultEnd: -1,
      contentAt: -1,
      contentEnd: -1,
      contentIsArray: false,
      metaAt: -1,
      metaEnd: -1,
      metaIsObject: false,
    });
    const flags = (text: string) => scanLineFacts(bytes(text))?.flags;
    expect(flags(`{"id":1,"method":"m","params":{"_meta":{}}}`)).toBe(FACT.PARAMS_META);
    expect(flags(`{"id":1,"method":"m","params":{"requestState":"s"}}`)).toBe(FACT.PARAMS_ROUND);
    expect(flags(`{"id":1,"result":{"isError":true}}`)).toBe(FACT.IS_ERROR_TRUE);
    expect(flags(`{"id":1,"result":{"isError":"true"}}`)).toBe(0);
    expect(flags(`{"id":1,"result":{"resultType":"task"}}`)).toBe(FACT.RESULT_SPECIAL);
    expect(flags(`{"id":1,"result":{"resultType":"input_required"}}`)).toBe(FACT.RESULT_SPECIAL);
    expect(flags(`{"id":1,"result":{"resultType":"complete"}}`)).toBe(0);
    expect(flags(`{"id":1,"result":{"resultType":"complet\\u0065"}}`)).toBe(FACT.RESULT_SPECIAL);
    expect(flags(`{"id":1,"result":{"resultType":null}}`)).toBe(FACT.RESULT_SPECIAL);
    // only "complete" itself: a longer word that starts with it, or another word of its length, is special
    expect(flags(`{"id":1,"result":{"resultType":"completed"}}`)).toBe(FACT.RESULT_SPECIAL);
    expect(flags(`{"id":1,"result":{"resultType":"finished"}}`)).toBe(FACT.RESULT_SPECIAL);
    expect(flags(`{"id":1,"result":{"resultType":"complete","resultType":"task"}}`)).toBe(
      FACT.RESULT_SPECIAL | FACT.UNSURE,
    );
    expect(flags(`{"id":1,"result":{"_meta":{"a":1}}}`)).toBe(FACT.RESULT_META);
    expect(flags(`{"id":1,"result":{"task":{"taskId":"t"}}}`)).toBe(FACT.RESULT_SPECIAL);
    expect(flags(`{"id":1,"result":{"\\u005fmeta":{}}}`)).toBe(FACT.UNSURE);
    expect(flags(`{"id":1,"method":"m","params":{"name":"a","name":"b"}}`)).toBe(FACT.UNSURE);
    expect(flags(`{"id":1,"method":"m","params":[]}`)).toBe(FACT.PARAMS_NOT_OBJECT);
    // a nested params/result is not the top-level one
    expect(flags(`{"id":1,"method":"m","params":{"x":{"_meta":{}}}}`)).toBe(0);
  });

  test("an error object's members are not read as a result's", () => {
    const facts = scanLineFacts(
      bytes(`{"id":1,"error":{"code":-1,"message":"m","isError":true,"task":{},"_meta":{},"content":[]}}`),
    );
    expect(facts?.hasError).toBe(true);
    expect(facts?.hasResult).toBe(false);
    expect(facts?.flags).toBe(0);
    expect(facts?.contentAt).toBe(-1);
    expect(facts?.resultAt).toBe(-1);
  });

  test("a line of exactly MAX_FACT_LINE_BYTES is still scanned; one byte more is left to the parser", () => {
    const head = `{"id":1,"method":"m","params":{"a":"`;
    const tail = `"}}`;
    const line = `${head}${"x".repeat(MAX_FACT_LINE_BYTES - head.length - tail.length)}${tail}`;
    expect(line.length).toBe(MAX_FACT_LINE_BYTES);
    expect(scanLineFacts(bytes(line))?.method).toBe("m");
    expect(scanLineFacts(bytes(`${line} `))).toBeUndefined();
  });

  test("gives up on what only a parse can tell, and on long lines", () => {
    for (const text of [`{"id":1.0,"method":"m"}`, `{"id":"\\u0031","method":"m"}`, `[]`, `{"a":1}x`])
      expect(scanLineFacts(bytes(text))).toBeUndefined();
    const long = `{"id":1,"method":"m","params":{"a":"${"x".repeat(40_000)}"}}`;
    expect(scanLineFacts(bytes(long))).toBeUndefined();
  });

  test("a scanned message parses on first use of its value, once; its facts stand for its own bytes only, unread", () => {
    const raw = bytes(`{"id":1,"method":"m","params":{"a":1}}\n`);
    const body = raw.subarray(0, raw.length - 1);
    const line = classifyLine(body);
    if (line.kind !== "message") throw new Error("expected a message");
    expect(scannedFacts(line.message, body)?.method).toBe("m");
    expect(scannedFacts(line.message, raw)?.method).toBe("m"); // the line with its newline
    expect(scannedFacts(line.message, body.subarray(1))).toBeUndefined();
    expect(scannedFacts(line.message, body.slice())).toBeUndefined(); // other bytes (e.g. re-encoded)
    expect(line.message.value).toBe(line.message.value);
    expect(line.message.value).toEqual({ id: 1, method: "m", params: { a: 1 } });
    expect(scannedFacts(line.message, body)).toBeUndefined(); // read: it may have been changed since
  });
});

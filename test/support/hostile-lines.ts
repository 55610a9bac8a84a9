// Seeded generators of hostile JSON-RPC lines as bytes, for differential tests of the byte scans against a full parse: escaped keys, duplicates, nested look-alike keys, odd ids and numbers, raw separators and invalid UTF-8 in strings, and broken lines (bad numbers, trailing commas, cuts, a BOM).

import type { Pick } from "./jsonrpc-fuzz.ts";

const encoder = new TextEncoder();

/** Bytes of a JSON text being written: text (UTF-8 encoded once, at the end) and raw bytes. */
class Out {
  private readonly parts: Uint8Array[] = [];
  private pending = "";
  text(text: string): void {
    this.pending += text;
  }
  bytes(bytes: readonly number[]): void {
    this.flush();
    this.parts.push(Uint8Array.from(bytes));
  }
  done(): Uint8Array {
    this.flush();
    return Buffer.concat(this.parts);
  }
  private flush(): void {
    if (this.pending !== "") this.parts.push(encoder.encode(this.pending));
    this.pending = "";
  }
}

/** Printable ASCII without quote or backslash: written as it is when no escapes are wanted. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** A JSON value to write: numbers keep their lexeme, strings are spelt when written. */
export type Value =
  | { readonly n: string }
  | { readonly s: string }
  | { readonly lit: "true" | "false" | "null" }
  | { readonly a: readonly Value[] }
  | { readonly o: readonly (readonly [string, Value])[] };

const num = (n: string): Value => ({ n });
const str = (s: string): Value => ({ s });
const lit = (l: "true" | "false" | "null"): Value => ({ lit: l });
const arr = (...a: Value[]): Value => ({ a });
const obj = (...o: [string, Value][]): Value => ({ o });

/** Ids of every kind a peer may write (the ones JSON-RPC allows and the ones it does not). */
export const ID_LEXEMES = [
  "1",
  "2",
  "17",
  "-3",
  "0",
  "-0",
  "1.0",
  "1e2",
  "100",
  "1E0",
  "123456789012345",
  "1234567890123456",
  "9007199254740993",
  "9007199254740992",
  "-9007199254740993",
  "12345678901234567890",
  "1.5",
  "0.1e1",
  "1e400",
];
const ID_STRINGS = ["a", "s-1", "é", "", 'x"y', "1", "\u2028", "\ud800", "a\\b", "😀"];

/** Numbers JSON.parse reads, some of which it writes back differently. */
const NUMBERS = [
  "0",
  "-0",
  "-0.0",
  "1",
  "-12",
  "1.0",
  "1.50",
  "0.1",
  "1e3",
  "1E+2",
  "-1e-2",
  "1e21",
  "1e+21",
  "1e-7",
  "1e400",
  "123456789012345",
  "999999999999999",
  "-999999999999999",
  "1234567890123456",
  "9007199254740993",
  "12345678901234567890123456",
  "0.30000000000000004",
  "5e-324",
  "2e-324",
  "100",
  "1.7976931348623157e308",
];
/** Lexemes JSON.parse refuses where a number goes. */
const BAD_NUMBERS = ["01", "1.", ".5", "NaN", "+1", "-", "1e", "Infinity", "0x10", "1.e3", "-.5", "00", "--1", "1e+"];

/** Text of strings (spelt raw or escaped when written). */
const TEXTS = [
  "",
  "a",
  "echo",
  "tools/call",
  "method",
  "id",
  "isError",
  '"isError":true',
  '{"jsonrpc":"2.0","id":1,"result":{}}',
  "é",
  "😀",
  "\u2028",
  "\u2029",
  "\u0000",
  "\u001f",
  "\u007f",
  "\ufeff",
  '"',
  "\\",
  "/",
  "}{][,:",
  "\r\n",
  "\t",
  "\ud800",
  "\udc00",
  "baton_annotate",
  "user_goal",
];

/** Keys: the ones the scans record, and look-alikes. */
const TOP_KEYS = ["jsonrpc", "id", "method", "params", "result", "error", "x", "__proto__", "Method", "id ", "_meta"];
const INNER_KEYS = [
  "name",
  "arguments",
  "_meta",
  "requestState",
  "inputResponses",
  "isError",
  "content",
  "resultType",
  "task",
  "structuredContent",
  "method",
  "id",
  "params",
  "result",
  "error",
  "__proto__",
  "nam",
  "text",
  "type",
];

/** How the writer spells things this line. */
interface Style {
  readonly pick: Pick;
  /** Chance of an escape at each character of a string. */
  readonly escapes: number;
  /** Whitespace to write between tokens. */
  readonly space: () => string;
  /** Chance of each kind of breakage at a place it can happen. */
  readonly breakage: number;
}

function styleFor(pick: Pick): Style {
  const spaces = pick.one([[""], ["", " "], ["", "", " ", "\t", "\r", "\n", " \r\n\t"], ["  "]]);
  return {
    pick,
    escapes: pick.one([0, 0, 0, 0, 0.02, 0.3]),
    space: () => pick.one(spaces),
    breakage: pick.one([0, 0, 0, 0, 0, 0.01, 0.05]),
  };
}

const SHORT: Record<string, string> = {
  '"': '\\"',
  "\\": "\\\\",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\b": "\\b",
  "\f": "\\f",
};

/** Writes `text` as a JSON string, each character raw or escaped; sometimes a raw invalid UTF-8 byte or a raw control byte. */
function writeString(out: Out, style: Style, text: string): void {
  const { pick } = style;
  out.text('"');
  if (style.escapes === 0 && PLAIN.test(text)) out.text(text);
  else
    for (const ch of text) {
      const code = ch.codePointAt(0) as number;
      const mustEscape = code < 0x20 || ch === '"' || ch === "\\";
      const lone = code >= 0xd800 && code <= 0xdfff; // cannot be written raw in UTF-8
      if (mustEscape || lone || pick.chance(style.escapes)) {
        if (code > 0xffff) {
          const hi = 0xd800 + ((code - 0x10000) >> 10);
          const lo = 0xdc00 + ((code - 0x10000) & 0x3ff);
          out.text(`\\u${hi.toString(16)}\\u${lo.toString(16).toUpperCase()}`);
        } else if (SHORT[ch] !== undefined && pick.chance(0.7)) out.text(SHORT[ch] as string);
        else if (ch === "/" && pick.chance(0.5)) out.text("\\/");
        else out.text(`\\u${code.toString(16).padStart(4, "0")}`);
      } else out.text(ch);
    }
  if (pick.chance(style.breakage)) out.bytes([pick.one([0x00, 0x0a, 0x1f, 0x09])]); // a raw control byte: junk
  if (pick.chance(0.02)) out.bytes([pick.one([0xff, 0xc3, 0x80, 0xed, 0xf0])]); // invalid UTF-8: U+FFFD when decoded
  if (pick.chance(style.breakage)) out.text(pick.one(["\\x", "\\u12", "\\U0041", "\\'"])); // a bad escape
  out.text('"');
}

/** Writes `value`; a container may come out with a trailing comma or a missing colon when the style breaks things. */
function write(out: Out, style: Style, value: Value): void {
  const { pick, space } = style;
  if ("n" in value) out.text(pick.chance(style.breakage) ? pick.one(BAD_NUMBERS) : value.n);
  else if ("s" in value) writeString(out, style, value.s);
  else if ("lit" in value) out.text(pick.chance(style.breakage) ? pick.one(["True", "nul", "undefined"]) : value.lit);
  else if ("a" in value) {
    out.text(`[${space()}`);
    value.a.forEach((item, i) => {
      if (i > 0) out.text(`${space()},${space()}`);
      write(out, style, item);
    });
    if (value.a.length > 0 && pick.chance(style.breakage)) out.text(",");
    out.text(`${space()}]`);
  } else {
    out.text(`{${space()}`);
    value.o.forEach(([key, item], i) => {
      if (i > 0) out.text(`${space()},${space()}`);
      writeString(out, style, key);
      out.text(pick.chance(style.breakage) ? space() : `${space()}:${space()}`);
      write(out, style, item);
    });
    if (value.o.length > 0 && pick.chance(style.breakage)) out.text(",");
    out.text(`${space()}}`);
  }
}

/** A small arbitrary value, sometimes holding keys that look like the ones the scans record. */
export function anyValue(pick: Pick, depth = 0): Value {
  switch (pick.int(depth > 3 ? 4 : 7)) {
    case 0:
      return num(pick.one(NUMBERS));
    case 1:
      return lit(pick.one(["true", "false", "null"] as const));
    case 2:
    case 3:
      return str(pick.one(TEXTS));
    case 4:
      return arr(...Array.from({ length: pick.int(4) }, () => anyValue(pick, depth + 1)));
    default:
      return obj(
        ...Array.from({ length: pick.int(4) }, (): [string, Value] => [
          pick.one(INNER_KEYS),
          pick.one(INNER_KEYS) === "isError" ? lit("true") : anyValue(pick, depth + 1),
        ]),
      );
  }
}

/** An id value: a number lexeme, a string, or (rarely) something no id may be. */
export function idValue(pick: Pick): Value {
  const roll = pick.int(20);
  if (roll < 5) return num(String(pick.int(1000)));
  if (roll < 11) return num(pick.one(ID_LEXEMES));
  if (roll < 18) return str(pick.one(ID_STRINGS));
  return pick.one([lit("null"), lit("true"), obj(), arr(num("1"))]);
}

/** `value` nested `levels` deep in single-member objects and arrays (near the scans' depth limits). */
function nested(pick: Pick, levels: number, value: Value): Value {
  let out = value;
  for (let k = 0; k < levels; k++) out = pick.chance(0.5) ? arr(out) : obj(["k", out]);
  return out;
}

/** Members of a call's params. */
function callParams(pick: Pick, tool: string): [string, Value][] {
  const members: [string, Value][] = [["name", str(tool)]];
  if (pick.chance(0.85))
    members.push([
      "arguments",
      pick.chance(0.85)
        ? obj(
            ...Array.from({ length: pick.int(4) }, (): [string, Value] => [
              pick.one(["text", "n", "method", "id", "isError", "params", "a", "user_goal", "expected_result"]),
              pick.chance(0.1) ? nested(pick, 25 + pick.int(8), num("1")) : anyValue(pick, 1),
            ]),
          )
        : anyValue(pick, 1),
    ]);
  if (pick.chance(0.25))
    members.push([
      "_meta",
      pick.chance(0.8)
        ? obj(
            ["progressToken", pick.chance(0.5) ? num(pick.one(ID_LEXEMES)) : str("p")],
            ...(pick.chance(0.3)
              ? [
                  ["io.modelcontextprotocol/clientInfo", obj(["name", str("h")], ["version", str("1")])] as [
                    string,
                    Value,
                  ],
                ]
              : []),
          )
        : anyValue(pick, 1),
    ]);
  if (pick.chance(0.05)) members.push([pick.one(["requestState", "inputResponses", "task"]), anyValue(pick, 1)]);
  if (pick.chance(0.1)) members.push([pick.one(["method", "id", "isError", "x"]), anyValue(pick, 1)]);
  if (pick.chance(0.05)) members.push([pick.one(["name", "arguments", "_meta"]), anyValue(pick, 1)]); // twice
  return members;
}

/** Members of a tool call's result. */
function callResult(pick: Pick): [string, Value][] {
  const members: [string, Value][] = [];
  if (pick.chance(0.85))
    members.push([
      "content",
      pick.chance(0.85)
        ? arr(
            ...Array.from({ length: pick.int(3) }, () =>
              obj(["type", str(pick.one(["text", "image"]))], ["text", str(pick.one(TEXTS))]),
            ),
          )
        : anyValue(pick, 1),
    ]);
  if (pick.chance(0.4))
    members.push(["isError", pick.chance(0.7) ? lit(pick.one(["true", "false"] as const)) : anyValue(pick, 1)]);
  if (pick.chance(0.2)) members.push(["structuredContent", anyValue(pick, 1)]);
  if (pick.chance(0.1))
    members.push(["resultType", pick.chance(0.7) ? str(pick.one(["complete", "input_required"])) : anyValue(pick, 1)]);
  if (pick.chance(0.08)) members.push(["_meta", obj(["io.modelcontextprotocol/serverInfo", obj(["name", str("s")])])]);
  if (pick.chance(0.05)) members.push(["task", obj(["taskId", str("t")])]);
  if (pick.chance(0.1)) members.push([pick.one(["method", "id", "x", "result", "params"]), anyValue(pick, 1)]);
  if (pick.chance(0.06))
    members.push([pick.one(["content", "isError"]), pick.chance(0.5) ? lit("true") : anyValue(pick, 1)]);
  return members;
}

const shuffle = <T>(pick: Pick, items: T[]): T[] => {
  for (let k = items.length - 1; k > 0; k--) {
    const j = pick.int(k + 1);
    [items[k], items[j]] = [items[j] as T, items[k] as T];
  }
  return items;
};

/** A message's members, top-level look-alike keys and duplicates included, in any order. */
function topMembers(pick: Pick, members: [string, Value][]): [string, Value][] {
  if (pick.chance(0.9)) members.push(["jsonrpc", str("2.0")]);
  for (let extra = pick.int(3) - 1; extra > 0; extra--) members.push([pick.one(TOP_KEYS), anyValue(pick, 1)]);
  if (pick.chance(0.04)) members.push([pick.one(["id", "method", "params", "result"]), anyValue(pick, 1)]); // twice
  return pick.chance(0.7) ? shuffle(pick, members) : members;
}

/** One message value: a request (mostly tools/call), a notification, or an answer to `id`. */
export function messageValue(pick: Pick, id: Value, kind: "call" | "answer" | "other"): Value {
  if (kind === "call") {
    const tool = pick.chance(0.9) ? pick.one(["echo", "echo", "t", "é", "a b"]) : pick.one(TEXTS);
    return obj(
      ...topMembers(pick, [
        ["id", id],
        ["method", str("tools/call")],
        ["params", obj(...callParams(pick, tool))],
      ]),
    );
  }
  if (kind === "answer") {
    const answer: [string, Value] = pick.chance(0.15)
      ? [
          "error",
          obj(["code", num(pick.one(["-32602", "-32000", "-32000.0", "1"]))], ["message", str(pick.one(TEXTS))]),
        ]
      : ["result", pick.chance(0.93) ? obj(...callResult(pick)) : anyValue(pick, 1)];
    return obj(...topMembers(pick, [["id", id], answer]));
  }
  const method = pick.one([
    "ping",
    "tools/list",
    "notifications/progress",
    "notifications/cancelled",
    "resources/read",
    "prompts/get",
    "initialize",
    "notifications/message",
  ]);
  const members: [string, Value][] = [["method", str(method)]];
  if (pick.chance(0.6)) members.push(["id", id]);
  if (pick.chance(0.7))
    members.push(["params", pick.chance(0.8) ? obj(["name", str("echo")], ["requestId", id]) : anyValue(pick, 1)]);
  return obj(...topMembers(pick, members));
}

/** Writes a message value as one line's bytes (no newline), spelt and broken per a fresh style; sometimes a batch, a BOM, a cut. */
export function lineBytes(pick: Pick, values: readonly Value[]): Uint8Array {
  const style = styleFor(pick);
  const out = new Out();
  if (pick.chance(0.01)) out.bytes([0xef, 0xbb, 0xbf]);
  out.text(style.space());
  if (values.length === 1 && pick.chance(0.95)) write(out, style, values[0] as Value);
  else write(out, style, arr(...values));
  out.text(style.space());
  if (pick.chance(style.breakage)) out.text(pick.one([",", "}", "]", " x", "{}"]));
  let bytes = out.done();
  if (pick.chance(style.breakage * 2)) bytes = bytes.subarray(0, pick.int(bytes.length + 1));
  if (pick.chance(0.03)) bytes = Uint8Array.from([...bytes, 0x0d]); // a CRLF ending: the \r stays in the line
  return bytes;
}

/** A line padded with a filler member to about `size` bytes (around the scans' length limits). */
export function paddedLine(pick: Pick, value: Value, size: number): Uint8Array {
  const base = lineBytes(pick, [value]).length;
  const filler = Math.max(0, size - base - 12);
  if (!("o" in value)) return lineBytes(pick, [value]);
  const padded: Value = { o: [...value.o, ["pad", { s: "p".repeat(filler) }]] };
  return lineBytes(pick, [padded]);
}

/** One hostile line: a call, an answer or another message, with ids from `ids`. */
export function hostileLine(pick: Pick): Uint8Array {
  const kind = pick.one(["call", "answer", "other"] as const);
  const count = pick.chance(0.05) ? 1 + pick.int(3) : 1;
  const values = Array.from({ length: count }, () => messageValue(pick, idValue(pick), kind));
  if (pick.chance(0.01)) {
    const limit = pick.one([32 * 1024, 64 * 1024]);
    return paddedLine(pick, values[0] as Value, limit - 40 + pick.int(80));
  }
  return lineBytes(pick, values);
}

const utf8 = (line: string): Uint8Array => encoder.encode(line);

/** A session's opening: the handshake, sometimes unanswered, sometimes a tool listing. */
export function* opening(pick: Pick): Generator<["client" | "server", Uint8Array]> {
  yield [
    "client",
    utf8('{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"clientInfo":{"name":"fuzz","version":"1"}}}'),
  ];
  if (pick.chance(0.8))
    yield [
      "server",
      utf8('{"jsonrpc":"2.0","id":0,"result":{"capabilities":{"tools":{}},"serverInfo":{"name":"s","version":"1"}}}'),
    ];
  if (pick.chance(0.5)) {
    yield ["client", utf8('{"jsonrpc":"2.0","id":"L","method":"tools/list"}')];
    yield [
      "server",
      utf8('{"jsonrpc":"2.0","id":"L","result":{"tools":[{"name":"echo","inputSchema":{"type":"object"}}]}}'),
    ];
  }
}

/** A session of hostile lines: calls, answers (mostly to open calls, ids respelt), other messages and batches; after an opening when `handshake`. */
export function* hostileStream(
  pick: Pick,
  length: number,
  handshake = true,
): Generator<["client" | "server", Uint8Array]> {
  if (handshake) yield* opening(pick);
  const open: Value[] = [];
  for (let n = 0; n < length; n++) {
    const roll = pick.int(10);
    if (roll < 4) {
      const id = idValue(pick);
      open.push(id);
      const call = messageValue(pick, id, "call");
      yield [
        "client",
        pick.chance(0.01) ? paddedLine(pick, call, 32 * 1024 - 40 + pick.int(80)) : lineBytes(pick, [call]),
      ];
    } else if (roll < 8) {
      const id =
        open.length > 0 && pick.chance(0.85) ? (open.splice(pick.int(open.length), 1)[0] as Value) : idValue(pick);
      const answer = messageValue(pick, id, "answer");
      yield [
        "server",
        pick.chance(0.01) ? paddedLine(pick, answer, 32 * 1024 - 40 + pick.int(80)) : lineBytes(pick, [answer]),
      ];
    } else {
      const id = open.length > 0 && pick.chance(0.3) ? (open[pick.int(open.length)] as Value) : idValue(pick);
      const values = Array.from({ length: pick.chance(0.1) ? 2 + pick.int(2) : 1 }, () =>
        messageValue(pick, id, pick.one(["other", "call", "answer"] as const)),
      );
      yield [pick.chance(0.5) ? "client" : "server", lineBytes(pick, values)];
    }
  }
}

/** Proxy settings the streams run under (environment variables). */
export const SETTINGS: Record<string, string>[] = [
  {},
  { BATON_INTENT_PARAM: "required" },
  { BATON_INTENT_PARAM: "off", BATON_CAPTURE: "tools,resources,prompts" },
  { BATON_CAPTURE: "resources" },
  { BATON_PRIVACY: "off" },
];

/** Seeds from FUZZ_SEEDS (`1-400` or `5,9`), else `fallback`: the differential tests' seeds, wider for a hunt. */
export function fuzzSeeds(fallback: number[]): number[] {
  const given = process.env.FUZZ_SEEDS;
  if (given === undefined) return fallback;
  return given.split(",").flatMap((part) => {
    const [from, to] = part.split("-").map(Number) as [number, number | undefined];
    return to === undefined ? [from] : Array.from({ length: to - from + 1 }, (_, i) => from + i);
  });
}

// Seeded generators of adversarial JSON-RPC lines for the byte scanners' differential tests: spellings JSON.parse reads alike (escapes, spacing, key order, duplicates, odd numbers) and byte mutations that make junk.

/** A seeded source of choices. */
export interface Pick {
  /** An integer in [0, n). */
  int(n: number): number;
  one<T>(items: readonly T[]): T;
  /** True with probability p. */
  chance(p: number): boolean;
}

/**
 * Mulberry32, not seeded-random.ts's LCG: the LCG's successive draws are correlated (an empty
 * `arguments` object was never followed by a nested top-level member), so whole shapes never came up.
 */
export function picker(seed: number): Pick {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.min(n - 1, Math.floor(next() * n));
  return { int, one: (items) => items[int(items.length)] as never, chance: (p) => next() < p };
}

/** Keys the scanners record, plus neighbours: escaped spellings of them, `__proto__`, near misses. */
const TOP_KEYS = ["id", "method", "params", "result", "error", "jsonrpc", "x", "__proto__", "Method", "ids"];
/** Top-level keys the scanners do not record (a recorded one twice makes them give up). */
const OTHER_TOP_KEYS = ["x", "__proto__", "Method", "ids", "_meta"];
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
  "__proto__",
  "nam",
  "baton/consent_token",
];
const METHODS = ["tools/call", "tools/list", "ping", "notifications/progress", "initialize", "", "é/ü", "a b"];
const NUMBERS = [
  "0",
  "-0",
  "1",
  "-12",
  "7",
  "1.0",
  "1.5",
  "1e3",
  "1E+2",
  "-1e-2",
  "1e400",
  "-1e400",
  "9007199254740993",
  "123456789012345",
  "-123456789012345",
  "1234567890123456",
  "12345678901234567890",
  "0.0000001",
];
const STRINGS = [
  "",
  "a",
  "x y",
  "é",
  "😀",
  "tools/call",
  "complete",
  "task",
  "\u2028",
  "\u0000",
  '"',
  "\\",
  "/",
  "}{][,:",
  "ct_abcdefgh",
];
/** Escapes spliced into strings verbatim (already JSON text): JSON.parse decodes each, lone surrogates too. */
const ESCAPES = ["\\u0022", "\\\\", "\\/", "\\n", "\\t", "\\u00e9", "\\ud83d\\ude00", "\\ud800", "\\udc00x", "\\u0000"];
const SPACES = ["", "", "", " ", "\t", "\r", "\n", "  ", " \r\n "];

/** A JSON string literal for `text`, sometimes spelled with an escape JSON.parse reads back as the same text. */
export function stringLiteral(pick: Pick, text: string): string {
  const plain = JSON.stringify(text);
  if (text.length === 0 || !pick.chance(0.15)) return plain;
  const at = pick.int(text.length);
  const code = text.charCodeAt(at);
  const escaped = pick.chance(0.5) ? `\\u${code.toString(16).padStart(4, "0")}` : text[at] === "/" ? "\\/" : null;
  if (escaped === null) return plain;
  return `${JSON.stringify(text.slice(0, at)).slice(0, -1)}${escaped}${JSON.stringify(text.slice(at + 1)).slice(1)}`;
}

/** Text of an arbitrary JSON value (`depth` bounds nesting). */
export function jsonValue(pick: Pick, depth: number, space: () => string): string {
  const kind = pick.int(depth > 3 ? 5 : 8);
  switch (kind) {
    case 0:
      return pick.one(NUMBERS);
    case 1:
      return pick.one(["true", "false", "null"]);
    case 2:
    case 3:
      return pick.chance(0.2)
        ? `"${pick.one(STRINGS.filter((s) => JSON.stringify(s) === `"${s}"`))}${pick.one(ESCAPES)}"`
        : stringLiteral(pick, pick.one(STRINGS));
    case 4:
      return stringLiteral(pick, pick.one(METHODS));
    case 5:
      return `[${space()}${Array.from({ length: pick.int(4) }, () => jsonValue(pick, depth + 1, space) + space()).join(`,${space()}`)}]`;
    default:
      return jsonObject(pick, depth + 1, space, INNER_KEYS);
  }
}

/** Text of an object with keys from `keys` (sometimes twice, sometimes escaped). */
export function jsonObject(pick: Pick, depth: number, space: () => string, keys: readonly string[]): string {
  const members = Array.from(
    { length: pick.chance(0.3) ? 0 : pick.int(5) },
    () => `${stringLiteral(pick, pick.one(keys))}${space()}:${space()}${jsonValue(pick, depth, space)}`,
  );
  return `{${space()}${members.join(`${space()},${space()}`)}${space()}}`;
}

/** Members of a plausible params or result object (the keys the hot path reads, with values of every kind). */
function innerMembers(pick: Pick, space: () => string, keys: readonly string[]): string[] {
  const chosen = keys.filter(() => pick.chance(0.6));
  if (pick.chance(0.1) && chosen.length > 0) chosen.push(pick.one(chosen)); // a key twice
  if (pick.chance(0.3)) chosen.push(pick.one(INNER_KEYS));
  return chosen.map((key) => {
    let value: string;
    if (key === "name")
      value = pick.chance(0.8)
        ? stringLiteral(pick, pick.one(["echo", "t", "baton_x", "é"]))
        : jsonValue(pick, 2, space);
    else if (key === "isError") value = pick.one(["true", "false", '"true"', "null", "1"]);
    else if (key === "resultType")
      value = pick.chance(0.7)
        ? stringLiteral(pick, pick.one(["complete", "task", "input_required"]))
        : jsonValue(pick, 2, space);
    else if (key === "content")
      value = pick.chance(0.7)
        ? `[${pick.chance(0.5) ? `{"type":"text","text":${stringLiteral(pick, pick.one(STRINGS))}}` : ""}]`
        : jsonValue(pick, 2, space);
    else if (key === "arguments" || key === "_meta")
      value = pick.chance(0.7) ? jsonObject(pick, 2, space, INNER_KEYS) : jsonValue(pick, 2, space);
    else value = jsonValue(pick, 2, space);
    return `${stringLiteral(pick, key)}${space()}:${space()}${value}`;
  });
}

/** One JSON-RPC-like line that JSON.parse accepts: a request, notification or answer, spelt any way the grammar allows. */
export function jsonRpcLine(pick: Pick): string {
  const spacing = pick.chance(0.6) ? [""] : SPACES;
  const space = (): string => pick.one(spacing);
  const members: string[] = [];
  const shape = pick.int(4);
  if (pick.chance(0.9)) members.push(`"jsonrpc":${space()}"2.0"`);
  if (shape !== 1 && pick.chance(0.95))
    members.push(
      `${stringLiteral(pick, "id")}${space()}:${space()}${pick.chance(0.5) ? pick.one(NUMBERS) : pick.chance(0.8) ? stringLiteral(pick, pick.one(["a-1", "s", "é", "", 'x"y'])) : pick.chance(0.5) ? "null" : jsonValue(pick, 2, space)}`,
    );
  if (shape <= 1) {
    members.push(
      `${stringLiteral(pick, "method")}${space()}:${space()}${pick.chance(0.9) ? stringLiteral(pick, pick.one(METHODS)) : jsonValue(pick, 2, space)}`,
    );
    if (pick.chance(0.85))
      members.push(
        `${stringLiteral(pick, "params")}${space()}:${space()}${pick.chance(0.9) ? `{${space()}${innerMembers(pick, space, ["name", "arguments", "_meta", "requestState", "inputResponses"]).join(`${space()},${space()}`)}${space()}}` : jsonValue(pick, 2, space)}`,
      );
  } else if (shape === 2) {
    members.push(
      `${stringLiteral(pick, "result")}${space()}:${space()}${pick.chance(0.9) ? `{${space()}${innerMembers(pick, space, ["content", "isError", "_meta", "resultType", "task", "structuredContent"]).join(`${space()},${space()}`)}${space()}}` : jsonValue(pick, 2, space)}`,
    );
  } else {
    members.push(
      `"error":${space()}{"code":-32601,"message":${stringLiteral(pick, pick.one(STRINGS))}${pick.chance(0.5) ? `,"data":${jsonValue(pick, 2, space)}` : ""}}`,
    );
  }
  // Extra top-level members, some with nested containers, some a recorded key twice.
  for (let extra = pick.int(4) - 1; extra > 0; extra--)
    members.push(
      `${stringLiteral(pick, pick.one(pick.chance(0.2) ? TOP_KEYS : OTHER_TOP_KEYS))}${space()}:${space()}${jsonValue(pick, 1, space)}`,
    );
  // A recorded key twice, plainly spelt (JSON.parse keeps the last).
  if (pick.chance(0.08))
    members.push(
      `"${pick.one(["id", "method", "params", "result"])}":${space()}${pick.chance(0.5) ? stringLiteral(pick, pick.one(METHODS)) : jsonValue(pick, 1, space)}`,
    );
  for (let k = members.length - 1; k > 0; k--) {
    const j = pick.int(k + 1);
    [members[k], members[j]] = [members[j] as string, members[k] as string];
  }
  return `${space()}{${space()}${members.join(`${space()},${space()}`)}${space()}}${space()}`;
}

/** Plain tool calls and their answers, spelt as generated JSON (key order, spacing, `_meta`, extra members, empty or nested values). */
export function callSession(pick: Pick, count: number, firstId = 100): ["client" | "server", string][] {
  const space = (): string => pick.one(["", "", " ", "\t"]);
  const shuffled = (members: string[]): string => {
    for (let k = members.length - 1; k > 0; k--) {
      const j = pick.int(k + 1);
      [members[k], members[j]] = [members[j] as string, members[k] as string];
    }
    return `{${members.join(`,${space()}`)}}`;
  };
  const extra = (): string[] => (pick.chance(0.3) ? [`"x":${jsonValue(pick, 1, space)}`] : []);
  const lines: ["client" | "server", string][] = [];
  for (let k = 0; k < count; k++) {
    const id = pick.chance(0.7) ? String(firstId + k) : JSON.stringify(`g-${firstId + k}`);
    const params = [`"name":${pick.one(['"echo"', '"echo"', '"other"'])}`];
    if (pick.chance(0.8))
      params.push(
        `"arguments":${pick.chance(0.8) ? jsonObject(pick, 1, space, ["a", "text", "id", "_meta"]) : jsonValue(pick, 2, space)}`,
      );
    if (pick.chance(0.3))
      params.push(
        `"_meta":${pick.chance(0.8) ? jsonObject(pick, 1, space, ["progressToken", "x"]) : jsonValue(pick, 2, space)}`,
      );
    lines.push([
      "client",
      shuffled(['"jsonrpc":"2.0"', `"id":${id}`, '"method":"tools/call"', `"params":${shuffled(params)}`, ...extra()]),
    ]);
    if (pick.chance(0.1)) continue; // never answered
    const result: string[] = [];
    if (pick.chance(0.8))
      result.push(
        `"content":${pick.chance(0.8) ? `[${pick.chance(0.5) ? '{"type":"text","text":"t"}' : ""}]` : jsonValue(pick, 2, space)}`,
      );
    if (pick.chance(0.4)) result.push(`"isError":${pick.one(["true", "false", "null", '"true"'])}`);
    if (pick.chance(0.3)) result.push(`"structuredContent":${jsonValue(pick, 1, space)}`);
    const answer = pick.chance(0.15)
      ? `"error":{"code":-32000,"message":"m"${pick.chance(0.5) ? `,"data":${jsonValue(pick, 1, space)}` : ""}}`
      : `"result":${pick.chance(0.9) ? shuffled(result) : jsonValue(pick, 1, space)}`;
    lines.push(["server", shuffled(['"jsonrpc":"2.0"', `"id":${id}`, answer, ...extra()])]);
  }
  return lines;
}

/** Bytes that make or break JSON: structure, escapes, number parts, controls, invalid and partial UTF-8. */
const INTERESTING = [
  ...new TextEncoder().encode(`{}[]",:\\ \t\r\n0-.eE+tfnu/`),
  0x00,
  0x1f,
  0x7f,
  0x80,
  0xbf,
  0xc3,
  0xe2,
  0xef,
  0xf0,
  0xff,
];

/** `body` after one to three random byte edits (drop, insert, replace, cut, repeat a slice, trailing garbage). */
export function mutate(pick: Pick, body: Uint8Array): Uint8Array {
  let out = body;
  for (let n = 1 + pick.int(3); n > 0; n--) {
    const at = pick.int(out.length + 1);
    const byte = pick.one(INTERESTING);
    switch (pick.int(6)) {
      case 0:
        out = new Uint8Array([...out.subarray(0, at), ...out.subarray(at + 1)]);
        break;
      case 1:
        out = new Uint8Array([...out.subarray(0, at), byte, ...out.subarray(at)]);
        break;
      case 2:
        out = new Uint8Array([...out.subarray(0, at), byte, ...out.subarray(at + 1)]);
        break;
      case 3:
        out = out.subarray(0, at);
        break;
      case 4: {
        const to = at + pick.int(out.length - at + 1);
        out = new Uint8Array([...out.subarray(0, to), ...out.subarray(at, to), ...out.subarray(to)]);
        break;
      }
      default:
        out = new Uint8Array([...out, ...new TextEncoder().encode(pick.one([" x", "}", ",", "{}", "\u00a0", "]"]))]);
    }
  }
  return out;
}

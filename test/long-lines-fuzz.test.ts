// Differential, seeded: the id (and request or answer) read from the first and last bytes of a line over the inspection cap is what JSON.parse reads from the whole line, or nothing; never another request's.

import { describe, expect, test } from "bun:test";
import { LINE_EDGE_BYTES } from "../src/wire/framing.ts";
import { outcomeOfLongLine, requestIdOfLongLine } from "../src/proxy/long-lines.ts";
import {
  createProxyState,
  fromClientLongLine,
  fromServerLongLine,
  holdsClientLongLine,
  type Action,
} from "../src/proxy/transform.ts";
import { toMessage } from "../src/wire/jsonrpc.ts";
import { client } from "./support/transform-driver.ts";
import { picker, type Pick } from "./support/jsonrpc-fuzz.ts";
import { classifyText, keyOf, type IdKey } from "../src/wire/jsonrpc.ts";

const CASES = 2000;
const MiB = 1048576;
/** Ids as a peer may write them; the pending requests in the tests use their values. */
const ID_TEXTS = [
  "1",
  "5",
  "-3",
  "0",
  "1.5",
  "1e3",
  "1.0",
  "5E0",
  '"a"',
  '"5"',
  '"a\\"b"',
  '"\\u0061"',
  "12345678901234567890",
];
const PAD = "x".repeat(3 * LINE_EDGE_BYTES);

/** A long line (its bulk in the middle): an answer, a server request or a client tools/call, members in any order, nested ids in the way. */
function longLine(pick: Pick): string {
  const space = (): string => pick.one(["", "", " ", "\n "]);
  const member = (key: string, value: string): string => `"${key}"${space()}:${space()}${value}`;
  const members: string[] = [];
  if (pick.chance(0.9)) members.push(member("jsonrpc", '"2.0"'));
  if (pick.chance(0.95)) members.push(member("id", pick.one(ID_TEXTS)));
  const kind = pick.int(4);
  if (kind === 0)
    members.push(member("result", `{"content":[{"type":"text","text":"${PAD}"}],"meta":{"id":${pick.one(ID_TEXTS)}}}`));
  else if (kind === 1)
    members.push(
      member("error", `{"code":-32000,"message":"${PAD}","data":{"id":${pick.one(ID_TEXTS)},"method":"x"}}`),
    );
  else {
    members.push(member("method", kind === 2 ? '"tools/call"' : '"sampling/createMessage"'));
    members.push(member("params", `{"name":"huge","arguments":{"id":${pick.one(ID_TEXTS)},"text":"${PAD}"}}`));
  }
  // A method beside a result or error makes a request; given twice, JSON.parse keeps the last.
  if (pick.chance(0.2)) members.push(member("method", pick.one(['"tools/call"', '"x/y"', '"ping"'])));
  for (let k = members.length - 1; k > 0; k--) {
    const j = pick.int(k + 1);
    [members[k], members[j]] = [members[j] as string, members[k] as string];
  }
  return `{${members.join(`,${space()}`)}}`;
}

/** The line's first and last bytes as the framing keeps them. */
function edges(text: string): { head: string; tail: string } {
  const bytes = new TextEncoder().encode(text);
  const decode = (part: Uint8Array): string => new TextDecoder().decode(part);
  return {
    head: decode(bytes.subarray(0, LINE_EDGE_BYTES)),
    tail: decode(bytes.subarray(bytes.length - LINE_EDGE_BYTES)),
  };
}

const idOf = (value: Record<string, unknown>): string | number => value.id as string | number;
/** The key the full parse gives a request's id (the id as written: see IdKey). */
const keyOfText = (text: string): IdKey | undefined => {
  const line = classifyText(text);
  return line.kind === "message" && line.message.kind === "request" ? keyOf(line.message) : undefined;
};
const isRequest = (value: Record<string, unknown>): boolean =>
  typeof value.method === "string" && (typeof value.id === "string" || typeof value.id === "number");

describe("ids read from a long line's edges against JSON.parse", () => {
  test("a server's long line closes the request it answers, or none: never another one", () => {
    const pick = picker(4096);
    for (let n = 0; n < CASES; n++) {
      const text = longLine(pick);
      const value = JSON.parse(text) as Record<string, unknown>;
      const state = createProxyState({ includeReportTool: true });
      const ids = [...new Set(ID_TEXTS.map((id) => JSON.parse(id) as string | number))];
      ids.forEach((id, k) => client(state, { jsonrpc: "2.0", id, method: "tools/call", params: { name: `t${k}` } }));
      const { head, tail } = edges(text);
      fromServerLongLine(state, head, tail, 9 * MiB, 1);
      const closed = ids.filter((id) => !state.pending.has(id));
      const answers = !("method" in value) && ("result" in value || "error" in value);
      expect({ text, closed }).toEqual({ text, closed: closed.length === 0 || !answers ? [] : [idOf(value)] });
    }
  });

  test("a client's long request: the id tracked or answered is the line's, as written", () => {
    const pick = picker(4097);
    for (let n = 0; n < CASES; n++) {
      const text = longLine(pick);
      const value = JSON.parse(text) as Record<string, unknown>;
      const { head, tail } = edges(text);
      const request = requestIdOfLongLine(head, tail);
      if (request !== undefined)
        expect({ text, request }).toEqual({ text, request: isRequest(value) ? idOf(value) : "none" });
      const state = createProxyState({ includeReportTool: true });
      fromClientLongLine(state, head, tail, 9 * MiB, false, 1);
      const tracked: (IdKey | undefined)[] = [...state.pending.keys()];
      if (tracked.length > 0)
        expect({ text, tracked }).toEqual({
          text,
          tracked: value.method === "tools/call" ? [keyOfText(text)] : [],
        });
      const answered = fromClientLongLine(createProxyState({ includeReportTool: true }), head, tail, 9 * MiB, true, 1)
        .filter((a): a is Extract<Action, { type: "send" }> => a.type === "send")
        .map((a) => JSON.stringify(a.message).match(/"id":((?:"(?:[^"\\]|\\.)*")|[^,}]*)/)?.[1]);
      const written =
        text.match(/^\{(?:[^{]*?,)?\s*"id"\s*:\s*([^,}\s]+)/)?.[1] ??
        text.match(/,\s*"id"\s*:\s*([^,}\s]+)(?:\s*,\s*"jsonrpc"\s*:\s*"2\.0")?\s*\}$/)?.[1];
      for (const id of answered) expect({ text, id }).toEqual({ text, id: written });
    }
  });
});

/**
 * A long tool answer (its bulk in the middle) with `isError` where the edges show it: in `result`
 * (true or not, sometimes twice: JSON.parse keeps the last), or nested in a content item or
 * `structuredContent`, or inside a text; sometimes an error instead.
 */
function longAnswer(pick: Pick): string {
  const space = (): string => pick.one(["", "", " ", "\r\t"]);
  const isError = (): string =>
    `"${pick.chance(0.2) ? "is\\u0045rror" : "isError"}"${space()}:${space()}${pick.one(["true", "false", "null", '"true"'])}`;
  const nested = (): string =>
    pick.one([
      `{"type":"resource","resource":{"uri":"x",${isError()}}}`,
      `{"type":"text","text":"{\\"isError\\":true}"}`,
      `{"type":"text","text":"t","_meta":{${isError()}}}`,
    ]);
  const first: string[] = [];
  const last: string[] = [];
  if (pick.chance(0.3)) first.push(isError());
  if (pick.chance(0.5)) last.push(isError());
  const items = [nested(), `{"type":"text","text":"${PAD}"}`, ...(pick.chance(0.5) ? [nested()] : [])];
  first.push(`"content":[${items.join(",")}]`);
  if (pick.chance(0.5)) last.unshift(`"structuredContent":{"checks":[{"name":"a",${isError()}}],"failed":1}`);
  const result = `{${[...first, ...last].join(`,${space()}`)}}`;
  const answer = pick.chance(0.1)
    ? `"error":{"code":-32000,"message":"${PAD}","data":{${isError()}}}`
    : `"result":${space()}${result}`;
  return `{"jsonrpc":"2.0",${space()}"id":${space()}1,${space()}${answer}}`;
}

describe("a long answer's outcome read from its edges against JSON.parse", () => {
  test("a tool error only when the result's own isError is true (not one nested in its content, nor in a text)", () => {
    const pick = picker(4098);
    for (let n = 0; n < CASES; n++) {
      const text = longAnswer(pick);
      const value = JSON.parse(text) as { result?: { isError?: unknown }; error?: { code: number } };
      const expected =
        value.error !== undefined
          ? `jsonrpc_${value.error.code}`
          : value.result?.isError === true
            ? "tool_error"
            : undefined;
      const { head, tail } = edges(text);
      expect({ text: text.replace(PAD, "<pad>"), outcome: outcomeOfLongLine(head, tail) }).toEqual({
        text: text.replace(PAD, "<pad>"),
        outcome: expected,
      });
    }
  });
});

describe("a long line with its id given twice (JSON.parse keeps the last)", () => {
  test("the id read from its edges is the last one: the tail's when it shows one", () => {
    const state = createProxyState({ includeReportTool: true });
    for (const id of [5, 6]) client(state, { jsonrpc: "2.0", id, method: "tools/call", params: { name: "t" } });
    const answer = `{"jsonrpc":"2.0","id":5,"result":{"content":[{"type":"text","text":"${PAD}"}]},"id":6}`;
    expect((JSON.parse(answer) as { id: number }).id).toBe(6);
    const { head, tail } = edges(answer);
    fromServerLongLine(state, head, tail, 9 * MiB, 1);
    expect([...state.pending.keys()]).toEqual([5]);

    const call = `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"t","arguments":{"a":"${PAD}"}},"id":8}`;
    const sides = edges(call);
    expect(requestIdOfLongLine(sides.head, sides.tail)).toBe(8);
    const tracking = createProxyState({ includeReportTool: true });
    fromClientLongLine(tracking, sides.head, sides.tail, 9 * MiB, false, 1);
    expect([...tracking.pending.keys()]).toEqual([8]);
  });
});

describe("a long line with its method given twice, or a method beside its result (JSON.parse keeps the last; a method makes a request)", () => {
  test("a server answer whose tail shows a method is a request to a full parse: it closes no client request", () => {
    const state = createProxyState({ includeReportTool: true });
    client(state, { jsonrpc: "2.0", id: 5, method: "tools/call", params: { name: "t" } });
    const line = `{"jsonrpc":"2.0","id":5,"result":{"content":[{"type":"text","text":"${PAD}"}]},"method":"ping"}`;
    expect(toMessage(JSON.parse(line))?.kind).toBe("request");
    const { head, tail } = edges(line);
    expect(fromServerLongLine(state, head, tail, 9 * MiB, 1)).toEqual([]);
    expect([...state.pending.keys()]).toEqual([5]);
  });

  test("a client tools/call whose tail gives another method is not tracked as a call", () => {
    const line = `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"t","arguments":{"a":"${PAD}"}},"method":"x/y"}`;
    expect((JSON.parse(line) as { method: string }).method).toBe("x/y");
    const { head, tail } = edges(line);
    const state = createProxyState({ includeReportTool: true });
    expect(fromClientLongLine(state, head, tail, 9 * MiB, false, 1)).toEqual([]);
    expect(state.pending.size).toBe(0);
  });

  test("a client head giving its method twice is read by the last: held only when that one is tools/call", () => {
    const state = createProxyState({ includeReportTool: true });
    const called =
      '{"jsonrpc":"2.0","method":"x/y","method":"tools/call","id":7,"params":{"name":"baton_annotate","arguments":{"x":"';
    const other =
      '{"jsonrpc":"2.0","method":"tools/call","method":"x/y","id":7,"params":{"name":"baton_annotate","arguments":{"x":"';
    expect(holdsClientLongLine(state, called)).toBe(true);
    expect(holdsClientLongLine(state, other)).toBe(false);
  });
});

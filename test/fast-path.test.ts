// Unit tests for src/proxy/fast-path.ts: calls and answers handled from scanned facts (never parsed) give the same wire actions, logs, state and events as the full path, on a corpus in several proxy states.

import { describe, expect, test } from "bun:test";
import {
  createProxyState,
  failPending,
  fromClient,
  fromServer,
  type Action,
  type ProxyState,
  type TransformOptions,
} from "../src/proxy/transform.ts";
import { classifyLine, scannedFacts, type Classified } from "../src/wire/jsonrpc.ts";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(`${text}\n`);
const line = (message: unknown): string => JSON.stringify(message);
const call = (id: unknown, params: unknown) => line({ jsonrpc: "2.0", id, method: "tools/call", params });

/** Client and server lines in order: calls and their answers of every kind the fast path takes or must refuse. */
const SESSION: readonly ["client" | "server", string][] = [
  [
    "client",
    line({ jsonrpc: "2.0", id: 0, method: "initialize", params: { clientInfo: { name: "host", version: "1" } } }),
  ],
  [
    "server",
    line({ jsonrpc: "2.0", id: 0, result: { capabilities: { tools: {} }, serverInfo: { name: "srv", version: "2" } } }),
  ],
  ["client", line({ jsonrpc: "2.0", id: 1, method: "tools/list" })],
  ["server", line({ jsonrpc: "2.0", id: 1, result: { tools: [{ name: "echo", inputSchema: { type: "object" } }] } })],
  [
    "client",
    `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi","n":1.0,"big":12345678901234567890}}}`,
  ],
  ["server", line({ jsonrpc: "2.0", id: 2, result: { content: [{ type: "text", text: "hi" }] } })],
  ["client", call("s-3", { name: "echo", arguments: { text: "x" } })],
  ["server", line({ jsonrpc: "2.0", id: "s-3", result: { content: [{ type: "text", text: "bad" }], isError: true } })],
  ["client", call(4, { name: "echo" })],
  ["server", line({ jsonrpc: "2.0", id: 4, error: { code: -32602, message: "no", data: { why: [1, 2] } } })],
  ["client", call(5, { name: "echo", arguments: "not an object" })],
  ["server", line({ jsonrpc: "2.0", id: 5, result: { structured: true } })],
  [
    "client",
    call(6, { name: "echo", arguments: { text: "m" }, _meta: { progressToken: 6, "baton/call_id": "forged" } }),
  ],
  [
    "server",
    line({
      jsonrpc: "2.0",
      id: 6,
      result: { content: [], _meta: { "io.modelcontextprotocol/serverInfo": { name: "x" } } },
    }),
  ],
  ["client", call(7, { name: "echo", arguments: { text: "t", user_goal: "find", expected_result: "it" } })],
  ["server", line({ jsonrpc: "2.0", id: 7, result: { content: [] } })],
  ["client", call(8, { name: "baton_annotate", arguments: { signal_type: "failure", intent: "i", outcome: "o" } })],
  ["client", call(9, { name: "multi", arguments: {} })],
  ["server", line({ jsonrpc: "2.0", id: 9, result: { resultType: "input_required", requestState: "r1" } })],
  ["client", call(10, { name: "multi", arguments: {}, requestState: "r1", inputResponses: {} })],
  ["server", line({ jsonrpc: "2.0", id: 10, result: { content: [{ type: "text", text: "done" }] } })],
  ["client", call(11, { name: "slow", arguments: {}, task: { ttl: 100 } })],
  ["server", line({ jsonrpc: "2.0", id: 11, result: { task: { taskId: "t1", status: "working" } } })],
  ["client", call(12, { name: "echo", arguments: { text: "cancel me" } })],
  ["client", line({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 12 } })],
  ["server", line({ jsonrpc: "2.0", id: 12, result: { content: [] } })],
  ["client", call(13, { name: "echo", arguments: { text: "twice" } })],
  ["client", call(13, { name: "echo", arguments: { text: "reused id" } })],
  ["server", line({ jsonrpc: "2.0", id: 13, result: { content: [{ type: "text", text: "a" }, { type: "image" }] } })],
  ["server", line({ jsonrpc: "2.0", id: 99, result: { content: [] } })],
  ["server", line({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error" } })],
  ["client", line({ jsonrpc: "2.0", id: 14, method: "resources/read", params: { uri: "file:///a" } })],
  ["server", line({ jsonrpc: "2.0", id: 14, result: { contents: [] } })],
  ["client", `{"jsonrpc":"2.0","id":15,"method":"tools/call","params":{"name":"\\u0065cho","arguments":{}}}`],
  ["server", `{"jsonrpc":"2.0","id":15,"result":{"content":[],"is\\u0045rror":true}}`],
  ["client", call(17, { name: "echo", arguments: ["not", "an object"] })],
  ["server", line({ jsonrpc: "2.0", id: 17, result: { isError: true } })],
  ["client", call(18, { name: "echo", arguments: {} })],
  ["server", line({ jsonrpc: "2.0", id: 18, result: { content: "text, not blocks", isError: false } })],
  ["client", call(19, { name: "echo" })],
  ["server", line({ jsonrpc: "2.0", id: 19, result: "not an object" })],
  ["client", call(20, { name: "echo", arguments: { a: { b: [1, { c: "\u00e9" }] } } })],
  [
    "server",
    line({ jsonrpc: "2.0", id: 20, result: { content: [{ type: "text", text: "é ☃" }], structuredContent: { x: 1 } } }),
  ],
  // the modern era: every call carries the client's info, every answer the server's and a resultType
  [
    "client",
    call(21, {
      name: "echo",
      arguments: { text: "modern" },
      _meta: {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": { name: "modern-host", version: "2" },
        progressToken: "p",
      },
    }),
  ],
  [
    "server",
    line({
      jsonrpc: "2.0",
      id: 21,
      result: {
        content: [{ type: "text", text: "ok" }],
        resultType: "complete",
        _meta: { "io.modelcontextprotocol/serverInfo": { name: "modern-srv", version: "3" } },
      },
    }),
  ],
  ["client", call(22, { name: "echo", arguments: {}, _meta: "not an object" })],
  ["server", line({ jsonrpc: "2.0", id: 22, result: { content: [], resultType: "complete" } })],
  ["client", call(23, { name: "echo", arguments: {}, _meta: { "claudecode/toolUseId": "toolu_1", "baton/x": 1 } })],
  ["server", line({ jsonrpc: "2.0", id: 23, result: { content: [], _meta: { other: true } } })],
  ["client", call(16, { name: "echo", arguments: { text: "still open at the end" } })],
];

/** The observable outcome of a transform's actions: wire actions (bytes as text), logs and drafts. */
function observed(actions: Action[]): unknown[] {
  return actions.map((action) =>
    action.type === "forward" ? { ...action, bytes: new TextDecoder().decode(action.bytes) } : action,
  );
}

/** True when the line's message was never parsed (its scanned facts still stand for it). */
function unparsed(classified: Classified, body: Uint8Array): boolean {
  return classified.kind === "message" && scannedFacts(classified.message, body) !== undefined;
}

/** A modern-era session: no handshake, the agent and server are first named by a call and its answer. */
const MODERN: readonly ["client" | "server", string][] = [
  ...[1, 2].flatMap((id): ["client" | "server", string][] => [
    [
      "client",
      call(id, {
        name: "add",
        arguments: { a: id, b: 3 },
        _meta: {
          "io.modelcontextprotocol/protocolVersion": "2026-07-28",
          "io.modelcontextprotocol/clientInfo": { name: `host-${id}`, version: "2" },
        },
      }),
    ],
    [
      "server",
      line({
        jsonrpc: "2.0",
        id,
        result: {
          content: [{ type: "text", text: String(id + 3) }],
          structuredContent: { sum: id + 3 },
          resultType: "complete",
          _meta: { "io.modelcontextprotocol/serverInfo": { name: "adder", version: "1" } },
        },
      }),
    ],
  ]),
];

function run(
  options: TransformOptions,
  session: readonly ["client" | "server", string][] = SESSION,
): { out: unknown[]; unparsed: number; state: ProxyState } {
  const state = createProxyState(options);
  const out: unknown[] = [];
  let unread = 0;
  let now = 0;
  for (const [side, text] of session) {
    const raw = bytes(text);
    const classified = classifyLine(raw.subarray(0, raw.length - 1));
    now += 3;
    const actions =
      side === "client" ? fromClient(state, raw, classified, now) : fromServer(state, raw, classified, now);
    if (unparsed(classified, raw)) unread++;
    out.push(observed(actions));
  }
  out.push(observed(failPending(state, "proxy_shutdown", "bye", now + 5)));
  return { out, unparsed: unread, state };
}

const STATES: [string, TransformOptions][] = [
  ["defaults", { includeReportTool: true }],
  ["intent params off", { includeReportTool: false, intentParam: "off" }],
  [
    "intent params required, a principal",
    {
      includeReportTool: true,
      intentParam: "required",
      hashPrincipal: (p) => `h:${p.id}`,
      defaultPrincipal: { id: "u" },
    },
  ],
  ["only resources captured", { includeReportTool: true, capture: new Set(["resources"]) }],
  ["a fixed server label, a small pending table", { includeReportTool: true, serverLabel: "https://x", maxPending: 2 }],
];

describe("fast path vs full path", () => {
  test.each(STATES)("%s: same wire actions, logs and events", (_name, options) => {
    const full = run(options);
    const fast = run({ ...options, fastPath: true });
    // plain calls and their answers (10 or more) were never parsed
    expect(fast.unparsed).toBeGreaterThan(full.unparsed + 10);
    expect(fast.out).toEqual(full.out);
    expect(fast.state.pending.size).toBe(full.state.pending.size);
    expect(fast.state.nextCallId).toBe(full.state.nextCallId);
  });

  test("a modern session: the agent and server named by calls and answers, as on the full path", () => {
    const full = run({ includeReportTool: true }, MODERN);
    const fast = run({ includeReportTool: true, fastPath: true }, MODERN);
    expect(fast.unparsed - full.unparsed).toBe(3); // the first answer names the server: the full path reads it
    expect(fast.out).toEqual(full.out);
    expect([fast.state.agentRuntime, fast.state.serverLabel]).toEqual(["host-2", "adder 1"]);
  });

  test("a message whose value was read (and maybe changed), or handed over with other bytes, takes the full path", () => {
    const state = createProxyState({ includeReportTool: true, fastPath: true });
    const raw = bytes(call(1, { name: "echo", arguments: { secret: "s", text: "t" } }));
    const line = classifyLine(raw.subarray(0, raw.length - 1));
    if (line.kind !== "message") throw new Error("expected a message");
    // what serve does with a consent token: change the value, forward it re-encoded
    delete ((line.message.value.params as Record<string, any>).arguments as Record<string, unknown>).secret;
    const changed = bytes(JSON.stringify(line.message.value));
    const start = fromClient(state, changed, line, 0).find((a) => a.type === "emit");
    expect(start?.type === "emit" && start.draft.payload).toEqual({ tool_name: "echo", params: { text: "t" } });
    // the same text in other bytes: the facts are not taken for them (the full path parses)
    const other = bytes(call(2, { name: "echo", arguments: {} }));
    const body = bytes(call(2, { name: "echo", arguments: {} })).subarray(0, other.length - 1);
    const unread = classifyLine(body);
    fromClient(state, other, unread, 0);
    expect(unparsed(unread, body)).toBe(false);
    const own = bytes(call(3, { name: "echo", arguments: {} }));
    const ownLine = classifyLine(own.subarray(0, own.length - 1));
    fromClient(state, own, ownLine, 0);
    expect(unparsed(ownLine, own)).toBe(true);
  });
});

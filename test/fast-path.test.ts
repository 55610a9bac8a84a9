// Unit tests for src/proxy/fast-path.ts: calls and answers handled from scanned facts give the same wire actions, state and events (built later) as the full path, on a corpus in several proxy states.

import { describe, expect, test } from "bun:test";
import type { EventDraft } from "../src/telemetry/event-types.ts";
import {
  createProxyState,
  failPending,
  fromClient,
  fromServer,
  type Action,
  type ProxyState,
  type TransformOptions,
} from "../src/proxy/transform.ts";
import { classifyLine } from "../src/wire/jsonrpc.ts";
import { callSession, picker } from "./support/jsonrpc-fuzz.ts";

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
  // a request with a plain params.name that is no tools/call: a prompt, not a tool call
  ["client", line({ jsonrpc: "2.0", id: 16, method: "prompts/get", params: { name: "echo", arguments: {} } })],
  ["server", line({ jsonrpc: "2.0", id: 16, result: { messages: [] } })],
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

/** The observable outcome of a transform's actions: wire actions and logs as they are, drafts built. */
function observed(actions: Action[]): unknown[] {
  return actions.map((action) => {
    if (action.type === "emitLater") return { type: "emit", draft: action.build() };
    if (action.type === "forward") return { ...action, bytes: new TextDecoder().decode(action.bytes) };
    return action;
  });
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
): { out: unknown[]; later: number; state: ProxyState } {
  const state = createProxyState(options);
  const out: unknown[] = [];
  let later = 0;
  let now = 0;
  for (const [side, text] of session) {
    const raw = bytes(text);
    const classified = classifyLine(raw.subarray(0, raw.length - 1));
    now += 3;
    const actions =
      side === "client" ? fromClient(state, raw, classified, now) : fromServer(state, raw, classified, now);
    later += actions.filter((a) => a.type === "emitLater").length;
    out.push(observed(actions));
  }
  out.push(observed(failPending(state, "proxy_shutdown", "bye", now + 5)));
  return { out, later, state };
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
    const fast = run({ ...options, lazyDrafts: true });
    expect(full.later).toBe(0);
    expect(fast.later).toBeGreaterThan(options.capture === undefined ? 6 : -1);
    expect(fast.out).toEqual(full.out);
    expect(fast.state.pending.size).toBe(full.state.pending.size);
    expect(fast.state.nextCallId).toBe(full.state.nextCallId);
  });

  test("seeded sessions of generated calls and answers (any spelling, extra members, nested containers): the same as the full path", () => {
    const pick = picker(1202);
    for (let n = 0; n < 40; n++) {
      const session = [...SESSION.slice(0, 4), ...callSession(pick, 40)];
      const options = pick.one(STATES)[1];
      const full = run(options, session);
      const fast = run({ ...options, lazyDrafts: true }, session);
      expect(fast.out).toEqual(full.out);
      expect(fast.state.pending.size).toBe(full.state.pending.size);
    }
  });

  test("the late answer of the one evicted call is owed nothing more: at exit only the call still waiting gets an error", () => {
    const session: ["client" | "server", string][] = [
      ...SESSION.slice(0, 4),
      ["client", call(1, { name: "echo", arguments: {} })],
      ["client", call(2, { name: "echo", arguments: {} })],
      ["server", line({ jsonrpc: "2.0", id: 1, result: { content: [] } })],
    ];
    const options = { includeReportTool: false, maxPending: 1 };
    const full = run(options, session);
    const fast = run({ ...options, lazyDrafts: true }, session);
    expect(fast.out).toEqual(full.out);
    expect(fast.state.evictedIds.size).toBe(0);
  });

  test("a modern session: the agent and server named by calls and answers, as on the full path", () => {
    const full = run({ includeReportTool: true }, MODERN);
    const fast = run({ includeReportTool: true, lazyDrafts: true }, MODERN);
    expect(fast.later).toBe(3); // the first answer names the server: the full path reads it
    expect(fast.out).toEqual(full.out);
    expect([fast.state.agentRuntime, fast.state.serverLabel]).toEqual(["host-2", "adder 1"]);
  });

  test("a draft built later keeps the agent, server and rounds of when it was emitted", () => {
    const state = createProxyState({ includeReportTool: true, lazyDrafts: true });
    const send = (side: "client" | "server", text: string) => {
      const raw = bytes(text);
      const classified = classifyLine(raw.subarray(0, raw.length - 1));
      return side === "client" ? fromClient(state, raw, classified, 1) : fromServer(state, raw, classified, 2);
    };
    const start = send("client", call(1, { name: "echo", arguments: { a: 1 } }));
    const end = send("server", line({ jsonrpc: "2.0", id: 1, result: { content: [] } }));
    // The agent and server become known only afterwards.
    send("client", line({ jsonrpc: "2.0", id: 2, method: "initialize", params: { clientInfo: { name: "late" } } }));
    send("server", line({ jsonrpc: "2.0", id: 2, result: { serverInfo: { name: "srv" } } }));
    const drafts = [...start, ...end].flatMap((a) => (a.type === "emitLater" ? [a.build()] : [])) as EventDraft[];
    expect(drafts.map((d) => [d.event_type, d.agent_runtime, d.runtime_meta])).toEqual([
      ["tool_call_start", "unknown", { "baton/call_id": "c1" }],
      ["tool_call_end", "unknown", { "baton/call_id": "c1" }],
    ]);
  });

  test("a message whose value was read (and maybe changed), or handed over with other bytes, takes the full path", () => {
    const state = createProxyState({ includeReportTool: true, lazyDrafts: true });
    const raw = bytes(call(1, { name: "echo", arguments: { secret: "s", text: "t" } }));
    const line = classifyLine(raw.subarray(0, raw.length - 1));
    if (line.kind !== "message") throw new Error("expected a message");
    // what serve does with a consent token: change the value, forward it re-encoded
    delete ((line.message.value.params as Record<string, any>).arguments as Record<string, unknown>).secret;
    const changed = bytes(JSON.stringify(line.message.value));
    const actions = fromClient(state, changed, line, 0);
    expect(actions.some((a) => a.type === "emitLater")).toBe(false);
    const start = actions.find((a) => a.type === "emit");
    expect(start?.type === "emit" && start.draft.payload).toEqual({ tool_name: "echo", params: { text: "t" } });
    const other = bytes(call(2, { name: "echo", arguments: {} }));
    const unread = classifyLine(bytes(call(2, { name: "echo", arguments: {} })).subarray(0, other.length - 1));
    expect(fromClient(state, other, unread, 0).some((a) => a.type === "emitLater")).toBe(false);
  });

  test("the line a later draft reads is a copy: the read chunk may be reused", () => {
    const state = createProxyState({ includeReportTool: true, lazyDrafts: true });
    const raw = bytes(call(1, { name: "echo", arguments: { text: "original" } }));
    const actions = fromClient(state, raw, classifyLine(raw.subarray(0, raw.length - 1)), 0);
    raw.fill(0x20);
    const start = actions.find((a) => a.type === "emitLater");
    expect(start?.type === "emitLater" && start.build().payload).toEqual({
      tool_name: "echo",
      params: { text: "original" },
    });
  });
});

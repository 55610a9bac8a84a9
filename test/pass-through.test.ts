// Unit tests for src/proxy/pass-through.ts: a client line it lets go first is one the transforms forward unchanged (cross-checked on a corpus, in several proxy states, intent params and capture groups included).

import { describe, expect, test } from "bun:test";
import { loadConfig } from "../src/config.ts";
import { createSessionEngine } from "../src/engine/session-engine.ts";
import { createTelemetryHub } from "../src/telemetry/telemetry-hub.ts";
import { createMemoryLogger } from "./support/memory-logger.ts";
import { clientLinePassesUnchanged } from "../src/proxy/pass-through.ts";
import { createProxyState, fromClient, fromServer, type ProxyState } from "../src/proxy/transform.ts";
import { classifyLine } from "../src/wire/jsonrpc.ts";
import { jsonRpcLine, mutate, picker } from "./support/jsonrpc-fuzz.ts";

/** Tool names and argument members the transforms act on (our tools, intent parameters), plainly and escaped. */
const INTERESTING_NAMES = ["baton_annotate", "baton_session_report", "baton\u005fannotate", "echo", "Baton_annotate"];
const INTENT_MEMBERS = [
  '"user_goal":"g"',
  '"expected_result":"r"',
  '"user\\u005fgoal":"g"',
  '"x_user_goal":1',
  '"task":{}',
];

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const line = (message: unknown): string => JSON.stringify(message);

/** Client lines of every kind the proxy treats specially, and plain ones. */
const CORPUS: readonly string[] = [
  line({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", arguments: { text: "hi" } } }),
  line({
    jsonrpc: "2.0",
    id: 2,
    method: "tools/call",
    params: { name: "echo", arguments: { text: 'say "baton"\n' }, _meta: { progressToken: 7 } },
  }),
  line({
    jsonrpc: "2.0",
    id: 3,
    method: "tools/call",
    params: { name: "baton_annotate", arguments: { signal_type: "failure", intent: "x" } },
  }),
  line({ jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "baton_session_report", arguments: {} } }),
  line({
    jsonrpc: "2.0",
    id: 5,
    method: "tools/call",
    params: { name: "echo", arguments: { text: "x", user_goal: "find it", expected_result: "it" } },
  }),
  line({ jsonrpc: "2.0", id: 6, method: "tools/call", params: { name: "echo", arguments: { user_goal: "g" } } }),
  `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"baton\\u005fannotate","arguments":{}}}`,
  `{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"echo","arguments":{"user\\u005fgoal":"g"}}}`,
  `{"jsonrpc":"2.0","id":26,"method":"tools/call","params":{"name":"echo","arguments":{"path":"C:\\\\users\\\\me"}}}`,
  `{"jsonrpc":"2.0","id":27,"method":"tools/call","params":{"name":"echo","arguments":{"user\\\\\\u005fgoal":"g"}}}`,
  `{"jsonrpc":"2.0","id":28,"method":"tools/call","params":{"name":"echo","arguments":{"\\\\user_goal":"g"}}}`,
  line({ jsonrpc: "2.0", id: 9, method: "tools/list" }),
  line({ jsonrpc: "2.0", id: 10, method: "tools/list", params: { cursor: "abc" } }),
  line({
    jsonrpc: "2.0",
    id: 11,
    method: "initialize",
    params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "c", version: "1" } },
  }),
  line({ jsonrpc: "2.0", method: "notifications/initialized" }),
  line({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 1, reason: "user" } }),
  line({ jsonrpc: "2.0", id: 12, method: "resources/read", params: { uri: "file:///x" } }),
  line({ jsonrpc: "2.0", id: 13, method: "prompts/get", params: { name: "p" } }),
  line({ jsonrpc: "2.0", id: 14, method: "ping" }),
  line({ jsonrpc: "2.0", id: 20, method: "resources/list", params: { cursor: "c" } }),
  line({ jsonrpc: "2.0", id: 21, method: "prompts/list" }),
  line({ jsonrpc: "2.0", id: 22, method: "tasks/get", params: { taskId: "t1" } }),
  line({
    jsonrpc: "2.0",
    id: 23,
    method: "tools/call",
    params: { name: "echo", arguments: { n: 1.0 }, task: { ttl: 1000 } },
  }),
  `{"jsonrpc":"2.0","id":24,"method":"tools/call","params":{"name":"echo","arguments":{"n":1.0,"big":12345678901234567890}}}`,
  line({ jsonrpc: "2.0", id: 25, method: "logging/setLevel", params: { level: "debug" } }),
  line({
    jsonrpc: "2.0",
    id: 15,
    method: "server/discover",
    params: { _meta: { "io.modelcontextprotocol/protocolVersion": "2026-07-28" } },
  }),
  line({ jsonrpc: "2.0", id: "srv-1", result: { roots: [] } }),
  line([
    { jsonrpc: "2.0", id: 16, method: "tools/call", params: { name: "baton_annotate", arguments: {} } },
    { jsonrpc: "2.0", id: 17, method: "ping" },
  ]),
  `{"method":"tools/call","id":18,"params":{"name":"echo"},"method":"tools/list"}`,
  `{"jsonrpc":"2.0","id":19,"method":"tools/call","params":{"name":"echo","arguments":{"text":"trailing junk"}}} x`,
  "not json at all",
  "",
];

/** Proxy states that change what `fromClient` does: fresh, after a handshake without tools (the proxy answers tools/list), after listings, intent modes, capture groups. */
function states(): [string, ProxyState][] {
  const fresh = createProxyState({ includeReportTool: true });
  const noTools = createProxyState({ includeReportTool: true });
  const handshake = bytes(line({ jsonrpc: "2.0", id: 0, method: "initialize", params: {} }));
  fromClient(noTools, handshake, classifyLine(handshake), 0);
  const answer = bytes(line({ jsonrpc: "2.0", id: 0, result: { capabilities: {}, serverInfo: { name: "s" } } }));
  fromServer(noTools, answer, classifyLine(answer), 0);
  const listed = createProxyState({ includeReportTool: false });
  const list = bytes(line({ jsonrpc: "2.0", id: 0, method: "tools/list" }));
  fromClient(listed, list, classifyLine(list), 0);
  const tools = bytes(
    line({
      jsonrpc: "2.0",
      id: 0,
      result: {
        tools: [
          { name: "echo", inputSchema: { type: "object" } },
          { name: "baton_annotate", inputSchema: { type: "object" } },
        ],
      },
    }),
  );
  fromServer(listed, tools, classifyLine(tools), 0);
  const required = createProxyState({ includeReportTool: true, intentParam: "required" });
  fromClient(required, list, classifyLine(list), 0);
  fromServer(required, tools, classifyLine(tools), 0);
  const principal = createProxyState({
    includeReportTool: false,
    intentParam: "off",
    capture: new Set(["resources"]),
    hashPrincipal: (p) => `h1:${p.id}`,
    defaultPrincipal: { id: "u" },
  });
  // The corpus's cancellation names id 1: a call the proxy answered itself, so not forwarded.
  const answeredHere = createProxyState({ includeReportTool: true });
  const own = bytes(
    line({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "baton_annotate", arguments: { intent: "x" } },
    }),
  );
  fromClient(answeredHere, own, classifyLine(own), 0);
  return [
    ["fresh", fresh],
    ["answered its own tool's call 1", answeredHere],
    ["proxy answers tools/list", noTools],
    ["after a listing", listed],
    ["intent params required, listed", required],
    ["intent off, only resources captured, a principal", principal],
  ];
}

describe("clientLinePassesUnchanged", () => {
  test("lines it lets go first are forwarded unchanged by the transforms, in every state", () => {
    let passed = 0;
    for (const [name, state] of states()) {
      for (const text of CORPUS) {
        const body = bytes(text);
        if (!clientLinePassesUnchanged(body)) continue;
        passed++;
        const raw = bytes(`${text}\n`);
        const wire = fromClient(state, raw, classifyLine(raw.subarray(0, body.length)), 0).filter(
          (a) => a.type === "forward" || a.type === "send" || a.type === "report",
        );
        expect({ name, text, wire }).toEqual({ name, text, wire: [{ type: "forward", to: "server", bytes: raw }] });
      }
    }
    expect(passed).toBeGreaterThan(20); // plain calls, handshakes, notifications, resources, ping in each state
  });

  test("seeded generated and mutated lines it lets go first are forwarded unchanged too, in every state", () => {
    const pick = picker(31);
    const all = states();
    let passed = 0;
    for (let n = 0; n < 1500; n++) {
      let text = jsonRpcLine(pick);
      if (pick.chance(0.3))
        text = text.replace(/"name"\s*:\s*"[^"]*"/, `"name":${JSON.stringify(pick.one(INTERESTING_NAMES))}`);
      if (pick.chance(0.2)) text = text.replace(/"arguments"\s*:\s*\{/, `"arguments":{${pick.one(INTENT_MEMBERS)},`);
      const body = pick.chance(0.3) ? mutate(pick, bytes(text)) : bytes(text);
      if (!clientLinePassesUnchanged(body)) continue;
      passed++;
      const raw = new Uint8Array([...body, 0x0a]);
      const [name, state] = pick.one(all);
      const wire = fromClient(state, raw, classifyLine(raw.subarray(0, body.length)), 0).filter(
        (a) => a.type === "forward" || a.type === "send" || a.type === "report",
      );
      const shown = new TextDecoder().decode(body);
      expect({ name, shown, wire }).toEqual({ name, shown, wire: [{ type: "forward", to: "server", bytes: raw }] });
    }
    expect(passed).toBeGreaterThan(150);
  });

  test.each<[string, boolean]>([
    [line({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", arguments: { text: "hi" } } }), true],
    [line({ jsonrpc: "2.0", id: 1, method: "notifications/initialized" }), true],
    [line({ jsonrpc: "2.0", id: 1, method: "tools/list" }), false],
    [line({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 1 } }), false],
    [line({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "baton_annotate" } }), false],
    [
      line({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", arguments: { user_goal: "g" } } }),
      false,
    ],
    [
      line({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: { name: "echo", arguments: { expected_result: "r" } },
      }),
      false,
    ],
    [`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"t":"\\u00e9"}}}`, false],
    // An escaped backslash then `u` is no unicode escape; one more backslash makes it one again.
    [`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"t":"C:\\\\users"}}}`, true],
    [
      `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"t":"C:\\\\\\u0041"}}}`,
      false,
    ],
    [line({ jsonrpc: "2.0", id: 1, result: {} }), false],
    [line([{ jsonrpc: "2.0", id: 1, method: "ping" }]), false],
  ])("%s -> %p", (text, expected) => {
    expect(clientLinePassesUnchanged(bytes(text))).toBe(expected);
  });
});

describe("the engine's answer", () => {
  const engineWith = (env: Record<string, string>) => {
    const loaded = loadConfig({ BATON_EVENT_SINK: "stderr:", BATON_CONSENT_TOKEN: "test-consent", ...env });
    if (!loaded.ok) throw new Error(loaded.problems.join("; "));
    const logger = createMemoryLogger();
    const hub = createTelemetryHub({ config: loaded.config, logger, sinks: [] });
    return createSessionEngine({ config: loaded.config, logger, now: () => 0, telemetry: hub });
  };
  const plainCall = bytes(
    line({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", arguments: { text: "hi" } } }),
  );

  test("a plain call may go first, also with an otlp: sink that only records", () => {
    expect(engineWith({}).clientLinePassesUnchanged(plainCall)).toBe(true);
    expect(engineWith({ BATON_EVENT_SINK: "stderr:,otlp:" }).clientLinePassesUnchanged(plainCall)).toBe(true);
  });

  test("never while trace context is propagated: every forwarded call is rewritten then", () => {
    expect(
      engineWith({ BATON_EVENT_SINK: "stderr:,otlp:", BATON_OTEL_PROPAGATE: "on" }).clientLinePassesUnchanged(
        plainCall,
      ),
    ).toBe(false);
  });
});

import { describe, expect, test } from "bun:test";
import {
  INTENT_PARAM_DESCRIPTIONS,
  injectIntentParams,
  MAX_INTENT_REGISTRY_NAMES,
  stripIntentParams,
  type IntentRegistry,
} from "../src/proxy/intent-params.ts";
import { classifyLine } from "../src/wire/jsonrpc.ts";
import {
  createProxyState,
  fromClient,
  type Action,
  type ProxyState,
  type TransformOptions,
} from "../src/proxy/transform.ts";
import { client as clientAt, drafts, server as serverAt } from "./support/transform-driver.ts";

const GOAL = { type: "string", description: INTENT_PARAM_DESCRIPTIONS.user_goal };
const EXPECTED = { type: "string", description: INTENT_PARAM_DESCRIPTIONS.expected_result };

describe("schema injection", () => {
  test.each([
    [
      "optional: both added after the vendor's, required untouched",
      "optional",
      { name: "a", inputSchema: { type: "object", properties: { q: { type: "string" } }, required: ["q"] } },
      {
        name: "a",
        inputSchema: {
          type: "object",
          properties: { q: { type: "string" }, user_goal: GOAL, expected_result: EXPECTED },
          required: ["q"],
        },
      },
    ],
    [
      "required: user_goal appended to required",
      "required",
      { name: "a", inputSchema: { type: "object", properties: {}, required: ["q"] } },
      {
        name: "a",
        inputSchema: {
          type: "object",
          properties: { user_goal: GOAL, expected_result: EXPECTED },
          required: ["q", "user_goal"],
        },
      },
    ],
    [
      "required: created when absent or not a list",
      "required",
      { name: "a", inputSchema: { type: "object", required: "q" } },
      {
        name: "a",
        inputSchema: {
          type: "object",
          required: ["user_goal"],
          properties: { user_goal: GOAL, expected_result: EXPECTED },
        },
      },
    ],
    [
      "schemaless tool gets an object schema",
      "optional",
      { name: "a" },
      { name: "a", inputSchema: { type: "object", properties: { user_goal: GOAL, expected_result: EXPECTED } } },
    ],
    [
      "native user_goal untouched, expected_result still added",
      "required",
      { name: "a", inputSchema: { type: "object", properties: { user_goal: { type: "integer" } } } },
      {
        name: "a",
        inputSchema: { type: "object", properties: { user_goal: { type: "integer" }, expected_result: EXPECTED } },
      },
    ],
    [
      "both native: nothing changes",
      "optional",
      { name: "a", inputSchema: { properties: { user_goal: {}, expected_result: {} } } },
      { name: "a", inputSchema: { properties: { user_goal: {}, expected_result: {} } } },
    ],
    ["not a tool: left alone", "optional", { title: "no name" }, { title: "no name" }],
    [
      "the proxy's own tool: left alone",
      "optional",
      { name: "baton_annotate", inputSchema: { type: "object" } },
      { name: "baton_annotate", inputSchema: { type: "object" } },
    ],
    [
      "off: nothing",
      "off",
      { name: "a", inputSchema: { type: "object" } },
      { name: "a", inputSchema: { type: "object" } },
    ],
  ] as const)("%s", (_name, mode, tool, expected) => {
    const copy = structuredClone(tool) as Record<string, unknown>;
    const changed = injectIntentParams([copy], mode, new Map(), (name) => name === "baton_annotate");
    expect(copy).toEqual(expected as unknown as Record<string, unknown>);
    expect(changed).toBe(JSON.stringify(tool) !== JSON.stringify(expected));
  });

  test("the registry records native names per tool and is upserted by later pages", () => {
    const registry: IntentRegistry = new Map();
    injectIntentParams(
      [{ name: "a", inputSchema: { properties: { user_goal: {} } } }],
      "optional",
      registry,
      () => false,
    );
    injectIntentParams([{ name: "b" }], "optional", registry, () => false);
    expect([...registry].map(([k, v]) => [k, [...v]])).toEqual([
      ["a", ["user_goal"]],
      ["b", []],
    ]);
  });
});

describe("stripping", () => {
  const registry: IntentRegistry = new Map([
    ["listed", new Set()],
    ["native", new Set(["user_goal"])],
  ]);
  test.each([
    [
      "both captured and removed",
      "listed",
      { q: 1, user_goal: "find x", expected_result: "a list" },
      { q: 1 },
      {
        intent: "find x",
        expected: "a list",
        stripped: true,
        removed: ["user_goal", "expected_result"],
        unlisted: false,
      },
    ],
    [
      "native value stays and is never read",
      "native",
      { user_goal: "theirs", expected_result: "ours" },
      { user_goal: "theirs" },
      { intent: undefined, expected: "ours", stripped: true, removed: ["expected_result"], unlisted: false },
    ],
    [
      "unlisted tool: stripped by reserved name",
      "cold",
      { user_goal: "g" },
      {},
      { intent: "g", expected: undefined, stripped: true, removed: ["user_goal"], unlisted: true },
    ],
    [
      "blank and non-string values stripped, not captured",
      "listed",
      { user_goal: "  ", expected_result: 42 },
      {},
      {
        intent: undefined,
        expected: undefined,
        stripped: true,
        removed: ["user_goal", "expected_result"],
        unlisted: false,
      },
    ],
    [
      "nothing to strip",
      "listed",
      { q: 1 },
      { q: 1 },
      { intent: undefined, expected: undefined, stripped: false, removed: [], unlisted: false },
    ],
  ])("%s", (_name, tool, args, forwarded, outcome) => {
    const copy = structuredClone(args);
    expect(stripIntentParams(copy, tool, "optional", registry)).toEqual(outcome);
    expect(copy).toEqual(forwarded as typeof copy);
  });

  test("off strips nothing", () => {
    const args = { user_goal: "g" };
    expect(stripIntentParams(args, "listed", "off", registry).stripped).toBe(false);
    expect(args).toEqual({ user_goal: "g" });
  });
});

const client = (state: ProxyState, message: unknown) => clientAt(state, message, 0);
const server = (state: ProxyState, message: unknown) => serverAt(state, message, 5);
const toServer = (actions: Action[]) =>
  actions.filter((a) => a.type !== "emit" && a.type !== "log" && (a as { to?: string }).to === "server");
/** The text of each line the server gets (cut bytes or a re-serialised message alike). */
const serverTexts = (actions: Action[]) =>
  toServer(actions).map((a) =>
    a.type === "forward" ? new TextDecoder().decode(a.bytes) : a.type === "send" ? JSON.stringify(a.message) : a.type,
  );
const call = (id: number, name: string, args: unknown) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: args },
});
const listed = (options: Partial<TransformOptions> = {}) => {
  const state = createProxyState({ includeReportTool: true, ...options });
  client(state, { jsonrpc: "2.0", id: 0, method: "tools/list" });
  server(state, {
    jsonrpc: "2.0",
    id: 0,
    result: {
      tools: [
        { name: "find", inputSchema: { type: "object", properties: { q: { type: "string" } } } },
        { name: "own", inputSchema: { type: "object", properties: { user_goal: { type: "string" } } } },
      ],
    },
  });
  return state;
};

describe("calls through the transform", () => {
  test("stripped before forwarding; values ride on the start; the first intent becomes one proactive annotation before it", () => {
    const state = listed();
    const first = client(
      state,
      call(1, "find", { q: "x", user_goal: "find the invoice", expected_result: "one invoice" }),
    );
    expect(serverTexts(first)).toEqual([JSON.stringify(call(1, "find", { q: "x" }))]);
    expect(drafts(first).map((e) => [e.event_type, e.payload])).toEqual([
      [
        "annotation",
        {
          intent: "find the invoice",
          expected_outcome: "one invoice",
          signal_type: null,
          workflow: null,
          suggested_improvement: null,
          context: null,
          intent_source: "injected_param",
          tool_name: "find",
        },
      ],
      [
        "tool_call_start",
        {
          tool_name: "find",
          params: { q: "x" },
          call_intent: "find the invoice",
          call_expected: "one invoice",
          intent_source: "injected_param",
        },
      ],
    ]);
    const second = client(state, call(2, "find", { q: "y", expected_result: "two" }));
    expect(drafts(second).map((e) => [e.event_type, e.payload])).toEqual([
      [
        "tool_call_start",
        { tool_name: "find", params: { q: "y" }, call_expected: "two", intent_source: "injected_param" },
      ],
    ]);
  });

  test("no intent: keys omitted and the original bytes forwarded", () => {
    const state = listed();
    const actions = client(state, call(1, "find", { q: "x" }));
    expect(toServer(actions)[0]?.type).toBe("forward");
    expect(drafts(actions)[0]?.payload).toEqual({ tool_name: "find", params: { q: "x" } });
  });

  test("a tool's own user_goal is forwarded and not read", () => {
    const state = listed();
    const actions = client(state, call(1, "own", { user_goal: "vendor meaning" }));
    expect(toServer(actions)[0]?.type).toBe("forward");
    expect(drafts(actions).map((e) => e.event_type)).toEqual(["tool_call_start"]);
    expect(drafts(actions)[0]?.payload).toEqual({ tool_name: "own", params: { user_goal: "vendor meaning" } });
  });

  test("a proactive baton_annotate first means no intent-made annotation; a reactive one does not count", () => {
    for (const [args, annotations] of [
      [{ intent: "plan", signal_type: "failure" }, 1],
      [{ intent: "plan" }, 0],
    ] as const) {
      const state = listed();
      client(state, call(1, "baton_annotate", args));
      expect(
        drafts(client(state, call(2, "find", { user_goal: "g" }))).filter((e) => e.event_type === "annotation"),
      ).toHaveLength(annotations);
    }
  });

  test("the registry is bounded: least recently listed names forgotten first, never one on an earlier page of the listing in progress", () => {
    const state = listed(); // "own" defines user_goal itself
    const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => ({ name: `${prefix}-${i}` }));
    // A server whose names change on every listing: the oldest names go, the registry stays at the cap.
    for (const [id, prefix] of [
      [1, "churn"],
      [2, "again"],
    ] as const) {
      client(state, { jsonrpc: "2.0", id, method: "tools/list" });
      server(state, { jsonrpc: "2.0", id, result: { tools: names(prefix, MAX_INTENT_REGISTRY_NAMES) } });
    }
    expect(state.intentRegistry.size).toBe(MAX_INTENT_REGISTRY_NAMES);
    expect(state.intentRegistry.has("churn-0")).toBe(false);
    // One listing larger than the cap, over two pages: the first page's tools stay known.
    client(state, { jsonrpc: "2.0", id: 3, method: "tools/list" });
    const first = [
      { name: "own", inputSchema: { type: "object", properties: { user_goal: { type: "string" } } } },
      ...names("p1", MAX_INTENT_REGISTRY_NAMES - 1),
    ];
    server(state, { jsonrpc: "2.0", id: 3, result: { tools: first, nextCursor: "c" } });
    client(state, { jsonrpc: "2.0", id: 4, method: "tools/list", params: { cursor: "c" } });
    server(state, { jsonrpc: "2.0", id: 4, result: { tools: names("p2", 10) } });
    expect(state.intentRegistry.size).toBe(MAX_INTENT_REGISTRY_NAMES + 10);
    const actions = client(state, call(5, "own", { user_goal: "vendor meaning" }));
    expect(toServer(actions)[0]?.type).toBe("forward"); // still its own parameter, not stripped
  });

  test("an unlisted tool is stripped too, logged once", () => {
    const state = createProxyState({ includeReportTool: true });
    const a = client(state, call(1, "never-listed", { user_goal: "g" }));
    const b = client(state, call(2, "never-listed", { user_goal: "g" }));
    expect(serverTexts(a)).toEqual([JSON.stringify(call(1, "never-listed", {}))]);
    expect([...a, ...b].filter((x) => x.type === "log")).toHaveLength(1);
  });

  test("long unlisted tool names (the client's text, any length) are quoted cut in the log, and what the session keeps of them is bounded", () => {
    // A client (in serve, anyone) calling unlisted tools with 1 MB names and a user_goal had each whole
    // name written in a log line and kept for the session: 1 000 calls, 1 GB of log and of memory.
    const state = createProxyState({ includeReportTool: true });
    const NAME_CHARS = 100_000;
    const logs: string[] = [];
    for (let i = 0; i < 300; i++) {
      const actions = client(state, call(i, `t${i}-${"n".repeat(NAME_CHARS)}`, { user_goal: "g" }));
      expect(serverTexts(actions)).toEqual([JSON.stringify(call(i, `t${i}-${"n".repeat(NAME_CHARS)}`, {}))]);
      for (const a of actions) if (a.type === "log") logs.push(a.text);
    }
    expect(logs.length).toBeGreaterThan(0);
    for (const text of logs) {
      expect(text.length).toBeLessThan(400);
      expect(text).toMatch(/…" \(10\d{4} characters\), a tool not listed/);
    }
    expect(logs[0]).toStartWith(`stripped user_goal/expected_result from a call of "t0-nnn`);
    const keptChars = [...state.unlistedStripped].reduce((sum, name) => sum + name.length, 0);
    expect(keptChars).toBeLessThan(64 * 1024);
  });

  test("a stripped call keeps the client's numbers as written (1.0, big integers) in what the server gets", () => {
    const state = listed();
    const raw = new TextEncoder().encode(
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"find","arguments":{"n":1.0,"id":12345678901234567890,"user_goal":"g"}}}',
    );
    const actions = fromClient(state, raw, classifyLine(raw), 0);
    expect(serverTexts(actions)).toEqual([
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"find","arguments":{"n":1.0,"id":12345678901234567890}}}',
    ]);
  });

  test.each([
    [
      "escapes, spaces and numbers elsewhere in the message",
      '{ "jsonrpc" : "2.0", "id" : 1, "method" : "tools/call", "params" : { "name" : "find", "arguments" : { "s" : "caf\\u00e9 \\/ \\ud83d\\ude00", "user_goal" : "g" , "n" : 1.0E+2 }, "_meta" : { "k" : "\\u0041" } } }\n',
      '{ "jsonrpc" : "2.0", "id" : 1, "method" : "tools/call", "params" : { "name" : "find", "arguments" : { "s" : "caf\\u00e9 \\/ \\ud83d\\ude00" , "n" : 1.0E+2 }, "_meta" : { "k" : "\\u0041" } } }\n',
    ],
    [
      "both names, first and last, the arguments left empty",
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{"user_goal":"g","expected_result":"e"},"name":"f\\u0069nd"}}\r\n',
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{},"name":"f\\u0069nd"}}\r\n',
    ],
    [
      "a batch: the stripped member cut, the proxy's own call taken out, the rest as written",
      '[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"baton_annotate","arguments":{"intent":"x"}}} , {"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"find","arguments":{"q":"\\u00e9","user_goal":"g"}}},{"jsonrpc":"2.0","method":"notifications/x","params":{"v":2.50}}]\n',
      '[{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"find","arguments":{"q":"\\u00e9"}}},{"jsonrpc":"2.0","method":"notifications/x","params":{"v":2.50}}]\n',
    ],
  ])("a stripped call is cut from the line's bytes: %s", (_name, line, expected) => {
    const state = listed();
    const raw = new TextEncoder().encode(line);
    expect(serverTexts(fromClient(state, raw, classifyLine(raw), 0))).toEqual([expected]);
  });

  test("a cut it cannot be sure of (params given twice) falls back to the message re-serialised", () => {
    const state = listed();
    const line =
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"},"params":{"name":"find","arguments":{"n":1.0,"user_goal":"g"}}}';
    const raw = new TextEncoder().encode(line);
    expect(serverTexts(fromClient(state, raw, classifyLine(raw), 0))).toEqual([
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"find","arguments":{"n":1.0}}}',
    ]);
  });

  test("a batch member that was stripped goes with the rest", () => {
    const state = listed();
    const actions = client(state, [call(1, "find", { user_goal: "g" }), call(2, "find", { q: 1 })]);
    expect(serverTexts(actions)).toEqual([JSON.stringify([call(1, "find", {}), call(2, "find", { q: 1 })])]);
  });

  test("off: listings and calls pass byte for byte, nothing is captured", () => {
    const state = createProxyState({ includeReportTool: true, intentParam: "off" });
    client(state, { jsonrpc: "2.0", id: 0, method: "tools/list" });
    const page = server(state, { jsonrpc: "2.0", id: 0, result: { tools: [{ name: "find" }], nextCursor: "2" } });
    expect(page.filter((a) => a.type === "forward")).toHaveLength(1);
    const actions = client(state, call(1, "find", { user_goal: "g" }));
    expect(toServer(actions)[0]?.type).toBe("forward");
    expect(drafts(actions).map((e) => [e.event_type, e.payload])).toEqual([
      ["tool_call_start", { tool_name: "find", params: { user_goal: "g" } }],
    ]);
  });

  test("required mode lists user_goal as required but never refuses a call without it", () => {
    const state = createProxyState({ includeReportTool: false, intentParam: "required" });
    client(state, { jsonrpc: "2.0", id: 0, method: "tools/list" });
    const out = server(state, {
      jsonrpc: "2.0",
      id: 0,
      result: { tools: [{ name: "find", inputSchema: { type: "object" } }] },
    });
    const sentList = out.find((a) => a.type === "send") as Extract<Action, { type: "send" }>;
    expect((sentList.message as any).result.tools[0].inputSchema.required).toEqual(["user_goal"]);
    expect((sentList.message as any).result.tools[1].name).toBe("baton_annotate");
    expect((sentList.message as any).result.tools[1].inputSchema.properties.user_goal).toBeUndefined();
    expect(toServer(client(state, call(1, "find", {})))[0]?.type).toBe("forward");
  });
});

import { describe, expect, test } from "bun:test";
import {
  createProxyState,
  failPending,
  failRequests,
  fromServerLongLine,
  sweepPending,
  type TransformOptions,
} from "../src/proxy/transform.ts";
import { createEventScrubber } from "../src/telemetry/scrub.ts";
import { createEnvelope } from "../src/telemetry/envelope.ts";
import { assertValidEvent } from "./support/events.ts";
import { client, server, drafts } from "./support/transform-driver.ts";

const fresh = (options: Partial<TransformOptions> = {}) => createProxyState({ includeReportTool: true, ...options });
const req = (id: number, method: string, params?: unknown) => ({
  jsonrpc: "2.0",
  id,
  method,
  ...(params === undefined ? {} : { params }),
});

describe("resource and prompt events", () => {
  test.each([
    [
      "resources/read ok",
      req(1, "resources/read", { uri: "file:///a.txt", _meta: { progressToken: 7 } }),
      { result: { contents: [{ uri: "file:///a.txt", text: "SECRET CONTENTS" }] } },
      [
        ["resource_read_start", { uri: "file:///a.txt", params: { uri: "file:///a.txt" } }],
        ["resource_read_end", { uri: "file:///a.txt", duration_ms: 40 }],
      ],
    ],
    [
      "resources/read error",
      req(1, "resources/read", { uri: "file:///secret" }),
      { error: { code: -32002, message: "Resource not found" } },
      [
        ["resource_read_start", { uri: "file:///secret", params: { uri: "file:///secret" } }],
        [
          "resource_read_error",
          { uri: "file:///secret", error_type: "jsonrpc_-32002", error_body: "Resource not found", duration_ms: 40 },
        ],
      ],
    ],
    [
      "resources/list counts",
      req(1, "resources/list", { cursor: "c" }),
      { result: { resources: [{ uri: "a" }, { uri: "b" }] } },
      [
        ["resource_list_start", {}],
        ["resource_list_end", { count: 2, duration_ms: 40 }],
      ],
    ],
    [
      "prompts/get ok (no messages kept)",
      req(1, "prompts/get", { name: "greet", arguments: { who: "Ann" } }),
      { result: { messages: [{ role: "user", content: { type: "text", text: "hi Ann" } }] } },
      [
        ["prompt_get_start", { name: "greet", params: { who: "Ann" } }],
        ["prompt_get_end", { name: "greet", duration_ms: 40 }],
      ],
    ],
    [
      "prompts/get error",
      req(1, "prompts/get", { name: "boom" }),
      { error: { code: -32602, message: "Unknown prompt" } },
      [
        ["prompt_get_start", { name: "boom", params: {} }],
        [
          "prompt_get_error",
          { name: "boom", error_type: "jsonrpc_-32602", error_body: "Unknown prompt", duration_ms: 40 },
        ],
      ],
    ],
    [
      "prompts/list error",
      req(1, "prompts/list"),
      { error: { code: -32601, message: "Method not found" } },
      [
        ["prompt_list_start", {}],
        ["prompt_list_error", { error_type: "jsonrpc_-32601", error_body: "Method not found", duration_ms: 40 }],
      ],
    ],
  ])("%s", (_name, request, answer, expected) => {
    const state = fresh();
    const start = client(state, request, 10);
    expect(start.filter((a) => a.type === "forward")).toHaveLength(1); // the request itself passes untouched
    const end = server(state, { jsonrpc: "2.0", id: 1, ...answer }, 50);
    expect(end.filter((a) => a.type === "forward")).toHaveLength(1);
    const all = drafts([...start, ...end]);
    expect(all.map((d) => [d.event_type, d.payload] as unknown[])).toEqual(expected as unknown[][]);
    expect(all[0]?.runtime_meta?.["baton/call_id"]).toBe(all[1]?.runtime_meta?.["baton/call_id"]);
    const envelope = createEnvelope({
      tenantId: "t",
      vendorId: "v",
      consentToken: "c",
      sdkVersion: "baton-proxy/0.1.0",
    });
    const scrub = createEventScrubber({ mode: "on", extraKeys: [] });
    for (const draft of all) assertValidEvent(JSON.parse(JSON.stringify(scrub(envelope.stamp(draft)))));
  });

  test("a read's start keeps every parameter the server got, one named __proto__ too", () => {
    const state = fresh();
    // JSON.parse makes "__proto__" an own key, as on the wire (an object literal would set the prototype).
    const read = JSON.parse(
      '{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"a://b","__proto__":{"v":1},"_meta":{}}}',
    );
    const [start] = drafts(client(state, read));
    expect(start?.event_type).toBe("resource_read_start");
    expect(JSON.stringify(start?.payload)).toBe('{"uri":"a://b","params":{"uri":"a://b","__proto__":{"v":1}}}');
  });

  test("cancel, eviction by sweep and upstream exit close them with the tool vocabulary", () => {
    const state = fresh();
    client(state, req(1, "prompts/get", { name: "p" }));
    client(state, { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 1 } });
    client(state, req(2, "resources/read", { uri: "u" }), 0);
    const swept = sweepPending(state, 20 * 60_000);
    client(state, req(3, "resources/list"), 20 * 60_000);
    const failed = failPending(state, "upstream_exit", "gone", 20 * 60_000 + 5);
    expect(drafts([...swept, ...failed]).map((d) => [d.event_type, (d.payload as any).error_type])).toEqual([
      ["resource_read_error", "evicted"],
      ["resource_list_error", "upstream_exit"],
    ]);
  });

  test.each([
    ["resources/read", { uri: "blob://big" }, "resource_read_end", { uri: "blob://big", duration_ms: 30 }],
    ["resources/list", {}, "resource_list_end", { count: null, duration_ms: 30 }],
  ])(
    "an answer too long to inspect still ends the %s (lists not counted) and the event validates",
    (method, params, type, payload) => {
      const state = fresh();
      client(state, req(7, method, params), 0);
      const actions = fromServerLongLine(
        state,
        '{"jsonrpc":"2.0","id":7,"result":{"contents":[{"blob":"AAAA',
        'AAAA"}]}}',
        40 * 1048576,
        30,
      );
      expect(drafts(actions).map((d) => [d.event_type, d.payload] as unknown[])).toEqual([[type, payload]]);
      const envelope = createEnvelope({
        tenantId: "t",
        vendorId: "v",
        consentToken: "c",
        sdkVersion: "baton-proxy/0.1.0",
      });
      assertValidEvent(JSON.parse(JSON.stringify(envelope.stamp(drafts(actions)[0]!))));
      expect(state.pending.size).toBe(0);
    },
  );

  test("a JSON-RPC error too long to inspect ends the read as an error, not a success", () => {
    const state = fresh();
    client(state, req(7, "resources/read", { uri: "blob://big" }), 0);
    const actions = fromServerLongLine(
      state,
      '{"jsonrpc":"2.0","id":7,"error":{"code":-32002,"message":"missing: AAAA',
      'AAAA"}}',
      40 * 1048576,
      30,
    );
    expect(drafts(actions).map((d) => [d.event_type, (d.payload as { error_type?: string }).error_type])).toEqual([
      ["resource_read_error", "jsonrpc_-32002"],
    ]);
    // Its error body is the proxy's note in place of the server's: a value cut, so the event says so.
    expect(drafts(actions)[0]?.runtime_meta?.["baton/truncated"]).toBe(1);
  });

  test("reads and lists the upstream never answers (--url unreachable, serve) end with their error event", () => {
    const state = fresh();
    client(state, req(7, "resources/read", { uri: "x://y" }), 0);
    client(state, req(8, "prompts/list", {}), 0);
    const actions = failRequests(state, [7, 8], "upstream_unreachable", "http://up is unreachable", 25);
    expect(drafts(actions).map((d) => [d.event_type, (d.payload as { error_type?: string }).error_type])).toEqual([
      ["resource_read_error", "upstream_unreachable"],
      ["prompt_list_error", "upstream_unreachable"],
    ]);
    expect(state.pending.size).toBe(0);
  });

  test("BATON_CAPTURE without resources and prompts: no events, bytes forwarded", () => {
    const state = fresh({ capture: new Set(["tools"]) });
    const actions = [
      ...client(state, req(1, "resources/read", { uri: "u" })),
      ...server(state, { jsonrpc: "2.0", id: 1, result: { contents: [] } }),
    ];
    expect(drafts(actions)).toHaveLength(0);
    expect(actions.filter((a) => a.type === "forward")).toHaveLength(2);
  });

  test("BATON_CAPTURE without tools: calls still stripped of intent params, no tool events", () => {
    const state = fresh({ capture: new Set(["resources"]) });
    const actions = client(state, req(1, "tools/call", { name: "x", arguments: { user_goal: "g", a: 1 } }));
    expect(drafts(actions)).toHaveLength(0);
    expect(
      actions
        .filter((a) => a.type !== "log")
        .map((a) => (a.type === "forward" ? [a.to, JSON.parse(new TextDecoder().decode(a.bytes))] : a)),
    ).toEqual([["server", req(1, "tools/call", { name: "x", arguments: { a: 1 } })]]);
  });
});

describe("BATON_CAPTURE turns events off, never the answers owed to the client", () => {
  test.each([
    ["tools off (full path)", new Set(["resources", "prompts"]), false],
    ["tools off (fast path)", new Set(["resources", "prompts"]), true],
    ["resources and prompts off", new Set(["tools"]), false],
    ["everything off", new Set<never>(), true],
  ] as const)("%s: every request in flight gets the JSON-RPC error when the server exits", (_, capture, lazyDrafts) => {
    const state = fresh({ capture: capture as TransformOptions["capture"], lazyDrafts });
    client(state, req(1, "tools/call", { name: "x", arguments: {} }));
    client(state, req(2, "resources/read", { uri: "u" }));
    client(state, req(3, "prompts/get", { name: "p" }));
    client(state, req(4, "resources/list"));
    const answered = failPending(state, "upstream_exit", "gone", 10)
      .filter((a) => a.type === "send")
      .map((a) => (a.type === "send" ? (a.message as { id: unknown; error?: { code: number } }) : undefined));
    expect(answered.map((m) => [m?.id, m?.error?.code])).toEqual([
      [1, -32603],
      [2, -32603],
      [3, -32603],
      [4, -32603],
    ]);
  });

  test("a tools/call with tool events off is closed by its answer (no leftover to fail later)", () => {
    const state = fresh({ capture: new Set(["resources"]), lazyDrafts: true });
    client(state, req(1, "tools/call", { name: "x", arguments: {} }));
    const actions = server(state, { jsonrpc: "2.0", id: 1, result: { content: [] } });
    expect(drafts(actions)).toHaveLength(0);
    expect(actions.filter((a) => a.type === "forward")).toHaveLength(1);
    expect(state.pending.size).toBe(0);
  });
});

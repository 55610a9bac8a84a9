import { describe, expect, test } from "bun:test";
import {
  createProxyState,
  failPending,
  fromClientLongLine,
  fromServer,
  fromServerLongLine,
  holdsClientLongLine,
  PENDING_MAX_AGE_MS,
  PENDING_TTL_MS,
  sweepPending,
  type Action,
} from "../src/proxy/transform.ts";
import { INSTRUCTIONS_SUFFIX } from "../src/proxy/injected-tools.ts";
import { HOT_BOUND_MIN_LINE_BYTES } from "../src/proxy/call-events.ts";
import { requestIdOfLongLine } from "../src/proxy/long-lines.ts";
import { client, server } from "./support/transform-driver.ts";
import { classifyLine, scannedFacts } from "../src/wire/jsonrpc.ts";

const of = <T extends Action["type"]>(actions: Action[], type: T) =>
  actions.filter((a): a is Extract<Action, { type: T }> => a.type === type);
const sent = (actions: Action[]) => of(actions, "send").map((a) => a.message as Record<string, any>);
const events = (actions: Action[]) => of(actions, "emit").map((a) => a.draft);
const fresh = (includeReportTool = true) => createProxyState({ includeReportTool });

const call = (id: unknown, name: string, args: unknown = {}, extra: Record<string, unknown> = {}) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: args, ...extra },
});

describe("handshake injection", () => {
  test.each([
    [
      "initialize appends after the server's text",
      "initialize",
      {
        protocolVersion: "2025-06-18",
        capabilities: { tools: {} },
        serverInfo: { name: "s", version: "1" },
        instructions: "Server text.",
      },
      `Server text.\n\n${INSTRUCTIONS_SUFFIX}`,
    ],
    [
      "initialize creates the field",
      "initialize",
      { protocolVersion: "2025-06-18", capabilities: { tools: {} }, serverInfo: { name: "s", version: "1" } },
      INSTRUCTIONS_SUFFIX,
    ],
    [
      "server/discover too",
      "server/discover",
      {
        supportedVersions: ["2026-07-28"],
        capabilities: { tools: {} },
        instructions: "Modern.",
        resultType: "complete",
      },
      `Modern.\n\n${INSTRUCTIONS_SUFFIX}`,
    ],
  ])("%s", (_name, method, result, instructions) => {
    const state = fresh();
    expect(of(client(state, { jsonrpc: "2.0", id: 0, method, params: {} }), "forward")).toHaveLength(1);
    const out = sent(server(state, { jsonrpc: "2.0", id: 0, result }));
    expect(out[0]?.result.instructions).toBe(instructions);
    expect(out[0]?.result.capabilities.tools).toEqual({});
    expect(state.answerToolsList).toBe(false);
  });

  test("missing tools capability is added and the proxy answers tools/list itself (both eras)", () => {
    const state = fresh(false);
    client(state, {
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: { clientInfo: { name: "claude-code", version: "2" } },
    });
    const out = sent(
      server(state, { jsonrpc: "2.0", id: 0, result: { capabilities: { logging: {} }, serverInfo: { name: "s" } } }),
    );
    expect(out[0]?.result.capabilities).toEqual({ logging: {}, tools: {} });
    const list = client(state, { jsonrpc: "2.0", id: 1, method: "tools/list" });
    expect(of(list, "forward")).toHaveLength(0);
    expect(sent(list)[0]?.result.tools.map((t: { name: string }) => t.name)).toEqual(["baton_annotate"]);
    const modern = sent(
      client(state, {
        jsonrpc: "2.0",
        id: 2,
        method: "tools/list",
        params: { _meta: { "io.modelcontextprotocol/protocolVersion": "2026-07-28" } },
      }),
    );
    expect(modern[0]?.result).toMatchObject({ resultType: "complete", ttlMs: 0 });
  });

  test("a task-augmented call of our tools: -32601 when the server takes task-augmented tools/call (ours declare no taskSupport), answered as usual when it does not (2025-11-25 tasks)", () => {
    const handshake = (capabilities: unknown) => {
      const state = fresh();
      client(state, { jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: "2025-11-25" } });
      server(state, {
        jsonrpc: "2.0",
        id: 0,
        result: { protocolVersion: "2025-11-25", capabilities, serverInfo: { name: "s" } },
      });
      return state;
    };
    const asTask = (id: number, name: string) =>
      call(id, name, { intent: "x", signal_type: "friction" }, { task: { ttl: 1000 } });
    const tasking = handshake({ tools: {}, tasks: { requests: { tools: { call: {} } } } });
    for (const [id, name] of [
      [1, "baton_annotate"],
      [2, "baton_session_report"],
    ] as const) {
      const out = client(tasking, asTask(id, name));
      expect(of(out, "forward")).toHaveLength(0);
      expect(events(out)).toHaveLength(0); // not recorded
      expect(of(out, "report")).toHaveLength(0);
      expect(sent(out)).toEqual([
        expect.objectContaining({
          id,
          error: expect.objectContaining({ code: -32601, message: expect.stringContaining(name) }),
        }),
      ]);
    }
    // A server without task-augmented tools/call: the task is ignored (receivers MUST), the call answered as any other.
    for (const capabilities of [{ tools: {} }, { tools: {}, tasks: { list: {}, requests: { sampling: {} } } }]) {
      const out = client(handshake(capabilities), asTask(3, "baton_annotate"));
      expect(sent(out)[0]?.result.content[0].text).toContain("Annotation recorded");
      expect(events(out).map((e) => e.event_type)).toEqual(["annotation"]);
    }
    // A server that takes task-augmented calls: a plain call (no `task`) of our tools is answered as usual.
    const plain = client(tasking, call(4, "baton_annotate", { intent: "x", signal_type: "friction" }));
    expect(sent(plain)[0]?.result.content[0].text).toContain("Annotation recorded");
    // A recorded note is no error, and without notes its text has no stray space.
    expect(sent(plain)[0]?.result.isError ?? false).toBe(false);
    const clean = client(tasking, call(6, "baton_annotate", { intent: "x", signal_type: "failure" }));
    expect(sent(clean)[0]?.result.content[0].text).toBe(
      "Annotation recorded for the server's maintainers. Carry on with the user's task.",
    );
    // `tools.call: false` declares no task-augmented calls: the task is ignored and the call answered.
    const refusing = handshake({ tools: {}, tasks: { requests: { tools: { call: false } } } });
    expect(sent(client(refusing, asTask(5, "baton_annotate")))[0]?.result.content[0].text).toContain(
      "Annotation recorded",
    );
    expect(events(plain).map((e) => e.event_type)).toEqual(["annotation"]);
  });

  test("an error answer to initialize or discover passes untouched", () => {
    const state = fresh();
    client(state, { jsonrpc: "2.0", id: "server-discover-probe-1", method: "server/discover", params: {} });
    const actions = server(state, {
      jsonrpc: "2.0",
      id: "server-discover-probe-1",
      error: { code: -32601, message: "Method not found" },
    });
    expect(of(actions, "forward")).toHaveLength(1);
    expect(sent(actions)).toHaveLength(0);
  });

  test("agent_runtime comes from clientInfo in initialize or in request _meta", () => {
    const legacy = fresh();
    client(legacy, { jsonrpc: "2.0", id: 0, method: "initialize", params: { clientInfo: { name: "claude-code" } } });
    expect(legacy.agentRuntime).toBe("claude-code");
    const modern = fresh();
    client(modern, call(5, "echo", {}, { _meta: { "io.modelcontextprotocol/clientInfo": { name: "inspector" } } }));
    expect(modern.agentRuntime).toBe("inspector");
  });
});

describe("tools/list injection", () => {
  const tools = (names: string[]) => names.map((name) => ({ name, inputSchema: { type: "object" } }));

  test("single page: injected tools appended, report tool only with local sinks", () => {
    for (const [local, expected] of [
      [true, ["a", "baton_annotate", "baton_session_report"]],
      [false, ["a", "baton_annotate"]],
    ] as const) {
      const state = fresh(local);
      client(state, { jsonrpc: "2.0", id: 1, method: "tools/list" });
      const out = sent(server(state, { jsonrpc: "2.0", id: 1, result: { tools: tools(["a"]) } }));
      expect(out[0]?.result.tools.map((t: { name: string }) => t.name)).toEqual([...expected]);
    }
  });

  test("negotiated 2024-11-05: our tools are listed without title and annotations (that version's Tool has neither); later versions keep them", () => {
    for (const [version, fields] of [
      ["2024-11-05", ["description", "inputSchema", "name"]],
      ["2025-06-18", ["annotations", "description", "inputSchema", "name", "title"]],
    ] as const) {
      for (const serverTools of [true, false]) {
        const state = fresh();
        client(state, { jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: version } });
        const capabilities = serverTools ? { tools: {} } : {};
        server(state, {
          jsonrpc: "2.0",
          id: 0,
          result: { protocolVersion: version, capabilities, serverInfo: { name: "s" } },
        });
        const list = client(state, { jsonrpc: "2.0", id: 1, method: "tools/list" });
        const out = serverTools
          ? sent(server(state, { jsonrpc: "2.0", id: 1, result: { tools: tools(["a"]) } }))
          : sent(list);
        const ours = out[0]?.result.tools.filter((t: { name: string }) => t.name.startsWith("baton_"));
        expect(ours.map((t: object) => Object.keys(t).sort())).toEqual([[...fields], [...fields]]);
      }
    }
  });

  test("paginated: only the last page gets them, exactly once", () => {
    const state = createProxyState({ includeReportTool: true, intentParam: "off" });
    client(state, { jsonrpc: "2.0", id: 1, method: "tools/list" });
    const first = server(state, { jsonrpc: "2.0", id: 1, result: { tools: tools(["a"]), nextCursor: "p2" } });
    expect(of(first, "forward")).toHaveLength(1);
    client(state, { jsonrpc: "2.0", id: 2, method: "tools/list", params: { cursor: "p2" } });
    const last = sent(server(state, { jsonrpc: "2.0", id: 2, result: { tools: tools(["b"]) } }));
    expect(last[0]?.result.tools.map((t: { name: string }) => t.name)).toEqual([
      "b",
      "baton_annotate",
      "baton_session_report",
    ]);
  });

  test("two paginated walks in flight at once: each page joins its own walk (injection and the surface snapshot)", () => {
    // The server's list changed between the walks: walk 1 sees its own baton_annotate on page 1, walk 2 does not.
    const state = createProxyState({ includeReportTool: false, intentParam: "off" });
    const names = (actions: Action[]) =>
      (
        sent(actions)[0]?.result.tools ??
        JSON.parse(new TextDecoder().decode(of(actions, "forward")[0]?.bytes)).result.tools
      ).map((t: { name: string }) => t.name);
    const snapshots = (actions: Action[]) =>
      events(actions)
        .filter((d) => d.event_type === "surface_snapshot")
        .map((d) => (d.payload as unknown as { tools: { name: string }[] }).tools.map((t) => t.name));
    client(state, { jsonrpc: "2.0", id: 1, method: "tools/list" });
    client(state, { jsonrpc: "2.0", id: 2, method: "tools/list" });
    server(state, { jsonrpc: "2.0", id: 1, result: { tools: tools(["baton_annotate", "a"]), nextCursor: "p2" } });
    server(state, { jsonrpc: "2.0", id: 2, result: { tools: tools(["x"]), nextCursor: "p2" } });
    client(state, { jsonrpc: "2.0", id: 3, method: "tools/list", params: { cursor: "p2" } });
    client(state, { jsonrpc: "2.0", id: 4, method: "tools/list", params: { cursor: "p2" } });
    const last1 = server(state, { jsonrpc: "2.0", id: 3, result: { tools: tools(["b"]) } });
    expect(names(last1)).toEqual(["b"]); // the server's own baton_annotate was on this walk's first page
    expect(snapshots(last1)).toEqual([["baton_annotate", "a", "b"]]);
    const last2 = server(state, { jsonrpc: "2.0", id: 4, result: { tools: tools(["y"]) } });
    expect(names(last2)).toEqual(["y", "baton_annotate"]);
    expect(snapshots(last2)).toEqual([["x", "y"]]);
  });

  test("a server tool of the same name is not shadowed: ours stay out, calls go to the server, it is logged", () => {
    const state = fresh();
    client(state, { jsonrpc: "2.0", id: 1, method: "tools/list" });
    const actions = server(state, { jsonrpc: "2.0", id: 1, result: { tools: tools(["baton_annotate"]) } });
    expect(sent(actions)[0]?.result.tools.map((t: { name: string }) => t.name)).toEqual([
      "baton_annotate",
      "baton_session_report",
    ]);
    expect(of(actions, "log")[0]?.text).toContain("baton_annotate");
    const callActions = client(state, call(2, "baton_annotate", { intent: "x" }));
    expect(of(callActions, "forward")).toHaveLength(1);
    expect(events(callActions)[0]?.event_type).toBe("tool_call_start");
  });

  test("modern list keeps ttlMs/cacheScope/resultType", () => {
    const state = fresh();
    client(state, {
      jsonrpc: "2.0",
      id: 1,
      method: "tools/list",
      params: { _meta: { "io.modelcontextprotocol/protocolVersion": "2026-07-28" } },
    });
    const out = sent(
      server(state, {
        jsonrpc: "2.0",
        id: 1,
        result: { tools: [], resultType: "complete", ttlMs: 5, cacheScope: "private" },
      }),
    );
    expect(out[0]?.result).toMatchObject({ resultType: "complete", ttlMs: 5, cacheScope: "private" });
  });
});

describe("tool call events", () => {
  test.each([
    [
      "success",
      { result: { content: [{ type: "text", text: "hi" }] } },
      "tool_call_end",
      { result: [{ type: "text", text: "hi" }] },
    ],
    [
      "JSON-RPC error",
      { error: { code: -32602, message: "bad", data: { f: 1 } } },
      "tool_call_error",
      { error_type: "jsonrpc_-32602", error_body: 'bad (data: {"f":1})' },
    ],
    [
      "isError result",
      { result: { content: [{ type: "text", text: "nope" }], isError: true } },
      "tool_call_error",
      { error_type: "tool_error", error_body: "nope" },
    ],
    [
      "non-text isError",
      { result: { content: [{ type: "image", data: "x" }], isError: true } },
      "tool_call_error",
      { error_type: "tool_error" },
    ],
  ])("%s", (_name, response, type, payload) => {
    const state = fresh();
    const start = events(
      client(state, call(7, "echo", { text: "a" }, { _meta: { progressToken: 7, traceparent: "00-abc" } }), 100),
    );
    expect(start[0]).toMatchObject({
      event_type: "tool_call_start",
      payload: { tool_name: "echo", params: { text: "a" } },
    });
    expect(start[0]?.runtime_meta).toMatchObject({ progressToken: 7, traceparent: "00-abc", "baton/call_id": "c1" });
    const end = events(server(state, { jsonrpc: "2.0", id: 7, ...response }, 142.6));
    expect(end).toHaveLength(1);
    expect(end[0]).toMatchObject({ event_type: type, payload: { tool_name: "echo", duration_ms: 43, ...payload } });
    expect(end[0]?.runtime_meta?.["baton/call_id"]).toBe("c1");
    expect(state.pending.size).toBe(0);
  });

  test('ids 1 and "1" are different requests; a server request with a colliding id is not mistaken for an answer', () => {
    const state = fresh();
    client(state, call(1, "echo"));
    client(state, call("1", "other"));
    const serverRequest = server(state, { jsonrpc: "2.0", id: 1, method: "roots/list" });
    expect(of(serverRequest, "forward")).toHaveLength(1);
    expect(events(serverRequest)).toHaveLength(0);
    expect(events(client(state, { jsonrpc: "2.0", id: 1, result: { roots: [] } }))).toHaveLength(0); // the client's answer to it
    expect(events(server(state, { jsonrpc: "2.0", id: "1", result: { content: [] } }))[0]?.payload).toMatchObject({
      tool_name: "other",
    });
    expect(events(server(state, { jsonrpc: "2.0", id: 1, result: { content: [] } }))[0]?.payload).toMatchObject({
      tool_name: "echo",
    });
  });

  test("cancellation ends the call once; the late answer is forwarded without a second event", () => {
    const state = fresh();
    client(state, call(3, "slow"));
    const cancel = client(state, {
      jsonrpc: "2.0",
      method: "notifications/cancelled",
      params: { requestId: 3, reason: "timeout" },
    });
    expect(of(cancel, "forward")).toHaveLength(1);
    expect(events(cancel)[0]).toMatchObject({
      event_type: "tool_call_error",
      payload: { error_type: "cancelled", error_body: "cancelled by the client: timeout" },
    });
    const late = server(state, { jsonrpc: "2.0", id: 3, result: { content: [] } });
    expect(of(late, "forward")).toHaveLength(1);
    expect(events(late)).toHaveLength(0);
  });

  test("a cancellation of a call the proxy answered itself is not forwarded (the server never saw that id); once the id goes to the server, it is", () => {
    const state = fresh();
    const cancel = (id: unknown) => ({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: id } });
    expect(sent(client(state, call(5, "baton_annotate", { intent: "x" })))).toHaveLength(1); // answered here
    expect(of(client(state, cancel(5)), "forward")).toHaveLength(0);
    expect(of(client(state, cancel(5)), "forward")).toHaveLength(0); // a second one alike
    expect(of(client(state, cancel("5")), "forward")).toHaveLength(1); // another id
    client(state, call(5, "echo"));
    const reused = client(state, cancel(5));
    expect(of(reused, "forward")).toHaveLength(1);
    expect(events(reused)[0]).toMatchObject({ payload: { tool_name: "echo", error_type: "cancelled" } });
    expect(of(client(state, cancel(5)), "forward")).toHaveLength(1); // the server saw id 5: its cancels are its own
  });

  test("upstream exit answers every pending request and closes every call", () => {
    const state = fresh();
    client(state, call(1, "a"));
    client(state, { jsonrpc: "2.0", id: 2, method: "resources/list" });
    const actions = failPending(state, "upstream_exit", "the MCP server exited (exit code 3) before answering", 50);
    expect(sent(actions).map((m) => [m.id, m.error.code])).toEqual([
      [1, -32603],
      [2, -32603],
    ]);
    expect(sent(actions)[0]?.error.message).toContain("exited (exit code 3)");
    expect(events(actions).map((e) => [e.event_type, e.payload])).toEqual([
      ["tool_call_error", expect.objectContaining({ tool_name: "a", error_type: "upstream_exit" })],
      [
        "resource_list_error",
        {
          error_type: "upstream_exit",
          error_body: "the MCP server exited (exit code 3) before answering",
          duration_ms: 50,
        },
      ],
    ]);
    expect(state.pending.size).toBe(0);
  });

  test("bookkeeping is bounded: over the cap the oldest is evicted with an event and one log line", () => {
    const state = createProxyState({ includeReportTool: true, maxPending: 3 });
    const all: Action[] = [];
    for (let i = 0; i < 5; i++) all.push(...client(state, call(i, "t")));
    expect(state.pending.size).toBe(3);
    expect(
      events(all)
        .filter((e) => e.event_type === "tool_call_error")
        .map((e) => (e.payload as { error_type: string }).error_type),
    ).toEqual(["evicted", "evicted"]);
    expect(of(all, "log")).toHaveLength(1);
  });

  test("the TTL sweep evicts only old requests", () => {
    const state = fresh();
    client(state, call(1, "old"), 0);
    client(state, call(2, "new"), 900);
    const actions = sweepPending(state, 1000, 500);
    expect(events(actions).map((e) => (e.payload as { tool_name: string }).tool_name)).toEqual(["old"]);
    expect([...state.pending.keys()]).toEqual([2]);
  });

  const minutes = (n: number) => n * 60_000;
  /** Every draft, those the fast path builds later included. */
  const built = (actions: Action[]) =>
    actions.flatMap((a) => (a.type === "emit" ? [a.draft] : a.type === "emitLater" ? [a.build()] : []));
  const progress = (progressToken: unknown, at: number) => ({
    jsonrpc: "2.0",
    method: "notifications/progress",
    params: { progressToken, progress: at, message: "working" },
  });

  test.each([false, true])(
    "progress for a call keeps it tracked past the TTL (its clock restarts); a call without progress is evicted (fast path: %p)",
    (lazyDrafts) => {
      const state = createProxyState({ includeReportTool: true, lazyDrafts });
      const all: Action[] = [];
      all.push(...client(state, call(1, "long-build", {}, { _meta: { progressToken: "build-1" } }), 0));
      all.push(...client(state, call(2, "quiet", {}, { _meta: { progressToken: 7 } }), 0));
      all.push(...client(state, call(3, "counted", {}, { _meta: { progressToken: 8 } }), 0));
      all.push(...server(state, progress("build-1", 1), minutes(10)));
      // A batch member counts too, and a token no pending request holds changes nothing.
      all.push(...server(state, [progress(8, 1), progress("unknown", 1)], minutes(10)));
      all.push(...sweepPending(state, minutes(20)));
      all.push(...server(state, progress("build-1", 2), minutes(30)));
      all.push(...sweepPending(state, minutes(40)));
      all.push(...server(state, { jsonrpc: "2.0", id: 1, result: { content: [] } }, minutes(44)));
      all.push(...server(state, { jsonrpc: "2.0", id: 3, result: { content: [] } }, minutes(44)));
      expect(
        built(all).map((e) => [
          e.event_type,
          (e.payload as { tool_name: string }).tool_name,
          (e.payload as { error_type?: string }).error_type ?? null,
        ]),
      ).toEqual([
        ["tool_call_start", "long-build", null],
        ["tool_call_start", "quiet", null],
        ["tool_call_start", "counted", null],
        ["tool_call_error", "quiet", "evicted"],
        ["tool_call_error", "counted", "evicted"],
        ["tool_call_end", "long-build", null],
      ]);
      // Its duration still runs from the call, not from the last progress.
      const end = built(all).find((e) => e.event_type === "tool_call_end");
      expect(end?.payload).toMatchObject({ duration_ms: minutes(44) });
      expect(state.pending.size).toBe(0);
    },
  );

  test("progress keeps a call tracked for at most PENDING_MAX_AGE_MS from its start (a server may send it forever)", () => {
    const state = fresh();
    client(state, call(1, "endless", {}, { _meta: { progressToken: "p" } }), 0);
    let evictedAt: number | undefined;
    for (let at = minutes(10); evictedAt === undefined && at <= PENDING_MAX_AGE_MS + minutes(60); at += minutes(10)) {
      server(state, progress("p", at), at);
      const swept = events(sweepPending(state, at));
      if (swept.some((e) => e.event_type === "tool_call_error")) evictedAt = at;
    }
    expect(evictedAt).toBeDefined();
    expect(evictedAt as number).toBeGreaterThan(PENDING_MAX_AGE_MS - PENDING_TTL_MS);
    expect(evictedAt as number).toBeLessThanOrEqual(PENDING_MAX_AGE_MS);
  });
});

describe("a request no longer tracked still gets its answer when the server exits", () => {
  test.each([false, true])(
    "evicted by the TTL sweep (fast path: %p): answered by failPending unless the server answered it late",
    (lazyDrafts) => {
      const state = createProxyState({ includeReportTool: true, lazyDrafts });
      client(state, call(1, "long-build"), 0);
      client(state, call(2, "long-build"), 0);
      client(state, call(3, "other"), 900);
      sweepPending(state, 1000, 500); // 1 and 2 evicted (closed as evicted in events)
      server(state, { jsonrpc: "2.0", id: 2, result: { content: [] } }, 1100); // 2 answered late: forwarded, nothing owed
      const answers = sent(failPending(state, "upstream_exit", "gone", 1200));
      expect(answers.map((m) => [m.id, m.error?.code])).toEqual([
        [3, -32603],
        [1, -32603],
      ]);
    },
  );

  test("evicted over the count cap: answered too, and a reused id is the new request's", () => {
    const state = createProxyState({ includeReportTool: true, maxPending: 2 });
    for (let i = 0; i < 4; i++) client(state, call(i, "t"));
    // 0 and 1 evicted; 0 cancelled (nothing owed); 1 reused (owed once, as the new request), evicting 2
    client(state, { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 0 } });
    client(state, call(1, "again"));
    const answers = sent(failPending(state, "upstream_exit", "gone", 5));
    expect(answers.map((m) => m.id).sort()).toEqual([1, 2, 3]);
    expect(sent(failPending(state, "upstream_exit", "gone", 6))).toEqual([]);
  });
});

describe("injected tool calls", () => {
  test.each([
    [
      "valid annotation",
      { intent: "find a file", signal_type: "dead_end", tool_name: "search" },
      false,
      "Annotation recorded",
    ],
    ["null arguments", null, true, "arguments must be an object"],
    ["missing intent", {}, true, '"intent" is required'],
    ["wrong types, recorded as text and kept", { intent: 5, context: "x" }, false, "it was kept under context.value"],
    ["unknown signal type, recorded as other", { intent: "x", signal_type: "meh" }, false, 'recorded as "other"'],
  ])("%s", (_name, args, isError, text) => {
    const state = fresh();
    const actions = client(state, call(9, "baton_annotate", args));
    expect(of(actions, "forward")).toHaveLength(0);
    const reply = sent(actions)[0];
    expect(reply?.id).toBe(9);
    expect(Boolean(reply?.result.isError)).toBe(isError);
    expect(reply?.result.content[0].text).toContain(text);
    expect(events(actions).map((e) => e.event_type)).toEqual(isError ? [] : ["annotation"]);
  });

  test("stateless era: injected results carry resultType complete", () => {
    const state = fresh();
    const reply = sent(
      client(
        state,
        call(
          1,
          "baton_annotate",
          { intent: "x" },
          { _meta: { "io.modelcontextprotocol/protocolVersion": "2026-07-28" } },
        ),
      ),
    )[0];
    expect(reply?.result.resultType).toBe("complete");
  });

  test("the report tool becomes a report action; without local sinks it is the server's business", () => {
    expect(of(client(fresh(true), call(4, "baton_session_report")), "report")).toEqual([
      { type: "report", id: 4, modern: false },
    ]);
    expect(of(client(fresh(false), call(4, "baton_session_report")), "forward")).toHaveLength(1);
  });

  test("a batch with an injected call: ours answered, the rest forwarded as a batch", () => {
    const state = fresh();
    const actions = client(state, [call(1, "baton_annotate", { intent: "x" }), call(2, "echo")]);
    expect(sent(actions).find((m) => m.id === 1)?.result.content[0].text).toContain("recorded");
    const forwarded = of(actions, "forward").find((a) => a.to === "server")?.bytes;
    expect(JSON.parse(new TextDecoder().decode(forwarded))).toEqual([call(2, "echo")]);
  });
});

describe("ids beyond 2^53 in the proxy's own answers are the client's, digit for digit", () => {
  const BIG = "12345678901234567891";
  const request = (method: string, params?: unknown) =>
    `{"jsonrpc":"2.0","id":${BIG},"method":"${method}"${params === undefined ? "" : `,"params":${JSON.stringify(params)}`}}`;
  const wire = (actions: Action[]) => of(actions, "send").map((a) => JSON.stringify(a.message));

  test("an injected tool's answer", () => {
    const [answer] = wire(
      client(fresh(), request("tools/call", { name: "baton_annotate", arguments: { intent: "x" } })),
    );
    expect(answer).toStartWith(`{"jsonrpc":"2.0","id":${BIG},"result":`);
  });

  test("the report tool's answer", () => {
    const [report] = of(client(fresh(), request("tools/call", { name: "baton_session_report" })), "report");
    expect(JSON.stringify(report?.id)).toBe(BIG);
  });

  test("tools/list answered by the proxy for a server without tools", () => {
    const state = fresh();
    client(state, { jsonrpc: "2.0", id: 0, method: "initialize", params: {} });
    server(state, { jsonrpc: "2.0", id: 0, result: { capabilities: {}, serverInfo: { name: "s" } } });
    const [answer] = wire(client(state, request("tools/list")));
    expect(answer).toStartWith(`{"jsonrpc":"2.0","id":${BIG},"result":`);
  });

  test("the error for a request in flight when the server exits", () => {
    const state = fresh();
    client(state, request("tools/call", { name: "echo", arguments: {} }));
    client(state, request("ping").replace(BIG, "7"));
    expect(wire(failPending(state, "upstream_exit", "gone", 5)).map((m) => JSON.parse(m).id === 7 || m)).toEqual([
      `{"jsonrpc":"2.0","id":${BIG},"error":{"code":-32603,"message":"baton-proxy: gone"}}`,
      true,
    ]);
    expect(state.pending.size).toBe(0);
  });
});

describe("ids JSON.parse writes back differently (1.0, 1E2, -0) in the proxy's own answers are the client's, as written", () => {
  const request = (idText: string, name: string) =>
    `{"jsonrpc":"2.0","id":${idText},"method":"tools/call","params":{"name":"${name}","arguments":{"intent":"x"}}}`;

  test.each(["1.0", "1E2", "1e2", "-0", "0.50"])("baton_annotate answered on %s", (idText) => {
    const [answer] = of(client(fresh(), request(idText, "baton_annotate")), "send");
    expect(JSON.stringify(answer?.message)).toStartWith(`{"jsonrpc":"2.0","id":${idText},"result":`);
  });

  test.each(["1.0", "-0"])("baton_session_report answered on %s", (idText) => {
    const [report] = of(client(fresh(), request(idText, "baton_session_report")), "report");
    expect(JSON.stringify(report?.id)).toBe(idText);
  });

  test("in a batch too", () => {
    const line = `[${request("2.0", "baton_annotate")},${request("-0", "baton_annotate")}]`;
    const answers = of(client(fresh(), line), "send").map((a) => JSON.stringify(a.message));
    expect(answers.join("\n").match(/"id":[^,]*/g)).toEqual(['"id":2.0', '"id":-0']);
  });
});

describe("batches the proxy changes keep every other member's numbers as written", () => {
  const json = (message: unknown) => JSON.stringify(message);

  test("client batch with an injected call: the members forwarded keep 1.0 and big integers", () => {
    const state = fresh();
    const rest =
      '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"n":1.0,"big":12345678901234567890}}}';
    const actions = client(
      state,
      `[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"baton_annotate","arguments":{"intent":"x"}}},${rest}]`,
    );
    const forwarded = of(actions, "forward").find((a) => a.to === "server")?.bytes;
    expect(new TextDecoder().decode(forwarded)).toBe(`[${rest}]`);
  });

  test("server batch with a rewritten tools/list: the other answers keep 1.0 and big integers", () => {
    const state = fresh();
    client(state, [
      { jsonrpc: "2.0", id: 1, method: "tools/list" },
      { jsonrpc: "2.0", id: 2, method: "ping" },
    ]);
    const other = '{"jsonrpc":"2.0","id":2,"result":{"v":1.0,"big":12345678901234567890}}';
    const actions = server(
      state,
      `[{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"t","inputSchema":{"type":"object"}}]}},${other}]`,
    );
    const rewritten = of(actions, "send").find((a) => a.to === "client")?.message as unknown[];
    expect(json(rewritten[1])).toBe(other);
    expect(JSON.stringify(rewritten[0])).toContain("baton_annotate");
  });
});

describe("junk and untouched traffic", () => {
  test.each([
    ["not JSON", "hello world"],
    ["blank", "   "],
    ["JSON but not JSON-RPC", '{"foo":1}'],
    ["notification", '{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}'],
    ["server request", '{"jsonrpc":"2.0","id":0,"method":"sampling/createMessage","params":{}}'],
    ["big integer id stays byte-exact", '{"jsonrpc":"2.0","id":12345678901234567890123,"result":{}}'],
  ])("%s is forwarded byte-for-byte both ways", (_name, line) => {
    for (const direction of [client, server]) {
      const actions = direction(fresh(), line);
      expect(actions.map((a) => a.type)).toEqual(["forward"]);
      expect(new TextDecoder().decode((actions[0] as { bytes: Uint8Array }).bytes)).toBe(line);
    }
  });
});

describe("server notifications and requests the proxy does not read", () => {
  test("pass without a parse (progress, logs, the server's own requests); a task's status is read", () => {
    const state = fresh();
    for (const text of [
      '{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}',
      '{"method":"notifications/message","params":{"level":"info","data":"x"},"jsonrpc":"2.0"}',
      '{"jsonrpc":"2.0","id":0,"method":"sampling/createMessage","params":{}}',
    ]) {
      const body = new TextEncoder().encode(text);
      const line = classifyLine(body);
      expect(fromServer(state, body, line, 0).map((a) => a.type)).toEqual(["forward"]);
      expect(line.kind === "message" && scannedFacts(line.message, body)).toBeTruthy(); // its value was never read
    }
    const status = new TextEncoder().encode(
      '{"jsonrpc":"2.0","method":"notifications/tasks/status","params":{"taskId":"t1","status":"working"}}',
    );
    const line = classifyLine(status);
    fromServer(state, status, line, 0);
    expect(line.kind === "message" && scannedFacts(line.message, status)).toBeUndefined(); // read for its task
  });
});

describe("runtime_meta hygiene", () => {
  test("client _meta keys under the proxy's baton/ prefix are dropped (no forged call ids, nothing past the scrubber)", () => {
    const state = fresh();
    const start = events(
      client(
        state,
        call(1, "echo", {}, { _meta: { "baton/call_id": "forged", "baton/scrubbed": {}, progressToken: 1 } }),
      ),
    );
    expect(start[0]?.runtime_meta).toEqual({ progressToken: 1, "baton/call_id": "c1" });
    const note = events(client(state, call(2, "baton_annotate", { intent: "x" }, { _meta: { "baton/x": "secret" } })));
    expect(note[0]?.runtime_meta).toEqual({});
  });

  test("a client _meta key named __proto__ is kept in runtime_meta (JSON.parse makes it an own key)", () => {
    const state = fresh();
    const line =
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{},"_meta":{"__proto__":{"a":1},"x":"y"}}}';
    const start = events(client(state, JSON.parse(line)));
    expect(JSON.stringify(start[0]?.runtime_meta)).toBe('{"__proto__":{"a":1},"x":"y","baton/call_id":"c1"}');
  });
});

describe("hot-path bounding", () => {
  test("values of long lines are bounded before an event holds them, and the event says how much was cut", () => {
    const state = createProxyState({ includeReportTool: true, boundValue: () => ({ value: "[cut]", truncated: 2 }) });
    const start = events(client(state, call(1, "echo", { text: "x".repeat(70_000) })));
    expect(start[0]?.payload).toMatchObject({ params: "[cut]" });
    expect(start[0]?.runtime_meta?.["baton/truncated"]).toBe(2);
    const end = events(
      server(state, { jsonrpc: "2.0", id: 1, result: { content: [{ type: "text", text: "y".repeat(70_000) }] } }),
    );
    expect(end[0]?.payload).toMatchObject({ result: "[cut]" });
  });

  test("values of short lines skip the hot-path bound (nothing in them can exceed the caps)", () => {
    const state = createProxyState({ includeReportTool: true, boundValue: () => ({ value: "[cut]", truncated: 2 }) });
    const start = events(client(state, call(1, "echo", { text: "short" })));
    expect(start[0]?.payload).toMatchObject({ params: { text: "short" } });
    expect(start[0]?.runtime_meta?.["baton/truncated"]).toBeUndefined();
  });
});

describe("the hot-path bound is decided per line, from the line's own size", () => {
  // Each row is one exchange; its `target` line carries the value (filled with `fill`) and
  // `field` is where the event holds it. The exchange runs on one state with the target line
  // large, small, large, small, and right before every target a line of the *other* size goes
  // through the same side: a size left over from an earlier line would show up as a wrong decision.
  type Line = { side: "client" | "server"; message: unknown };
  type Row = [string, (id: number, fill: string) => { before: Line[]; target: Line }, string, string];
  const text = (fill: string) => ({ content: [{ type: "text", text: fill }] });
  const answer = (id: number, result: unknown) => ({ jsonrpc: "2.0", id, result });
  const rows: Row[] = [
    [
      "tool call arguments (client line)",
      (id, fill) => ({ before: [], target: { side: "client", message: call(id, "echo", { text: fill }) } }),
      "tool_call_start",
      "params",
    ],
    [
      "tool result (server line)",
      (id, fill) => ({
        before: [{ side: "client", message: call(id, "echo") }],
        target: { side: "server", message: answer(id, text(fill)) },
      }),
      "tool_call_end",
      "result",
    ],
    [
      "isError result body",
      (id, fill) => ({
        before: [{ side: "client", message: call(id, "echo") }],
        target: { side: "server", message: answer(id, { ...text(fill), isError: true }) },
      }),
      "tool_call_error",
      "error_body",
    ],
    [
      "JSON-RPC error body of a call",
      (id, fill) => ({
        before: [{ side: "client", message: call(id, "echo") }],
        target: { side: "server", message: { jsonrpc: "2.0", id, error: { code: -32000, message: fill } } },
      }),
      "tool_call_error",
      "error_body",
    ],
    [
      "resources/read params",
      (id, fill) => ({
        before: [],
        target: { side: "client", message: { jsonrpc: "2.0", id, method: "resources/read", params: { uri: fill } } },
      }),
      "resource_read_start",
      "params",
    ],
    [
      "prompts/get arguments",
      (id, fill) => ({
        before: [],
        target: {
          side: "client",
          message: { jsonrpc: "2.0", id, method: "prompts/get", params: { name: "p", arguments: { who: fill } } },
        },
      }),
      "prompt_get_start",
      "params",
    ],
    [
      "JSON-RPC error body of a read",
      (id, fill) => ({
        before: [{ side: "client", message: { jsonrpc: "2.0", id, method: "resources/read", params: { uri: "u" } } }],
        target: { side: "server", message: { jsonrpc: "2.0", id, error: { code: -32002, message: fill } } },
      }),
      "resource_read_error",
      "error_body",
    ],
    [
      "task result answering tasks/result (the completing answer's line)",
      (id, fill) => ({
        before: [
          { side: "client", message: call(id, "slow") },
          { side: "server", message: answer(id, { task: { taskId: `t${id}`, status: "working" } }) },
          {
            side: "client",
            message: { jsonrpc: "2.0", id: id + 1, method: "tasks/result", params: { taskId: `t${id}` } },
          },
        ],
        target: { side: "server", message: answer(id + 1, text(fill)) },
      }),
      "tool_call_end",
      "result",
    ],
    [
      "task result in a completed status notification",
      (id, fill) => ({
        before: [
          { side: "client", message: call(id, "slow") },
          { side: "server", message: answer(id, { task: { taskId: `t${id}`, status: "working" } }) },
        ],
        target: {
          side: "server",
          message: {
            jsonrpc: "2.0",
            method: "notifications/tasks/status",
            params: { taskId: `t${id}`, status: "completed", result: text(fill) },
          },
        },
      }),
      "tool_call_end",
      "result",
    ],
  ];

  test.each(rows)("%s", (_name, exchange, eventType, field) => {
    const state = createProxyState({ includeReportTool: true, boundValue: () => ({ value: "[cut]", truncated: 2 }) });
    const large = "x".repeat(HOT_BOUND_MIN_LINE_BYTES);
    const small = "s";
    const send = (line: Line) => (line.side === "client" ? client : server)(state, line.message);
    const filler = (side: Line["side"], fill: string): Line => ({
      side,
      message: {
        jsonrpc: "2.0",
        method: side === "client" ? "notifications/progress" : "notifications/message",
        params: { fill },
      },
    });
    [large, small, large, small].forEach((fill, round) => {
      const { before, target } = exchange(10 * (round + 1), fill);
      for (const line of before) send(line);
      expect(events(send(filler(target.side, fill === large ? small : large)))).toEqual([]);
      const emitted = events(send(target)).filter((e) => e.event_type === eventType);
      expect(emitted).toHaveLength(1);
      const payload = emitted[0]?.payload as Record<string, unknown>;
      if (fill === large) {
        expect(payload[field]).toBe("[cut]");
        expect(emitted[0]?.runtime_meta?.["baton/truncated"]).toBe(2);
      } else {
        expect(JSON.stringify(payload[field])).toContain(small);
        expect(payload[field]).not.toBe("[cut]");
        expect(emitted[0]?.runtime_meta?.["baton/truncated"]).toBeUndefined();
      }
    });
  });
});

describe("answers too long to inspect", () => {
  test.each([
    [
      "id first",
      '{"jsonrpc":"2.0","id":5,"result":{"content":[{"type":"text","text":"xxxx',
      'xxxx"}]}}',
      "tool_call_end",
      null,
    ],
    [
      "id last (SDK order)",
      '{"result":{"content":[{"type":"text","text":"xxxx',
      'xxxx"}]},"jsonrpc":"2.0","id":5}',
      "tool_call_end",
      null,
    ],
    [
      "id, then jsonrpc, last",
      '{"result":{"content":[{"type":"text","text":"xxxx',
      'xxxx"}]},"id":5,"jsonrpc":"2.0"}',
      "tool_call_end",
      null,
    ],
    [
      "isError near the end",
      '{"result":{"content":[{"type":"text","text":"xxxx',
      'xxxx"}],"isError":true},"jsonrpc":"2.0","id":5}',
      "tool_call_error",
      null,
    ],
    [
      "a JSON-RPC error, code first",
      '{"jsonrpc":"2.0","id":5,"error":{"code":-32603,"message":"dump xxxx',
      'xxxx"}}',
      "tool_call_error",
      "jsonrpc_-32603",
    ],
    [
      "a JSON-RPC error, id and code last",
      '{"error":{"message":"dump xxxx',
      'xxxx","code":-32000},"jsonrpc":"2.0","id":5}',
      "tool_call_error",
      "jsonrpc_-32000",
    ],
    [
      "an error key inside the result is no JSON-RPC error",
      '{"jsonrpc":"2.0","id":5,"result":{"error":{"code":1},"content":[{"type":"text","text":"xxxx',
      'xxxx"}]}}',
      "tool_call_end",
      null,
    ],
  ])("%s: the call is closed once, marked as not inspected", (_name, head, tail, type, errorType: string | null) => {
    const state = fresh();
    client(state, call(5, "huge"));
    const actions = fromServerLongLine(state, head, tail, 40 * 1048576, 10);
    expect(events(actions).map((e) => e.event_type as string)).toEqual([type]);
    if (errorType !== null) expect(events(actions)[0]?.payload).toMatchObject({ error_type: errorType });
    expect(JSON.stringify(events(actions)[0]?.payload)).toContain("not inspected");
    // The result or error body is the proxy's note in place of the server's: the event says a value was cut.
    expect(events(actions)[0]?.runtime_meta?.["baton/truncated"]).toBe(1);
    expect(state.pending.size).toBe(0);
    expect(failPending(state, "proxy_shutdown", "bye", 20)).toEqual([]);
  });

  test.each([
    [
      "SDK order (method first, id last)",
      '{"method":"sampling/createMessage","params":{"messages":[{"content":{"data":"AAAA',
      'AAAA"}}]},"jsonrpc":"2.0","id":5}',
    ],
    [
      "id first",
      '{"jsonrpc":"2.0","id":5,"method":"sampling/createMessage","params":{"messages":[{"content":{"data":"AAAA',
      'AAAA"}}]}}',
    ],
    [
      "params before method",
      '{"jsonrpc":"2.0","params":{"messages":[{"content":{"data":"AAAA',
      'AAAA"}}]},"method":"sampling/createMessage","id":5}',
    ],
  ])(
    "a long server→client request (%s) is not an answer: the client's request of the same id stays in flight",
    (_name, head, tail) => {
      const state = fresh();
      client(state, call(5, "huge")); // id spaces are independent: the server's own request 5 is another message
      expect(fromServerLongLine(state, head, tail, 40 * 1048576, 10)).toEqual([]);
      expect(state.pending.size).toBe(1);
    },
  );

  test("an error code that is not an integer (JSON-RPC's codes are) is jsonrpc_invalid, on long lines as on others", () => {
    for (const [code, expected] of [
      ["-32000.5", "jsonrpc_invalid"],
      ["1e300", "jsonrpc_invalid"],
      ['"E42"', "jsonrpc_invalid"],
      ["-3.2e4", "jsonrpc_-32000"], // an integer, in another spelling
    ]) {
      const state = fresh();
      client(state, call(1, "a"));
      const [short] = events(server(state, `{"jsonrpc":"2.0","id":1,"error":{"code":${code},"message":"m"}}`));
      expect(short?.payload, code).toMatchObject({ tool_name: "a", error_type: expected });
      client(state, call(2, "b"));
      const head = `{"jsonrpc":"2.0","id":2,"error":{"code":${code},"message":"dump xxxx`;
      const [long] = events(fromServerLongLine(state, head, 'xxxx"}}', 40 * 1048576, 10));
      expect(long?.payload, code).toMatchObject({ tool_name: "b", error_type: expected });
      client(state, call(3, "c"));
      const tail = `xxxx","code":${code}}}`;
      const [longTail] = events(
        fromServerLongLine(state, '{"jsonrpc":"2.0","id":3,"error":{"message":"dump xxxx', tail, 40 * 1048576, 10),
      );
      expect(longTail?.payload, code).toMatchObject({ tool_name: "c", error_type: expected });
    }
  });

  test("a nested id is not mistaken for the answer's id", () => {
    const state = fresh();
    client(state, call(5, "huge"));
    expect(fromServerLongLine(state, '{"result":{"content":[', 'x"}],"meta":{"id":5}}}', 100, 1)).toEqual([]);
    expect(state.pending.size).toBe(1);
  });

  test("an id with a fraction or an exponent is read whole: its own request is closed (as an error when it is one), not the integer's", () => {
    const state = fresh();
    client(state, call(1, "a"));
    client(state, call(1.5, "b"));
    const head = '{"jsonrpc":"2.0","id":1.5,"error":{"code":-32000,"message":"dump xxxx';
    const actions = fromServerLongLine(state, head, 'xxxx"}}', 40 * 1048576, 10);
    expect([...state.pending.keys()]).toEqual([1]);
    expect(events(actions)[0]?.payload).toMatchObject({ tool_name: "b", error_type: "jsonrpc_-32000" });
    expect(requestIdOfLongLine('{"jsonrpc":"2.0","id":1e3,"method":"tools/call","params":{"a":"xxxx', 'xxxx"}}}')).toBe(
      1000,
    );
  });
});

test("the server's name is learnt from a stateless-era result's _meta when no handshake was seen", () => {
  const state = fresh();
  client(state, call(1, "add"));
  const end = events(
    server(state, {
      jsonrpc: "2.0",
      id: 1,
      result: {
        content: [],
        resultType: "complete",
        _meta: { "io.modelcontextprotocol/serverInfo": { name: "demo", version: "2.0.0" } },
      },
    }),
  );
  expect(end[0]?.runtime_meta?.["baton/server"]).toBe("demo 2.0.0");
});

describe("client lines too long to inspect", () => {
  const MiB = 1024 * 1024;
  test.each([
    [
      "id first (Python SDK order)",
      '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"baton_annotate","arguments":{"intent":"xx',
      true,
    ],
    [
      "id last (TypeScript SDK order)",
      '{"method":"tools/call","params":{"name":"baton_annotate","arguments":{"intent":"xx',
      true,
    ],
    [
      "escapes in the method and the name",
      '{"method":"tools\\/call","params":{"name":"baton\\u005fannotate","arguments":{"x":"',
      true,
    ],
    ["the report tool", '{"method":"tools/call","params":{"name":"baton_session_report","arguments":{"x":"', true],
    [
      "a flat _meta before the name (Python SDK order)",
      '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"_meta":{"progressToken":7},"name":"baton_annotate","arguments":{"x":"',
      true,
    ],
    [
      "a _meta holding objects before the name (Python SDK order, 2026-07-28 era)",
      '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"py","icons":[{"src":"a.png"}]}},"name":"baton_annotate","arguments":{"x":"',
      true,
    ],
    ["a server tool", '{"method":"tools/call","params":{"name":"echo","arguments":{"text":"xx', false],
    ["another method", '{"method":"prompts/get","params":{"name":"baton_annotate","arguments":{"x":"', false],
    [
      "our tool's name nested in arguments",
      '{"method":"tools/call","params":{"name":"echo","arguments":{"name":"baton_annotate","x":"',
      false,
    ],
    ["a batch", '[{"method":"tools/call","params":{"name":"baton_annotate","arguments":{"x":"', false],
  ])("%s: held = %p", (_name, head, held) => {
    expect(holdsClientLongLine(fresh(), head)).toBe(held);
  });

  test("not held when our tool is not offered (a server's own baton_annotate, no report tool)", () => {
    const head = '{"method":"tools/call","params":{"name":"baton_session_report","arguments":{"x":"';
    expect(holdsClientLongLine(fresh(false), head)).toBe(false);
    const shadowing = fresh();
    shadowing.shadowed.add("baton_annotate");
    expect(
      holdsClientLongLine(shadowing, '{"method":"tools/call","params":{"name":"baton_annotate","arguments":{'),
    ).toBe(false);
  });

  test.each([
    [
      "id first",
      '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"baton_annotate","arguments":{"intent":"xx',
      'xx"}}}',
      7,
    ],
    [
      "id last",
      '{"method":"tools/call","params":{"name":"baton_annotate","arguments":{"intent":"xx',
      'xx"}},"jsonrpc":"2.0","id":"a,\\"b"}',
      'a,"b',
    ],
  ])("answered with a JSON-RPC error on the client's id (%s)", (_name, head, tail, id) => {
    const actions = fromClientLongLine(fresh(), head, tail, 9 * MiB + 100, true, 0);
    const answer = JSON.parse(JSON.stringify(sent(actions)[0])); // the id is written as the client wrote it
    expect(answer.id).toEqual(id);
    expect(answer.error.code).toBe(-32602);
    expect(answer.error.message).toBe(
      "baton-proxy: baton_annotate was not recorded: the request is 9 MiB, over the proxy's 8 MiB limit for one message; nothing was read or forwarded (keep it short)",
    );
    expect(of(actions, "log")).toHaveLength(1);
  });

  test("the client's id is answered as written (1.0, digits beyond 2^53)", () => {
    for (const idText of ["1.0", "12345678901234567891"]) {
      const head = `{"jsonrpc":"2.0","id":${idText},"method":"tools/call","params":{"name":"baton_annotate","arguments":{"x":"`;
      const [answer] = of(fromClientLongLine(fresh(), head, 'x"}}}', 9 * MiB, true, 0), "send");
      expect(JSON.stringify(answer?.message)).toStartWith(`{"jsonrpc":"2.0","id":${idText},`);
    }
  });

  test("without a readable id: only a warning (nothing to answer)", () => {
    const actions = fromClientLongLine(
      fresh(),
      '{"method":"tools/call","params":{"name":"baton_annotate","arguments":{"x":"',
      'x"}},"id":[1]}',
      9 * MiB,
      true,
      0,
    );
    expect(sent(actions)).toEqual([]);
    expect(of(actions, "log")[0]?.text).toContain("its id could not be read");
  });

  test("a server tool's call that went through is tracked from its edges: a start marked not inspected, its answer closes it", () => {
    const state = fresh();
    const head = '{"method":"tools/call","params":{"name":"upload","arguments":{"data":"xx';
    const started = fromClientLongLine(
      state,
      head,
      'xx"}},"jsonrpc":"2.0","id":12345678901234567891}',
      9 * MiB,
      false,
      0,
    );
    expect(sent(started)).toEqual([]);
    const [start] = events(started);
    expect(start?.event_type).toBe("tool_call_start");
    expect(start?.payload).toEqual({
      tool_name: "upload",
      params: {
        "[truncated]":
          "[baton-proxy: a 9 MiB request, over the 8 MiB inspection limit; forwarded unchanged, not inspected]",
      },
    });
    expect(start?.runtime_meta?.["baton/truncated"]).toBe(1);
    // Left open, it is answered with the client's id as written when the server exits.
    const [error] = of(failPending(state, "upstream_exit", "gone", 5), "send");
    expect(JSON.stringify(error?.message)).toContain('"id":12345678901234567891,');
  });

  test("a call whose id is followed by jsonrpc at its end is tracked and, for our tool, answered", () => {
    const head = '{"method":"tools/call","params":{"name":"upload","arguments":{"data":"xx';
    const state = fresh();
    fromClientLongLine(state, head, 'xx"}},"id":7,"jsonrpc":"2.0"}', 9 * MiB, false, 0);
    expect([...state.pending.keys()]).toEqual([7]);
    const ours = '{"method":"tools/call","params":{"name":"baton_annotate","arguments":{"intent":"xx';
    const [answer] = of(fromClientLongLine(fresh(), ours, 'xx"}},"id":7,"jsonrpc":"2.0"}', 9 * MiB, true, 0), "send");
    expect(JSON.parse(JSON.stringify(answer?.message)).id).toBe(7);
  });

  test("a server tool's call with a modern _meta first is tracked from its edges", () => {
    const state = fresh();
    const head =
      '{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/clientInfo":{"name":"py"}},"name":"upload","arguments":{"data":"xx';
    const [start] = events(fromClientLongLine(state, head, 'xx"}}}', 9 * MiB, false, 0));
    expect(start?.payload).toMatchObject({ tool_name: "upload" });
    expect([...state.pending.keys()]).toEqual([8]);
  });

  test("an uninspected line that is no tools/call, or whose id cannot be read, is not tracked", () => {
    for (const [head, tail] of [
      ['{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"x","pad":"', 'x"}}'],
      ['{"method":"tools/call","params":{"name":"upload","arguments":{"data":"', 'x"}},"id":{}}'],
    ] as const) {
      const state = fresh();
      expect(fromClientLongLine(state, head, tail, 9 * MiB, false, 0)).toEqual([]);
      expect(state.pending.size).toBe(0);
    }
  });
});

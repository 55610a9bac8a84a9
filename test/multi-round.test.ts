import { describe, expect, test } from "bun:test";
import { MAX_WAITING_ROUNDS, ROUND_TTL_MS, TASK_TTL_MS } from "../src/proxy/multi-round.ts";
import {
  createProxyState,
  failPending,
  PENDING_MAX_AGE_MS,
  sweepPending,
  type Action,
} from "../src/proxy/transform.ts";
import { client, server, drafts } from "./support/transform-driver.ts";

const summary = (actions: Action[]) =>
  drafts(actions).map((d) => [
    d.event_type,
    (d.payload as any).duration_ms ?? null,
    d.runtime_meta?.["baton/call_id"],
    d.runtime_meta?.["baton/rounds"] ?? null,
    (d.payload as any).error_type ?? null,
  ]);
const call = (id: number, name: string, extra: Record<string, unknown> = {}) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: {}, ...extra },
});
const answer = (id: number, result: unknown) => ({ jsonrpc: "2.0", id, result });
const INPUT = (state: string) => ({
  resultType: "input_required",
  inputRequests: { k: { method: "elicitation/create", params: {} } },
  requestState: state,
});

describe("multi-round (input_required) calls", () => {
  test("one start; the round that completes it gives end and duration from the first request; rounds counted", () => {
    const state = createProxyState({ includeReportTool: false });
    const actions = [
      ...client(state, call(1, "book"), 0),
      ...server(state, answer(1, INPUT("s1")), 10),
      ...client(state, call(2, "book", { inputResponses: { k: {} }, requestState: "s1" }), 30),
      ...server(state, answer(2, INPUT("s2")), 40),
      ...client(state, call(3, "book", { inputResponses: { k: {} }, requestState: "s2" }), 60),
      ...server(state, answer(3, { resultType: "complete", content: [{ type: "text", text: "booked" }] }), 100),
    ];
    expect(summary(actions)).toEqual([
      ["tool_call_start", null, "c1", null, null],
      ["tool_call_end", 100, "c1", 3, null],
    ]);
  });

  test("the client cancelling the round it got input_required for (SDK timeout or abort) ends the call as cancelled, once", () => {
    const state = createProxyState({ includeReportTool: false });
    client(state, call(1, "book"), 0);
    server(state, answer(1, INPUT("s1")), 10);
    client(state, call(2, "book", { inputResponses: { k: {} }, requestState: "s1" }), 20);
    server(state, answer(2, INPUT("s2")), 30);
    const cancel = { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 2, reason: "timed out" } };
    const cancelled = client(state, cancel, 70);
    expect(summary(cancelled)).toEqual([["tool_call_error", 70, "c1", 3, "cancelled"]]);
    expect((drafts(cancelled)[0]?.payload as any)?.error_body).toBe("cancelled by the client: timed out");
    expect(cancelled.filter((a) => a.type === "forward")).toHaveLength(1); // the server still gets it
    // Nothing is left to close: no second outcome at shutdown, and a cancel of an earlier round is a no-op.
    expect(summary(client(state, { ...cancel, params: { requestId: 1 } }, 80))).toEqual([]);
    expect(summary(failPending(state, "proxy_shutdown", "stopping", 90))).toEqual([]);
  });

  test.each([
    [
      "error in the last round",
      { jsonrpc: "2.0", id: 2, error: { code: -32000, message: "no" } },
      ["tool_call_error", 50, "c1", 2, "jsonrpc_-32000"],
    ],
    [
      "isError in the last round",
      answer(2, { content: [{ type: "text", text: "bad" }], isError: true }),
      ["tool_call_error", 50, "c1", 2, "tool_error"],
    ],
  ])("%s", (_name, last, expected) => {
    const state = createProxyState({ includeReportTool: false });
    client(state, call(1, "book"), 0);
    server(state, answer(1, INPUT("s")), 10);
    client(state, call(2, "book", { requestState: "s", inputResponses: {} }), 20);
    expect(summary(server(state, last, 50))).toEqual([expected]);
  });

  test("pairing is by tool name + requestState, not id: two interleaved calls keep their own ids", () => {
    const state = createProxyState({ includeReportTool: false });
    client(state, call(1, "a"));
    client(state, call(2, "a"));
    server(state, answer(1, INPUT("x")));
    server(state, answer(2, INPUT("y")));
    client(state, call(3, "a", { requestState: "y", inputResponses: {} }));
    client(state, call(4, "a", { requestState: "x", inputResponses: {} }));
    expect(
      summary([...server(state, answer(3, { content: [] }), 9), ...server(state, answer(4, { content: [] }), 9)]).map(
        (s) => s[2],
      ),
    ).toEqual(["c2", "c1"]);
  });

  test("a retry nobody is waiting for is a new call; a retry of another tool's state is not paired", () => {
    const state = createProxyState({ includeReportTool: false });
    client(state, call(1, "a"));
    server(state, answer(1, INPUT("s")));
    expect(summary(client(state, call(2, "b", { requestState: "s", inputResponses: {} })))).toEqual([
      ["tool_call_start", null, "c2", null, null],
    ]);
  });

  test("bounded: a client that never continues is evicted by the sweep; exit closes waiting calls", () => {
    const state = createProxyState({ includeReportTool: false });
    client(state, call(1, "a"), 0);
    server(state, answer(1, INPUT("s")), 1);
    client(state, call(2, "b"), 2);
    server(state, answer(2, INPUT("t")), ROUND_TTL_MS);
    expect(summary(sweepPending(state, ROUND_TTL_MS + 1))).toEqual([
      ["tool_call_error", ROUND_TTL_MS + 1, "c1", 2, "evicted"],
    ]);
    expect(summary(failPending(state, "upstream_exit", "gone", ROUND_TTL_MS + 2))).toEqual([
      ["tool_call_error", ROUND_TTL_MS, "c2", 2, "upstream_exit"],
    ]);
  });

  test("a round the client continues late gets the server's full 15 min: the eviction clock runs from the round, the duration from the call", () => {
    const state = createProxyState({ includeReportTool: false });
    const minutes = (n: number) => n * 60_000;
    client(state, call(1, "book"), 0);
    server(state, answer(1, INPUT("s1")), 10);
    // The user takes 10 minutes over the elicitation; the server then works 10 more on the round.
    client(state, call(2, "book", { inputResponses: { k: {} }, requestState: "s1" }), minutes(10));
    expect(summary(sweepPending(state, minutes(16)))).toEqual([]);
    const done = server(state, answer(2, { content: [{ type: "text", text: "booked" }] }), minutes(20));
    expect(summary(done)).toEqual([["tool_call_end", minutes(20), "c1", 2, null]]);
    // A round the server never answers is evicted 15 min after it was sent, naming the silence it had.
    client(state, call(3, "book"), minutes(30));
    server(state, answer(3, INPUT("s2")), minutes(30));
    client(state, call(4, "book", { inputResponses: { k: {} }, requestState: "s2" }), minutes(40));
    expect(summary(sweepPending(state, minutes(54)))).toEqual([]);
    const evicted = sweepPending(state, minutes(55));
    expect(summary(evicted)).toEqual([["tool_call_error", minutes(25), "c2", 2, "evicted"]]);
    expect((drafts(evicted)[0]?.payload as any)?.error_body).toStartWith("no answer from the server after 900 s");
  });

  test("a requestState nested deeper than JSON.stringify can write still pairs its retry (the round was lost)", () => {
    const state = createProxyState({ includeReportTool: false });
    const deep = (depth: number, leaf: string) => `${"[".repeat(depth)}"${leaf}"${"]".repeat(depth)}`;
    const input = (id: number, leaf: string) =>
      `{"jsonrpc":"2.0","id":${id},"result":{"resultType":"input_required","inputRequests":{},"requestState":${deep(100_000, leaf)}}}`;
    const retry = (id: number, leaf: string) =>
      `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"a","arguments":{},"inputResponses":{},"requestState":${deep(100_000, leaf)}}}`;
    client(state, call(1, "a"));
    client(state, call(2, "a"));
    server(state, input(1, "x"));
    server(state, input(2, "y"));
    // Paired by the whole state: the two differ only at the bottom.
    client(state, retry(3, "y"));
    client(state, retry(4, "x"));
    const done = [...server(state, answer(3, { content: [] }), 9), ...server(state, answer(4, { content: [] }), 9)];
    expect(summary(done)).toEqual([
      ["tool_call_end", 9, "c2", 2, null],
      ["tool_call_end", 9, "c1", 2, null],
    ]);
  });

  test("a large requestState is not held as the key (hashed), and still pairs only its own retry", () => {
    const state = createProxyState({ includeReportTool: false });
    const big = "s".repeat(4 * 1024 * 1024);
    client(state, call(1, "a"));
    client(state, call(2, "a"));
    server(state, answer(1, INPUT(`${big}1`)));
    server(state, answer(2, INPUT(`${big}2`)));
    for (const key of state.rounds.waiting.keys()) expect(key.length).toBeLessThan(1_000);
    client(state, call(3, "a", { requestState: `${big}2`, inputResponses: {} }));
    client(state, call(4, "a", { requestState: `${big}1`, inputResponses: {} }));
    const done = [...server(state, answer(3, { content: [] }), 9), ...server(state, answer(4, { content: [] }), 9)];
    expect(summary(done).map((s) => s[2])).toEqual(["c2", "c1"]);
    // A short state is keyed as before, and a retry of another tool's large state is not paired.
    client(state, call(5, "a"));
    server(state, answer(5, INPUT(big)));
    expect(summary(client(state, call(6, "b", { requestState: big, inputResponses: {} })))).toEqual([
      ["tool_call_start", null, "c4", null, null],
    ]);
  });

  test("bounded in count: the oldest waiting call is evicted past the cap", () => {
    const state = createProxyState({ includeReportTool: false });
    const all: Action[] = [];
    for (let i = 0; i <= MAX_WAITING_ROUNDS; i++) {
      client(state, call(i, "a"));
      all.push(...server(state, answer(i, INPUT(`s${i}`))));
    }
    expect(summary(all)).toEqual([["tool_call_error", 0, "c1", 2, "evicted"]]);
  });
});

describe("multi-round reads and gets", () => {
  test("a prompts/get answered input_required ends with the round that completes it; a resources/read too", () => {
    const state = createProxyState({ includeReportTool: false });
    const get = (id: number, extra: Record<string, unknown> = {}) => ({
      jsonrpc: "2.0",
      id,
      method: "prompts/get",
      params: { name: "plan", ...extra },
    });
    const actions = [
      ...client(state, get(1), 0),
      ...server(state, answer(1, INPUT("p1")), 5),
      ...client(state, get(2, { requestState: "p1", inputResponses: { k: {} } }), 10),
      ...server(state, answer(2, { resultType: "complete", messages: [] }), 25),
      ...client(state, { jsonrpc: "2.0", id: 3, method: "resources/read", params: { uri: "a://b" } }, 30),
      ...server(state, answer(3, INPUT("r1")), 31),
    ];
    expect(
      drafts(actions).map((d) => [
        d.event_type,
        (d.payload as any).duration_ms ?? null,
        d.runtime_meta?.["baton/rounds"] ?? null,
      ]),
    ).toEqual([
      ["prompt_get_start", null, null],
      ["prompt_get_end", 25, 2],
      ["resource_read_start", null, null],
    ]);
    expect(
      drafts(failPending(state, "proxy_shutdown", "bye", 40)).map((d) => [
        d.event_type,
        (d.payload as any).error_type,
        d.runtime_meta?.["baton/rounds"],
      ]),
    ).toEqual([["resource_read_error", "proxy_shutdown", 2]]);
  });
});

describe("task handles", () => {
  const TASK = { task: { taskId: "t1", status: "working", createdAt: "x", ttl: 60_000 } };

  test("a call answered with a task ends when tasks/result answers (legacy tasks)", () => {
    const state = createProxyState({ includeReportTool: false });
    const actions = [
      ...client(state, call(1, "research", { task: { ttl: 60_000 } }), 0),
      ...server(state, answer(1, TASK), 5),
      ...client(state, { jsonrpc: "2.0", id: 2, method: "tasks/get", params: { taskId: "t1" } }, 10),
      ...server(state, answer(2, { taskId: "t1", status: "completed" }), 20),
      ...client(state, { jsonrpc: "2.0", id: 3, method: "tasks/result", params: { taskId: "t1" } }, 30),
      ...server(state, answer(3, { content: [{ type: "text", text: "report" }] }), 70),
    ];
    expect(summary(actions)).toEqual([
      ["tool_call_start", null, "c1", null, null],
      ["tool_call_end", 70, "c1", null, null],
    ]);
  });

  test.each([
    [
      "tasks/get terminal with the result (tasks extension)",
      { jsonrpc: "2.0", id: 2, method: "tasks/get", params: { taskId: "t1" } },
      answer(2, { taskId: "t1", status: "completed", result: { content: [] } }),
      ["tool_call_end", 40, "c1", null, null],
    ],
    [
      "failed status",
      { jsonrpc: "2.0", id: 2, method: "tasks/get", params: { taskId: "t1" } },
      answer(2, { task: { taskId: "t1", status: "failed", statusMessage: "quota" } }),
      ["tool_call_error", 40, "c1", null, "task_failed"],
    ],
    [
      // The client never asked (no tasks/cancel): the server cancelled it, which is no cancellation by the client.
      "status notification: cancelled by the server",
      undefined,
      { jsonrpc: "2.0", method: "notifications/tasks/status", params: { taskId: "t1", status: "cancelled" } },
      ["tool_call_error", 40, "c1", null, "task_failed"],
    ],
    [
      "tasks/cancel answered with the cancelled task (legacy tasks)",
      { jsonrpc: "2.0", id: 2, method: "tasks/cancel", params: { taskId: "t1" } },
      answer(2, { taskId: "t1", status: "cancelled" }),
      ["tool_call_error", 40, "c1", null, "cancelled"],
    ],
    [
      "status notification: cancelled after the client's tasks/cancel",
      { jsonrpc: "2.0", id: 2, method: "tasks/cancel", params: { taskId: "t1" } },
      { jsonrpc: "2.0", method: "notifications/tasks/status", params: { taskId: "t1", status: "cancelled" } },
      ["tool_call_error", 40, "c1", null, "cancelled"],
    ],
  ])("%s", (_name, poll, reply, expected) => {
    const state = createProxyState({ includeReportTool: false });
    client(state, call(1, "research"), 0);
    server(state, answer(1, TASK), 5);
    if (poll !== undefined) client(state, poll, 10);
    expect(summary(server(state, reply, 40))).toEqual([expected]);
    expect(state.rounds.tasks.size).toBe(0);
  });

  // The tasks extension of 2026-07-28 (@modelcontextprotocol/ext-tasks, "v2"): the handle is the
  // result itself (`resultType: "task"`, `ttlMs`), status arrives as `notifications/tasks` carrying the
  // detailed task (a failed one with its `error`), and `tasks/cancel` answers an empty complete result.
  const V2_TASK = {
    resultType: "task",
    taskId: "t1",
    status: "working",
    createdAt: "x",
    lastUpdatedAt: "x",
    ttlMs: 60_000,
  };

  test.each([
    [
      "notifications/tasks: completed with its result",
      undefined,
      {
        jsonrpc: "2.0",
        method: "notifications/tasks",
        params: { ...V2_TASK, resultType: undefined, status: "completed", result: { content: [] } },
      },
      ["tool_call_end", 40, "c1", null, null],
    ],
    [
      "notifications/tasks: cancelled by the server",
      undefined,
      { jsonrpc: "2.0", method: "notifications/tasks", params: { taskId: "t1", status: "cancelled" } },
      ["tool_call_error", 40, "c1", null, "task_failed"],
    ],
    [
      "tasks/cancel answered with an empty complete result",
      { jsonrpc: "2.0", id: 2, method: "tasks/cancel", params: { taskId: "t1" } },
      answer(2, { resultType: "complete" }),
      ["tool_call_error", 40, "c1", null, "cancelled"],
    ],
  ])("tasks extension: %s", (_name, poll, reply, expected) => {
    const state = createProxyState({ includeReportTool: false });
    client(state, call(1, "research"), 0);
    server(state, answer(1, V2_TASK), 5);
    if (poll !== undefined) client(state, poll, 10);
    expect(summary(server(state, reply, 40))).toEqual([expected]);
    expect(state.rounds.tasks.size).toBe(0);
  });

  test("a task the server cancelled says so in its error body; one the client cancelled says the client did", () => {
    const ended = (cancelFirst: boolean) => {
      const state = createProxyState({ includeReportTool: false });
      client(state, call(1, "research"), 0);
      server(state, answer(1, TASK), 5);
      if (cancelFirst) client(state, { jsonrpc: "2.0", id: 2, method: "tasks/cancel", params: { taskId: "t1" } }, 10);
      const actions = server(
        state,
        { jsonrpc: "2.0", method: "notifications/tasks/status", params: { taskId: "t1", status: "cancelled" } },
        40,
      );
      return drafts(actions).find((d) => d.event_type === "tool_call_error")?.payload;
    };
    expect(ended(false)).toMatchObject({ error_type: "task_failed", error_body: "the server cancelled the task" });
    expect(ended(true)).toMatchObject({
      error_type: "cancelled",
      error_body: "cancelled by the client (tasks/cancel)",
    });
  });

  test("tasks extension: a failed task's error message is the error body", () => {
    const state = createProxyState({ includeReportTool: false });
    client(state, call(1, "research"), 0);
    server(state, answer(1, V2_TASK), 5);
    const failed = {
      jsonrpc: "2.0",
      method: "notifications/tasks",
      params: { taskId: "t1", status: "failed", error: { code: -32000, message: "quota exceeded" } },
    };
    const [draft] = drafts(server(state, failed, 40));
    expect(draft?.payload).toMatchObject({ error_type: "task_failed", error_body: "quota exceeded" });
  });

  test("tasks extension: a task never seen to finish is closed after its ttlMs", () => {
    const state = createProxyState({ includeReportTool: false });
    client(state, call(1, "research"), 0);
    server(state, answer(1, V2_TASK), 5);
    expect(summary(sweepPending(state, 60_006))).toEqual([["tool_call_error", 60_006, "c1", null, "evicted"]]);
  });

  const minutes = (n: number) => n * 60_000;
  const status = (taskId: string, value: string) => ({
    jsonrpc: "2.0",
    method: "notifications/tasks/status",
    params: { taskId, status: value, createdAt: "x", lastUpdatedAt: "x", ttl: null },
  });

  test("a working task the server keeps reporting on (status notification, tasks/get answer) is followed past the hour; silence for an hour ends it", () => {
    const state = createProxyState({ includeReportTool: false });
    const unbounded = { task: { taskId: "t9", status: "working", createdAt: "x", ttl: null } };
    const all: Action[] = [];
    all.push(...client(state, call(1, "long-build"), 0));
    all.push(...server(state, answer(1, unbounded), 0));
    all.push(...server(state, status("t9", "working"), minutes(50)));
    all.push(...sweepPending(state, minutes(70)));
    all.push(...client(state, { jsonrpc: "2.0", id: 2, method: "tasks/get", params: { taskId: "t9" } }, minutes(100)));
    all.push(...server(state, answer(2, { taskId: "t9", status: "working", ttl: null }), minutes(100)));
    all.push(...sweepPending(state, minutes(150)));
    expect(summary(all)).toEqual([["tool_call_start", null, "c1", null, null]]);
    expect(summary(sweepPending(state, minutes(161)))).toEqual([
      ["tool_call_error", minutes(161), "c1", null, "evicted"],
    ]);
  });

  test("signs of life keep a task followed no longer than its own ttl, nor than a day without one", () => {
    for (const [ttl, limit] of [
      [minutes(90), minutes(90)],
      [null, PENDING_MAX_AGE_MS],
    ] as const) {
      const state = createProxyState({ includeReportTool: false });
      client(state, call(1, "endless"), 0);
      server(state, answer(1, { task: { taskId: "t1", status: "working", createdAt: "x", ttl } }), 0);
      let evictedAt: number | undefined;
      for (let at = minutes(10); evictedAt === undefined && at <= limit + minutes(120); at += minutes(10)) {
        server(state, status("t1", "working"), at);
        if (summary(sweepPending(state, at)).length > 0) evictedAt = at;
      }
      expect(evictedAt).toBeGreaterThan(limit - TASK_TTL_MS);
      expect(evictedAt).toBeLessThanOrEqual(limit);
    }
  });

  test("a task never seen to finish is closed after its ttl", () => {
    const state = createProxyState({ includeReportTool: false });
    client(state, call(1, "research"), 0);
    server(state, answer(1, TASK), 5);
    expect(summary(sweepPending(state, 30_000))).toEqual([]);
    expect(summary(sweepPending(state, 60_006))).toEqual([["tool_call_error", 60_006, "c1", null, "evicted"]]);
  });
});

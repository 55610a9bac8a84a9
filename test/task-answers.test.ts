// Unit: followed tasks (task-answers.ts): which client requests are about one, how the server's answers and status notifications end the call, and with what error body.

import { describe, expect, test } from "bun:test";
import { createProxyState, failPending, sweepPending, type Action } from "../src/proxy/transform.ts";
import { client, drafts, server } from "./support/transform-driver.ts";

const minutes = (n: number) => n * 60_000;
const call = (id: number) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name: "research", arguments: {} },
});
const answer = (id: number, result: unknown) => ({ jsonrpc: "2.0", id, result });
const request = (id: number, method: string, taskId = "t1") => ({ jsonrpc: "2.0", id, method, params: { taskId } });
const statusOf = (status: string, extra: Record<string, unknown> = {}) => ({
  jsonrpc: "2.0",
  method: "notifications/tasks/status",
  params: { taskId: "t1", status, ...extra },
});
const outcomes = (actions: readonly Action[]) =>
  drafts(actions)
    .filter((d) => d.event_type !== "tool_call_start")
    .map((d) => [d.event_type, (d.payload as any).error_type ?? null, (d.payload as any).error_body ?? null]);

/** A session whose call 1 turned into task t1 (legacy handle; `ttl` its lifetime). */
function followed(ttl: number | null = 60_000) {
  const state = createProxyState({ includeReportTool: false });
  client(state, call(1), 0);
  server(state, answer(1, { task: { taskId: "t1", status: "working", createdAt: "x", ttl } }), 0);
  expect(state.rounds.tasks.size).toBe(1);
  return state;
}

describe("the error body of a task that ended without a result", () => {
  test("a failed task: its statusMessage, else that it ended failed", () => {
    const withMessage = followed();
    expect(outcomes(server(withMessage, statusOf("failed", { statusMessage: "quota" }), 10))).toEqual([
      ["tool_call_error", "task_failed", "quota"],
    ]);
    const without = followed();
    expect(outcomes(server(without, statusOf("failed"), 10))).toEqual([
      ["tool_call_error", "task_failed", "the task ended failed"],
    ]);
  });

  test("a task the server cancelled: its statusMessage after the fact, none when empty", () => {
    const withMessage = followed();
    expect(outcomes(server(withMessage, statusOf("cancelled", { statusMessage: "maintenance" }), 10))).toEqual([
      ["tool_call_error", "task_failed", "the server cancelled the task: maintenance"],
    ]);
    const empty = followed();
    expect(outcomes(server(empty, statusOf("cancelled", { statusMessage: "" }), 10))).toEqual([
      ["tool_call_error", "task_failed", "the server cancelled the task"],
    ]);
  });

  test("a client that only polled (tasks/get) did not cancel it: the server's cancelling is a failure", () => {
    const state = followed();
    client(state, request(2, "tasks/get"), 5);
    server(state, answer(2, { taskId: "t1", status: "working" }), 6);
    expect(outcomes(server(state, statusOf("cancelled"), 10))).toEqual([
      ["tool_call_error", "task_failed", "the server cancelled the task"],
    ]);
  });
});

describe("requests about a task", () => {
  test("a request of another method naming a followed task is no request about it: its answer ends nothing", () => {
    const state = followed();
    client(state, request(2, "custom/inspect"), 5);
    expect(outcomes(server(state, answer(2, { status: "failed", statusMessage: "no" }), 6))).toEqual([]);
    expect(state.rounds.tasks.size).toBe(1);
  });

  test("a tasks/cancel of a task this session does not follow is forwarded, and its answer ends nothing", () => {
    const state = followed();
    expect(client(state, request(2, "tasks/cancel", "t-other"), 5).map((a) => a.type)).toEqual(["forward"]);
    expect(outcomes(server(state, answer(2, { taskId: "t-other", status: "cancelled" }), 6))).toEqual([]);
    // The task that is followed was not asked to cancel: the server's cancelling it is a failure.
    expect(outcomes(server(state, statusOf("cancelled"), 10))).toEqual([
      ["tool_call_error", "task_failed", "the server cancelled the task"],
    ]);
  });

  test("tasks/result ends the call once: it is no longer followed (no eviction or exit error after)", () => {
    const state = followed();
    client(state, request(2, "tasks/result"), 5);
    expect(outcomes(server(state, answer(2, { content: [] }), 10))).toEqual([["tool_call_end", null, null]]);
    expect(state.rounds.tasks.size).toBe(0);
    expect(outcomes(sweepPending(state, minutes(120)))).toEqual([]);
    expect(outcomes(failPending(state, "upstream_exit", "gone", minutes(121)))).toEqual([]);
  });

  test("a tasks/result answered after a status notification already ended the call adds nothing", () => {
    const state = followed();
    client(state, request(2, "tasks/result"), 5);
    expect(outcomes(server(state, statusOf("completed", { result: { content: [] } }), 10))).toEqual([
      ["tool_call_end", null, null],
    ]);
    expect(outcomes(server(state, answer(2, { content: [] }), 11))).toEqual([]);
  });

  test("a tasks/get answered with an error ends nothing: the task may still finish", () => {
    const state = followed();
    client(state, request(2, "tasks/get"), 5);
    const refused = { jsonrpc: "2.0", id: 2, error: { code: -32603, message: "try later" } };
    expect(outcomes(server(state, refused, 6))).toEqual([]);
    expect(state.rounds.tasks.size).toBe(1);
    expect(outcomes(server(state, statusOf("completed", { result: { content: [] } }), 10))).toEqual([
      ["tool_call_end", null, null],
    ]);
  });

  test("a tasks/cancel answered with the task still working ends nothing yet; its cancelling later is the client's", () => {
    const state = followed();
    client(state, request(2, "tasks/cancel"), 5);
    expect(outcomes(server(state, answer(2, { taskId: "t1", status: "working" }), 6))).toEqual([]);
    expect(state.rounds.tasks.size).toBe(1);
    expect(outcomes(server(state, statusOf("cancelled"), 10))).toEqual([
      ["tool_call_error", "cancelled", "cancelled by the client (tasks/cancel)"],
    ]);
  });
});

describe("a task's clock", () => {
  test("a sign of life restarts it while its ttl still fits in its lifetime, the last instant included", () => {
    // ttl 90 min: followed an hour at a time (TASK_TTL_MS), for 90 min at most.
    const state = followed(minutes(90));
    server(state, statusOf("working"), minutes(30));
    expect(outcomes(sweepPending(state, minutes(60)))).toEqual([]);
    expect(outcomes(sweepPending(state, minutes(90))).map(([type, kind]) => [type, kind])).toEqual([
      ["tool_call_error", "evicted"],
    ]);
  });
});

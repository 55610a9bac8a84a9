// Unit tests for src/proxy/pending-failures.ts: which requests failRequests ends (and answers), which it leaves pending; the sweep's clock.

import { describe, expect, test } from "bun:test";
import { createProxyState, failRequests, sweepPending, type Action } from "../src/proxy/transform.ts";
import type { JsonObject } from "../src/wire/jsonrpc.ts";
import { client, drafts, server } from "./support/transform-driver.ts";

const call = (id: number, name = "echo") => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name } });
const fresh = () => createProxyState({ includeReportTool: false });

/** The ids the client is answered with, and each answer's error data (its `baton/error_type`). */
const answered = (actions: Action[]) =>
  actions.flatMap((a) =>
    a.type === "send" && a.to === "client"
      ? [[(a.message as JsonObject).id, ((a.message as JsonObject).error as JsonObject).data]]
      : [],
  );
const outcomes = (actions: Action[]) =>
  drafts(actions).map((d) => [d.event_type, (d.payload as { error_type?: string }).error_type]);

describe("failRequests", () => {
  test("ends the named requests still tracked (answer and event each) and leaves the others pending", () => {
    const state = fresh();
    for (const id of [1, 2, 3]) client(state, call(id), 0);
    const actions = failRequests(state, [1, 3], "upstream_unreachable", "down", 5);
    expect(answered(actions)).toEqual([
      [1, { "baton/error_type": "upstream_unreachable" }],
      [3, { "baton/error_type": "upstream_unreachable" }],
    ]);
    expect(outcomes(actions)).toEqual([
      ["tool_call_error", "upstream_unreachable"],
      ["tool_call_error", "upstream_unreachable"],
    ]);
    expect([...state.pending.keys()]).toEqual([2]);
  });

  test("an id no longer tracked (answered already) is skipped, and the ids after it are still ended", () => {
    const state = fresh();
    for (const id of [1, 2]) client(state, call(id), 0);
    server(state, { jsonrpc: "2.0", id: 1, result: { content: [] } }, 1);
    const actions = failRequests(state, [1, 2], "upstream_unreachable", "down", 5);
    expect(answered(actions)).toEqual([[2, { "baton/error_type": "upstream_unreachable" }]]);
    expect(outcomes(actions)).toEqual([["tool_call_error", "upstream_unreachable"]]);
  });

  test("answerUntracked: an untracked id is answered too (its delivery failed), with no second event", () => {
    const state = fresh();
    client(state, call(2), 0);
    const actions = failRequests(state, [9, 2], "upstream_unreachable", "down", 5, true);
    expect(answered(actions)).toEqual([
      [9, { "baton/error_type": "upstream_unreachable" }],
      [2, { "baton/error_type": "upstream_unreachable" }],
    ]);
    expect(outcomes(actions)).toEqual([["tool_call_error", "upstream_unreachable"]]);
  });

  test("a null id is answered with a null id, ends nothing, and the ids after it are still ended", () => {
    const state = fresh();
    client(state, call(1), 0);
    const actions = failRequests(state, [null, 1], "upstream_unreachable", "down", 5, false, 10);
    expect(answered(actions)).toEqual([
      [null, { "baton/error_type": "upstream_unreachable" }],
      [1, { "baton/error_type": "upstream_unreachable" }],
    ]);
    expect(outcomes(actions)).toEqual([["tool_call_error", "upstream_unreachable"]]);
  });

  test("startedBefore: a request started after it reused the id and stays pending; one started at or before it ends", () => {
    const state = fresh();
    client(state, call(1), 10);
    client(state, call(2), 20);
    client(state, call(3), 21);
    const actions = failRequests(state, [1, 3, 2], "upstream_unreachable", "down", 30, false, 20);
    expect(answered(actions)).toEqual([
      [1, { "baton/error_type": "upstream_unreachable" }],
      [2, { "baton/error_type": "upstream_unreachable" }],
    ]);
    expect([...state.pending.keys()]).toEqual([3]);
    // Without startedBefore every named request ends, whenever it started.
    expect(answered(failRequests(state, [3], "upstream_unreachable", "down", 31))).toEqual([
      [3, { "baton/error_type": "upstream_unreachable" }],
    ]);
  });

  test("startedBefore with an id no longer tracked: answered when answerUntracked (it was started before, as far as is known)", () => {
    const state = fresh();
    expect(answered(failRequests(state, [4], "upstream_unreachable", "down", 30, true, 0))).toEqual([
      [4, { "baton/error_type": "upstream_unreachable" }],
    ]);
  });
});

describe("sweepPending", () => {
  const TTL = 15 * 60_000;
  const errorBody = (actions: Action[]) =>
    (drafts(actions)[0]?.payload as { error_body?: string } | undefined)?.error_body;

  test("a request unanswered for exactly 15 min is evicted, not a millisecond before, and the event says how long", () => {
    const state = fresh();
    client(state, call(1), 1000);
    expect(outcomes(sweepPending(state, 1000 + TTL - 1))).toEqual([]);
    const swept = sweepPending(state, 1000 + TTL);
    expect(outcomes(swept)).toEqual([["tool_call_error", "evicted"]]);
    expect(errorBody(swept)).toStartWith("no answer from the server after 900 s;");
  });

  test("progress restarts the 15 min, and the eviction names the silence since the last progress", () => {
    const state = fresh();
    client(state, { ...call(1), params: { name: "echo", _meta: { progressToken: "p" } } }, 0);
    const progress = { jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: "p", progress: 1 } };
    server(state, progress, 60_000);
    expect(outcomes(sweepPending(state, TTL))).toEqual([]);
    const swept = sweepPending(state, 60_000 + TTL);
    expect(outcomes(swept)).toEqual([["tool_call_error", "evicted"]]);
    expect(errorBody(swept)).toStartWith(
      "no answer or progress from the server for 900 s (its last progress came 60 s after the call);",
    );
  });
});

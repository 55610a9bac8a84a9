// Unit tests of the report fold and its JSON summary: exact percentiles, bounds, odd orders, tolerance.

import { describe, expect, test } from "bun:test";
import {
  MAX_ERRORED_CALLS,
  MAX_PENDING_CALLS,
  MAX_SLOW_CALLS,
  MAX_TRACKED_TOOLS,
  OTHER_TOOLS,
} from "../src/report/fold-calls.ts";
import { OTHER_KEY, clipText } from "../src/report/fold-values.ts";
import {
  MAX_ANNOTATIONS,
  MAX_PARAMS_CHARS,
  MAX_REDACTION_LABELS,
  MAX_TOOL_NAME_CHARS,
  createReportState,
  foldEvent,
} from "../src/report/report-state.ts";
import type { ReportState } from "../src/report/report-types.ts";
import { summarizeReport } from "../src/report/summarize-json.ts";
import {
  addDuration,
  createDurationStats,
  MAX_DURATION_SAMPLES_PER_TOOL,
  percentile,
} from "../src/report/duration-stats.ts";
import type { BatonEvent } from "../src/telemetry/event-types.ts";
import { makeCall, makeEvent } from "./fixtures/report/build-events.ts";

function fold(events: readonly BatonEvent[]): ReportState {
  const state = createReportState();
  for (const event of events) foldEvent(state, event);
  return state;
}

/** Calls of one tool with the given durations, each start immediately followed by its end. */
function callsWithDurations(tool: string, durations: readonly number[]): BatonEvent[] {
  return durations.flatMap((ms, i) => makeCall(i * 2, `${tool}-${i}`, tool, { i }, { durationMs: ms }));
}

describe("percentile (nearest rank)", () => {
  test.each([
    [[], 50, null],
    [[7], 50, 7],
    [[7], 95, 7],
    [[1, 2], 50, 1],
    [[1, 2], 95, 2],
    [[1, 2, 3, 4], 50, 2],
    [Array.from({ length: 20 }, (_, i) => i + 1), 95, 19],
    [Array.from({ length: 100 }, (_, i) => i + 1), 50, 50],
    [Array.from({ length: 100 }, (_, i) => i + 1), 95, 95],
    [Array.from({ length: 100 }, (_, i) => i + 1), 100, 100],
  ])("%j at p%p is %p", (values, p, expected) => {
    expect(percentile(values, p)).toBe(expected);
  });
});

describe("foldEvent: calls and durations", () => {
  test("p50/p95/max are exact for a small session, whatever the order the durations came in", () => {
    const durations = Array.from({ length: 200 }, (_, i) => ((i * 37) % 200) + 1); // 1..200 shuffled
    const tool = summarizeReport(fold(callsWithDurations("t", durations))).tools[0];
    expect(tool).toMatchObject({
      tool: "t",
      calls: 200,
      ok: 200,
      errors: 0,
      p50_ms: 100,
      p95_ms: 190,
      max_ms: 200,
      mean_ms: 100.5,
      percentiles_exact: true,
    });
  });

  test("interleaved calls are matched by call id, and errored calls keep their own input", () => {
    const [startA, endA] = makeCall(
      1,
      "a",
      "search",
      { q: "a" },
      { durationMs: 10, errorType: "jsonrpc_-32602", errorBody: "bad a" },
    );
    const [startB, endB] = makeCall(3, "b", "search", { q: "b" }, { durationMs: 20 });
    const [startC, endC] = makeCall(
      5,
      "c",
      "fetch",
      { url: "c" },
      { durationMs: 30, errorType: "tool_error", errorBody: "bad c" },
    );
    const state = fold([startA, startB, startC, endC, endB, endA]);
    expect(state.errored.map((c) => [c.tool, c.paramsJson, c.errorBody])).toEqual([
      ["fetch", '{"url":"c"}', "bad c"],
      ["search", '{"q":"a"}', "bad a"],
    ]);
    expect(state.pending.size).toBe(0);
    expect(summarizeReport(state).totals).toMatchObject({ calls: 3, ok: 1, errors: 2, no_outcome: 0 });
  });

  test("an outcome folded before its start counts once and gets the start's input", () => {
    const [start, error] = makeCall(1, "x", "t", { late: true }, { durationMs: 5, errorType: "cancelled" });
    const state = fold([error, start]);
    expect(summarizeReport(state).totals).toMatchObject({ calls: 1, errors: 1, no_outcome: 0 });
    expect(state.errored[0]?.paramsJson).toBe('{"late":true}');
  });

  test("a slow ok call whose outcome came before its start is listed slow with the start's input", () => {
    const [start, end] = makeCall(1, "s1", "t", { big: 1 }, { durationMs: 9_000 });
    const state = fold([end, start]);
    expect(state.slowest.map((c) => [c.tool, c.paramsJson, c.durationMs])).toEqual([["t", '{"big":1}', 9_000]]);
    expect(state.orphans.size).toBe(0); // the start took its outcome's records: nothing waits for it any more
  });

  test("forgetting the oldest start without a call id also drops it from its tool's queue: the next outcome pairs with the next start", () => {
    const events = Array.from({ length: MAX_PENDING_CALLS + 1 }, (_, i) =>
      makeEvent("tool_call_start", i, { tool_name: "t", params: { n: i } }),
    );
    events.push(makeEvent("tool_call_end", MAX_PENDING_CALLS + 1, { tool_name: "t", result: [], duration_ms: 99_999 }));
    const state = fold(events);
    expect(state.slowest.map((c) => c.paramsJson)).toEqual(['{"n":1}']); // n 0 was forgotten
    expect(state.pending.size).toBe(MAX_PENDING_CALLS - 1);
  });

  test("outcomes waiting for their start are bounded too: beyond MAX_PENDING_CALLS the oldest stops waiting, still counted", () => {
    const events = Array.from({ length: MAX_PENDING_CALLS + 2 }, (_, i) =>
      makeEvent(
        "tool_call_error",
        i,
        { tool_name: "t", error_type: "tool_error", error_body: "x", duration_ms: 1 },
        {
          callId: `o${i}`,
        },
      ),
    );
    const state = fold(events);
    expect(state.orphans.size).toBe(MAX_PENDING_CALLS);
    expect([state.orphans.has("o0"), state.orphans.has("o1"), state.orphans.has("o2")]).toEqual([false, false, true]);
    expect(summarizeReport(state).totals).toMatchObject({
      calls: MAX_PENDING_CALLS + 2,
      errors: MAX_PENDING_CALLS + 2,
    });
  });

  test("two calls of a tool without call ids, both in flight, each pair with their own start", () => {
    const start = (seq: number, n: number): BatonEvent =>
      makeEvent("tool_call_start", seq, { tool_name: "a", params: { n } });
    const end = (seq: number, ms: number): BatonEvent =>
      makeEvent("tool_call_end", seq, { tool_name: "a", result: [], duration_ms: ms });
    const state = fold([start(1, 1), start(2, 2), end(3, 900), end(4, 800)]);
    expect(state.slowest.map((c) => c.paramsJson)).toEqual(['{"n":1}', '{"n":2}']);
    expect(state.pending.size).toBe(0);
  });

  test("slow calls of the same duration are listed earlier call first", () => {
    const state = fold([
      ...makeCall(1, "c1", "t", { n: 1 }, { durationMs: 500 }),
      ...makeCall(3, "c2", "t", { n: 2 }, { durationMs: 500 }),
    ]);
    expect(state.slowest.map((c) => c.paramsJson)).toEqual(['{"n":1}', '{"n":2}']);
  });

  test("a repeated error folds into its earlier entry without taking the entry after it along", () => {
    const state = fold([
      ...makeCall(1, "c1", "t", { x: 1 }, { durationMs: 1, errorType: "tool_error", errorBody: "A" }),
      ...makeCall(3, "c2", "t", { y: 1 }, { durationMs: 1, errorType: "tool_error", errorBody: "B" }),
      ...makeCall(5, "c3", "t", { x: 1 }, { durationMs: 1, errorType: "tool_error", errorBody: "A" }),
    ]);
    expect(state.errored.map((c) => [c.errorBody, c.repeats])).toEqual([
      ["B", 1],
      ["A", 2],
    ]);
  });

  test("a start without an outcome is reported as no outcome, with its input", () => {
    const state = fold([makeEvent("tool_call_start", 1, { tool_name: "t", params: { a: 1 } }, { callId: "open" })]);
    const summary = summarizeReport(state);
    expect(summary.totals).toMatchObject({ calls: 1, no_outcome: 1, errors: 0 });
    expect(summary.tools[0]).toMatchObject({ tool: "t", calls: 1, no_outcome: 1, p50_ms: null, error_rate: 0 });
    expect([...state.pending.values()][0]?.paramsJson).toBe('{"a":1}');
  });

  test("starts without a call id match outcomes of the same tool, oldest first", () => {
    const start = (seq: number, tool: string, n: number): BatonEvent =>
      makeEvent("tool_call_start", seq, { tool_name: tool, params: { n } });
    const end = (seq: number, tool: string, ms: number): BatonEvent =>
      makeEvent("tool_call_end", seq, { tool_name: tool, result: [], duration_ms: ms });
    const state = fold([start(1, "a", 1), start(2, "b", 2), start(3, "a", 3), end(4, "a", 900), end(5, "b", 800)]);
    expect(state.slowest.map((c) => [c.tool, c.paramsJson])).toEqual([
      ["a", '{"n":1}'],
      ["b", '{"n":2}'],
    ]);
    expect([...state.pending.values()].map((c) => c.paramsJson)).toEqual(['{"n":3}']);
  });

  test("errors are counted by type, per tool and overall", () => {
    const events = [
      ...makeCall(1, "1", "t", {}, { durationMs: 1, errorType: "jsonrpc_-32602" }),
      ...makeCall(3, "2", "t", {}, { durationMs: 1, errorType: "jsonrpc_-32602" }),
      ...makeCall(5, "3", "u", {}, { durationMs: 1, errorType: "upstream_exit" }),
      ...makeCall(7, "4", "u", {}, { durationMs: null }),
    ];
    const summary = summarizeReport(fold(events));
    expect(summary.error_types).toEqual({ "jsonrpc_-32602": 2, upstream_exit: 1 });
    expect(summary.tools.map((t) => [t.tool, t.errors, t.error_rate, t.error_types])).toEqual([
      ["t", 2, 1, { "jsonrpc_-32602": 2 }],
      ["u", 1, 0.5, { upstream_exit: 1 }],
    ]);
  });
});

describe("summarizeReport: error_rate", () => {
  test("a rare error keeps a non-zero rate (four significant digits, not four decimal places: 1 in 30 000 read 0)", () => {
    const events = [...makeCall(1, "1", "t", {}, { durationMs: 1, errorType: "jsonrpc_-32602" })];
    for (let i = 0; i < 29_999; i++) events.push(...makeCall(3 + 2 * i, `ok-${i}`, "t", {}, { durationMs: 1 }));
    const [tool] = summarizeReport(fold(events)).tools;
    expect(tool).toMatchObject({ calls: 30_000, errors: 1, error_rate: 0.00003333 });
  });
});

describe("foldEvent: privacy counts and what annotations follow", () => {
  test("baton/scrubbed and baton/truncated add up over events into the summary; odd values are ignored", () => {
    const events = [
      makeEvent(
        "annotation",
        1,
        { intent: "a" },
        { meta: { "baton/scrubbed": { email: 1, token: 2 }, "baton/truncated": 3 } },
      ),
      makeEvent(
        "annotation",
        2,
        { intent: "b" },
        {
          meta: {
            "baton/scrubbed": { token: 1, zero: 0, neg: -4, frac: 0.5, text: "2", "": 1 },
            "baton/truncated": "9",
          },
        },
      ),
      makeEvent("annotation", 3, { intent: "c" }, { meta: { "baton/scrubbed": [1, 2], "baton/truncated": -1 } }),
    ];
    const summary = summarizeReport(fold(events));
    expect(summary.redactions).toEqual({ token: 3, email: 1 });
    expect(summary.totals.truncated_values).toBe(3);
    expect(summarizeReport(createReportState())).toMatchObject({ redactions: {}, totals: { truncated_values: 0 } });
  });

  test("tool names are clipped to MAX_TOOL_NAME_CHARS: 10 000 calls in flight with 64 KiB names (the scrub's field cap) cannot pin 640 MB", () => {
    const name = (i: number) => `${i}-${"n".repeat(64 * 1024)}`;
    const state = fold(
      Array.from({ length: 50 }, (_, i) =>
        makeEvent("tool_call_start", i, { tool_name: name(i), params: {} }, { callId: `c${i}` }),
      ),
    );
    const held = [...state.pending.values()].map((call) => call.tool.length);
    expect(held).toHaveLength(50);
    expect(Math.max(...held)).toBeLessThanOrEqual(MAX_TOOL_NAME_CHARS);
    // A start and its outcome still meet under the clipped name.
    foldEvent(
      state,
      makeEvent("tool_call_end", 99, { tool_name: name(0), result: [], duration_ms: 1 }, { callId: "c0" }),
    );
    expect(state.tools.get(clipText(name(0), MAX_TOOL_NAME_CHARS))?.ok).toBe(1);
  });

  test("redaction labels are capped at MAX_REDACTION_LABELS; further labels pool under OTHER_KEY", () => {
    const scrubbed = Object.fromEntries(Array.from({ length: MAX_REDACTION_LABELS + 5 }, (_, i) => [`label${i}`, 1]));
    const state = fold([makeEvent("annotation", 1, { intent: "a" }, { meta: { "baton/scrubbed": scrubbed } })]);
    expect(state.redactions.size).toBe(MAX_REDACTION_LABELS + 1);
    expect(state.redactions.get(OTHER_KEY)).toBe(5);
  });

  test("each tool remembers its first error's sequence number, and annotations are counted per tool", () => {
    const events = [
      makeEvent("annotation", 1, { intent: "before", tool_name: "t" }),
      ...makeCall(5, "b", "t", {}, { durationMs: 1, errorType: "tool_error" }),
      ...makeCall(2, "a", "t", {}, { durationMs: 1, errorType: "cancelled" }),
      makeEvent("annotation", 8, { intent: "after", tool_name: "t" }),
      makeEvent("annotation", 9, { intent: "elsewhere", tool_name: "u" }),
    ];
    const state = fold(events);
    expect(state.tools.get("t")?.firstErrorSeq).toBe(3);
    expect([...state.annotationsByTool]).toEqual([
      ["t", 2],
      ["u", 1],
    ]);
  });
});

describe("foldEvent: bounds", () => {
  test("errored calls keep the most recent MAX_ERRORED_CALLS and count them all", () => {
    const events = Array.from({ length: MAX_ERRORED_CALLS + 15 }, (_, i) =>
      makeCall(i * 2, `e${i}`, "t", { i }, { durationMs: 1, errorType: "tool_error", errorBody: `#${i}` }),
    ).flat();
    const state = fold(events);
    expect(state.erroredTotal).toBe(MAX_ERRORED_CALLS + 15);
    expect(state.errored).toHaveLength(MAX_ERRORED_CALLS);
    expect(state.errored[0]?.errorBody).toBe("#15");
    expect(state.errored.at(-1)?.errorBody).toBe(`#${MAX_ERRORED_CALLS + 14}`);
  });

  test("slowest keeps the MAX_SLOW_CALLS slowest, slowest first", () => {
    const durations = Array.from({ length: 100 }, (_, i) => (i * 61) % 100);
    const state = fold(callsWithDurations("t", durations));
    expect(state.slowest.map((c) => c.durationMs)).toEqual(Array.from({ length: MAX_SLOW_CALLS }, (_, i) => 99 - i));
    expect(summarizeReport(state, { slowCallMs: 90 }).totals).toMatchObject({ slow_calls: 10, slow_calls_exact: true });
  });

  test("annotations keep the first MAX_ANNOTATIONS and count every signal", () => {
    const events = Array.from({ length: MAX_ANNOTATIONS + 5 }, (_, i) =>
      makeEvent("annotation", i, { intent: `n${i}`, signal_type: i % 2 === 0 ? "failure" : null }),
    );
    const state = fold(events);
    expect(state.annotations).toHaveLength(MAX_ANNOTATIONS);
    expect(state.annotations[0]?.intent).toBe("n0");
    expect(summarizeReport(state).annotations_by_signal).toEqual({ failure: 28, "(none)": 27 });
  });

  test("pending starts are capped at MAX_PENDING_CALLS, the oldest forgotten and counted", () => {
    const events = Array.from({ length: MAX_PENDING_CALLS + 3 }, (_, i) =>
      makeEvent("tool_call_start", i, { tool_name: "t", params: {} }, { callId: `p${i}` }),
    );
    const state = fold(events);
    expect(state.pending.size).toBe(MAX_PENDING_CALLS);
    expect(state.pending.has("p0")).toBe(false);
    expect(state.pending.has(`p${MAX_PENDING_CALLS + 2}`)).toBe(true);
    expect(summarizeReport(state).totals).toMatchObject({ no_outcome: MAX_PENDING_CALLS, no_outcome_untracked: 3 });
  });

  test("eviction stays oldest-first while outcomes close calls anywhere and starts repeat a call id", () => {
    // A reference model (an array in insertion order) against the fold, through three eviction waves.
    const model: string[] = [];
    const state = createReportState();
    let seq = 0;
    const start = (id: string): void => {
      foldEvent(state, makeEvent("tool_call_start", seq++, { tool_name: "t", params: {} }, { callId: id }));
      const at = model.indexOf(id);
      if (at !== -1) model.splice(at, 1);
      model.push(id);
      if (model.length > MAX_PENDING_CALLS) model.shift();
    };
    const end = (id: string): void => {
      foldEvent(
        state,
        makeEvent("tool_call_end", seq++, { tool_name: "t", result: [], duration_ms: 1 }, { callId: id }),
      );
      const at = model.indexOf(id);
      if (at !== -1) model.splice(at, 1);
    };
    for (let i = 0; i < MAX_PENDING_CALLS + 50; i++) start(`a${i}`);
    for (let i = 60; i < 5000; i += 7) end(`a${i}`); // from the middle and near the head
    end(`a${50}`); // the current oldest
    start("a100"); // a repeated id moves to the newest place
    for (let i = 0; i < 2000; i++) start(`b${i}`);
    for (let i = 0; i < 300; i++) end(`b${i * 3}`);
    for (let i = 0; i < MAX_PENDING_CALLS; i++) start(`c${i % 7000}`);
    expect([...state.pending.keys()]).toEqual(model);
  });

  test("duration samples stop growing at the cap; count and max stay exact; the sample is deterministic", () => {
    const n = MAX_DURATION_SAMPLES_PER_TOOL + 5000;
    const durations = Array.from({ length: n }, (_, i) => i % 1000);
    durations[n - 1] = 123_456;
    const first = fold(callsWithDurations("t", durations));
    const stats = first.tools.get("t")?.durations;
    expect(stats?.samples).toHaveLength(MAX_DURATION_SAMPLES_PER_TOOL);
    expect(stats?.count).toBe(n);
    const summary = summarizeReport(first, { slowCallMs: 500 }).tools[0];
    expect(summary).toMatchObject({ calls: n, max_ms: 123_456, percentiles_exact: false });
    expect(Math.abs((summary?.p50_ms ?? 0) - 500)).toBeLessThan(50);
    expect(fold(callsWithDurations("t", durations)).tools.get("t")?.durations.samples).toEqual(stats?.samples ?? []);
    expect(summarizeReport(first, { slowCallMs: 500 }).totals.slow_calls_exact).toBe(false);
  });

  test("the reservoir keeps the sample Algorithm R with a uint32 xorshift32 keeps, its state always an int32", () => {
    // Reference: the generator as a uint32, the way the sample was first defined.
    const reference: number[] = [];
    let rng = 0x9e3779b9;
    const stats = createDurationStats();
    const n = MAX_DURATION_SAMPLES_PER_TOOL * 3 + 7;
    let int32State = true;
    for (let i = 0; i < n; i++) {
      const ms = (i * 7919) % 1000;
      addDuration(stats, ms);
      // One number kind in the field: the JIT recompiles code that sees both an int and a double there.
      int32State &&= stats.rng === (stats.rng | 0);
      if (reference.length < MAX_DURATION_SAMPLES_PER_TOOL) {
        reference.push(ms);
        continue;
      }
      rng ^= rng << 13;
      rng ^= rng >>> 17;
      rng ^= rng << 5;
      rng >>>= 0;
      const slot = rng % (i + 1);
      if (slot < MAX_DURATION_SAMPLES_PER_TOOL) reference[slot] = ms;
    }
    expect(int32State).toBe(true);
    expect(stats.count).toBe(n);
    expect(stats.samples).toEqual(reference);
  });

  test("tools beyond MAX_TRACKED_TOOLS are pooled", () => {
    const events = Array.from({ length: MAX_TRACKED_TOOLS + 10 }, (_, i) =>
      makeCall(i * 2, `c${i}`, `tool${i}`, {}, { durationMs: 1 }),
    ).flat();
    const state = fold(events);
    expect(state.tools.size).toBe(MAX_TRACKED_TOOLS + 1);
    expect(state.tools.get(OTHER_TOOLS)?.ok).toBe(10);
    expect(summarizeReport(state).totals.calls).toBe(MAX_TRACKED_TOOLS + 10);
  });

  test("the pool of tools past MAX_TRACKED_TOOLS has no retries and no last outcome: its calls are of different tools", () => {
    const named = Array.from({ length: MAX_TRACKED_TOOLS }, (_, i) =>
      makeCall(i * 2, `c${i}`, `tool${i}`, {}, { durationMs: 1 }),
    ).flat();
    // Ten different late tools, each failing once with the same (empty) input: nobody called a tool again.
    const late = Array.from({ length: 10 }, (_, i) =>
      makeCall(1000 + i * 2, `l${i}`, `late${i}`, {}, { durationMs: 1, errorType: "tool_error" }),
    ).flat();
    const pool = summarizeReport(fold([...named, ...late])).tools.find((t) => t.tool === OTHER_TOOLS);
    expect(pool).toMatchObject({ calls: 10, errors: 10, retries: 0, retries_same_input: 0, last_failed: null });
  });

  test("params are kept as compact JSON of at most MAX_PARAMS_CHARS characters", () => {
    const state = fold([
      makeEvent("tool_call_start", 1, { tool_name: "t", params: { blob: "x".repeat(10_000) } }, { callId: "big" }),
    ]);
    const kept = state.pending.get("big")?.paramsJson ?? "";
    expect(kept.length).toBe(MAX_PARAMS_CHARS);
    expect(kept.startsWith('{"blob":"xxx')).toBe(true);
    expect(kept.endsWith("…")).toBe(true);
  });
});

describe("foldEvent: envelope and tolerance", () => {
  test("window, client and server come from the envelopes, in any order", () => {
    const events = [
      makeEvent("annotation", 3, { intent: "x" }, { at: 5000, client: "unknown" }),
      makeEvent(
        "annotation",
        1,
        { intent: "y" },
        { at: 1000, client: "claude-code", meta: { "baton/server": "srv 1.0" } },
      ),
      makeEvent("annotation", 2, { intent: "z" }, { at: 3000, client: "unknown" }),
    ];
    const summary = summarizeReport(fold(events));
    expect(summary).toMatchObject({ client: "claude-code", server: "srv 1.0", window: { duration_ms: 4000 } });
    expect(summary.window.first).toBe("2026-08-10T12:00:01.000000Z");
    expect(summary.totals.dropped_events).toBe(0);
  });

  test("dropped events are the events missing from what was read: gaps in the session's sequence numbers", () => {
    const at = (seq: number) => makeEvent("annotation", seq, { intent: "x" });
    expect(summarizeReport(fold([at(1), at(2), at(6), at(7), at(9)])).totals.dropped_events).toBe(4);
    expect(summarizeReport(fold([at(0), at(1), at(2)])).totals.dropped_events).toBe(0); // a producer counting from 0
    expect(summarizeReport(fold([at(1), at(2), at(2), at(3)])).totals.dropped_events).toBe(0); // a line written twice
    // The first events missing (a full disk at the start; the shared event file deleted or rotated
    // under the sink): the session's first sequence number is 1, so they are missing too.
    expect(summarizeReport(fold([at(4), at(5)])).totals.dropped_events).toBe(3);
  });

  test("baton/dropped_events counts deliveries any sink lost, not events missing here: a complete file shows none", () => {
    // The proxy stamps how many deliveries were dropped so far, whichever sink lost them (a console
    // that is down); the file these events were read from holds every one of them.
    const events = [1, 2, 3].map((seq) =>
      makeEvent("annotation", seq, { intent: "x" }, { meta: { "baton/dropped_events": seq * 2 } }),
    );
    expect(summarizeReport(fold(events)).totals.dropped_events).toBe(0);
  });

  test("the server name falls back to a surface snapshot's server_info", () => {
    const snapshot = makeEvent("surface_snapshot", 1, {
      surface_hash: "h",
      server_info: { name: "weather", version: "0.4.0" },
    });
    expect(summarizeReport(fold([snapshot])).server).toBe("weather 0.4.0");
  });

  test.each([
    ["payload null", { payload: null }],
    ["duration not a number", { payload: { tool_name: "t", duration_ms: "slow" } }],
    ["tool name missing", { payload: { error_type: 5 } }],
    ["runtime_meta an array", { runtime_meta: [1, 2] }],
    ["unknown event type", { event_type: "something_new" }],
  ])("odd event (%s) is folded without throwing", (_, patch) => {
    const base = makeEvent("tool_call_error", 1, {}, { callId: "z" });
    const state = createReportState();
    expect(() => foldEvent(state, { ...base, ...patch } as unknown as BatonEvent)).not.toThrow();
    expect(state.events).toBe(1);
    expect(() => summarizeReport(state)).not.toThrow();
  });

  test("clipText never splits a surrogate pair", () => {
    expect(clipText("ab😀cd", 4)).toBe("ab…");
    expect(clipText("abc", 3)).toBe("abc");
    expect(clipText("abcdef", 4)).toBe("abc…");
  });
});

describe("intents, resources and prompts, surfaces", () => {
  test("the signals fixture: errored calls keep the agent's intent; resources/prompts counted; failures and slow ones kept; surface digested", async () => {
    const text = await Bun.file(`${import.meta.dir}/fixtures/report/signals.jsonl`).text();
    const state = fold(
      text
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as BatonEvent),
    );
    expect(state.errored.map((c) => [c.tool, c.intent, c.expected])).toEqual([
      ["get_page", "open the rate-limit page", "the limits per plan"],
    ]);
    const summary = summarizeReport(state, { slowCallMs: 1000 });
    expect(summary.resources_prompts).toEqual({
      "resources/list": { count: 1, errors: 0 },
      "resources/read": { count: 1, errors: 1 },
      "prompts/get": { count: 1, errors: 0 },
    });
    expect(state.subjects.failures.map((f) => [f.kind, f.subject, f.errorType])).toEqual([
      ["resource_read", "docs://api/limits", "jsonrpc_-32002"],
    ]);
    expect(state.subjects.slowest[0]).toMatchObject({
      kind: "prompt_get",
      subject: "summarize_page",
      durationMs: 2400,
    });
    expect([summary.surface_hash, summary.surfaces, [...(state.surface?.tools.keys() ?? [])]]).toEqual([
      "sha256:1f0c5a6e3b2d4c1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e",
      1,
      ["search_docs", "get_page"],
    ]);
  });

  test("an outcome folded before its start still gets the start's intent", () => {
    const state = fold([
      makeEvent(
        "tool_call_error",
        2,
        { tool_name: "t", error_type: "tool_error", error_body: "x", duration_ms: 1 },
        { callId: "c9" },
      ),
      makeEvent(
        "tool_call_start",
        1,
        { tool_name: "t", params: {}, call_intent: "why", call_expected: "what" },
        { callId: "c9" },
      ),
    ]);
    expect(state.errored.map((c) => [c.intent, c.expected])).toEqual([["why", "what"]]);
  });
});

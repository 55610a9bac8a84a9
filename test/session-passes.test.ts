// The report's second pass over an event file (src/report/session-passes.ts): one session folded in sequence order, each event once, without holding the session when it is already in order.

import { describe, expect, test } from "bun:test";
import type { ReadLines } from "../src/report/read-s3.ts";
import { createReportState, foldEvent } from "../src/report/report-state.ts";
import type { ReportState } from "../src/report/report-types.ts";
import { countOnce, foldSession } from "../src/report/session-passes.ts";
import { readEventsText } from "./support/read-events-text.ts";
import { summarizeReport } from "../src/report/summarize-json.ts";
import type { BatonEvent } from "../src/telemetry/event-types.ts";
import { makeCall, makeEvent } from "./fixtures/report/build-events.ts";

/** 300 calls of 3 tools (every seventh fails) and a note, in sequence order, plus another session's lines between them. */
function sessionEvents(): BatonEvent[] {
  const calls = Array.from({ length: 300 }, (_, i) =>
    makeCall(
      i * 2 + 1,
      `c${i}`,
      `tool_${i % 3}`,
      { i },
      { durationMs: i, ...(i % 7 === 0 ? { errorType: "tool_error" } : {}) },
    ),
  ).flat();
  return [...calls, makeEvent("annotation", 601, { intent: "note", signal_type: "other" })];
}

const other = (i: number): string =>
  JSON.stringify(makeEvent("annotation", i, { intent: "x" }, { session: "someone-else" }));

function readerOf(lines: readonly string[]): ReadLines {
  return async function* () {
    yield* lines;
  };
}

function sortedFold(events: readonly BatonEvent[]): ReportState {
  const state = createReportState();
  for (const event of [...events].sort((a, b) => a.sequence_number - b.sequence_number)) foldEvent(state, event);
  return state;
}

describe("foldSession", () => {
  test("a session in sequence order is folded as it is read (each event before the next line), so its events are never held", async () => {
    const events = sessionEvents();
    const session = events[0]?.session_id ?? "";
    // Another session's lines between this one's, as in a file several proxies share.
    const lines = events.flatMap((e, i) => [JSON.stringify(e), other(i)]);
    const states: ReportState[] = [];
    const folded: number[] = [];
    const read: ReadLines = async function* () {
      for (const line of lines) {
        folded.push(states[0]?.events ?? 0);
        yield line;
      }
    };
    const result = await foldSession(read, session, () => {
      const state = createReportState();
      states.push(state);
      return state;
    });
    expect(result.duplicates).toBe(0);
    expect(states).toHaveLength(1);
    expect(summarizeReport(result.state)).toEqual(summarizeReport(sortedFold(events)));
    // When line 2k is asked for, the session's k events before it are folded already.
    expect(folded).toEqual(lines.map((_, i) => Math.ceil(i / 2)));
  });

  test("out of order, or with an event read twice: the session is sorted and each event counted once", async () => {
    const events = sessionEvents();
    const session = events[0]?.session_id ?? "";
    const lines = events.map((e) => JSON.stringify(e));
    const shuffled = [...lines.slice(200), ...lines.slice(0, 200)];
    const outOfOrder = await foldSession(readerOf(shuffled), session);
    expect(summarizeReport(outOfOrder.state)).toEqual(summarizeReport(sortedFold(events)));
    const twice = await foldSession(readerOf([...lines, ...lines.slice(0, 50)]), session);
    expect(twice.duplicates).toBe(50);
    expect(summarizeReport(twice.state)).toEqual(summarizeReport(sortedFold(events)));
  });
});

describe("countOnce", () => {
  test("sessions out of order are recounted once per event_id, the latest first, within the ids it may hold; the rest say so", async () => {
    const session = (id: string, at: number): string[] =>
      makeCall(1, `${id}-c`, "alpha", {}, { durationMs: 1 }, at).map((e) =>
        JSON.stringify({ ...e, session_id: id, event_id: `${id}-${e.sequence_number}` }),
      );
    const [old, recent, tidy] = [session("old", 0), session("recent", 60_000), session("tidy", 30_000)];
    const lines = [...old, ...old, ...recent, ...recent, ...tidy];
    const { index } = readEventsText(lines.join("\n"));
    expect(await countOnce(readerOf(lines), index, 4)).toEqual({ duplicates: 2, unchecked: 1 });
    expect([...index.sessions.values()].map((s) => [s.sessionId, s.events, s.calls])).toEqual([
      ["old", 4, 2],
      ["recent", 2, 1],
      ["tidy", 2, 1],
    ]);
  });
});

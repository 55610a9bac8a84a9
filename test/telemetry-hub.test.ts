// Unit: the telemetry hub's per-session streams: a lazily built draft is built in the background, in emission order, and a failing one is dropped and counted.

import { describe, expect, test } from "bun:test";
import { loadConfig } from "../src/config.ts";
import type { AnnotationPayload, BatonEvent, EventDraft } from "../src/telemetry/event-types.ts";
import { createTelemetryHub } from "../src/telemetry/telemetry-hub.ts";
import { assertValidEvent } from "./support/events.ts";
import { createMemoryLogger } from "./support/memory-logger.ts";
import { memorySink } from "./support/memory-sink.ts";

function hubWithMemorySink() {
  const loaded = loadConfig({ BATON_EVENT_SINK: "stderr:" });
  if (!loaded.ok) throw new Error(loaded.problems.join("; "));
  const events: BatonEvent[] = [];
  const logger = createMemoryLogger();
  const hub = createTelemetryHub({
    config: loaded.config,
    logger,
    sinks: [memorySink(events)],
  });
  return { hub, events, logger };
}

const annotation = (intent: string): EventDraft => ({
  event_type: "annotation",
  agent_runtime: "unknown",
  runtime_meta: null,
  payload: {
    intent,
    expected_outcome: null,
    signal_type: null,
    workflow: null,
    suggested_improvement: null,
    context: null,
    intent_source: null,
    tool_name: null,
  },
});
const intents = (events: readonly BatonEvent[]) => events.map((e) => (e.payload as AnnotationPayload).intent);

describe("lazy drafts", () => {
  test("are built in the background, not at emit, and keep their place in the session's order", async () => {
    const { hub, events } = hubWithMemorySink();
    const session = hub.openSession();
    let built = 0;
    session.emit(annotation("first"));
    session.emit(() => {
      built++;
      return annotation("second");
    });
    session.emit(annotation("third"));
    expect(built).toBe(0);
    await hub.shutdown(1_000);
    expect(built).toBe(1);
    expect(intents(events)).toEqual(["first", "second", "third"]);
    expect(events.map((e) => e.sequence_number)).toEqual([1, 2, 3]);
    for (const event of events) assertValidEvent(event);
  });

  test("one that throws is dropped and counted; the others still go out", async () => {
    const { hub, events, logger } = hubWithMemorySink();
    const session = hub.openSession();
    session.emit(() => {
      throw new Error("bad bytes");
    });
    session.emit(annotation("kept"));
    await hub.shutdown(1_000);
    expect(intents(events)).toEqual(["kept"]);
    expect(hub.dropped).toBe(1);
    expect(logger.lines.join("\n")).toContain("bad bytes");
  });
});

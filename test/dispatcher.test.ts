// Unit tests for src/telemetry/dispatcher.ts: fake clock and fake sinks, no real timers, no sleeps.

import { describe, expect, test } from "bun:test";
import { createMemoryLogger } from "./support/memory-logger.ts";
import { LocalError } from "../src/errors.ts";
import type { BatonEvent } from "../src/telemetry/event-types.ts";
import type { Sink } from "../src/telemetry/sinks/sink.ts";
import {
  createDispatcher,
  DROP_LOG_INTERVAL_MS,
  PREPARE_INTERVAL_MS,
  PREPARE_SLICE_BUDGET_MS,
  PREPARE_SLICE_EVENTS,
  SYSTEM_CLOCK,
  type DispatcherOptions,
} from "../src/telemetry/dispatcher.ts";
import { SLOW_FLUSH_MS } from "../src/telemetry/sink-lane.ts";
import { createFakeClock } from "./support/fake-clock.ts";
import { PACED_FALLBACK_MS } from "../src/telemetry/background-turns.ts";

type Mode = "ok" | "hang" | "fail" | "manual";

/** A sink that records lines and flush batch sizes; `manual` flushes wait for `release()`, which also turns it healthy. */
function createFakeSink(label: string, initialMode: Mode = "ok") {
  let mode = initialMode;
  const lines: string[] = [];
  const batches: number[] = [];
  const waiting: Array<() => void> = [];
  let batch = 0;
  let closes = 0;
  const sink: Sink = {
    label,
    write: (_event, line) => void (lines.push(line), batch++),
    flush() {
      batches.push(batch);
      batch = 0;
      if (mode === "hang") return new Promise<void>(() => {});
      if (mode === "fail") return Promise.reject(new LocalError("E_SINK", `${label}: HTTP 500`));
      if (mode === "manual") return new Promise<void>((resolve) => waiting.push(resolve));
      return Promise.resolve();
    },
    close: async () => void closes++,
  };
  return {
    sink,
    lines,
    batches,
    closes: () => closes,
    release: () => {
      mode = "ok";
      for (const resolve of waiting.splice(0)) resolve();
    },
    seqs: () => lines.map((l) => (JSON.parse(l) as BatonEvent).sequence_number),
  };
}

function makeEvent(sequence: number): BatonEvent {
  return {
    event_id: `00000000-0000-7000-8000-${String(sequence).padStart(12, "0")}`,
    tenant_id: "local",
    vendor_id: "unknown",
    session_id: "s",
    sequence_number: sequence,
    captured_at: "2025-01-01T00:00:00.000000Z",
    consent_token: "local",
    sdk_version: "baton-proxy/0.0.0",
    agent_runtime: "test",
    user_id: null,
    runtime_meta: null,
    event_type: "annotation",
    payload: {
      intent: null,
      expected_outcome: null,
      signal_type: null,
      workflow: null,
      suggested_improvement: null,
      context: null,
      intent_source: null,
      tool_name: null,
    },
  };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 10_000; i++) {
    if (condition()) return;
    await turn();
  }
  throw new Error(`condition never held: ${what}`);
}

/** Runs the fake clock forward one flush interval per turn until `condition` holds. */
async function driveUntil(clock: { advance(ms: number): void }, condition: () => boolean, what: string): Promise<void> {
  await waitFor(() => {
    clock.advance(100);
    return condition();
  }, what);
}

function setup(sinks: Sink[], extra: Partial<DispatcherOptions> = {}) {
  const clock = createFakeClock();
  const logger = createMemoryLogger();
  const dispatcher = createDispatcher({
    sinks,
    logger,
    clock,
    maxBatch: 4,
    maxQueue: 20,
    flushIntervalMs: 100,
    exportTimeoutMs: 1_000,
    ...extra,
  });
  const enqueue = (from: number, to: number): void => {
    for (let i = from; i < to; i++) dispatcher.enqueue(makeEvent(i));
  };
  return { clock, logger, dispatcher, enqueue };
}

describe("delivery", () => {
  test("every sink gets every event in order, one flush per batch of at most maxBatch", async () => {
    const a = createFakeSink("a");
    const b = createFakeSink("b");
    const { clock, dispatcher, enqueue } = setup([a.sink, b.sink]);
    enqueue(0, 10);
    expect(a.lines).toEqual([]); // never inline in enqueue
    clock.advance(0);
    await waitFor(() => a.batches.length === 2 && b.batches.length === 2, "two full batches");
    clock.advance(100);
    await waitFor(() => a.lines.length === 10 && b.lines.length === 10, "the tail batch");
    expect(a.batches).toEqual([4, 4, 2]);
    expect(a.seqs()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(b.lines).toEqual(a.lines);
    expect(dispatcher.dropped).toBe(0);
  });

  test("a few events wait for the flush timer", async () => {
    const a = createFakeSink("a");
    const { clock, enqueue } = setup([a.sink]);
    enqueue(0, 2);
    clock.advance(99);
    await turn();
    expect(a.lines).toEqual([]);
    clock.advance(1);
    await waitFor(() => a.lines.length === 2, "timer flush");
    expect(a.batches).toEqual([2]);
  });

  test("prepare runs once per event, observe sees prepared events in order, sinks get the prepared line", async () => {
    const a = createFakeSink("a");
    const b = createFakeSink("b");
    const seen: number[] = [];
    let prepared = 0;
    const { clock, enqueue, dispatcher } = setup([a.sink, b.sink], {
      prepare: (event) => (prepared++, { ...event, tenant_id: "scrubbed" }),
      observe: (event) => void seen.push(event.sequence_number),
    });
    enqueue(0, 3);
    expect(prepared).toBe(0); // prepare is background work
    dispatcher.settle();
    expect(seen).toEqual([0, 1, 2]);
    expect(prepared).toBe(3);
    expect(a.batches).toEqual([]); // settle does not flush
    clock.advance(100);
    await waitFor(() => b.lines.length === 3, "delivery");
    expect(prepared).toBe(3);
    expect(a.lines.map((l) => (JSON.parse(l) as BatonEvent).tenant_id)).toEqual(["scrubbed", "scrubbed", "scrubbed"]);
  });

  test("a throwing prepare drops that event (counted per sink, logged once); a throwing observe only logs", async () => {
    const a = createFakeSink("a");
    const b = createFakeSink("b");
    const { clock, enqueue, dispatcher, logger } = setup([a.sink, b.sink], {
      prepare: (event) => {
        if (event.sequence_number % 2 === 1) throw new Error("scrubber bug");
        return event;
      },
      observe: () => {
        throw new Error("report bug");
      },
    });
    enqueue(0, 6);
    clock.advance(100);
    await waitFor(() => a.lines.length === 3, "even events");
    expect(a.seqs()).toEqual([0, 2, 4]);
    expect(dispatcher.dropped).toBe(6); // 3 events × 2 sinks
    expect(logger.lines.filter((l) => l.includes("prepare failed"))).toHaveLength(1);
    expect(logger.lines.filter((l) => l.includes("report bug"))).toHaveLength(1);
  });
});

describe("prepare and observe failures, further", () => {
  test("a prepare that returns no event drops it, counted, instead of writing a line of undefined", async () => {
    const a = createFakeSink("a");
    const { clock, enqueue, dispatcher, logger } = setup([a.sink], {
      prepare: (event) => (event.sequence_number === 1 ? (undefined as unknown as BatonEvent) : event),
    });
    enqueue(0, 3);
    clock.advance(100);
    await waitFor(() => a.lines.length === 2, "the other events");
    expect(a.seqs()).toEqual([0, 2]);
    expect(dispatcher.dropped).toBe(1);
    expect(logger.lines.filter((l) => l.includes("prepare failed"))).toHaveLength(1);
  });

  test("a failing observer is logged again once DROP_LOG_INTERVAL_MS has passed, not once for the session", () => {
    const a = createFakeSink("a");
    const { clock, enqueue, dispatcher, logger } = setup([a.sink], {
      observe: () => {
        throw new Error("report bug");
      },
    });
    const logged = (): number => logger.lines.filter((l) => l.includes("report bug")).length;
    enqueue(0, 2);
    dispatcher.settle();
    clock.advance(DROP_LOG_INTERVAL_MS - 1);
    enqueue(2, 3);
    dispatcher.settle();
    expect(logged()).toBe(1);
    clock.advance(1);
    enqueue(3, 4);
    dispatcher.settle();
    expect(logged()).toBe(2);
  });
});

test("when the next-macrotask scheduler throws, the flush timer still prepares and delivers the intake", async () => {
  const a = createFakeSink("a");
  const { clock, enqueue, dispatcher } = setup([a.sink], {
    maxBatch: 1, // every event is a full batch: each asks for the next macrotask, refused
    idle: () => {
      throw new Error("no setImmediate here");
    },
  });
  enqueue(0, 6);
  await driveUntil(clock, () => a.lines.length === 6, "delivery by the flush timer");
  expect(a.seqs()).toEqual([0, 1, 2, 3, 4, 5]);
  expect(dispatcher.dropped).toBe(0);
});

test("what a sink lost by itself is counted and logged after each flush, during the session, not only at shutdown", async () => {
  const a = createFakeSink("a");
  let lost = 2;
  const lossy: Sink = {
    ...a.sink,
    takeDrops: () => {
      const drops = lost === 0 ? [] : [{ kind: "upload failed", count: lost, detail: "HTTP 500" }];
      lost = 0;
      return drops;
    },
  };
  const { clock, enqueue, dispatcher, logger } = setup([lossy]);
  enqueue(0, 2);
  clock.advance(100);
  await waitFor(() => dispatcher.dropped === 2, "the sink's own drops counted");
  expect(logger.lines.join("\n")).toContain("upload failed");
});

test("a flush that times out and then fails is counted once", async () => {
  let fail: (error: Error) => void = () => {};
  const late: Sink = {
    label: "late",
    write: () => {},
    flush: () => new Promise<void>((_, reject) => (fail = reject)),
    close: async () => {},
  };
  const { clock, enqueue, dispatcher } = setup([late]);
  enqueue(0, 3);
  clock.advance(100); // flush starts
  await turn();
  clock.advance(1_000); // exportTimeoutMs: counted as timed out
  expect(dispatcher.dropped).toBe(3);
  fail(new Error("HTTP 500"));
  for (let i = 0; i < 5; i++) await turn();
  expect(dispatcher.dropped).toBe(3);
});

describe("a sink's own batch size (batchEvents)", () => {
  test("bounds its flushes; below a dispatcher batch each flush waits for the next macrotask, apart from the preparing", async () => {
    const nextTurn: (() => void)[] = [];
    const small = createFakeSink("small");
    const big = createFakeSink("big");
    const { clock, enqueue } = setup([{ ...small.sink, batchEvents: 3 }, big.sink], {
      maxBatch: 8,
      maxQueue: 100,
      idle: (fn) => void nextTurn.push(fn),
    });
    enqueue(0, 7);
    clock.advance(PREPARE_INTERVAL_MS); // one slice prepares all seven
    expect(small.batches).toEqual([]); // the full batch is not written inside the slice
    expect(nextTurn).toHaveLength(1);
    nextTurn.shift()?.();
    expect(small.batches).toEqual([3]);
    await turn(); // the flush settles; the next full batch asks for its own macrotask
    expect(small.batches).toEqual([3]);
    expect(nextTurn).toHaveLength(1);
    nextTurn.shift()?.();
    await turn();
    expect(small.batches).toEqual([3, 3]);
    expect(nextTurn).toHaveLength(0); // one left: it waits for the flush timer, like any partial batch
    clock.advance(100);
    await turn();
    expect(small.batches).toEqual([3, 3, 1]);
    expect(big.batches).toEqual([7]);
    expect(small.seqs()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(big.seqs()).toEqual(small.seqs());
  });

  test("a burst (a dispatcher batch or more waiting for the sink) is flushed back to back", async () => {
    const nextTurn: (() => void)[] = [];
    const small = createFakeSink("small");
    const { enqueue } = setup([{ ...small.sink, batchEvents: 3 }], {
      maxBatch: 8,
      maxQueue: 100,
      idle: (fn) => void nextTurn.push(fn),
    });
    enqueue(0, 20); // a full dispatcher batch waits: prepared all at once at the next turn
    expect(nextTurn).toHaveLength(1);
    nextTurn.shift()?.();
    await turn();
    // 20 prepared, the first 3 written at once; then 3 more at a time while 8 or more wait
    expect(small.batches).toEqual([3, 3, 3, 3, 3]);
    expect(nextTurn).toHaveLength(1); // five left: the next batch at the next macrotask
    nextTurn.shift()?.();
    await turn();
    expect(small.batches).toEqual([3, 3, 3, 3, 3, 3]);
    expect(small.seqs()).toEqual(Array.from({ length: 18 }, (_, i) => i));
  });
});

describe("failing and hanging sinks", () => {
  test("a hanging sink does not delay a healthy one; its queue stays bounded and drops the oldest", async () => {
    const hung = createFakeSink("hung", "manual");
    const healthy = createFakeSink("healthy");
    const { clock, enqueue, dispatcher } = setup([hung.sink, healthy.sink]);
    enqueue(0, 4);
    clock.advance(0);
    await waitFor(() => healthy.lines.length === 4, "first batch");
    for (let i = 4; i < 64; i += 4) {
      enqueue(i, i + 4);
      clock.advance(0);
      await waitFor(() => healthy.lines.length === i + 4, `batch at ${i}`);
    }
    expect(hung.batches).toEqual([4]); // never a second flush while one is pending
    expect(dispatcher.queued).toBe(20); // maxQueue
    expect(dispatcher.dropped).toBe(40); // 60 queued behind, 20 kept
    hung.release();
    await driveUntil(clock, () => hung.lines.length === 24, "backlog");
    expect(hung.batches).toEqual([4, 4, 4, 4, 4, 4]);
    expect(hung.seqs().slice(4)).toEqual(Array.from({ length: 20 }, (_, i) => 44 + i)); // newest kept
  });

  test("a flush slower than exportTimeoutMs is counted and logged; the sink continues once it settles", async () => {
    const slow = createFakeSink("slow", "manual");
    const { clock, enqueue, dispatcher, logger } = setup([slow.sink]);
    enqueue(0, 4);
    clock.advance(0);
    await waitFor(() => slow.batches.length === 1, "first flush");
    clock.advance(999);
    expect(dispatcher.dropped).toBe(0);
    clock.advance(1);
    expect(dispatcher.dropped).toBe(4);
    expect(logger.lines.some((l) => l.includes("slow: flush timed out"))).toBe(true);
    enqueue(4, 6);
    clock.advance(100);
    expect(slow.batches).toEqual([4]); // no second flush while the abandoned one is pending
    slow.release(); // late success: still counted as dropped, no double count
    await driveUntil(clock, () => slow.lines.length === 6, "later batch");
    expect(slow.batches).toEqual([4, 2]);
    expect(dispatcher.dropped).toBe(4);
  });

  test("a failing sink's drops are counted and logged without flooding", async () => {
    const failing = createFakeSink("console", "fail");
    const { clock, enqueue, dispatcher, logger } = setup([failing.sink], { maxQueue: 10_000 });
    for (let round = 0; round < 100; round++) {
      enqueue(round * 4, round * 4 + 4);
      clock.advance(0);
      await waitFor(() => failing.batches.length === round + 1, "flush");
      clock.advance(500); // 50 s in total
    }
    expect(dispatcher.dropped).toBe(400);
    const dropLines = logger.lines.filter((l) => l.includes("dropped"));
    expect(dropLines.length).toBeGreaterThanOrEqual(2);
    expect(dropLines.length).toBeLessThanOrEqual(6); // first + one summary per 10 s
    expect(dropLines[0]).toContain("HTTP 500");
  });

  test("100k events against a sink that never answers: memory stays bounded, the healthy sink gets all", async () => {
    const hung = createFakeSink("hung", "hang");
    const healthy = createFakeSink("healthy");
    let healthyCount = 0;
    healthy.sink.write = () => void healthyCount++;
    const { clock, enqueue, dispatcher } = setup([hung.sink, healthy.sink], { maxBatch: 512, maxQueue: 1_000 });
    let maxQueued = 0;
    for (let i = 0; i < 100_000; i += 500) {
      enqueue(i, i + 500);
      maxQueued = Math.max(maxQueued, dispatcher.queued);
      clock.advance(10);
      await turn();
    }
    await driveUntil(clock, () => healthyCount === 100_000, "healthy delivery");
    expect(maxQueued).toBeLessThanOrEqual(3 * 1_000);
    expect(hung.lines.length).toBe(512); // one batch written, then it waits forever
    expect(dispatcher.queued).toBe(1_000); // hung lane at its bound, nothing else
    expect(dispatcher.dropped).toBe(100_000 - 1_000); // first batch timed out + everything evicted
  });

  test("a hanging sink's queue is bounded in bytes too: the oldest go first, whether the sink keeps lines or events", async () => {
    const lineSize = JSON.stringify(makeEvent(100)).length; // sequences 100..199: every line the same size
    const hung = createFakeSink("hung", "manual");
    const eventsOnly = createFakeSink("events-only", "manual");
    const seen: number[] = [];
    const readsEventsOnly: Sink = {
      ...eventsOnly.sink,
      usesLine: false,
      write: (event, line) => {
        expect(line).toBe(""); // the lane never kept it
        seen.push(event.sequence_number);
      },
    };
    const { clock, enqueue, dispatcher, logger } = setup([hung.sink, readsEventsOnly], {
      maxQueue: 1_000,
      maxQueueBytes: 10 * lineSize + Math.floor(lineSize / 2), // room for 10 lines, not 11
    });
    enqueue(100, 104); // a whole batch: prepared at once
    clock.advance(0);
    // A quarter of the byte bound (2.6 lines) makes a sink batch: both flushes start with 3 events and wait.
    await waitFor(() => hung.batches.length === 1 && seen.length === 3, "first flushes");
    expect(hung.batches).toEqual([3]);
    clock.advance(SLOW_FLUSH_MS); // the flushes have been pending long enough: the sinks are behind
    enqueue(104, 150);
    await driveUntil(clock, () => dispatcher.queued === 2 * 10, "the intake prepared");
    expect(dispatcher.queued).toBe(2 * 10); // the 10 newest per lane, far below the event bound
    expect(dispatcher.dropped).toBe(2 * 37); // 103 to 139
    expect(
      logger.lines.some((l) =>
        l.includes(
          `more than 1000 events or ${10 * lineSize + Math.floor(lineSize / 2)} bytes waiting; oldest dropped`,
        ),
      ),
    ).toBe(true);
    hung.release();
    eventsOnly.release();
    await driveUntil(clock, () => hung.lines.length === 13 && seen.length === 13, "the backlog");
    const kept = [100, 101, 102, ...Array.from({ length: 10 }, (_, i) => 140 + i)];
    expect(hung.seqs()).toEqual(kept);
    expect(seen).toEqual(kept);
    expect(hung.batches.every((n) => n <= 3)).toBe(true); // flushed in batches of about a quarter of the bound
  });

  test("a healthy sink given large events flushes them by size as they come and loses none", async () => {
    const lineSize = JSON.stringify(makeEvent(100)).length;
    const healthy = createFakeSink("healthy");
    const nextTurn: (() => void)[] = [];
    const { clock, dispatcher } = setup([healthy.sink], {
      maxBatch: 512,
      maxQueue: 10_000,
      maxQueueBytes: 8 * lineSize, // a sink batch is 2 lines; 9 queued lines would overflow
      intakeTurnBytes: 4 * lineSize, // a turn prepares about 4 events of messages their size
      idle: (fn) => void nextTurn.push(fn), // turns of the event loop, with promise jobs between them
    });
    for (let i = 100; i < 300; i++) dispatcher.enqueue(makeEvent(i), lineSize);
    for (let turns = 0; nextTurn.length > 0 && turns < 1_000; turns++) {
      nextTurn.shift()?.();
      await turn();
    }
    clock.advance(100);
    await waitFor(() => healthy.lines.length === 200, "every event");
    expect(dispatcher.dropped).toBe(0);
    expect(healthy.seqs()).toEqual(Array.from({ length: 200 }, (_, i) => 100 + i));
    expect(Math.max(...healthy.batches)).toBeLessThanOrEqual(2);
  });

  test("a healthy sink handed more than its byte bound at once (shutdown, a burst) keeps it all: only a sink behind drops", async () => {
    const lineSize = JSON.stringify(makeEvent(100)).length;
    const manual = createFakeSink("slow-to-answer", "manual");
    const { dispatcher } = setup([manual.sink], { maxQueue: 10_000, maxQueueBytes: 8 * lineSize });
    for (let i = 100; i < 400; i++) dispatcher.enqueue(makeEvent(i), lineSize);
    const done = dispatcher.shutdown(60_000); // everything prepared and queued at once, a flush pending
    expect(dispatcher.dropped).toBe(0);
    manual.release();
    await done;
    expect(manual.seqs()).toEqual(Array.from({ length: 300 }, (_, i) => 100 + i));
    expect(dispatcher.dropped).toBe(0);
  });

  test("an event larger than the byte bound alone is still queued (the newest always stays)", async () => {
    const hung = createFakeSink("hung", "manual");
    const { clock, enqueue, dispatcher } = setup([hung.sink], { maxQueueBytes: 10 });
    enqueue(0, 1);
    await driveUntil(clock, () => hung.batches.length === 1, "first flush");
    clock.advance(SLOW_FLUSH_MS);
    enqueue(1, 4);
    clock.advance(100);
    expect(dispatcher.queued).toBe(1);
    expect(dispatcher.dropped).toBe(2);
    hung.release();
    await driveUntil(clock, () => hung.lines.length === 2, "the newest");
    expect(hung.seqs()).toEqual([0, 3]);
  });

  test("the intake itself is bounded when the loop cannot run", () => {
    const a = createFakeSink("a");
    const { enqueue, dispatcher } = setup([a.sink]);
    enqueue(0, 100);
    expect(dispatcher.queued).toBe(20);
    expect(dispatcher.dropped).toBe(80);
  });
});

describe("the intake by the size of what it holds", () => {
  test("big messages' events are prepared at once and make the pumps yield (INTAKE_TURN_BYTES), long before a batch's count", () => {
    const observed: number[] = [];
    const nextTurn: (() => void)[] = [];
    const { dispatcher } = setup([createFakeSink("a").sink], {
      maxBatch: 1_000,
      intakeTurnBytes: 1_000,
      flushIntervalMs: 10_000,
      idle: (fn) => void nextTurn.push(fn),
      observe: (e) => void observed.push(e.sequence_number),
    });
    dispatcher.enqueue(makeEvent(0), 400);
    dispatcher.enqueue(makeEvent(1), 400);
    expect(dispatcher.needsTurn).toBe(false); // 800 bytes, 2 events: the interval's slice will take them
    expect(nextTurn).toHaveLength(0);
    dispatcher.enqueue(makeEvent(2), 400);
    expect(dispatcher.needsTurn).toBe(true); // 1 200 bytes: a whole batch by size
    expect(nextTurn).toHaveLength(1);
    nextTurn.shift()?.();
    expect(observed).toEqual([0, 1, 2]);
    expect(dispatcher.needsTurn).toBe(false);
    expect(dispatcher.dropped).toBe(0);
  });

  test("bounded by those sizes: a backlog beyond maxIntakeBytes drops the newest, counted and logged; one big message alone is taken", () => {
    const a = createFakeSink("a");
    const b = createFakeSink("b");
    const { dispatcher, logger } = setup([a.sink, b.sink], { maxIntakeBytes: 1_000 });
    dispatcher.enqueue(makeEvent(0), 5_000); // over the bound by itself: still taken
    expect(dispatcher.queued).toBe(1);
    dispatcher.enqueue(makeEvent(1), 10); // a backlog of 5 010 bytes: dropped for every sink
    expect(dispatcher.queued).toBe(1);
    expect(dispatcher.dropped).toBe(2);
    dispatcher.settle();
    expect(logger.lines.some((l) => l.includes("more than 20 events or 1000 bytes of messages waiting"))).toBe(true);
    dispatcher.enqueue(makeEvent(2), 600); // the intake emptied: room again
    dispatcher.enqueue(makeEvent(3), 400);
    expect(dispatcher.queued).toBe(1 * 2 + 2); // the first event, now in both lanes, and two in the intake
    expect(dispatcher.dropped).toBe(2);
  });
});

describe("preparation off the pumps' turn", () => {
  test("below a batch: PREPARE_INTERVAL_MS later, turns of PREPARE_SLICE_EVENTS going on at the next macrotask; a full batch at the next turn; settle() takes all", () => {
    const observed: number[] = [];
    const nextTurn: (() => void)[] = [];
    const extra = {
      maxBatch: 1_000,
      maxQueue: 5_000,
      flushIntervalMs: 10_000,
      observe: (e: BatonEvent) => void observed.push(e.sequence_number),
    };
    const a = setup([createFakeSink("a").sink], { ...extra, idle: (fn) => void nextTurn.push(fn) });
    a.enqueue(0, PREPARE_SLICE_EVENTS + 10);
    expect(observed).toHaveLength(0); // never inline in enqueue
    a.clock.advance(PREPARE_INTERVAL_MS - 1);
    expect(observed).toHaveLength(0);
    a.clock.advance(1);
    expect(observed).toHaveLength(PREPARE_SLICE_EVENTS);
    expect(nextTurn).toHaveLength(1); // the rest goes on at the next macrotask, not an interval later
    a.enqueue(PREPARE_SLICE_EVENTS + 10, PREPARE_SLICE_EVENTS + 12); // joins the turn already asked for
    expect(nextTurn).toHaveLength(1);
    nextTurn.shift()?.();
    expect(observed).toHaveLength(PREPARE_SLICE_EVENTS + 12);
    expect(observed).toEqual(Array.from({ length: PREPARE_SLICE_EVENTS + 12 }, (_, i) => i));
    expect(nextTurn).toHaveLength(0); // drained: the next enqueue waits PREPARE_INTERVAL_MS again
    a.enqueue(PREPARE_SLICE_EVENTS + 12, PREPARE_SLICE_EVENTS + 13);
    expect(nextTurn).toHaveLength(0);
    a.clock.advance(PREPARE_INTERVAL_MS);
    expect(observed).toHaveLength(PREPARE_SLICE_EVENTS + 13);
    observed.length = 0;
    const b = setup([createFakeSink("b").sink], extra);
    b.enqueue(0, 1_000);
    expect(b.dispatcher.needsTurn).toBe(true);
    b.clock.advance(0);
    expect(observed).toHaveLength(1_000);
    expect(b.dispatcher.needsTurn).toBe(false);
    observed.length = 0;
    const c = setup([createFakeSink("c").sink], extra);
    c.enqueue(0, 5);
    c.dispatcher.settle();
    expect(observed).toHaveLength(5);
  });

  test("paced: the rest of a slice waits for the pumps' next message (poke) or PACED_FALLBACK_MS, not the next macrotask", () => {
    const observed: number[] = [];
    const nextTurn: (() => void)[] = [];
    const { clock, enqueue, dispatcher } = setup([createFakeSink("a").sink], {
      maxBatch: 1_000,
      maxQueue: 5_000,
      flushIntervalMs: 10_000,
      paced: true,
      idle: (fn) => void nextTurn.push(fn),
      observe: (e: BatonEvent) => void observed.push(e.sequence_number),
    });
    enqueue(0, PREPARE_SLICE_EVENTS + 10);
    clock.advance(PREPARE_INTERVAL_MS);
    expect(observed).toHaveLength(PREPARE_SLICE_EVENTS);
    expect(nextTurn).toHaveLength(0); // waits for a message
    dispatcher.poke();
    expect(observed).toHaveLength(PREPARE_SLICE_EVENTS); // never inside the poke
    nextTurn.shift()?.();
    expect(observed).toHaveLength(PREPARE_SLICE_EVENTS + 10);
    enqueue(PREPARE_SLICE_EVENTS + 10, 2 * PREPARE_SLICE_EVENTS + 20);
    clock.advance(PREPARE_INTERVAL_MS);
    expect(observed).toHaveLength(2 * PREPARE_SLICE_EVENTS + 10);
    clock.advance(PACED_FALLBACK_MS); // no message: the fallback goes on
    expect(observed).toEqual(Array.from({ length: 2 * PREPARE_SLICE_EVENTS + 20 }, (_, i) => i));
  });

  test("below a batch, a turn ends once PREPARE_SLICE_BUDGET_MS of precise time has passed, after one event at least", () => {
    let now = 0;
    let costMs = PREPARE_SLICE_BUDGET_MS / 2.5; // each event's preparation takes this long
    const turnSizes: number[] = [];
    let inTurn = 0;
    const nextTurn: (() => void)[] = [];
    const sink = createFakeSink("a");
    const { clock, enqueue, dispatcher } = setup([sink.sink], {
      maxBatch: 1_000,
      maxQueue: 5_000,
      flushIntervalMs: 10_000,
      preciseNow: () => now,
      idle: (fn) =>
        void nextTurn.push(() => {
          turnSizes.push(inTurn);
          inTurn = 0;
          fn();
        }),
      prepare: (event) => {
        now += costMs;
        inTurn++;
        return event;
      },
    });
    enqueue(0, 10);
    clock.advance(PREPARE_INTERVAL_MS);
    costMs = PREPARE_SLICE_BUDGET_MS * 4; // a slow event still makes progress: one per turn
    while (nextTurn.length > 0) nextTurn.shift()?.();
    turnSizes.push(inTurn);
    expect(turnSizes).toEqual([3, 1, 1, 1, 1, 1, 1, 1]); // 20 µs events: three fit a 50 µs turn
    expect(dispatcher.queued).toBe(10); // all prepared, waiting in the sink's queue, in order
    dispatcher.settle();
    clock.advance(10_000);
    expect(sink.seqs()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

describe("what the queues keep", () => {
  test("a sink that reads events gets them; when no sink does, writes get the line only", async () => {
    const seen: { event: unknown; line: string }[] = [];
    const reader: Sink = {
      label: "reader",
      write: (event, line) => void seen.push({ event, line }),
      flush: async () => {},
      close: async () => {},
    };
    const linesOnly: { event: unknown; line: string }[] = [];
    const writer: Sink = {
      label: "lines",
      usesEvent: false,
      write: (event, line) => void linesOnly.push({ event, line }),
      flush: async () => {},
      close: async () => {},
    };
    const both = setup([reader, writer]);
    both.enqueue(0, 2);
    await both.dispatcher.shutdown();
    expect(seen.map((s) => (s.event as { sequence_number: number }).sequence_number)).toEqual([0, 1]);
    expect(linesOnly.map((s) => JSON.parse(s.line).sequence_number)).toEqual([0, 1]);
    // Each lane keeps only what its own sink reads, whatever the other sinks read.
    expect(linesOnly.map((s) => s.event)).toEqual([undefined, undefined]);
    const onlyLines: { event: unknown; line: string }[] = [];
    const alone = setup([{ ...writer, write: (event, line) => void onlyLines.push({ event, line }) }]);
    alone.enqueue(0, 2);
    await alone.dispatcher.shutdown();
    expect(onlyLines.map((s) => s.event)).toEqual([undefined, undefined]);
    expect(onlyLines.map((s) => JSON.parse(s.line).sequence_number)).toEqual([0, 1]);
  });

  test("a sink that reads events only (usesLine false) gets no lines; its neighbours still do", async () => {
    const spans: { event: unknown; line: string }[] = [];
    const eventsOnly: Sink = {
      label: "events",
      usesLine: false,
      write: (event, line) => void spans.push({ event, line }),
      flush: async () => {},
      close: async () => {},
    };
    const lines: string[] = [];
    const writer: Sink = {
      label: "lines",
      usesEvent: false,
      write: (_event, line) => void lines.push(line),
      flush: async () => {},
      close: async () => {},
    };
    const both = setup([eventsOnly, writer]);
    both.enqueue(0, 3);
    await both.dispatcher.shutdown();
    expect(spans.map((s) => (s.event as { sequence_number: number }).sequence_number)).toEqual([0, 1, 2]);
    expect(spans.map((s) => s.line)).toEqual(["", "", ""]);
    expect(lines.map((l) => JSON.parse(l).sequence_number)).toEqual([0, 1, 2]);
  });
});

describe("shutdown", () => {
  test("flushes everything, closes each sink once, ignores later enqueues, same promise twice", async () => {
    const a = createFakeSink("a");
    const { enqueue, dispatcher, logger } = setup([a.sink]);
    enqueue(0, 10);
    const first = dispatcher.shutdown();
    expect(dispatcher.shutdown()).toBe(first);
    await first;
    expect(a.seqs()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(a.closes()).toBe(1);
    dispatcher.enqueue(makeEvent(99));
    await dispatcher.shutdown();
    expect(a.lines).toHaveLength(10);
    expect(a.closes()).toBe(1);
    expect(logger.lines).toEqual([]);
  });

  test("leaves no timer armed, and an event enqueued afterwards is neither queued nor delivered, however long the clock runs", async () => {
    const a = createFakeSink("a");
    const { clock, enqueue, dispatcher } = setup([a.sink]);
    enqueue(0, 2); // arms the flush timer and a slice
    await dispatcher.shutdown();
    expect(a.lines).toHaveLength(2);
    clock.advance(PREPARE_INTERVAL_MS); // the pending slice (a no-op now) fires; no flush or deadline timer is left
    expect(clock.timers()).toBe(0);
    enqueue(2, 12);
    expect(dispatcher.queued).toBe(0);
    for (let i = 0; i < 20; i++) {
      clock.advance(100);
      await turn();
    }
    expect(a.lines).toHaveLength(2);
    expect(clock.timers()).toBe(0);
  });

  test("waits for each sink's close (given what is left of the deadline) before it resolves", async () => {
    const a = createFakeSink("a");
    let closeIn: number | undefined;
    let finishClose: () => void = () => {};
    const slowClose: Sink = {
      ...a.sink,
      close: (deadlineMs) => {
        closeIn = deadlineMs;
        return new Promise<void>((resolve) => (finishClose = resolve));
      },
    };
    const { enqueue, dispatcher } = setup([slowClose]);
    enqueue(0, 3);
    let resolved = false;
    void dispatcher.shutdown(500).then(() => (resolved = true));
    await waitFor(() => closeIn !== undefined, "close called");
    expect(closeIn).toBeGreaterThan(0);
    expect(closeIn).toBeLessThanOrEqual(500);
    for (let i = 0; i < 5; i++) await turn();
    expect(resolved).toBe(false); // the sink may still be writing its last batch
    finishClose();
    await waitFor(() => resolved, "shutdown after close");
    expect(a.lines).toHaveLength(3);
  });

  test("resolves at the deadline with a never-resolving sink, counts what was left, logs one summary", async () => {
    const hung = createFakeSink("hung", "hang");
    const healthy = createFakeSink("healthy");
    const { clock, enqueue, dispatcher, logger } = setup([hung.sink, healthy.sink]);
    enqueue(0, 10);
    let resolved = false;
    void dispatcher.shutdown(500).then(() => (resolved = true));
    await waitFor(() => healthy.closes() === 1, "healthy sink drained and closed");
    expect(healthy.lines).toHaveLength(10);
    clock.advance(499);
    await turn();
    expect(resolved).toBe(false);
    clock.advance(1);
    await waitFor(() => resolved, "deadline");
    expect(hung.closes()).toBe(0); // never called while its flush is pending (Sink contract)
    expect(dispatcher.dropped).toBe(10); // 4 in flight + 6 queued
    expect(clock.timers()).toBe(0);
    const summary = logger.lines.filter((l) => l.includes("this session"));
    expect(summary).toHaveLength(1);
    expect(summary[0]).toContain("hung: shutdown deadline ×10");
  });
});

test("the system clock's timers do not keep the process alive", () => {
  const handle = SYSTEM_CLOCK.setTimeout(() => {}, 60_000) as { hasRef(): boolean };
  expect(handle.hasRef()).toBe(false);
  SYSTEM_CLOCK.clearTimeout(handle);
});

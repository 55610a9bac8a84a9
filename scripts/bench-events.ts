// Measures the CPU cost per event of each telemetry stage (mark, stamp, scrub, serialise, report fold, default sinks) and of the whole hub, for echo-like tool calls; prints ONE JSON line. Not a test: never asserts.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createReportState, foldEvent } from "../src/report/report-state.ts";
import { createEnvelope, type StampMark } from "../src/telemetry/envelope.ts";
import type { BatonEvent, EventDraft } from "../src/telemetry/event-types.ts";
import { createEventScrubber } from "../src/telemetry/scrub.ts";
import { createFileSink } from "../src/telemetry/sinks/file-sink.ts";
import type { Sink } from "../src/telemetry/sinks/sink.ts";
import { createStderrSink, createStreamWriter } from "../src/telemetry/sinks/stderr-sink.ts";
import { createTelemetryHub } from "../src/telemetry/telemetry-hub.ts";
import { createMemoryLogger } from "../test/support/memory-logger.ts";

/** Tool calls per run (two events each), like the bench's pipelined echo calls. */
const CALLS = 20_000;
const EVENTS = CALLS * 2;
/** The dispatcher's batch size: sinks are flushed this many lines at a time. */
const BATCH_EVENTS = 512;
const RUNS = 7;
/** Untimed runs first: the JIT compiles the hot code (its compiler threads count as this process's CPU). */
const WARMUP_RUNS = 3;
const IDENTITY = { tenantId: "local", vendorId: "local", consentToken: "local", sdkVersion: "baton-proxy/0.1.0" };
const SCRUB = { mode: "on", extraKeys: [] } as const;

/** The drafts the engine emits for echo call `n`: small arguments, a small text result. */
function callDrafts(n: number): [EventDraft, EventDraft] {
  const meta = { "baton/call_id": `c${n}`, "baton/server": "node" };
  const common = { agent_runtime: "bench-drive", user_id: null };
  return [
    {
      ...common,
      event_type: "tool_call_start",
      runtime_meta: { ...meta },
      payload: { tool_name: "echo", params: { text: `b${n}` } },
    } as EventDraft,
    {
      ...common,
      event_type: "tool_call_end",
      runtime_meta: { ...meta },
      payload: { tool_name: "echo", result: [{ type: "text", text: `b${n}` }], duration_ms: 0 },
    } as EventDraft,
  ];
}

const DRAFTS: EventDraft[] = [];
for (let i = 1; i <= CALLS; i++) DRAFTS.push(...callDrafts(i));

/** CPU microseconds (user + system, every thread) per event of one run of `work`. */
async function cpuPerEvent(work: () => unknown): Promise<number> {
  const before = process.cpuUsage();
  await work();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / EVENTS;
}

/** Median of RUNS measured runs after the warm-up; `setup` builds each run's fresh input outside the measurement. */
async function median<I>(setup: () => I, work: (input: I) => unknown): Promise<number> {
  for (let i = 0; i < WARMUP_RUNS; i++) await work(setup());
  const runs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const input = setup();
    runs.push(await cpuPerEvent(() => work(input)));
  }
  runs.sort((a, b) => a - b);
  return Number((runs[Math.floor(RUNS / 2)] as number).toFixed(2));
}

/** A stderr stream that discards what it is given, confirming each write as the real one does (a callback later). */
const discardingStderr = {
  write(_chunk: string, callback: (error?: Error | null) => void): boolean {
    queueMicrotask(() => callback());
    return true;
  },
};

/** Both default sinks (`stderr:` into the discarding stream, `file://` into a temp file). */
function defaultSinks(dir: string, run: number): Sink[] {
  const logger = createMemoryLogger();
  return [
    createStderrSink({ write: createStreamWriter(discardingStderr), logger }),
    createFileSink({ path: join(dir, `events-${run}.jsonl`), logger }),
  ];
}

/** Lines through `sinks` as the dispatcher drives them: every sink takes a batch, then each is flushed. */
async function throughSinks(sinks: readonly Sink[], events: readonly BatonEvent[], lines: readonly string[]) {
  for (let i = 0; i < lines.length; i += BATCH_EVENTS) {
    const end = Math.min(lines.length, i + BATCH_EVENTS);
    for (const sink of sinks) {
      for (let j = i; j < end; j++) sink.write(events[j] as BatonEvent, lines[j] as string);
    }
    await Promise.all(sinks.map((sink) => sink.flush()));
  }
  await Promise.all(sinks.map((sink) => sink.close()));
}

/** The whole hub: emits every draft (in dispatcher batches, letting the background run between them), then shuts down. */
async function throughHub(sinks: Sink[]): Promise<void> {
  const hub = createTelemetryHub({
    config: { ...IDENTITY, scrub: "on", scrubKeys: [] },
    logger: createMemoryLogger(),
    sinks,
  });
  const report = createReportState();
  const session = hub.openSession((event) => foldEvent(report, event));
  for (let i = 0; i < DRAFTS.length; i++) {
    session.emit(DRAFTS[i] as EventDraft);
    if (hub.needsTurn) await new Promise((resolve) => setImmediate(resolve));
  }
  await hub.shutdown();
}

export async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "baton-bench-events-"));
  try {
    const scrub = createEventScrubber(SCRUB);
    const envelope = createEnvelope(IDENTITY);
    const marks: StampMark[] = DRAFTS.map(() => envelope.mark());
    const stamped = DRAFTS.map((draft, i) => envelope.complete(draft, undefined, 0, marks[i] as StampMark));
    const scrubbed = stamped.map(scrub);
    const lines = scrubbed.map((event) => JSON.stringify(event));
    let run = 0;
    const stages = {
      mark: await median(
        () => createEnvelope(IDENTITY),
        (e) => {
          for (let i = 0; i < EVENTS; i++) e.mark();
        },
      ),
      stamp: await median(
        () => undefined,
        () => {
          for (let i = 0; i < EVENTS; i++)
            envelope.complete(DRAFTS[i] as EventDraft, undefined, 0, marks[i] as StampMark);
        },
      ),
      scrub: await median(
        () => undefined,
        () => {
          for (const event of stamped) scrub(event);
        },
      ),
      stringify: await median(
        () => undefined,
        () => {
          for (const event of scrubbed) JSON.stringify(event);
        },
      ),
      fold: await median(createReportState, (state) => {
        for (const event of scrubbed) foldEvent(state, event);
      }),
      sinks: await median(
        () => defaultSinks(dir, run++),
        (sinks) => throughSinks(sinks, scrubbed, lines),
      ),
    };
    const hub = await median(() => defaultSinks(dir, run++), throughHub);
    const sum = Object.values(stages).reduce((a, b) => a + b, 0);
    const result = {
      bench: "events",
      events: EVENTS,
      unit: "CPU µs per event (user+sys, all threads), median of 7 runs after 3 warm-ups; sinks: stderr (discarded) + file (temp)",
      ...stages,
      stages_sum: Number(sum.toFixed(2)),
      hub,
      line_bytes: Math.round(lines.reduce((n, l) => n + l.length, 0) / lines.length),
    };
    console.log(JSON.stringify(result));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await main();

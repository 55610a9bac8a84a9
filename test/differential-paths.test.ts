// Differential: the same seeded sessions through the stdio session loop twice, once written so the proxy's byte scan reads every message (the hot path), once so that only a full parse can (escaped keys, duplicate ids, batches, long lines); events, the report and the bytes each peer got must not tell the two apart.

import { describe, expect, test } from "bun:test";
import { loadConfig } from "../src/config.ts";
import { createSessionEngine } from "../src/engine/session-engine.ts";
import { createReportState, foldEvent } from "../src/report/report-state.ts";
import { renderReport } from "../src/report/render-markdown.ts";
import type { BatonEvent } from "../src/telemetry/event-types.ts";
import { createTelemetryHub } from "../src/telemetry/telemetry-hub.ts";
import { runStdioSession } from "../src/transport/stdio-session.ts";
import type { ByteSink, Upstream } from "../src/transport/upstream.ts";
import { assertValidEvent } from "./support/events.ts";
import { createMemoryLogger } from "./support/memory-logger.ts";
import { memorySink } from "./support/memory-sink.ts";
import {
  arrivalOf,
  FAST,
  generateSession,
  parseExact,
  parsedForm,
  render,
  seedsOr,
  type Arrival,
  type GeneratedSession,
  type Side,
} from "./support/path-sessions.ts";
import { seededRandom } from "./support/seeded-random.ts";
import { createKeyMatcher } from "../src/telemetry/scrub-keys.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A stream the test feeds by hand. */
function handFed() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  return { stream, push: (bytes: Uint8Array) => controller.enqueue(bytes), end: () => controller.close() };
}

/** A sink keeping what it was given, read a step at a time. */
function recordingSink() {
  const chunks: Uint8Array[] = [];
  let read = 0;
  const sink: ByteSink & { take(): string } = {
    write: (bytes) => (chunks.push(bytes.slice()), bytes.length),
    flush: () => 0,
    take: () => {
      // Decoded together: a line written in pieces may cut a character.
      const text = decoder.decode(Buffer.concat(chunks.slice(read)));
      read = chunks.length;
      return text;
    },
  };
  return sink;
}

/** Lets queued reads, writes and idle-turn inspections run. */
const settle = async (turns = 6) => {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
};

interface Run {
  readonly arrivals: { step: number; to: Side; what: Arrival }[];
  readonly events: BatonEvent[];
  readonly logs: string[];
}

/** How a run's bytes arrive: which steps come in one read with the next, and the sizes of the reads. */
interface Chunks {
  readonly joinNext: readonly boolean[];
  sizes(length: number): number[];
}

/** In reads of at most 64 KiB, as from a pipe. */
const pipeReads = (length: number): number[] =>
  Array.from({ length: Math.ceil(length / 65_536) }, (_, i) => Math.min(65_536, length - i * 65_536));

const WHOLE_LINES: Chunks = { joinNext: [], sizes: pipeReads };

/** Runs `session` with each message written by `formOf` through the stdio session loop with a fake server. */
async function runSession(
  session: GeneratedSession,
  formOf: (message: unknown, index: number) => string,
  env: Record<string, string> = {},
  chunks: Chunks = WHOLE_LINES,
): Promise<Run> {
  const loaded = loadConfig({ BATON_EVENT_SINK: "file:/dev/null", ...env });
  if (!loaded.ok) throw new Error(loaded.problems.join("; "));
  const logger = createMemoryLogger();
  const events: BatonEvent[] = [];
  let clock = 1_000;
  const now = () => clock;
  // One clock for the engine and the envelopes, moved only between steps: times and durations are the run's own.
  let uuids = 0;
  const envelopeClock = {
    nowEpochMs: () => 1_790_000_000_000 + clock,
    uuid: () => `01900000-0000-7000-8000-${(uuids++).toString(16).padStart(12, "0")}`,
  };
  const hub = createTelemetryHub({ config: loaded.config, logger, sinks: [memorySink(events)], envelopeClock });
  const engine = createSessionEngine({ config: loaded.config, logger, now, telemetry: hub });
  const client = handFed();
  const serverOut = handFed();
  const toClient = recordingSink();
  const toServer = recordingSink();
  let exit!: (code: number) => void;
  const upstream: Upstream = {
    input: toServer,
    output: serverOut.stream,
    exited: new Promise<number>((resolve) => (exit = resolve)),
    describeExit: () => "exit code 0",
    close: () => undefined,
    signal: () => undefined,
    release: async () => undefined,
  };
  const done = runStdioSession({
    engine,
    upstream,
    client: { input: client.stream, output: toClient },
    logger,
    secretKeys: createKeyMatcher([]),
    onSignal: () => () => undefined,
    telemetryNeedsTurn: () => hub.needsTurn,
    now,
  });
  const arrivals: Run["arrivals"] = [];
  const note = (step: number, to: Side, text: string, sent: readonly string[]): void => {
    for (const line of text.split("\n").filter((l) => l !== ""))
      arrivals.push({ step, to, what: sent.includes(line) ? "sent" : arrivalOf(line, "") });
  };
  let group: { from: Side; lines: string[]; first: number } | undefined;
  for (const [index, step] of session.steps.entries()) {
    const line = formOf(step.message, index);
    group ??= { from: step.from, lines: [], first: index };
    group.lines.push(line);
    // Consecutive lines of one side may arrive in one read: they go together.
    if (chunks.joinNext[index] === true && session.steps[index + 1]?.from === step.from) continue;
    clock += 7;
    const bytes = encoder.encode(group.lines.map((l) => `${l}\n`).join(""));
    let at = 0;
    for (const size of chunks.sizes(bytes.length)) {
      (group.from === "client" ? client : serverOut).push(bytes.subarray(at, at + size));
      at += size;
    }
    await settle();
    note(group.first, "server", toServer.take(), group.lines);
    note(group.first, "client", toClient.take(), group.lines);
    group = undefined;
  }
  clock += 7;
  client.end();
  await settle();
  serverOut.end();
  exit(0);
  await done;
  note(session.steps.length, "client", toClient.take(), []);
  await hub.shutdown(1_000);
  for (const event of events) assertValidEvent(event);
  return { arrivals, events, logs: logger.lines };
}

/** An event without its id (drawn in the order events are prepared, which may differ), keys sorted (their order means nothing). */
function normalised(event: BatonEvent): unknown {
  const { event_id, ...rest } = event as unknown as Record<string, unknown>;
  void event_id;
  return parseExact(JSON.stringify(rest));
}

/** The friction report of `events`, as the `report` command renders it. */
function reportOf(events: readonly BatonEvent[]): string {
  const state = createReportState();
  for (const event of events) foldEvent(state, event);
  return renderReport(state, { slowCallMs: 5_000, eventsLocation: "events.jsonl", live: false, now: new Date(0) });
}

/** Both runs of one seed; the second's forms drawn from `formSeed`. */
async function bothPaths(
  seed: number,
  options: { big?: boolean; huge?: boolean } = {},
  env: Record<string, string> = {},
) {
  const session = generateSession(seed, options);
  const random = seededRandom(seed * 7919 + 1);
  const joinNext = session.steps.map(() => random() < 0.3);
  const fast = await runSession(session, (message) => render(message, FAST), env, { joinNext, sizes: pipeReads });
  // The parsed form also arrives in reads cut anywhere: a line in pieces, several in one.
  const pieces = (length: number): number[] => {
    const sizes: number[] = [];
    for (let left = length; left > 0; ) {
      const size = Math.min(left, random() < 0.5 ? 1 + Math.floor(random() * 64) : 1 + Math.floor(random() * 65_536));
      sizes.push(size);
      left -= size;
    }
    return sizes;
  };
  const forms = session.steps.map((step) =>
    parsedForm(step.message, random, session.batches, render(step.message, FAST).length > 8 * 1024 * 1024),
  );
  const parsed = await runSession(session, (message, index) => render(message, forms[index] ?? FAST), env, {
    joinNext,
    sizes: pieces,
  });
  return { session, fast, parsed, forms, joinNext };
}

/** The steps that arrived in one read with `step` (it first). */
function groupOf(session: GeneratedSession, joinNext: readonly boolean[], step: number): number[] {
  const steps = [step];
  for (let i = step; joinNext[i] === true && session.steps[i + 1]?.from === session.steps[step]?.from; i++)
    steps.push(i + 1);
  return steps;
}

/**
 * A message the proxy documents changing: a handshake or tool list answer (its additions), a call
 * with intent params (stripped).
 */
function mayBeRewritten(message: unknown): boolean {
  const value = message as { result?: Record<string, unknown>; params?: { arguments?: Record<string, unknown> } };
  if (value.result !== undefined)
    return Array.isArray(value.result.tools) || "serverInfo" in value.result || "supportedVersions" in value.result;
  const args = value.params?.arguments;
  return args !== undefined && ("user_goal" in args || "expected_result" in args);
}

function expectSame(seed: number, result: Awaited<ReturnType<typeof bothPaths>>): void {
  const { session, fast, parsed, forms } = result;
  const where = (step: number) =>
    `seed ${seed}, step ${step}: ${JSON.stringify(session.steps[step]?.message)?.slice(0, 300)} as ${JSON.stringify(forms[step])}`;
  // What each peer got, step by step: the bytes sent on as they came, or the same rewritten message.
  for (let i = 0; i < Math.max(fast.arrivals.length, parsed.arrivals.length); i++) {
    const a = fast.arrivals[i];
    const b = parsed.arrivals[i];
    const [x, y] = [JSON.stringify(a) ?? "", JSON.stringify(b) ?? ""];
    if (x !== y) {
      let at = 0;
      while (x[at] === y[at]) at++;
      const from = Math.max(0, at - 200);
      throw new Error(
        `wire differs at ${where(a?.step ?? b?.step ?? -1)}\nfast:   …${x.slice(from, at + 300)}\nparsed: …${y.slice(from, at + 300)}`,
      );
    }
  }
  // And what the proxy has no documented reason to change went on byte for byte.
  for (const arrival of fast.arrivals) {
    const group = groupOf(session, result.joinNext, arrival.step);
    const from = session.steps[arrival.step]?.from;
    if (arrival.what === "sent" || from === undefined || from === arrival.to) continue; // the proxy's own answers
    if (group.some((step) => mayBeRewritten(session.steps[step]?.message))) continue;
    throw new Error(
      `${where(arrival.step)}: changed on its way to the ${arrival.to}: ${JSON.stringify(arrival.what).slice(0, 600)}`,
    );
  }
  const a = fast.events.map(normalised);
  const b = parsed.events.map(normalised);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (JSON.stringify(a[i]) !== JSON.stringify(b[i]))
      throw new Error(
        `event ${i} differs (seed ${seed}, ${session.era})\nfast:   ${JSON.stringify(a[i])?.slice(0, 800)}\nparsed: ${JSON.stringify(b[i])?.slice(0, 800)}`,
      );
  }
  expect(reportOf(parsed.events)).toBe(reportOf(fast.events));
  // The log too (nothing sent on first turned out to need a change: no "internal:" line).
  const sized = (logs: readonly string[]) => logs.map((line) => line.replace(/\d+ bytes/g, "<n> bytes"));
  expect(sized(parsed.logs)).toEqual(sized(fast.logs));
  expect(fast.logs.filter((line) => line.includes("internal:"))).toEqual([]);
}

describe("the hot path and the full parse give the same events, report and wire", () => {
  test("seeded sessions of every era", async () => {
    // PATHS_FROM / PATHS_TO run other seeds, PATHS_BIG=1 / PATHS_HUGE=1 with large answers, PATHS_ENV with other settings (JSON).
    const options = { big: process.env.PATHS_BIG === "1", huge: process.env.PATHS_HUGE === "1" };
    const env = JSON.parse(process.env.PATHS_ENV ?? "{}");
    const failures: string[] = [];
    for (const seed of seedsOr(Array.from({ length: 24 }, (_, i) => i + 1))) {
      try {
        expectSame(seed, await bothPaths(seed, options, env));
      } catch (e) {
        failures.push(`seed ${seed}: ${String(e).slice(0, 1500)}`);
      }
    }
    if (failures.length > 0) throw new Error(failures.join("\n\n"));
  }, 600_000);

  test("with an otlp: sink (drafts built at once, trace facts on call starts)", async () => {
    const otlp = { BATON_EVENT_SINK: "file:/dev/null,otlp:", BATON_CONSENT_TOKEN: "ct_1" };
    for (let seed = 1; seed <= 6; seed++) expectSame(seed, await bothPaths(seed, {}, otlp));
  });

  test("with answers over 64 KiB (inspected in an idle turn)", async () => {
    for (let seed = 41; seed <= 50; seed++) expectSame(seed, await bothPaths(seed, { big: true }));
  });

  test("with messages over the 8 MiB inspection cap (read from their edges)", async () => {
    for (const seed of [5, 8, 10, 21]) expectSame(seed, await bothPaths(seed, { huge: true }));
  });
});

// Differential, seeded, over hostile lines (escaped and duplicate keys, look-alike keys nested anywhere, odd ids and numbers, raw separators and invalid UTF-8 in strings, broken lines, batches, lines around the scans' length limits): every byte scan agrees with a full parse, and the session engine forwards the same bytes and emits the same events whether its scans read a line or only JSON.parse may.
//
// The full path is forced with a test seam, not an option: a line classified by classifyText (a
// parse) carries no scanned facts, so the engine cannot take its unparsed fast path for it.
// FUZZ_SEEDS=1-400 (or 5,9) and FUZZ_SCALE=20 hunt further.

import { describe, expect, test } from "bun:test";
import { loadConfig } from "../src/config.ts";
import { createSessionEngine, type WireAction } from "../src/engine/session-engine.ts";
import { holdsChangedNumbers, parseEventValue } from "../src/proxy/canonical-json.ts";
import type { BatonEvent } from "../src/telemetry/event-types.ts";
import { createTelemetryHub } from "../src/telemetry/telemetry-hub.ts";
import { classifyLine, classifyText, type Classified } from "../src/wire/jsonrpc.ts";
import { scanLineFacts } from "../src/wire/line-facts.ts";
import { scanMethod } from "../src/wire/line-scan.ts";
import { decodeUtf8 } from "../src/wire/utf8.ts";
import { assertValidEvent } from "./support/events.ts";
import { fuzzSeeds, hostileLine, hostileStream, SETTINGS } from "./support/hostile-lines.ts";
import { picker } from "./support/jsonrpc-fuzz.ts";
import { asWritten, factDisagreements, isObject, parse } from "./support/scan-oracle.ts";
import { createMemoryLogger } from "./support/memory-logger.ts";
import { memorySink } from "./support/memory-sink.ts";

const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const LINES = 2500 * SCALE;
const STREAMS = 24 * SCALE;

/** Each way the scans read `body` otherwise than a parse does (empty: they agree). */
function disagreements(body: Uint8Array): string[] {
  const text = decodeUtf8(body);
  const parsed = parse(text);
  const wrong: string[] = [];
  const same = (what: string, scanned: unknown, expected: unknown): void => {
    if (!Object.is(scanned, expected)) wrong.push(`${what}: scanned ${String(scanned)}, parsed ${String(expected)}`);
  };
  // The cheap method scan does not validate: it must only never contradict a parse.
  const method = scanMethod(body);
  if (method !== undefined && parsed !== undefined)
    same("scanMethod", method, isObject(parsed.value) ? parsed.value.method : undefined);
  if (parsed !== undefined) same("event value", JSON.stringify(parseEventValue(body)), JSON.stringify(asWritten(text)));
  // classifyLine's scanned message is the one the parse makes (kind, id, method, idText, value).
  const plain = (c: Classified): unknown => {
    if (c.kind !== "message") return c;
    const m = c.message as { kind: string; id?: unknown; method?: string; idText?: string; value: unknown };
    return [m.kind, m.id, m.method, m.idText, JSON.stringify(m.value)];
  };
  same("classified", JSON.stringify(plain(classifyLine(body))), JSON.stringify(plain(classifyText(text))));
  const facts = scanLineFacts(body);
  return facts === undefined ? wrong : [...wrong, ...factDisagreements(body, text, facts)];
}

interface Run {
  readonly wire: string[];
  readonly events: string[];
  readonly logs: string[];
  /** Lines a transport would have sent on before inspection that the engine then wanted to change. */
  readonly early: string[];
}

/** `lines` through a session engine, each classified by `classify`; events built and delivered at the end. */
async function run(
  lines: readonly ["client" | "server", Uint8Array][],
  env: Record<string, string>,
  classify: (body: Uint8Array) => Classified,
): Promise<Run> {
  const loaded = loadConfig({ BATON_EVENT_SINK: "file:/dev/null", ...env });
  if (!loaded.ok) throw new Error(loaded.problems.join("; "));
  const logger = createMemoryLogger();
  const events: BatonEvent[] = [];
  let clock = 1_000;
  let uuids = 0;
  const envelopeClock = {
    nowEpochMs: () => 1_790_000_000_000 + clock,
    uuid: () => `01900000-0000-7000-8000-${(uuids++).toString(16).padStart(12, "0")}`,
  };
  const hub = createTelemetryHub({ config: loaded.config, logger, sinks: [memorySink(events)], envelopeClock });
  const engine = createSessionEngine({ config: loaded.config, logger, now: () => clock, telemetry: hub });
  const wire: string[] = [];
  const early: string[] = [];
  const show = (action: WireAction): string =>
    `${action.to} ${"bytes" in action ? Buffer.from(action.bytes).toString("hex") : JSON.stringify(action.message)}`;
  for (const [side, body] of lines) {
    clock += 3;
    // As a pump frames it: the line and its newline in one buffer, the body a view of it.
    const raw = new Uint8Array(body.length + 1);
    raw.set(body);
    raw[body.length] = 0x0a;
    const line = classify(raw.subarray(0, body.length));
    // What a transport sends on before the engine looks (stdio-session.ts) must be what the engine forwards.
    const before = side === "client" ? engine.clientLinePassesUnchanged(body) : engine.serverLinesPassUnchanged();
    const actions = side === "client" ? engine.fromClient(raw, line) : engine.fromServer(raw, line);
    if (before) {
      const other = side === "client" ? "server" : "client";
      const mine = actions.filter((a) => a.to === other || side === "server");
      if (
        mine.length !== 1 ||
        !("bytes" in (mine[0] as WireAction)) ||
        (mine[0] as { bytes: Uint8Array }).bytes !== raw
      )
        early.push(
          `${side}: ${JSON.stringify(decodeUtf8(body)).slice(0, 300)} -> ${mine.map(show).join(" | ").slice(0, 300)}`,
        );
    }
    wire.push(...actions.map(show), "--");
  }
  clock += 5;
  wire.push(...engine.failPending("proxy_shutdown", "bye").map(show));
  engine.close();
  hub.settle();
  await hub.shutdown(1_000);
  for (const event of events) assertValidEvent(event);
  return {
    wire,
    events: events.map((event) => {
      const { event_id, ...rest } = event as unknown as Record<string, unknown>;
      void event_id; // drawn in the order events are prepared, which may differ
      return JSON.stringify(rest);
    }),
    logs: logger.lines,
    early,
  };
}

/** The first place two lists differ, for the failure message. */
function firstDifference(a: readonly string[], b: readonly string[]): string | undefined {
  for (let i = 0; i < Math.max(a.length, b.length); i++)
    if (a[i] !== b[i]) return `#${i}\n  scanned: ${a[i]?.slice(0, 1200)}\n  parsed:  ${b[i]?.slice(0, 1200)}`;
  return undefined;
}

describe("the byte scans against a full parse, on hostile lines", () => {
  test.each(fuzzSeeds([1, 2]))("seed %d: every scan agrees with JSON.parse, or steps back", (seed) => {
    const pick = picker(seed);
    const wrong: string[] = [];
    let read = 0;
    for (let n = 0; n < LINES && wrong.length < 5; n++) {
      const body = hostileLine(pick);
      if (scanLineFacts(body) !== undefined) read++;
      for (const what of disagreements(body))
        wrong.push(`${what}\n    ${JSON.stringify(decodeUtf8(body)).slice(0, 600)}`);
    }
    expect(wrong).toEqual([]);
    expect(read).toBeGreaterThan(LINES / 10); // it reads many itself, not only gives up
  });

  test("numbers an event must keep as written are found wherever they are", () => {
    for (const lexeme of ["1.0", "-0", "1E2", "1e21", "9007199254740993", "-0.0", "1e400", "0.1e1"]) {
      expect(holdsChangedNumbers(new TextEncoder().encode(`{"a":[${lexeme}]}`))).toBe(true);
      expect(JSON.stringify(parseEventValue(new TextEncoder().encode(`{"a":[${lexeme}]}`)))).toBe(`{"a":[${lexeme}]}`);
    }
  });
});

describe("the session engine with its scans and with a full parse only, on hostile sessions", () => {
  test.each(fuzzSeeds([1, 2, 3, 4]))(
    "seed %d: the same bytes forwarded, the same events, nothing sent on early that then changes",
    async (seed) => {
      const pick = picker(seed * 7919);
      const problems: string[] = [];
      for (let s = 0; s < STREAMS / 4 && problems.length === 0; s++) {
        const lines = [...hostileStream(pick, 60)];
        const env = pick.one(SETTINGS);
        const scanned = await run(lines, env, classifyLine);
        const parsed = await run(lines, env, (body) => classifyText(decodeUtf8(body)));
        const where = `stream ${s} (${JSON.stringify(env)})`;
        const wire = firstDifference(scanned.wire, parsed.wire);
        if (wire !== undefined) problems.push(`${where}: wire ${wire}`);
        const events = firstDifference(scanned.events, parsed.events);
        if (events !== undefined) problems.push(`${where}: event ${events}`);
        if (firstDifference(scanned.logs, parsed.logs) !== undefined)
          problems.push(`${where}: logs ${firstDifference(scanned.logs, parsed.logs)}`);
        problems.push(
          ...[...scanned.early, ...parsed.early].map((line) => `${where}: sent on early, then changed: ${line}`),
        );
      }
      expect(problems).toEqual([]);
    },
    60_000,
  );
});

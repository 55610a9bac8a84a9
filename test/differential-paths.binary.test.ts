// Differential, black-box: seeded sessions through the compiled proxy twice, once written so its byte scan reads every message (the hot path), once so only a full parse can; the test plays the server over a socket relay. What each peer got, the event file and the `report` command's output must not tell the two apart.

import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { binaryPath } from "./support/binary.ts";
import { readValidatedEvents } from "./support/events.ts";
import { cleanEnv, FIXTURES, tempDir } from "./support/proxy-process.ts";
import {
  arrivalOf,
  FAST,
  generateSession,
  parseExact,
  parsedForm,
  render,
  type Arrival,
  type GeneratedSession,
} from "./support/path-sessions.ts";
import { seededRandom } from "./support/seeded-random.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Collects the lines of a byte stream as text. */
function lineCollector() {
  const lines: string[] = [];
  let partial = "";
  return {
    lines,
    push(chunk: Uint8Array | Buffer): void {
      const text = partial + decoder.decode(chunk, { stream: true });
      const parts = text.split("\n");
      partial = parts.pop() ?? "";
      lines.push(...parts);
    },
  };
}

/** Waits until `done()` holds, or `ms` passed (then the comparison shows what is missing). */
async function until(done: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await Bun.sleep(2);
}

interface BinaryRun {
  readonly arrivals: { step: number; to: "client" | "server"; what: Arrival }[];
  readonly events: Record<string, any>[];
  readonly report: string;
}

/**
 * `lines` (one per step of `session`) through the proxy, the test as client and (over the relay)
 * as server; after each step it waits for the lines the step makes the proxy write, at most
 * `expected` of them or none (a step that makes no line: the proxy's answer to the next one
 * comes after it anyway).
 */
async function runBinary(session: GeneratedSession, lines: readonly string[]): Promise<BinaryRun> {
  const dir = tempDir("baton-paths-");
  const eventsFile = join(dir, "events.jsonl");
  const toServer = lineCollector();
  let socket: Socket | undefined;
  let serverEnded = false;
  const listener = createServer((s) => {
    socket = s;
    s.on("data", (chunk: Buffer) => toServer.push(chunk));
    s.on("end", () => {
      serverEnded = true;
    });
  });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const port = (listener.address() as { port: number }).port;
  const proc = Bun.spawn(
    [await binaryPath(), "--", process.execPath, join(FIXTURES, "socket-relay-server.ts"), String(port)],
    {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
      env: cleanEnv({ BATON_EVENT_SINK: `file:${eventsFile}` }),
    },
  );
  const toClient = lineCollector();
  const reading = (async () => {
    for await (const chunk of proc.stdout) toClient.push(chunk);
  })();
  const stderr = new Response(proc.stderr).text();
  const arrivals: BinaryRun["arrivals"] = [];
  const seen = { client: 0, server: 0 };
  const note = (step: number, sent: string): void => {
    for (const [to, collected] of [
      ["server", toServer],
      ["client", toClient],
    ] as const) {
      for (const line of collected.lines.slice(seen[to])) arrivals.push({ step, to, what: arrivalOf(line, sent) });
      seen[to] = collected.lines.length;
    }
  };
  try {
    await until(() => socket !== undefined);
    for (const [index, step] of session.steps.entries()) {
      const line = lines[index] as string;
      const before = toClient.lines.length + toServer.lines.length;
      if (step.from === "client") {
        proc.stdin.write(encoder.encode(`${line}\n`));
        await proc.stdin.flush();
      } else {
        socket?.write(`${line}\n`);
      }
      await until(() => toClient.lines.length + toServer.lines.length > before, 1_000);
      await Bun.sleep(5); // a step may make more than one line (a proxy answer and a forwarded notification)
      note(index, line);
    }
    await proc.stdin.end();
    await until(() => serverEnded);
    socket?.destroy();
    await proc.exited;
    await reading;
    note(session.steps.length, "");
  } finally {
    proc.kill();
    listener.close();
  }
  expect(await stderr).not.toContain("internal:");
  const events = readValidatedEvents(eventsFile);
  // The report of the events with the clock taken out (times by sequence number, every call 1 ms).
  const timeless = events.map((event) => ({
    ...event,
    session_id: "01900000-0000-7000-8000-000000000000",
    captured_at: new Date(Date.UTC(2026, 0, 1, 0, 0, event.sequence_number)).toISOString().replace("Z", "000Z"),
    ...(event.payload?.duration_ms === undefined ? {} : { payload: { ...event.payload, duration_ms: 1 } }),
  }));
  const timelessFile = join(dir, "timeless.jsonl");
  writeFileSync(timelessFile, `${timeless.map((e) => JSON.stringify(e)).join("\n")}\n`);
  const report = Bun.spawnSync([await binaryPath(), "report", timelessFile], { env: cleanEnv() });
  expect(report.exitCode).toBe(0);
  return { arrivals, events, report: decoder.decode(report.stdout).replaceAll(dir, "<dir>") };
}

/** An event without what the clock and the id generator decide. */
function normalised(event: Record<string, any>): unknown {
  const { event_id, session_id, captured_at, ...rest } = event;
  void event_id;
  void session_id;
  void captured_at;
  const payload = rest.payload?.duration_ms === undefined ? rest.payload : { ...rest.payload, duration_ms: "<ms>" };
  return parseExact(JSON.stringify({ ...rest, payload }));
}

/** The live report's answer without the wall clock (times, durations). */
function timeless(arrival: unknown): string {
  return JSON.stringify(arrival)
    .replace(/\d\d:\d\d:\d\d(\.\d+)?/g, "<time>")
    .replace(/\d{4}-\d\d-\d\d/g, "<date>")
    .replace(/#?\d+(\.\d+)? ms/g, "<n> ms")
    .replace(/\|(?: [\d.]+ \|){3}(\\n)/g, "| <p50> | <p95> | <max> |$1")
    .replace(/\/tmp\/baton-paths-\w+\//g, "<dir>/")
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, "<id>");
}

async function expectSameThroughBinary(seed: number): Promise<void> {
  const session = generateSession(seed, { big: true });
  const random = seededRandom(seed * 7919 + 1);
  const forms = session.steps.map((step) =>
    parsedForm(step.message, random, session.batches, render(step.message, FAST).length > 8 * 1024 * 1024),
  );
  const fast = await runBinary(
    session,
    session.steps.map((step) => render(step.message, FAST)),
  );
  const parsed = await runBinary(
    session,
    session.steps.map((step, i) => render(step.message, forms[i] ?? FAST)),
  );
  for (let i = 0; i < Math.max(fast.arrivals.length, parsed.arrivals.length); i++) {
    const [a, b] = [timeless(fast.arrivals[i]), timeless(parsed.arrivals[i])];
    if (a !== b) {
      const step = fast.arrivals[i]?.step ?? parsed.arrivals[i]?.step ?? -1;
      let at = 0;
      while (a[at] === b[at]) at++;
      const from = Math.max(0, at - 300);
      throw new Error(
        `seed ${seed}, step ${step} (${JSON.stringify(session.steps[step]?.message)?.slice(0, 300)} as ${JSON.stringify(forms[step])}):\nfast:   …${a.slice(from, at + 300)}\nparsed: …${b.slice(from, at + 300)}`,
      );
    }
  }
  expect(parsed.events.map(normalised)).toEqual(fast.events.map(normalised));
  expect(parsed.report).toBe(fast.report);
}

describe("the compiled proxy: the hot path and the full parse give the same wire, events and report", () => {
  test("seeded sessions", async () => {
    for (const seed of [1, 2]) await expectSameThroughBinary(seed);
  }, 60_000);

  test.skipIf(process.env.PATHS_TO === undefined)(
    "exploration",
    async () => {
      for (let seed = Number(process.env.PATHS_FROM ?? 1); seed <= Number(process.env.PATHS_TO); seed++)
        await expectSameThroughBinary(seed);
    },
    600_000,
  );
});

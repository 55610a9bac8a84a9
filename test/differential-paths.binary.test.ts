// Differential, black-box: seeded sessions through the compiled proxy twice, once written so its byte scan reads every message (the hot path), once so only a full parse can; the test plays the server over a socket relay. What each peer got, the event file and the `report` command's output must not tell the two apart.

import { describe, expect, test } from "bun:test";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { binaryPath } from "./support/binary.ts";
import { cleanEnv, FIXTURES, tempDir } from "./support/proxy-process.ts";
import { eventsAndReport, expectSameRuns, lineCollector, until, type PathRun } from "./support/path-runs.ts";
import {
  arrivalOf,
  FAST,
  generateSession,
  parsedForm,
  render,
  seedsOr,
  type GeneratedSession,
} from "./support/path-sessions.ts";
import { seededRandom } from "./support/seeded-random.ts";

const encoder = new TextEncoder();

/**
 * `lines` (one per step of `session`) through the proxy, the test as client and (over the relay)
 * as server; after each step it waits for the first line the step makes the proxy write, then a
 * moment for more (a proxy answer and a forwarded notification).
 */
async function runBinary(session: GeneratedSession, lines: readonly string[]): Promise<PathRun> {
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
  const arrivals: PathRun["arrivals"] = [];
  const seen = { client: 0, server: 0 };
  // A line is the one some step sent when it equals any of them: which step it is noted after depends on timing.
  const sent = new Set(lines);
  const note = (step: number): void => {
    for (const [to, collected] of [
      ["server", toServer],
      ["client", toClient],
    ] as const) {
      for (const line of collected.lines.slice(seen[to]))
        arrivals.push({ step, to, what: sent.has(line) ? "sent" : arrivalOf(line, "") });
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
      note(index);
    }
    await proc.stdin.end();
    await until(() => serverEnded);
    socket?.destroy();
    await proc.exited;
    await reading;
    note(session.steps.length);
  } finally {
    proc.kill();
    listener.close();
  }
  expect(await stderr).not.toContain("internal:");
  return { arrivals, ...(await eventsAndReport(dir, eventsFile)) };
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
  expectSameRuns(seed, session, forms, fast, parsed);
}

describe("the compiled proxy: the hot path and the full parse give the same wire, events and report", () => {
  test("seeded sessions", async () => {
    // PATHS_FROM / PATHS_TO run other seeds (see differential-paths.test.ts).
    for (const seed of seedsOr([3, 4])) await expectSameThroughBinary(seed);
  }, 600_000);
});

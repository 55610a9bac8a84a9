// Differential, black-box through `--url`: seeded sessions written on the compiled proxy's stdin twice, once in lines its byte scan reads (the hot path), once in lines only a full parse reads; the test's HTTP upstream answers each POST with the session's answer in the same form (JSON or an SSE stream). What each side got, the event file and the `report` command's output must not tell the two apart.

import { describe, test } from "bun:test";
import { join } from "node:path";
import { binaryPath } from "./support/binary.ts";
import { cleanEnv, tempDir } from "./support/proxy-process.ts";
import {
  answerSent,
  eventsAndReport,
  expectSameRuns,
  lineCollector,
  scriptedUpstream,
  until,
  type PathRun,
} from "./support/path-runs.ts";
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
 * Each client step of `session` written in `formOf`'s form to `baton-proxy --url` in front of a
 * scripted upstream; after each, the test waits for what it makes arrive (a POST, an answer).
 */
async function runUrl(
  session: GeneratedSession,
  formOf: (index: number) => string,
  sse: (index: number) => boolean,
): Promise<PathRun> {
  const arrivals: PathRun["arrivals"] = [];
  let step = 0;
  const upstream = scriptedUpstream(session, formOf, sse, () => step, arrivals);
  const dir = tempDir("baton-paths-url-");
  const eventsFile = join(dir, "events.jsonl");
  const proc = Bun.spawn([await binaryPath(), "--url", `http://127.0.0.1:${upstream.port}/mcp`], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
    env: cleanEnv({ BATON_EVENT_SINK: `file:${eventsFile}` }),
  });
  const toClient = lineCollector();
  const reading = (async () => {
    for await (const chunk of proc.stdout) toClient.push(chunk);
  })();
  let seen = 0;
  // A body becomes one line: its edges trimmed, its CRs (whitespace in JSON) made spaces.
  const flat = (line: string) => line.replaceAll("\r", " ").trim();
  // What the server sent, as any of its lines (a batch's answer in a batch): which step an answer is
  // noted after depends on when it arrived.
  const serverLines = new Set(
    session.steps.flatMap((s, i) => (s.from === "server" ? [flat(formOf(i)), flat(`[${formOf(i)}]`)] : [])),
  );
  try {
    for (const [index, s] of session.steps.entries()) {
      if (s.from !== "client") continue;
      step = index;
      const body = formOf(index);
      const before = arrivals.length + toClient.lines.length;
      proc.stdin.write(encoder.encode(`${body}\n`));
      await proc.stdin.flush();
      const request = "method" in (s.message as object) && "id" in (s.message as object);
      const sent = answerSent(session, formOf, sse, index, body).map(flat);
      // A request waits for its answer (and the notifications before it; the proxy's own answer is one
      // line); anything else for its POST (or a moment, should there be none).
      await until(
        () =>
          request
            ? toClient.lines.length - seen >= Math.max(1, sent.length)
            : arrivals.length + toClient.lines.length > before,
        1_000,
      );
      await Bun.sleep(5);
      for (const line of toClient.lines.slice(seen))
        arrivals.push({ step: index, to: "client", what: serverLines.has(line) ? "sent" : arrivalOf(line, "") });
      seen = toClient.lines.length;
    }
    await proc.stdin.end();
    await proc.exited;
    await reading;
    for (const line of toClient.lines.slice(seen))
      arrivals.push({ step: session.steps.length, to: "client", what: arrivalOf(line, "") });
  } finally {
    proc.kill();
    upstream.stop(true);
  }
  return { arrivals, ...(await eventsAndReport(dir, eventsFile)) };
}

async function expectSameThroughUrl(seed: number, options: { big?: boolean; huge?: boolean } = {}): Promise<void> {
  const session = generateSession(seed, options);
  const random = seededRandom(seed * 7919 + 1);
  const forms = session.steps.map((step) =>
    parsedForm(step.message, random, session.batches, render(step.message, FAST).length > 8 * 1024 * 1024),
  );
  const sse = session.steps.map(() => random() < 0.4);
  const fast = await runUrl(
    session,
    (i) => render(session.steps[i]?.message, FAST),
    (i) => sse[i] === true,
  );
  const parsed = await runUrl(
    session,
    (i) => render(session.steps[i]?.message, forms[i] ?? FAST),
    (i) => sse[i] === true,
  );
  expectSameRuns(seed, session, forms, fast, parsed);
}

describe("--url: the hot path and the full parse give the same wire, events and report", () => {
  test("seeded sessions", async () => {
    // PATHS_FROM / PATHS_TO run other seeds (see differential-paths.test.ts).
    for (const seed of seedsOr([3, 4])) await expectSameThroughUrl(seed);
  }, 600_000);
});

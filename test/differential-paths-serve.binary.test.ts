// Differential, black-box through `serve`: seeded sessions POSTed to the compiled proxy twice, once in bodies its byte scan reads (the hot path), once in bodies only a full parse reads; the test's upstream answers each request with the session's answer in the same form (JSON or an SSE stream). What each side got, the event file and the `report` command's output must not tell the two apart.

import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { binaryPath } from "./support/binary.ts";
import { readValidatedEvents } from "./support/events.ts";
import { cleanEnv, tempDir } from "./support/proxy-process.ts";
import { startServe } from "./support/serve-process.ts";
import {
  arrivalOf,
  FAST,
  generateSession,
  parseExact,
  parsedForm,
  render,
  type Arrival,
  type Form,
  type GeneratedSession,
} from "./support/path-sessions.ts";
import { seededRandom } from "./support/seeded-random.ts";

const decoder = new TextDecoder();

interface ServeRun {
  readonly arrivals: { step: number; to: "client" | "server"; what: Arrival }[];
  readonly events: Record<string, any>[];
  readonly report: string;
}

/** The JSON-RPC messages of an answer body: JSON, or the data of an SSE stream's events. */
function answerLines(type: string, body: string): string[] {
  if (!type.includes("text/event-stream")) return body === "" ? [] : [body];
  return body
    .split(/\r?\n\r?\n/)
    .map((event) =>
      event
        .split(/\r?\n/)
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).replace(/^ /, ""))
        .join("\n"),
    )
    .filter((data) => data !== "");
}

/**
 * Each client step of `session` POSTed in `formOf`'s form; the upstream answers a request with the
 * session's answer of its id (in that step's form, as JSON or, for `sse`, an event stream), or a
 * JSON-RPC error when the session has none; notifications and answers get 202. The server's own
 * messages (progress, its requests) are left out: they need the GET stream.
 */
async function runServe(
  session: GeneratedSession,
  formOf: (index: number) => string,
  sse: (index: number) => boolean,
): Promise<ServeRun> {
  const arrivals: ServeRun["arrivals"] = [];
  let step = 0;
  const answerOf = (id: unknown): number =>
    session.steps.findIndex(
      (s, i) =>
        i > step &&
        s.from === "server" &&
        "id" in (s.message as object) &&
        !("method" in (s.message as object)) &&
        JSON.stringify((s.message as { id: unknown }).id) === JSON.stringify(id),
    );
  const upstream = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      if (request.method !== "POST") return new Response(null, { status: 405 });
      const text = await request.text();
      arrivals.push({ step, to: "server", what: arrivalOf(text, formOf(step)) });
      const parsed = JSON.parse(text);
      const message = Array.isArray(parsed) ? parsed[0] : parsed;
      const headers: Record<string, string> = { "mcp-session-id": "upstream-1" };
      if (message?.method === undefined || message.id === undefined)
        return new Response(null, { status: 202, headers });
      const index = answerOf(message.id);
      let line =
        index < 0
          ? JSON.stringify({ jsonrpc: "2.0", id: message.id, error: { code: -32000, message: "no answer" } })
          : formOf(index);
      if (Array.isArray(parsed) && !line.trimStart().startsWith("[")) line = `[${line}]`;
      // A CR would end an SSE line (JSON.stringify never writes one): such a form is sent as JSON.
      if (index >= 0 && sse(index) && !line.includes("\r"))
        return new Response(`event: message\ndata: ${line}\n\n`, {
          headers: { ...headers, "content-type": "text/event-stream" },
        });
      return new Response(line, { headers: { ...headers, "content-type": "application/json" } });
    },
  });
  const dir = tempDir("baton-paths-serve-");
  const eventsFile = join(dir, "events.jsonl");
  const serve = await startServe(["--upstream", `http://127.0.0.1:${upstream.port}/mcp`], {
    BATON_EVENT_SINK: `file:${eventsFile}`,
  });
  let sessionId: string | undefined;
  try {
    for (const [index, s] of session.steps.entries()) {
      if (s.from !== "client") continue;
      step = index;
      const body = formOf(index);
      const response = await fetch(serve.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          ...(sessionId === undefined ? {} : { "mcp-session-id": sessionId }),
        },
        body,
      });
      sessionId = response.headers.get("mcp-session-id") ?? sessionId;
      const type = response.headers.get("content-type") ?? "";
      const text = await response.text();
      const answerIndex = answerOf((s.message as { id?: unknown }).id);
      let sent = answerIndex < 0 ? "" : formOf(answerIndex);
      if (body.trimStart().startsWith("[") && !sent.trimStart().startsWith("[")) sent = `[${sent}]`; // as the upstream answers a batch
      arrivals.push({ step: index, to: "client", what: response.status });
      for (const line of answerLines(type, text))
        arrivals.push({ step: index, to: "client", what: arrivalOf(line, sent) });
    }
  } finally {
    await serve.stop();
    upstream.stop(true);
  }
  const events = readValidatedEvents(eventsFile);
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

/** The live report's answer without the wall clock (times, durations) and temp paths. */
function timeless(arrival: unknown): string {
  return JSON.stringify(arrival)
    .replace(/\d\d:\d\d:\d\d(\.\d+)?/g, "<time>")
    .replace(/\d{4}-\d\d-\d\d/g, "<date>")
    .replace(/#?\d+(\.\d+)? ms/g, "<n> ms")
    .replace(/\|(?: [\d.]+ \|){3}(\\n)/g, "| <p50> | <p95> | <max> |$1")
    .replace(/\/tmp\/baton-paths-serve-\w+\//g, "<dir>/")
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, "<id>");
}

async function expectSameThroughServe(seed: number, options: { big?: boolean; huge?: boolean } = {}): Promise<void> {
  const session = generateSession(seed, options);
  const random = seededRandom(seed * 7919 + 1);
  const forms: Form[] = session.steps.map((step) => parsedForm(step.message, random, session.batches));
  const sse = session.steps.map(() => random() < 0.4);
  const fast = await runServe(
    session,
    (i) => render(session.steps[i]?.message, FAST),
    (i) => sse[i] === true,
  );
  const parsed = await runServe(
    session,
    (i) => render(session.steps[i]?.message, forms[i] ?? FAST),
    (i) => sse[i] === true,
  );
  for (let i = 0; i < Math.max(fast.arrivals.length, parsed.arrivals.length); i++) {
    const [a, b] = [timeless(fast.arrivals[i]), timeless(parsed.arrivals[i])];
    if (a !== b) {
      const step = fast.arrivals[i]?.step ?? parsed.arrivals[i]?.step ?? -1;
      let at = 0;
      while (a[at] === b[at]) at++;
      const from = Math.max(0, at - 300);
      throw new Error(
        `seed ${seed} (${session.era}), step ${step} (${JSON.stringify(session.steps[step]?.message)?.slice(0, 300)} as ${JSON.stringify(forms[step])}):\nfast:   …${a.slice(from, at + 300)}\nparsed: …${b.slice(from, at + 300)}`,
      );
    }
  }
  expect(parsed.events.map(normalised)).toEqual(fast.events.map(normalised));
  expect(parsed.report).toBe(fast.report);
}

describe("serve: the hot path and the full parse give the same wire, events and report", () => {
  test("seeded sessions", async () => {
    for (const seed of [1, 2]) await expectSameThroughServe(seed);
  }, 60_000);

  test.skipIf(process.env.PATHS_TO === undefined)(
    "exploration",
    async () => {
      for (let seed = Number(process.env.PATHS_FROM ?? 1); seed <= Number(process.env.PATHS_TO); seed++)
        await expectSameThroughServe(seed, {
          big: process.env.PATHS_BIG === "1",
          huge: process.env.PATHS_HUGE === "1",
        });
    },
    600_000,
  );
});

// What the black-box differential-paths tests share: an upstream that answers a generated session's requests over HTTP, the event file's report with the clock taken out, and the comparison of two runs.

import { expect } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { binaryPath } from "./binary.ts";
import { readValidatedEvents } from "./events.ts";
import { arrivalOf, parseExact, type Arrival, type Form, type GeneratedSession } from "./path-sessions.ts";
import { cleanEnv } from "./temp.ts";

const decoder = new TextDecoder();

/** What one run of a session through the binary left: the arrivals on each side, the events, the report. */
export interface PathRun {
  readonly arrivals: { step: number; to: "client" | "server"; what: Arrival }[];
  readonly events: Record<string, any>[];
  readonly report: string;
}

/** Collects the lines of a byte stream as text. */
export function lineCollector() {
  const lines: string[] = [];
  let partial = "";
  return {
    lines,
    push(chunk: Uint8Array): void {
      const text = partial + decoder.decode(chunk, { stream: true });
      const parts = text.split("\n");
      partial = parts.pop() ?? "";
      lines.push(...parts);
    },
  };
}

/** Waits until `done()` holds, or `ms` passed (then the comparison shows what is missing). */
export async function until(done: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await Bun.sleep(2);
}

/** The JSON-RPC messages of an answer body: JSON, or the data of an SSE stream's events. */
export function answerLines(type: string, body: string): string[] {
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

/** The server step answering the request `id` sent at step `after`; -1 when the session has none. */
export function answerOf(session: GeneratedSession, id: unknown, after: number): number {
  return session.steps.findIndex(
    (s, i) =>
      i > after &&
      s.from === "server" &&
      "id" in (s.message as object) &&
      !("method" in (s.message as object)) &&
      JSON.stringify((s.message as { id: unknown }).id) === JSON.stringify(id),
  );
}

/** The server's notifications (progress, task status, list changes) between steps `from` and `to`. */
function notificationsBetween(session: GeneratedSession, from: number, to: number): number[] {
  const found: number[] = [];
  for (let i = from + 1; i < to; i++) {
    const message = session.steps[i]?.message as object | undefined;
    if (session.steps[i]?.from === "server" && message !== undefined && "method" in message && !("id" in message))
      found.push(i);
  }
  return found;
}

/**
 * The lines a client gets for its request of step `index` (`body` as it sent it): the answer (a
 * batch for a batch), after the notifications an SSE answer (`sse`) carries.
 */
export function answerSent(
  session: GeneratedSession,
  formOf: (index: number) => string,
  sse: (index: number) => boolean,
  index: number,
  body: string,
): string[] {
  const answer = answerOf(session, (session.steps[index]?.message as { id?: unknown } | undefined)?.id, index);
  if (answer < 0) return [];
  const line = formOf(answer);
  const batched = body.trimStart().startsWith("[") && !line.trimStart().startsWith("[") ? `[${line}]` : line;
  return sse(answer) ? [...notificationsBetween(session, index, answer).map(formOf), batched] : [batched];
}

/**
 * An HTTP MCP upstream playing `session`'s server: a request is answered with the session's answer
 * of its id (in that step's form, as JSON or, for `sse`, an event stream; a batch with a batch), or
 * a JSON-RPC error when the session has none; notifications and answers get 202. What it receives
 * is noted as arriving at `step()`. The server's own messages (progress, its requests) are left
 * out: they need the GET stream.
 */
export function scriptedUpstream(
  session: GeneratedSession,
  formOf: (index: number) => string,
  sse: (index: number) => boolean,
  step: () => number,
  arrivals: PathRun["arrivals"],
) {
  return Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      if (request.method !== "POST") return new Response(null, { status: 405 });
      const text = await request.text();
      // `--url` POSTs a line without its line ending (a CR LF's CR included): the same bytes.
      const sent = formOf(step());
      const asSent = sent.endsWith("\r") && text === sent.slice(0, -1) ? text : sent;
      arrivals.push({ step: step(), to: "server", what: arrivalOf(text, asSent) });
      const parsed = JSON.parse(text);
      const message = Array.isArray(parsed) ? parsed[0] : parsed;
      const headers: Record<string, string> = { "mcp-session-id": "upstream-1" };
      if (message?.method === undefined || message.id === undefined)
        return new Response(null, { status: 202, headers });
      const index = answerOf(session, message.id, step());
      let line =
        index < 0
          ? JSON.stringify({ jsonrpc: "2.0", id: message.id, error: { code: -32000, message: "no answer" } })
          : formOf(index);
      if (Array.isArray(parsed) && !line.trimStart().startsWith("[")) line = `[${line}]`;
      // A stream carries the server's notifications from before the answer too (progress, task
      // status). A CR ends an SSE line: a form with CRs between its tokens goes in several data lines,
      // which the reader joins with LFs (whitespace either way).
      const lines = index < 0 ? [] : [...notificationsBetween(session, step(), index).map(formOf), line];
      if (index >= 0 && sse(index))
        return new Response(lines.map((l) => `event: message\ndata: ${l.split("\r").join("\ndata: ")}\n\n`).join(""), {
          headers: { ...headers, "content-type": "text/event-stream" },
        });
      return new Response(line, { headers: { ...headers, "content-type": "application/json" } });
    },
  });
}

/** The validated events of `eventsFile` and the `report` command's output on them with the clock taken out. */
export async function eventsAndReport(
  dir: string,
  eventsFile: string,
): Promise<{ events: Record<string, any>[]; report: string }> {
  const events = readValidatedEvents(eventsFile);
  // Times by sequence number, every call 1 ms, one session id.
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
  return { events, report: withoutPorts(decoder.decode(report.stdout).replaceAll(dir, "<dir>")) };
}

/** An event without what the clock and the id generator decide. */
function normalised(event: Record<string, any>): unknown {
  const { event_id, session_id, captured_at, ...rest } = event;
  void event_id;
  void session_id;
  void captured_at;
  const payload = rest.payload?.duration_ms === undefined ? rest.payload : { ...rest.payload, duration_ms: "<ms>" };
  return parseExact(withoutPorts(JSON.stringify({ ...rest, payload })));
}

/** `--url` names the server by its origin, whose port is the run's own. */
const withoutPorts = (text: string): string => text.replace(/127\.0\.0\.1:\d+/g, "127.0.0.1:<port>");

/** An arrival without the wall clock (the live report's times and durations, units included: 999 ms in one run is 1.0 s in the other) and temp paths. */
function timeless(arrival: unknown): string {
  return withoutPorts(JSON.stringify(arrival))
    .replace(/\d\d:\d\d:\d\d(\.\d+)?/g, "<time>")
    .replace(/\d{4}-\d\d-\d\d/g, "<date>")
    .replace(/#?\d+(?:\.\d+)? (?:ms|s|min|h)\b/g, "<duration>")
    .replace(/\|(?: [\d.]+ \|){3}(\\n)/g, "| <p50> | <p95> | <max> |$1")
    .replace(/\/tmp\/baton-paths[\w-]*\//g, "<dir>/")
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, "<id>");
}

/** Fails, naming the step and where the two runs part, unless they are the same. */
export function expectSameRuns(
  seed: number,
  session: GeneratedSession,
  forms: readonly Form[],
  fast: PathRun,
  parsed: PathRun,
): void {
  // Side by side, in order: which step a line is noted after depends on when it arrived.
  for (const side of ["server", "client"] as const) {
    const ours = (run: PathRun) => run.arrivals.filter((arrival) => arrival.to === side);
    expectSameArrivals(seed, session, forms, ours(fast), ours(parsed));
  }
  expect(parsed.events.map(normalised)).toEqual(fast.events.map(normalised));
  expect(parsed.report).toBe(fast.report);
}

function expectSameArrivals(
  seed: number,
  session: GeneratedSession,
  forms: readonly Form[],
  fast: PathRun["arrivals"],
  parsed: PathRun["arrivals"],
): void {
  for (let i = 0; i < Math.max(fast.length, parsed.length); i++) {
    const [a, b] = [timeless(fast[i]?.what), timeless(parsed[i]?.what)];
    if (a === b) continue;
    const step = fast[i]?.step ?? parsed[i]?.step ?? -1;
    let at = 0;
    while (a[at] === b[at]) at++;
    const from = Math.max(0, at - 300);
    throw new Error(
      `seed ${seed} (${session.era}), to the ${fast[i]?.to ?? parsed[i]?.to}, after step ${step} (${JSON.stringify(session.steps[step]?.message)?.slice(0, 300)} as ${JSON.stringify(forms[step])}):\nfast:   …${a.slice(from, at + 300)}\nparsed: …${b.slice(from, at + 300)}`,
    );
  }
}

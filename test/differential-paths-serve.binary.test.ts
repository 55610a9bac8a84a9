// Differential, black-box through `serve`: seeded sessions POSTed to the compiled proxy twice, once in bodies its byte scan reads (the hot path), once in bodies only a full parse reads; the test's upstream answers each request with the session's answer in the same form (JSON or an SSE stream). What each side got, the event file and the `report` command's output must not tell the two apart.

import { describe, test } from "bun:test";
import { join } from "node:path";
import { tempDir } from "./support/proxy-process.ts";
import { startServe } from "./support/serve-process.ts";
import {
  answerLines,
  answerSent,
  eventsAndReport,
  expectSameRuns,
  scriptedUpstream,
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

/** Each client step of `session` POSTed in `formOf`'s form, one after another, to `serve` in front of a scripted upstream. */
async function runServe(
  session: GeneratedSession,
  formOf: (index: number) => string,
  sse: (index: number) => boolean,
  env: Record<string, string> = {},
): Promise<PathRun> {
  const arrivals: PathRun["arrivals"] = [];
  let step = 0;
  const upstream = scriptedUpstream(session, formOf, sse, () => step, arrivals);
  const dir = tempDir("baton-paths-serve-");
  const eventsFile = join(dir, "events.jsonl");
  const serve = await startServe(["--upstream", `http://127.0.0.1:${upstream.port}/mcp`], {
    BATON_EVENT_SINK: `file:${eventsFile}`,
    ...env,
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
      const text = await response.text();
      let sent = answerSent(session, formOf, sse, index, body);
      arrivals.push({ step: index, to: "client", what: response.status });
      const type = response.headers.get("content-type") ?? "";
      // An SSE event's data lines are joined with LFs (see scriptedUpstream).
      if (type.includes("text/event-stream")) sent = sent.map((line) => line.replaceAll("\r", "\n"));
      for (const line of answerLines(type, text))
        arrivals.push({ step: index, to: "client", what: sent.includes(line) ? "sent" : arrivalOf(line, "") });
    }
  } finally {
    await serve.stop();
    upstream.stop(true);
  }
  return { arrivals, ...(await eventsAndReport(dir, eventsFile)) };
}

async function expectSameThroughServe(
  seed: number,
  options: { big?: boolean; huge?: boolean; consentToken?: string } = {},
  env: Record<string, string> = {},
): Promise<void> {
  const session = generateSession(seed, options);
  const random = seededRandom(seed * 7919 + 1);
  const forms = session.steps.map((step) =>
    parsedForm(step.message, random, session.batches, render(step.message, FAST).length > 8 * 1024 * 1024),
  );
  const sse = session.steps.map(() => random() < 0.4);
  const fast = await runServe(
    session,
    (i) => render(session.steps[i]?.message, FAST),
    (i) => sse[i] === true,
    env,
  );
  const parsed = await runServe(
    session,
    (i) => render(session.steps[i]?.message, forms[i] ?? FAST),
    (i) => sse[i] === true,
    env,
  );
  expectSameRuns(seed, session, forms, fast, parsed);
}

describe("serve: the hot path and the full parse give the same wire, events and report", () => {
  test("seeded sessions", async () => {
    // PATHS_FROM / PATHS_TO run other seeds (see differential-paths.test.ts).
    for (const seed of seedsOr([3, 4])) await expectSameThroughServe(seed);
  }, 600_000);

  test("per-request consent, the token in each request's _meta (cut from the bytes, or from the parsed body)", async () => {
    await expectSameThroughServe(3, { consentToken: "ct_consent_12345" }, { BATON_CONSENT_MODE: "per-request" });
  }, 60_000);
});

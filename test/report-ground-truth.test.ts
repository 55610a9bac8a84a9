// `baton-proxy report --format json` against an independent computation of what the README promises, over seeded messy event files (concurrency, killed proxies, disorder, duplicates, unknown types).

import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { CommandContext } from "../src/command-context.ts";
import { runSubcommand } from "../src/commands.ts";
import { REPORT_SPEC } from "../src/report/report-spec.ts";
import type { ReportSummary } from "../src/report/summarize-json.ts";
import type { BatonEvent } from "../src/telemetry/event-types.ts";
import { makeEvent, TEST_SESSION } from "./fixtures/report/build-events.ts";
import { seededRandom } from "./support/seeded-random.ts";
import { tempDir } from "./support/temp.ts";

const dir = tempDir("baton-report-truth-");
const TOOLS = ["search", "get_invoice", "créer_ticket", "工具_🚀", "a|b`c"];
const ERROR_TYPES = ["tool_error", "jsonrpc_-32602", "upstream_timeout", "cancelled"];
const SIGNALS = ["parameter_confusion", "feature_gap", "other", null];
const DURATIONS = [0, 0, 1, 5, 999, 1000, 1500, 4 * 3_600_000];

/** One generated call as the generator knows it (not as the events say it). */
interface Call {
  tool: string;
  params: { q: number };
  startSeq: number;
  outcome: { seq: number; error: string | null; ms: number } | null;
}

interface Session {
  events: BatonEvent[];
  calls: Call[];
  signals: (string | null)[];
}

/** A session of `n` calls, up to `width` in flight at once, notes and unknown events between; `killed` leaves the last calls without an outcome. */
function generate(seed: number, n: number, width: number, killed: boolean): Session {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const events: BatonEvent[] = [];
  const calls: Call[] = [];
  const signals: (string | null)[] = [];
  const inFlight: { call: Call; id: string }[] = [];
  let seq = 0;
  let at = 0;
  const finish = (): void => {
    const [done] = inFlight.splice(Math.floor(random() * inFlight.length), 1);
    if (done === undefined) return;
    const ms = pick(DURATIONS);
    const error = random() < 0.3 ? pick(ERROR_TYPES) : null;
    seq += 1;
    at += 7;
    done.call.outcome = { seq, error, ms };
    const payload =
      error === null
        ? { tool_name: done.call.tool, result: [{ type: "text", text: "ok" }], duration_ms: ms }
        : { tool_name: done.call.tool, error_type: error, error_body: "failed | `x`", duration_ms: ms };
    events.push(makeEvent(error === null ? "tool_call_end" : "tool_call_error", seq, payload, { callId: done.id, at }));
  };
  for (let i = 0; i < n; i++) {
    while (inFlight.length >= width || (inFlight.length > 0 && random() < 0.5)) finish();
    at += 13;
    if (random() < 0.15) {
      const signal = pick(SIGNALS);
      signals.push(signal);
      seq += 1;
      events.push(makeEvent("annotation", seq, { intent: "# note\n<b>x</b> | y", signal_type: signal }, { at }));
    }
    if (random() < 0.05) events.push(makeEvent("future_event" as "annotation", (seq += 1), {}, { at }));
    const call: Call = {
      tool: pick(TOOLS),
      params: { q: Math.floor(random() * 2) },
      startSeq: (seq += 1),
      outcome: null,
    };
    calls.push(call);
    events.push(
      makeEvent("tool_call_start", seq, { tool_name: call.tool, params: call.params }, { callId: `c${i}`, at }),
    );
    inFlight.push({ call, id: `c${i}` });
  }
  if (!killed) while (inFlight.length > 0) finish();
  return { events, calls, signals };
}

/** Nearest rank over integers: the smallest value with at least p% of the values at or below it. */
function nearestRank(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(1, Math.ceil((p * sorted.length) / 100)) - 1] ?? null;
}

/** What the README's "The friction report" promises, computed from the generator's own records. */
function expected(session: Session): Record<string, unknown> {
  const tools = new Map<string, Call[]>();
  for (const call of session.calls) tools.set(call.tool, [...(tools.get(call.tool) ?? []), call]);
  const perTool = [...tools].map(([tool, calls]) => {
    const done = calls.filter((c) => c.outcome !== null);
    const errors = done.filter((c) => c.outcome?.error !== null).length;
    const ms = done.map((c) => c.outcome?.ms ?? 0).sort((a, b) => a - b);
    const byOutcome = [...done].sort((a, b) => (a.outcome?.seq ?? 0) - (b.outcome?.seq ?? 0));
    // A retry: started after the tool's latest outcome, which was an error, with no other outcome of the tool while it ran.
    let retries = 0;
    let sameInput = 0;
    for (const call of done) {
      const before = byOutcome.filter((c) => (c.outcome?.seq ?? 0) < call.startSeq).at(-1);
      const overlapped = byOutcome.some(
        (c) => c !== call && (c.outcome?.seq ?? 0) > call.startSeq && (c.outcome?.seq ?? 0) < (call.outcome?.seq ?? 0),
      );
      if (before?.outcome?.error != null && !overlapped) {
        retries += 1;
        if (before.params.q === call.params.q) sameInput += 1;
      }
    }
    return {
      tool,
      calls: calls.length,
      ok: done.length - errors,
      errors,
      no_outcome: calls.length - done.length,
      p50_ms: nearestRank(ms, 50),
      p95_ms: nearestRank(ms, 95),
      max_ms: ms.at(-1) ?? null,
      retries,
      retries_same_input: sameInput,
      last_failed: byOutcome.length === 0 ? null : byOutcome.at(-1)?.outcome?.error !== null,
    };
  });
  perTool.sort((a, b) => b.errors - a.errors || b.calls - a.calls || (a.tool < b.tool ? -1 : 1));
  const signals = new Map<string, number>();
  for (const s of session.signals) signals.set(s ?? "(none)", (signals.get(s ?? "(none)") ?? 0) + 1);
  const sum = (key: "calls" | "errors" | "no_outcome"): number => perTool.reduce((n, t) => n + t[key], 0);
  return {
    totals: {
      events: session.events.length,
      calls: sum("calls"),
      errors: sum("errors"),
      no_outcome: sum("no_outcome"),
      annotations: session.signals.length,
      slow_calls: session.calls.filter((c) => (c.outcome?.ms ?? 0) >= 1000).length,
      dropped_events: 0,
    },
    tools: perTool,
    annotations_by_signal: Object.fromEntries([...signals].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))),
  };
}

async function reportJson(path: string): Promise<{ summary: ReportSummary; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const ctx: CommandContext = {
    env: {},
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    execPath: "/usr/local/bin/baton-proxy",
    cwd: dir,
    platform: "linux",
    homeDir: dir,
  };
  const code = await runSubcommand(REPORT_SPEC, [path, "--session", TEST_SESSION, "--format", "json"], ctx);
  expect(code).toBe(0);
  return { summary: JSON.parse(stdout) as ReportSummary, stderr };
}

describe("report --format json against an independent computation", () => {
  test.each(Array.from({ length: 12 }, (_, i) => i + 1))("seed %d", async (seed) => {
    const session = generate(seed, 120, 1 + (seed % 4), seed % 4 === 0);
    const random = seededRandom(seed * 7919);
    const lines = session.events.map((e) => JSON.stringify(e));
    // Another session's lines between this one's, as in the shared default file.
    const mixed = lines.flatMap((line, i) =>
      random() < 0.2 ? [line, JSON.stringify({ ...JSON.parse(line), session_id: `other-${i}` })] : [line],
    );
    // Odd seeds: neighbours swapped (events out of sequence order); every third seed: some lines written twice.
    if (seed % 2 === 1)
      for (let k = 0; k < mixed.length / 4; k++) {
        const i = Math.floor(random() * (mixed.length - 1));
        [mixed[i], mixed[i + 1]] = [mixed[i + 1] as string, mixed[i] as string];
      }
    const repeated = seed % 3 === 0 ? mixed.filter(() => random() < 0.1) : [];
    const path = join(dir, `seed-${seed}.jsonl`);
    await Bun.write(path, `${[...mixed, ...repeated].join("\n")}\n`);
    const { summary, stderr } = await reportJson(path);
    const truth = expected(session);
    expect(summary).toMatchObject(truth);
    expect(summary.tools).toHaveLength((truth.tools as unknown[]).length);
    const duplicates = repeated.filter((line) => (JSON.parse(line) as BatonEvent).session_id === TEST_SESSION).length;
    if (duplicates > 0) expect(stderr).toContain(`skipped ${duplicates} duplicate event`);
  });
});

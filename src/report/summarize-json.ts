// Turns a ReportState into plain aggregated numbers (the `--format json` output and the renderer's figures). Pure; no text formatting.

import { DEFAULT_SLOW_CALL_MS } from "../config.ts";
import { countAtLeast, isExact, percentile, sortedSamples } from "./duration-stats.ts";
import { OTHER_TOOLS, toolKey } from "./fold-calls.ts";
import { describeServer } from "./fold-values.ts";
import type { ReportState, SubjectKind, ToolStats } from "./report-types.ts";

/** Figures for one tool. Durations cover every call with an outcome and a duration (successes and errors). */
export interface ToolSummary {
  tool: string;
  /** Calls with an outcome plus calls still without one. */
  calls: number;
  ok: number;
  errors: number;
  no_outcome: number;
  /** errors / calls, 0..1, rounded to 4 places; null without calls. */
  error_rate: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  max_ms: number | null;
  mean_ms: number | null;
  /** False once the tool had more durations than the fold keeps: p50/p95 then come from a sample. */
  percentiles_exact: boolean;
  error_types: Record<string, number>;
  /** Calls started after the tool's latest outcome was an error (the agent trying again), and of those, with the same input (0 for the pool of tools past the tracked ones). */
  retries: number;
  retries_same_input: number;
  /** Whether the tool's latest outcome was an error (null without outcomes, and for the pool of tools past the tracked ones). */
  last_failed: boolean | null;
}

/** Everything numeric about a session, as a JSON-ready object (snake_case like the event schema). */
export interface ReportSummary {
  session_id: string | null;
  client: string | null;
  server: string | null;
  window: { first: string | null; last: string | null; duration_ms: number | null };
  totals: {
    events: number;
    calls: number;
    ok: number;
    errors: number;
    no_outcome: number;
    /** Starts forgotten because too many calls were awaiting an outcome at once. */
    no_outcome_untracked: number;
    /** resources/read, resources/list, prompts/get and prompts/list requests started without an outcome (not tool calls: in neither `calls` nor `no_outcome`). */
    requests_no_outcome: number;
    annotations: number;
    slow_calls: number;
    /** False when slow_calls is estimated from sampled durations (very long sessions). */
    slow_calls_exact: boolean;
    dropped_events: number;
    /** Values cut to size before storage (sum of the events' `baton/truncated`). */
    truncated_values: number;
  };
  slow_call_ms: number;
  /** Sorted by errors (desc), then calls (desc), then name. */
  tools: ToolSummary[];
  /** Error type → count, most frequent first. */
  error_types: Record<string, number>;
  /** Signal type → count, most frequent first; annotations without a signal count under "(none)". */
  annotations_by_signal: Record<string, number>;
  /** Redaction label (`email`, `token`, …) → values redacted before storage, most frequent first (sum of `baton/scrubbed`). */
  redactions: Record<string, number>;
  /** Per method (`resources/read`, `resources/list`, `prompts/get`, `prompts/list`): requests with an outcome and errors among them. */
  resources_prompts: Record<string, { count: number; errors: number }>;
  /** The session's latest `surface_hash` (null without a surface_snapshot), and how many distinct surfaces it saw. */
  surface_hash: string | null;
  surfaces: number;
}

/** Label for annotations that carry no signal type. */
const NO_SIGNAL = "(none)";

/** Summarises `state` without changing it. `slowCallMs` (default DEFAULT_SLOW_CALL_MS) sets what counts as slow. */
export function summarizeReport(state: ReportState, options: { slowCallMs?: number } = {}): ReportSummary {
  const slowCallMs = options.slowCallMs ?? DEFAULT_SLOW_CALL_MS;
  const pendingByTool = new Map<string, number>();
  for (const call of state.pending.values()) {
    const key = toolKey(state, call.tool);
    pendingByTool.set(key, (pendingByTool.get(key) ?? 0) + 1);
  }
  const names = new Set([...state.tools.keys(), ...pendingByTool.keys()]);
  const tools: ToolSummary[] = [];
  let slowCalls = 0;
  let slowExact = true;
  for (const name of names) {
    const stats = state.tools.get(name);
    tools.push(summarizeTool(name, stats, pendingByTool.get(name) ?? 0));
    if (stats === undefined) continue;
    // A sampled tool's count is exact still when none of its calls reached the threshold (its max is exact).
    slowExact &&= isExact(stats.durations) || (stats.durations.maxMs ?? 0) < slowCallMs;
    slowCalls += countAtLeast(stats.durations, slowCallMs);
  }
  tools.sort((a, b) => b.errors - a.errors || b.calls - a.calls || (a.tool < b.tool ? -1 : a.tool > b.tool ? 1 : 0));
  const sum = (pick: (t: ToolSummary) => number): number => tools.reduce((n, t) => n + pick(t), 0);
  const firstMs = state.firstAt === null ? NaN : Date.parse(state.firstAt);
  const lastMs = state.lastAt === null ? NaN : Date.parse(state.lastAt);
  return {
    session_id: state.sessionId,
    client: state.client,
    server: describeServer(state.server, state.serverName),
    window: {
      first: state.firstAt,
      last: state.lastAt,
      duration_ms: Number.isFinite(lastMs - firstMs) ? lastMs - firstMs : null,
    },
    totals: {
      events: state.events,
      calls: sum((t) => t.calls),
      ok: sum((t) => t.ok),
      errors: sum((t) => t.errors),
      no_outcome: sum((t) => t.no_outcome),
      no_outcome_untracked: state.pendingForgotten,
      requests_no_outcome: state.subjects.pending.size,
      annotations: state.annotationTotal,
      slow_calls: slowCalls,
      slow_calls_exact: slowExact,
      dropped_events: missingEvents(state),
      truncated_values: state.truncatedValues,
    },
    slow_call_ms: slowCallMs,
    tools,
    error_types: sortedCounts(state.errorTypes),
    annotations_by_signal: sortedCounts(new Map([...state.signals].map(([k, n]) => [k === "" ? NO_SIGNAL : k, n]))),
    redactions: sortedCounts(state.redactions),
    resources_prompts: Object.fromEntries(
      [...state.subjects.counts].map(([kind, c]) => [
        SUBJECT_METHODS[kind],
        { count: c.ok + c.errors, errors: c.errors },
      ]),
    ),
    surface_hash: state.surface?.hash ?? null,
    surfaces: state.surfaceCount,
  };
}

/**
 * Events missing up to the session's last sequence number (each event has its own, one apart,
 * from 1, or from 0 in a producer counting from there): what the proxy dropped on the way to where
 * these were read from. Missing first events count too: a full disk at the start, or the event
 * file deleted or rotated under the sink, leaves a session that starts later. A line read twice
 * cannot make it negative.
 */
function missingEvents(state: ReportState): number {
  if (state.minSeq === null || state.maxSeq === null) return 0;
  return Math.max(0, state.maxSeq - Math.min(state.minSeq, 1) + 1 - state.sequenced);
}

const SUBJECT_METHODS: Record<SubjectKind, string> = {
  resource_read: "resources/read",
  resource_list: "resources/list",
  prompt_get: "prompts/get",
  prompt_list: "prompts/list",
};

function summarizeTool(name: string, stats: ToolStats | undefined, noOutcome: number): ToolSummary {
  const ok = stats?.ok ?? 0;
  const errors = stats?.errors ?? 0;
  const calls = ok + errors + noOutcome;
  const durations = stats?.durations;
  const sorted = durations === undefined ? [] : sortedSamples(durations);
  return {
    tool: name,
    calls,
    ok,
    errors,
    no_outcome: noOutcome,
    // Four significant digits: four decimal places turned 1 error in 30 000 calls into 0.
    error_rate: calls === 0 ? null : Number((errors / calls).toPrecision(4)),
    p50_ms: percentile(sorted, 50),
    p95_ms: percentile(sorted, 95),
    max_ms: durations?.maxMs ?? null,
    mean_ms:
      durations === undefined || durations.count === 0
        ? null
        : Math.round((durations.sumMs / durations.count) * 10) / 10,
    percentiles_exact: durations === undefined || isExact(durations),
    error_types: sortedCounts(stats?.errorTypes ?? new Map()),
    retries: stats?.retries ?? 0,
    retries_same_input: stats?.sameInputRetries ?? 0,
    last_failed: stats === undefined || stats.ok + stats.errors === 0 || name === OTHER_TOOLS ? null : stats.lastFailed,
  };
}

/** A count map as a plain object, most frequent first (ties by key, for stable output). */
function sortedCounts(counts: ReadonlyMap<string, number>): Record<string, number> {
  const entries = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return Object.fromEntries(entries);
}

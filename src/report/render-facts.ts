// The report's "What stands out" bullets: short, true sentences built only from the summary and the fold's kept records. Pure; returns text.

import { describeErrorType, isConnectionFailure, isNeverDelivered } from "./error-names.ts";
import { MAX_TRACKED_TOOLS, OTHER_TOOLS } from "./fold-calls.ts";
import { formatCount, formatMs, formatPlural, formatRate, formatTimes, joinList, renderCode } from "./markdown-text.ts";
import type { CallRecord, ReportState, SubjectKind } from "./report-types.ts";
import { MAX_NAMED, renderLinkedAnnotations, renderSignalFact } from "./render-note-facts.ts";
import { MAX_TYPES_LISTED, rankFailingTools, renderToolErrorFact } from "./render-error-facts.ts";
import type { ReportSummary, ToolSummary } from "./summarize-json.ts";

/** Resources and prompts methods, in the order the report's table lists them. */
const SUBJECT_KINDS: readonly (readonly [SubjectKind, string])[] = [
  ["resource_read", "resources/read"],
  ["resource_list", "resources/list"],
  ["prompt_get", "prompts/get"],
  ["prompt_list", "prompts/list"],
];

/** Calls without an outcome: `live` (the session's own proxy is reporting) means they are in flight; `longestMs`: the oldest one's age, when known. */
export interface PendingFacts {
  readonly live: boolean;
  readonly longestMs: number | null;
}

/**
 * The bullets, in this order: which tools failed most, what the agent said about failing tools,
 * its signals, slow calls, calls cut off. Only statements the data supports; none for an empty session.
 */
export function renderFacts(
  state: ReportState,
  summary: ReportSummary,
  slowest: CallRecord | undefined,
  pending: PendingFacts = { live: false, longestMs: null },
): string[] {
  const { totals } = summary;
  const failing = rankFailingTools(summary.tools);
  // Tools past the tracked ones share one row: its errors may be many tools' single errors, so it is never "a tool".
  const pooled = summary.tools.find((t) => t.tool === OTHER_TOOLS && t.errors > 0);
  const facts: string[] = [];
  // Events missing from the file may have been errors: "no error" and "only" are then said of the events read.
  const missing =
    totals.dropped_events === 0
      ? null
      : `${formatPlural(totals.dropped_events, "event")} ${totals.dropped_events === 1 ? "is" : "are"} missing from them`;
  const errorFact = renderToolErrorFact(summary.tools, failing, pooled !== undefined, missing);
  if (errorFact !== null) facts.push(errorFact);
  else if (totals.calls > 0 && pooled === undefined)
    facts.push(
      missing === null
        ? "- No tool call returned an error."
        : `- No tool call in these events returned an error (${missing}).`,
    );
  if (pooled !== undefined)
    facts.push(
      `- The tools past the first ${formatCount(MAX_TRACKED_TOOLS)} named in this session are counted together as ${renderCode(OTHER_TOOLS)}: ${formatCount(pooled.errors)} of their ${formatPlural(pooled.calls, "call")} failed (${formatRate(pooled.errors / pooled.calls)}).`,
    );
  const subjects = renderSubjectFact(state);
  if (subjects !== null) facts.push(subjects);
  facts.push(...renderConnectionFacts(summary.error_types));
  const retries = renderRetryFact(summary.tools);
  if (retries !== null) facts.push(retries);
  facts.push(...renderLinkedAnnotations(state, failing));
  const signals = renderSignalFact(state, totals.annotations);
  if (signals !== null) facts.push(signals);
  if (totals.slow_calls > 0 && slowest !== undefined) {
    const about = totals.slow_calls_exact ? "" : "about ";
    facts.push(
      `- ${about}${formatPlural(totals.slow_calls, "call")} took ${formatCount(summary.slow_call_ms)} ms or longer; the slowest was ${renderCode(slowest.tool)} at ${formatMs(slowest.durationMs ?? 0)}.`,
    );
  }
  const exited = summary.error_types.upstream_exit ?? 0;
  const shutdown = summary.error_types.proxy_shutdown ?? 0;
  const cancelled = summary.error_types.cancelled ?? 0;
  if (exited > 0) facts.push(`- The server exited with ${formatPlural(exited, "call")} still in flight.`);
  else if (shutdown > 0) facts.push(`- The proxy shut down with ${formatPlural(shutdown, "call")} still in flight.`);
  if (totals.no_outcome > 0) facts.push(renderPendingFact(totals.no_outcome, pending));
  if (totals.requests_no_outcome > 0) facts.push(renderPendingRequestFact(totals.requests_no_outcome, pending.live));
  // The client giving up on calls is its own fact: a call still running or a server exit does not make it less true.
  if (cancelled > 0) facts.push(`- The client cancelled ${formatPlural(cancelled, "call")}.`);
  return facts;
}

/**
 * Live, a call without an outcome is still running; offline it may be, or the proxy stopped (was
 * killed) before writing its outcome: never "never", which a running call would make false.
 */
function renderPendingFact(n: number, pending: PendingFacts): string {
  if (!pending.live)
    return `- ${formatPlural(n, "call")} ${n === 1 ? "has" : "have"} no outcome in these events (still running, or the proxy stopped before writing it).`;
  const age =
    pending.longestMs === null ? "" : ` (${n === 1 ? "for" : "the longest for"} ${formatMs(pending.longestMs)} so far)`;
  return `- ${formatPlural(n, "call")} ${n === 1 ? "was" : "were"} still running when this report was made${age}.`;
}

/** Resources and prompts requests without an outcome, said apart from tool calls (they are none). */
function renderPendingRequestFact(n: number, live: boolean): string {
  const what = `${formatPlural(n, "resources/prompts request")} (not ${n === 1 ? "a tool call" : "tool calls"})`;
  if (!live)
    return `- ${what} ${n === 1 ? "has" : "have"} no outcome in these events (still running, or the proxy stopped before writing it).`;
  return `- ${what} ${n === 1 ? "was" : "were"} still running when this report was made.`;
}

/**
 * Which tools the agent called again after an error (most retries first), whether with the same
 * input, and whether the tool's last call then succeeded: a retry loop, or an error it got past.
 */
function renderRetryFact(tools: readonly ToolSummary[]): string | null {
  const retried = tools
    .filter((t) => t.retries > 0 && t.tool !== OTHER_TOOLS)
    .sort((a, b) => b.retries - a.retries || b.errors - a.errors);
  if (retried.length === 0) return null;
  const described = retried.map((t) => {
    const same =
      t.retries_same_input === 0
        ? []
        : [
            t.retries_same_input === t.retries
              ? t.retries === 1
                ? "with the same input"
                : "each time with the same input"
              : `${formatTimes(t.retries_same_input)} with the same input`,
          ];
    const last = t.last_failed === true ? "its last call failed too" : "its last call succeeded";
    return `${renderCode(t.tool)} ${formatTimes(t.retries)} (${[...same, last].join("; ")})`;
  });
  return `- After an error, the agent called the same tool again: ${joinList(described, MAX_NAMED)}.`;
}

/** Failed resources/prompts requests, per method (`resources/read 2 of 3`), or null when none failed. */
function renderSubjectFact(state: ReportState): string | null {
  const failed = SUBJECT_KINDS.flatMap(([kind, method]) => {
    const c = state.subjects.counts.get(kind);
    return c === undefined || c.errors === 0 ? [] : [{ method, errors: c.errors, total: c.ok + c.errors }];
  });
  if (failed.length === 0) return null;
  const total = failed.reduce((n, f) => n + f.errors, 0);
  const each = joinList(failed.map((f) => `${f.method} ${formatCount(f.errors)} of ${formatCount(f.total)}`));
  return `- Resource and prompt requests failed ${formatTimes(total)}: ${each}.`;
}

/**
 * Calls that failed between the proxy and a remote server (`--url`, `serve`), by type: the tools'
 * error counts include them, so the report says what they were. Those the server never took in
 * are apart from those it had (a timeout, a lost stream, an HTTP error status): their tool may have run.
 */
function renderConnectionFacts(errorTypes: Readonly<Record<string, number>>): string[] {
  const failures = Object.entries(errorTypes).filter(([type]) => isConnectionFailure(type));
  const listed = (group: [string, number][]): { total: number; types: string } => ({
    total: group.reduce((n, [, count]) => n + count, 0),
    types: joinList(
      group.map(([type, n]) => `${describeErrorType(type) ?? renderCode(type, 60)} ×${formatCount(n)}`),
      MAX_TYPES_LISTED,
    ),
  });
  const facts: string[] = [];
  const before = failures.filter(([type]) => isNeverDelivered(type));
  const after = failures.filter(([type]) => !isNeverDelivered(type));
  if (before.length > 0) {
    const { total, types } = listed(before);
    facts.push(`- ${formatPlural(total, "call")} failed on the way to the server, not in its tools: ${types}.`);
  }
  if (after.length > 0) {
    const { total, types } = listed(after);
    facts.push(
      `- ${formatPlural(total, "call")} ${total === 1 ? "was" : "were"} sent to the server but got no MCP answer from it (not an error a tool returned; the tool may have run): ${types}.`,
    );
  }
  return facts;
}

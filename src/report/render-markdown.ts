// Renders a ReportState as the shareable Markdown friction report (SPEC §7). Pure: returns text, never writes it; no HTML.

import { MAX_DURATION_SAMPLES_PER_TOOL } from "./duration-stats.ts";
import { MAX_TRACKED_TOOLS, OTHER_TOOLS } from "./fold-calls.ts";
import {
  formatCount,
  formatInstant,
  formatMs,
  formatPlural,
  formatRate,
  joinList,
  renderCode,
  renderText,
  renderTimeOfDay,
} from "./markdown-text.ts";
import { MAX_PARAMS_SNIPPET_CHARS, renderAnnotations, renderErrored, renderSlow } from "./render-call-lists.ts";
import { renderFacts } from "./render-facts.ts";
import { renderHeader } from "./render-header.ts";
import { describeSubject, renderSubjects, subjectTotal } from "./render-subjects.ts";
import { renderSurface, type PreviousSurface } from "./render-surface.ts";
import type { ReportState } from "./report-types.ts";
import { summarizeReport, type ReportSummary } from "./summarize-json.ts";

/** Tool rows in the table; the rest are summed up in one line. */
export const MAX_TABLE_ROWS = 25;
/** Calls without an outcome listed by name; the rest are counted. */
const MAX_NO_OUTCOME_LISTED = 20;

export interface RenderOptions {
  /** Calls at least this slow (ms) are listed under "Slow calls". */
  slowCallMs: number;
  /** Where the raw events are (a file path, a sink label), named in the closing line. */
  eventsLocation?: string;
  /**
   * Live: events the sink at `eventsLocation` lost after this report folded them (every session of
   * the process: the sinks are shared). The closing line says the place lacks them.
   */
  eventsMissing?: number;
  /** When given, calls without an outcome show how long ago they started. */
  now?: Date;
  /**
   * The report of a session still running, made by its own proxy: a call without an outcome is in
   * flight, and the report says so (with `now`: for how long so far). Offline, a missing outcome
   * may also be a proxy that stopped before writing it, and the report says that.
   */
  live?: boolean;
  /** The surface of the previous session in the same event file, to say what changed. */
  previousSurface?: PreviousSurface;
  /** Sessions in the event file besides this one, when the reader did not choose this one (the closing line points at `--list`). */
  otherSessions?: number;
  /** The FILE (or s3:// location) the reader named, repeated in that `--list` command; none for the default file. */
  namedLocation?: string;
  /**
   * Why tool calls are not recorded at all (live, `BATON_CAPTURE` without `tools`), as the end of
   * "not recorded (…)": the report then says so instead of counting zero calls.
   */
  toolCallsUnrecorded?: string;
  /** The latest session of the file with tool calls, when this one (picked as the latest) has none. */
  latestWithCalls?: { sessionId: string; calls: number; server: string | null };
}

/** The whole report as GitHub-flavoured Markdown ending in a newline. Never throws on odd data. */
export function renderReport(state: ReportState, options: RenderOptions): string {
  const summary = summarizeReport(state, { slowCallMs: options.slowCallMs });
  const day = state.firstAt === null ? null : (formatInstant(state.firstAt)?.date ?? null);
  const unrecorded = options.toolCallsUnrecorded;
  const blocks = [renderHeader(summary, options.live === true, unrecorded)];
  const subjects = renderSubjects(state.subjects, options.slowCallMs, day);
  const surface = renderSurface(state.surface, state.surfaceCount, options.previousSurface);
  const list = [
    "baton-proxy report",
    ...(options.namedLocation === undefined ? [] : [shellWord(options.namedLocation)]),
  ];
  const used = options.latestWithCalls;
  if (
    summary.totals.calls === 0 &&
    summary.totals.annotations === 0 &&
    subjectTotal(state.subjects) === 0 &&
    summary.totals.requests_no_outcome === 0
  ) {
    blocks.push(
      used !== undefined
        ? // A host starts the server to check it (`claude mcp list`, a restart): that session is the latest, yet the calls are in another.
          "Nothing captured in this session, the latest in the file: it has no tool calls and no annotations (a host " +
            "that starts the server only to check it, such as `claude mcp list`, makes such a session). The latest " +
            `session with tool calls is ${renderCode(used.sessionId)} (${used.server === null ? "" : `${renderCode(used.server)}, `}${formatPlural(used.calls, "call")}): ` +
            renderCode(`${list.join(" ")} --session ${shellWord(used.sessionId)}`) +
            "."
        : unrecorded !== undefined
          ? `Nothing captured yet: this session has no annotations, and its tool calls are not recorded (${unrecorded}). ` +
            "Ask the agent to call `baton_annotate` when something goes wrong, then produce this report again."
          : "Nothing captured yet: this session has no tool calls and no annotations. Use the server's tools through " +
            "your MCP client (every call is recorded) and ask the agent to call `baton_annotate` when something goes " +
            "wrong, then produce this report again.",
    );
  } else {
    const facts = renderFacts(state, summary, state.slowest[0], {
      live: options.live === true,
      longestMs: longestPendingMs(state, options.now),
    });
    if (facts.length > 0) blocks.push(["### What stands out", "", ...facts].join("\n"));
    blocks.push(
      unrecorded === undefined
        ? renderToolTable(summary)
        : `### Tools\n\nTool calls are not recorded in this session: ${unrecorded}.`,
    );
    if (state.erroredTotal > 0) blocks.push(renderErrored(state, day));
    const slow = state.slowest.filter((c) => (c.durationMs ?? 0) >= options.slowCallMs);
    if (slow.length > 0) blocks.push(renderSlow(summary, slow, day));
    if (state.annotationTotal > 0) blocks.push(renderAnnotations(state, day));
    if (summary.totals.no_outcome + summary.totals.no_outcome_untracked + summary.totals.requests_no_outcome > 0)
      blocks.push(renderNoOutcome(state, summary, day, options));
    if (subjects !== null) blocks.push(subjects);
  }
  if (surface !== null) blocks.push(surface);
  const where =
    options.eventsLocation === undefined
      ? "the event sinks configured in `BATON_EVENT_SINK`"
      : renderCode(options.eventsLocation);
  const others = options.otherSessions ?? 0;
  const more =
    others > 0 ? `; it holds ${formatPlural(others, "more session")} (${renderCode(`${list.join(" ")} --list`)})` : "";
  const missing = options.eventsMissing ?? 0;
  // A report read back from there will not match this one: the reader must not trust it blindly.
  const lacks =
    missing === 0
      ? ""
      : ` (it lacks ${formatPlural(missing, "event")} the proxy recorded: they were dropped on the way there, so a report read from it may count less than this one)`;
  blocks.push(`---\n_Raw events: ${where}${lacks}${more}._`);
  return `${blocks.join("\n\n")}\n`;
}

/** `word` as one POSIX shell word: as it is when it needs no quoting, else in single quotes. */
function shellWord(word: string): string {
  return /^[\w./:@%+=,-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

function renderToolTable(summary: ReportSummary): string {
  if (summary.tools.length === 0) return "### Tools\n\nNo tool calls recorded.";
  const lines = [
    "### Tools",
    "",
    "| Tool | Calls | Errors | Error rate | p50 ms | p95 ms | Max ms |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  const ms = (value: number | null): string => (value === null ? "—" : formatCount(Math.round(value)));
  const shown = summary.tools.slice(0, MAX_TABLE_ROWS);
  for (const t of shown) {
    // A dash rather than "0.0%": rows with errors stand out, and a zero rate is no information.
    // From the counts, not the JSON's rounded error_rate.
    const rate = t.error_rate === null || t.errors === 0 ? "—" : formatRate(t.errors / t.calls);
    lines.push(
      `| ${renderText(t.tool, 80)} | ${formatCount(t.calls)} | ${formatCount(t.errors)} | ${rate} | ${ms(t.p50_ms)} | ${ms(t.p95_ms)} | ${ms(t.max_ms)} |`,
    );
  }
  const rest = summary.tools.slice(MAX_TABLE_ROWS);
  if (rest.length > 0) {
    const calls = rest.reduce((n, t) => n + t.calls, 0);
    const errors = rest.reduce((n, t) => n + t.errors, 0);
    // The pool row stands for any number of tools: it is named, not counted as one more.
    const named = rest.filter((t) => t.tool !== OTHER_TOOLS).length;
    const tools = [
      ...(named > 0 ? [formatPlural(named, "more tool")] : []),
      ...(named < rest.length
        ? [`${renderCode(OTHER_TOOLS)}, the tools past the first ${formatCount(MAX_TRACKED_TOOLS)}`]
        : []),
    ].join(" and ");
    lines.push("", `…and ${tools} (${formatPlural(calls, "call")}, ${formatPlural(errors, "error")}).`);
  }
  const sampled = summary.tools.some((t) => !t.percentiles_exact);
  const note = sampled
    ? ` For tools with more than ${formatCount(MAX_DURATION_SAMPLES_PER_TOOL)} timed calls, p50/p95 come from a uniform sample.`
    : "";
  const dashes = [
    shown.some((t) => t.error_rate === null || t.errors === 0) ? "no errors (Error rate)" : null,
    shown.some((t) => t.p50_ms === null) ? "no timed call (ms columns)" : null,
  ].filter((d) => d !== null);
  const dash = dashes.length === 0 ? "" : `; a dash means ${dashes.join(" or ")}`;
  lines.push(
    "",
    `_Durations cover every call with an outcome, errors included; percentiles are nearest-rank${dash}._${note}`,
  );
  return lines.join("\n");
}

function renderNoOutcome(
  state: ReportState,
  summary: ReportSummary,
  day: string | null,
  options: RenderOptions,
): string {
  const { live, now } = options;
  const calls = summary.totals.no_outcome;
  const requests = summary.totals.requests_no_outcome;
  // Resources and prompts requests are named apart: never counted as tool calls.
  const count =
    requests === 0
      ? formatCount(calls)
      : joinList([
          ...(calls === 0 ? [] : [formatPlural(calls, "tool call")]),
          formatPlural(requests, "resources/prompts request"),
        ]);
  const lines = live
    ? [`### In flight (${count})`, "", "Started, no result or error yet: still running when this report was made.", ""]
    : [
        `### No outcome recorded (${count})`,
        "",
        "Started, but no result or error was recorded (still running, or the event file ends before the outcome).",
        "",
      ];
  const age = (capturedAt: string): string => {
    const ms = ageMs(capturedAt, now);
    return ms === null ? "" : live ? `, running for ${formatMs(ms)} so far` : ` (${formatMs(ms)} before this report)`;
  };
  let listed = 0;
  for (const call of state.pending.values()) {
    if (listed === MAX_NO_OUTCOME_LISTED) break;
    listed += 1;
    lines.push(
      `- ${renderCode(call.tool)} started at ${renderTimeOfDay(call.capturedAt, day)}${age(call.capturedAt)} — input: ${renderCode(call.paramsJson, MAX_PARAMS_SNIPPET_CHARS)}`,
    );
  }
  if (calls > listed) lines.push("", `…and ${formatCount(calls - listed)} more.`);
  const untracked = summary.totals.no_outcome_untracked;
  if (untracked > 0)
    lines.push(
      "",
      `${formatPlural(untracked, "more start")} went untracked (too many calls were awaiting an outcome at once).`,
    );
  if (requests > 0) {
    if (calls + untracked > 0) lines.push("", "Resources and prompts requests (not tool calls):", "");
    let shown = 0;
    for (const request of state.subjects.pending.values()) {
      if (shown === MAX_NO_OUTCOME_LISTED) break;
      shown += 1;
      lines.push(
        `- ${describeSubject(request.kind, request.subject)} started at ${renderTimeOfDay(request.capturedAt, day)}${age(request.capturedAt)}`,
      );
    }
    if (requests > shown) lines.push("", `…and ${formatCount(requests - shown)} more.`);
  }
  return lines.join("\n");
}

/** How long before `now` a call started; null without `now` or with an unreadable time. */
function ageMs(capturedAt: string, now: Date | undefined): number | null {
  const at = Date.parse(capturedAt);
  return now === undefined || !Number.isFinite(at) ? null : Math.max(0, now.getTime() - at);
}

/** The age of the oldest call without an outcome (null without `now` or without such calls). */
function longestPendingMs(state: ReportState, now: Date | undefined): number | null {
  let longest: number | null = null;
  for (const call of state.pending.values()) {
    const ms = ageMs(call.capturedAt, now);
    if (ms !== null && (longest === null || ms > longest)) longest = ms;
  }
  return longest;
}
